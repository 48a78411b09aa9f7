"""The model store (io/model_store.py): cards, lookup by card fields, provenance with the sha256."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mrstudio.io.model_store import CINE_TASK, list_models, nearest_model, read_card, resolve_model, save_model


def _card(tmp_path, name: str, **fields):
    import torch

    return save_model({"w": torch.zeros(1)}, {"task": CINE_TASK, **fields}, tmp_path / f"{name}.pt")


def test_the_nearest_model_is_chosen_from_card_fields_not_names(tmp_path, monkeypatch):
    monkeypatch.setenv("MRSTUDIO_MODELS", str(tmp_path))
    _card(tmp_path, "zz-odd-name", loss="l2", accel=27.0)  # a name that says nothing about R
    _card(tmp_path, "cine-unet-l2-r99", loss="ssim", accel=33.0)  # a name that lies about its loss and R
    card = nearest_model(26.0, "l2")  # the shipped R 15/30/60 cards are in the store too
    assert card is not None and card.name == "zz-odd-name" and card.accel == 27.0
    assert nearest_model(34.0, "ssim").name == "cine-unet-l2-r99"
    assert nearest_model(99.0, "l2").accel == 60.0
    assert {c.name for c in list_models(task=CINE_TASK)} >= {"zz-odd-name", "cine-unet-l2-r99"}
    c = read_card(resolve_model("zz-odd-name"))
    assert c.provenance() == {"model": "zz-odd-name", "model_sha256": c.sha256, "model_path": str(c.path)}


def test_shipped_cards_answer_by_r():
    for r in (8, 15, 22, 30, 45, 60, 100):
        card = nearest_model(float(r), "l2")
        assert card is not None and card.loss == "l2"
        assert card.accel == min((15.0, 30.0, 60.0), key=lambda a: abs(np.log(a / r)))


def test_recon_cnn_at_r30_uses_the_r30_model_and_records_its_hash(tmp_path):
    out = tmp_path / "r.npz"
    args = [sys.executable, "-m", "mrstudio", "recon", "--size", "32", "--frames", "20", "--coils", "2", "--method", "cnn",
            "--accel", "30", "--out", str(out), "--json", "--device", "cpu"]
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    card = nearest_model(30.0, "l2")
    assert r["model"] == card.name and card.accel == 30.0 and "R 30" in r["model_choice"]
    assert r["load_seconds"] > 0 and r["seconds"] < r["load_seconds"] + r["seconds"]
    with np.load(out) as z:
        prov = json.loads(str(z["provenance"]))
    assert prov["model"] == card.name and prov["model_sha256"] == card.sha256 and prov["parameters"]["model"] == card.name


def test_inference_does_not_import_training():
    code = ("import sys; from mrstudio.recon import pipeline, cnn; from mrstudio.interp import pipeline as ip, learned; "
            "print(sorted(m for m in sys.modules if m.startswith('mrstudio.train')))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stdout + p.stderr


@pytest.mark.parametrize("loss", ["l2", "l1-fourier", "ssim"])
def test_every_shipped_loss_has_all_three_r(loss):
    assert sorted(c.accel for c in list_models(task=CINE_TASK) if c.loss == loss) == [15.0, 30.0, 60.0]


def test_install_model_script_keeps_the_card_and_records_what_it_replaced(tmp_path):
    import torch

    src = save_model({"w": torch.ones(3)}, {"task": CINE_TASK, "loss": "l2", "replaces": "stale"}, tmp_path / "new.pt")
    old = save_model({"w": torch.zeros(3)}, {"task": CINE_TASK, "loss": "l2"}, tmp_path / "dest.pt")
    subprocess.run([sys.executable, "scripts/install_model.py", str(tmp_path / "new.pt"), str(tmp_path / "dest.pt")],
                   check=True, capture_output=True)
    from mrstudio.io.model_store import load_state

    state, card, _ = load_state(tmp_path / "dest.pt")  # the new sha256 verifies
    assert torch.equal(state["w"].float(), torch.ones(3)) and card.sha256 not in (src["sha256"], old["sha256"])
    assert card.fields["replaces"] == old["sha256"] and card.fields["loss"] == "l2"
