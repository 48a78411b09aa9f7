"""Slab averaging, the slab hold-out, the through-plane network and its training split."""

from __future__ import annotations

import numpy as np
import pytest

from mrstudio.core.slabs import slab_average
from mrstudio.core.study import VolumeStudy
from mrstudio.interp.slab import slab_holdout, thin_at


def test_slab_average_is_the_mean_at_the_centre():
    thin = np.arange(10, dtype=np.float32)[:, None, None] * np.ones((1, 2, 3), np.float32)
    thick, centres = slab_average(thin, 3, offset=1)
    assert thick.shape == (3, 2, 3) and np.allclose(centres, [2, 5, 8])
    assert np.allclose(thick[:, 0, 0], [2, 5, 8])  # a ramp: the mean of a slab is its centre value
    assert np.allclose(thin_at(thin, np.array([2.5, 0.0]))[:, 0, 0], [2.5, 0.0])


def test_slab_holdout_of_a_ramp_is_exact_for_linear():
    z = np.arange(30, dtype=np.float32)
    vol = VolumeStudy(np.broadcast_to(z[:, None, None], (30, 16, 16)).astype(np.float32) * 10 + 100, modality="MR")
    r = slab_holdout(vol, "linear", 3)
    assert r["slices_in"] == 10 and r["slices_predicted"] == 18 and r["rmse"] < 1e-3
    r2 = slab_holdout(vol, "linear", 4)  # even: the truth is half-way between thin slices
    assert r2["rmse"] < 1e-3


@pytest.fixture
def untrained_model(tmp_path, monkeypatch):
    """A saved, untrained PlaneNet (its last layer is zero: output = the linear estimate)."""
    from mrstudio.interp.throughplane import TASK, load_plane_model
    from mrstudio.io.model_store import save_model
    from mrstudio.nets.throughplane import PlaneNet

    net = PlaneNet()
    path = tmp_path / "tp.pt"
    save_model(net.state_dict(), {"task": TASK, "planenet": net.cfg.as_dict()}, path)
    load_plane_model.cache_clear()
    return str(path)


def test_untrained_throughplane_equals_linear_on_uneven_spacing(untrained_model):
    from mrstudio.interp import get_interp

    rng = np.random.default_rng(0)
    vol = rng.normal(0, 300, (5, 12, 10)).astype(np.float32)
    z = np.array([0.0, 2.0, 5.0, 6.0, 10.0])
    alphas = np.tile([1 / 3, 2 / 3], (4, 1))
    ours = get_interp("throughplane").func(vol, z, alphas, model=untrained_model)
    lin = get_interp("linear").func(vol, z, alphas)
    assert ours.shape == (4, 2, 12, 10) and np.allclose(ours, lin, atol=1e-2)


def test_throughplane_keeps_geometry_in_the_pipeline(untrained_model):
    from mrstudio.interp.pipeline import interpolate

    vol = VolumeStudy(np.random.default_rng(1).normal(0, 1, (4, 16, 16)).astype(np.float32), spacing=(3, 1, 1),
                      modality="MR")
    res = interpolate(vol, "throughplane", 3, model=untrained_model)
    assert res.study.shape == (10, 16, 16) and res.study.spacing[0] == pytest.approx(1.0)
    assert np.array_equal(res.study.volume[::3], vol.volume)  # the originals are kept as they are


def test_training_crops_never_touch_the_validation_slab():
    from mrstudio.core.splits import ANATOMY_GUARD_MM, ANATOMY_VAL_SLAB_MM
    from mrstudio.train.throughplane import PlaneSampler, PlaneTrainConfig

    lo, hi = ANATOMY_VAL_SLAB_MM[0] - ANATOMY_GUARD_MM, ANATOMY_VAL_SLAB_MM[1] + ANATOMY_GUARD_MM
    vol = np.ones((40, 50, 160), np.float32)  # volume axis 2 is axial, 1 mm voxels
    vol[..., int(lo):int(np.ceil(hi))] = 2.0  # a crop touching the excluded axial range would hold a 2
    s = PlaneSampler(vol, PlaneTrainConfig(crop_z=24, crop_w=16), np.random.default_rng(0))
    crops = [s.crop(k) for k in (2, 3, 6) for _ in range(40)]
    assert max(float(c.max()) for c in crops) == 1.0
    assert {c.shape[1] for c in crops} == {16}


def test_train_throughplane_writes_a_card(tmp_path):
    from mrstudio.cli import main
    from mrstudio.io.model_store import read_card

    out = tmp_path / "tp.pt"
    assert main(["train", "throughplane", "--steps", "3", "--batch", "2", "--val-every", "2", "--run-dir",
                 str(tmp_path / "run"), "--out", str(out), "--device", "cpu"]) == 0
    card = read_card(out)
    assert card.task == "volume-throughplane" and card.fields["steps"] == 3
    assert "INIA19 (never used here)" in card.fields["training_data"]["split"]
    assert card.fields["validation"]["linear_psnr"] > 10


def test_self_supervised_adaptation_tunes_a_copy(untrained_model):
    import torch

    from mrstudio.interp.throughplane import adapt, load_plane_model

    net, _, _ = load_plane_model(untrained_model, "cpu")
    before = [p.detach().clone() for p in net.parameters()]
    vol = np.random.default_rng(2).random((3, 40, 40)).astype(np.float32)
    tuned = adapt(net, vol, 3, 3.0, seconds=0.3, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))  # the cached model is untouched
    assert any(not torch.equal(a, b) for a, b in zip(before, tuned.parameters()))


def test_interp_cli_runs_the_shipped_throughplane_model(capsys):
    import json

    from mrstudio.cli import main

    assert main(["interp", "--method", "throughplane", "--factor", "3", "--holdout", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "interp-throughplane" and out["psnr"] > 20 and out["slices_predicted"] > 0


def test_plane_batches_fit_the_cache_and_do_not_change_the_result():
    """CPU batches are sized to the cache (2 planes of 298 × 512); any batch gives the same volume,
    and each pass equals the network run on that plane alone."""
    import torch

    from mrstudio.interp.throughplane import load_plane_model, plane_batch, refine

    assert plane_batch(298, 512, "cpu") == 2 and plane_batch(2000, 2000, "cpu") == 1 and plane_batch(298, 512, "cuda") == 16
    net, _, _ = load_plane_model("interp-throughplane", "cpu")
    rng = np.random.default_rng(0)
    base = rng.random((13, 9, 11)).astype(np.float32)
    dist, gap = rng.random(13).astype(np.float32), np.full(13, 3.0, np.float32)
    out = refine(net, base, dist, gap, "cpu")
    assert np.allclose(refine(net, base, dist, gap, "cpu", batch=1), out, atol=1e-6)
    assert np.allclose(refine(net, base, dist, gap, "cpu", batch=16), out, atol=1e-6)

    def plane(p: np.ndarray) -> np.ndarray:  # (Z', W) → the network's plane, alone
        x = torch.from_numpy(p)[None]
        inp = torch.stack([x, torch.from_numpy(dist)[None, :, None].expand_as(x),
                           torch.from_numpy(gap / 10)[None, :, None].expand_as(x)], 1)
        with torch.inference_mode():
            return net(inp)[0, 0].numpy()

    want = 0.5 * (plane(base[:, 4, :]) + np.stack([plane(base[:, :, j]) for j in range(11)], 2)[:, 4, :])
    assert np.allclose(out[:, 4, :], want, atol=1e-5)
