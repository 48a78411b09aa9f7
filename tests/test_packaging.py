"""The wheel carries the shipped weights, their cards and the desktop resources; entry points exist."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_models_and_resources(tmp_path):
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    names = zipfile.ZipFile(next(tmp_path.glob("mrstudio-*.whl"))).namelist()
    shipped = sorted(f.name for f in (ROOT / "models").glob("*.pt"))
    assert shipped and all(f"mrstudio/models/{n}" in names for n in shipped)
    assert all(f"mrstudio/models/{n.replace('.pt', '.json')}" in names for n in shipped)
    for res in ("mrstudio.desktop", "mrstudio.svg", "io.github.mrstudio.metainfo.xml"):
        assert f"mrstudio/resources/{res}" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(next(tmp_path.glob("mrstudio-*.whl"))).read(entry).decode()
    assert "mrstudio = mrstudio.cli:main" in text and "mrstudio-gui = mrstudio.cli:main" in text


def test_models_named_in_the_docs_ship():
    """Every model the README or a docs page names (``cine-…-rNN``, ``ct-…-256``) is in ``models/``."""
    import re

    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {m for p in pages for m in re.findall(r"\b(?:cine|ct)-[a-z0-9-]+-(?:r\d+|256|512)\b", p.read_text())}
    assert named, "the pattern no longer finds the model names"
    missing = sorted(n for n in named if not (ROOT / "models" / f"{n}.pt").exists())
    assert not missing, f"named in the docs but not shipped: {missing}"
