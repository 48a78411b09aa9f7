"""The bad-input corpus through the CLI and the GUI's open path: clear errors, no crash, no partial files."""

from __future__ import annotations

import pytest
from corpus import build

from mrstudio.cli import main


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build(tmp_path_factory.mktemp("corpus"))


def _studies(cases):
    return [c for c in cases if c[1].parent.name != "models"]


def test_corpus_is_large_enough(corpus):
    assert len(corpus) >= 30


def test_cli_info_on_every_bad_study(corpus, capsys):
    for name, path, expect in _studies(corpus):
        rc = main(["info", str(path)])
        err = capsys.readouterr().err.strip()
        assert rc == 2, (name, err)
        assert err.startswith("mrstudio: error: ") and "\n" not in err and "Traceback" not in err, (name, err)
        assert path.name in err, (name, err)  # the message names the file (or folder)
        assert expect.lower() in err.lower(), (name, expect, err)


def test_cli_recon_on_bad_studies_writes_nothing(corpus, capsys, tmp_path):
    for name, path, _ in _studies(corpus)[:12]:
        out = tmp_path / f"{name.replace(' ', '_')}.h5"
        rc = main(["recon", "--study", str(path), "--method", "zero-filled", "--accel", "4", "--out", str(out)])
        capsys.readouterr()
        assert rc == 2, name
        assert not out.exists() and not list(tmp_path.glob(".*part*")), name


def test_bad_checkpoints_are_refused(corpus, capsys):
    for name, path, expect in [c for c in corpus if c[1].parent.name == "models"]:
        rc = main(["recon", "--size", "32", "--frames", "4", "--coils", "2", "--method", "cnn", "--model", str(path),
                   "--accel", "2"])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and path.name in err and expect in err, (name, err)


def test_gui_open_path_on_every_bad_study(corpus, qtbot, tmp_path):
    from PySide6 import QtCore

    from mrstudio.core.phantom import make_phantom
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    study = make_phantom(size=32, frames=4, coils=2, seed=1)
    w = MainWindow(study, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    for name, path, _ in _studies(corpus):
        w.last_message = None
        job = w.open_path(str(path))
        assert w.bridge.wait_all(30), name
        assert job.status == "failed", (name, job.status)
        assert w.last_message and path.name in w.last_message, (name, w.last_message)
        assert w.study is study, name  # the open study stays


def test_gui_refuses_bad_checkpoints(corpus, qtbot, tmp_path):
    from PySide6 import QtCore

    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(None, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    before = w.methods.model.count()
    for name, path, expect in [c for c in corpus if c[1].parent.name == "models"]:
        w.last_message = None
        w.methods.add_checkpoint(str(path))
        assert w.last_message and path.name in w.last_message and expect in w.last_message, (name, w.last_message)
        assert w.methods.model.count() == before  # not listed
