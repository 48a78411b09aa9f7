"""CT phantom, classical interpolation, hold-out evaluation, HRINet shapes and training, interp CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from mrstudio.core.ct_phantom import make_ct_phantom, thick
from mrstudio.core.errors import StudyError
from mrstudio.core.geometry import AXIAL, Geometry
from mrstudio.core.study import VolumeStudy
from mrstudio.interp import get_interp
from mrstudio.interp.pipeline import holdout, interpolate, slice_z


def test_ct_phantom_is_deterministic_and_anatomical():
    a = make_ct_phantom(size=64, slices=6, seed=3)
    b = make_ct_phantom(size=64, slices=6, seed=3)
    np.testing.assert_array_equal(a.volume, b.volume)
    assert not np.array_equal(a.volume, make_ct_phantom(size=64, slices=6, seed=4).volume)
    v = a.volume
    assert v.min() < -900 and v.max() > 500  # air and bone
    assert ((v > -900) & (v < -700)).mean() > 0.05  # lungs
    assert not np.array_equal(v[0], v[-1])  # anatomy changes along z
    t = thick(make_ct_phantom(size=32, slices=9, seed=0, noise_hu=0), 3)
    assert t.shape == (3, 32, 32) and t.spacing[0] == 3.0
    np.testing.assert_allclose(t.positions[:, 2], [1.0, 4.0, 7.0])


def test_linear_and_cubic_respect_real_positions():
    z = np.array([0.0, 1.0, 3.0, 6.0])
    vol = (2.0 * z + 5.0)[:, None, None] * np.ones((4, 2, 2), np.float32)  # linear in z
    pos = np.stack([np.zeros(4), np.zeros(4), z], 1)
    st = VolumeStudy(volume=vol.astype(np.float32), geometry=Geometry(AXIAL, pos, (1.0, 1.0)))
    np.testing.assert_allclose(slice_z(st), z)
    for method in ("linear", "cubic"):
        res = interpolate(st, method, 2)
        assert res.study.shape[0] == 7 and res.original.sum() == 4
        mid_z = (z[:-1] + z[1:]) / 2
        np.testing.assert_allclose(res.study.volume[1::2, 0, 0], 2 * mid_z + 5, atol=1e-4)
        np.testing.assert_allclose(res.study.positions[1::2, 2], mid_z)
    quad = (z ** 2)[:, None, None] * np.ones((4, 2, 2), np.float32)
    cub = get_interp("cubic").func(quad.astype(np.float32), z, np.full((3, 1), 0.5))
    np.testing.assert_allclose(cub[:, 0, 0, 0], ((z[:-1] + z[1:]) / 2) ** 2, rtol=1e-4)  # exact on a quadratic


def test_holdout_scores_linear_on_phantom():
    st = thick(make_ct_phantom(size=64, slices=39, seed=20000), 3)  # 13 thick slices
    r = holdout(st, "linear", gap=6)
    assert r["slices_predicted"] == 10 and r["pred"].shape == (2, 5, 64, 64)
    assert 15 < r["psnr"] < 60 and 0 < r["ssim"] <= 1 and r["rmse_hu"] > 0
    with pytest.raises(StudyError, match="at least 7 slices"):
        holdout(VolumeStudy(volume=np.zeros((5, 8, 8), np.float32)), "linear", gap=6)


@pytest.mark.parametrize("size,want", [(256, [(16, 16, 16), (8, 8, 8), (4, 4, 8)]),
                                       (512, [(32, 32, 16), (16, 16, 8), (8, 8, 4)])])
def test_hrinet_levels_match_the_papers_table(size, want):
    from mrstudio.nets.hrinet import HRINet, HRINetConfig

    net = HRINet(HRINetConfig.for_size(size, base=4))
    with torch.no_grad():
        maps = net.encode(torch.zeros(1, 1, size, size))
    assert [(m.shape[2], m.shape[3], m.shape[1]) for m in maps] == want
    with torch.no_grad():
        assert net.decode(maps).shape == (1, 1, size, size)


def test_alpha_mixing_endpoints_reproduce_the_inputs():
    from mrstudio.nets.hrinet import HRINet, HRINetConfig

    torch.manual_seed(0)
    net = HRINet(HRINetConfig(size=64, base=4)).eval()
    a, b = torch.randn(2, 1, 1, 64, 64)
    with torch.no_grad():
        out0 = net(a, b, torch.zeros(1))
        out1 = net(a, b, torch.ones(1))
        np.testing.assert_allclose(out0, net.autoencode(a), atol=1e-5)
        np.testing.assert_allclose(out1, net.autoencode(b), atol=1e-5)
    res = HRINet(HRINetConfig(size=64, base=4, residual=True)).eval()
    with torch.no_grad():
        lin = res(a, b, torch.full((1,), 0.25)) - res.decode(res.mix(res.encode(a), res.encode(b), torch.full((1,), .25)))
    np.testing.assert_allclose(lin, 0.75 * a + 0.25 * b, atol=1e-5)


def test_skip_variant_mixes_every_level_and_starts_as_linear():
    from mrstudio.nets.hrinet import HRINet, HRINetConfig

    net = HRINet(HRINetConfig(size=64, base=4, residual=True, skips=True)).eval()
    a, b = torch.randn(2, 1, 1, 64, 64)
    with torch.no_grad():
        maps = net.encode(a)
        assert [m.shape[-1] for m in maps] == [4, 2, 1, 64, 32, 16, 8]  # code, f1, f2, then the skips
        out = net(a, b, torch.full((1,), 0.5))
    np.testing.assert_allclose(out, 0.5 * a + 0.5 * b, atol=1e-6)  # zero-initialised correction


def test_critic_loss_decreases_on_a_tiny_overfit():
    from mrstudio.nets.hrinet import AlphaCritic

    torch.manual_seed(0)
    d1 = AlphaCritic(base=4)
    x = torch.randn(8, 1, 32, 32)
    alpha = torch.linspace(0, 0.5, 8)
    opt = torch.optim.Adam(d1.parameters(), lr=1e-3)
    losses = []
    for _ in range(60):
        loss = (d1(x) - alpha).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


def test_train_ct_tiny_then_interp_cli(tmp_path):
    """Steps I and II for a few steps on CPU, resume, then the model through `mrstudio interp`."""
    from mrstudio.train.ct import CTTrainConfig, train_ct

    out = tmp_path / "ct-tiny.pt"
    cfg = CTTrainConfig(variant="hrinet", steps=4, batch=1, base=4, size=64, crop=64, slices=9, train_volumes=2,
                        val_volumes=1, test_volumes=1, val_every=2, run_dir=str(tmp_path / "run"), out=str(out),
                        device="cpu")
    card = train_ct(cfg)
    assert card["task"] == "ct-interpolation" and card["steps"] == 4 and np.isfinite(card["validation"]["psnr"])
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert any("step2" in r for r in log) and any("d2" in r for r in log)  # Stage II ran both steps
    cfg2 = CTTrainConfig(**{**cfg.__dict__, "steps": 12, "out": None})
    train_ct(cfg2)  # resumes from step 4, in Stage II: a longer schedule must not send it back to Stage I
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert [r["step"] for r in log][-2:] == [11, 12]
    assert all(r["stage"] == 2 for r in log if r["step"] > 4)
    p = subprocess.run([sys.executable, "-m", "mrstudio", "interp", "--method", "hrinet", "--model", str(out),
                        "--factor", "3", "--holdout", "--json", "--device", "cpu"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["method"] == "hrinet" and r["factor"] == 3 and np.isfinite(r["psnr"])


def test_interp_cli_dicom_round_trip(tmp_path):
    out = tmp_path / "ct"
    p = subprocess.run([sys.executable, "-m", "mrstudio", "interp", "--method", "cubic", "--factor", "3", "--out",
                        str(out), "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["slices_in"] == 42 and r["slices_out"] == 42 * 3 - 2 and abs(r["spacing_mm"][0] - 1.0) < 1e-6
    info = json.loads(subprocess.run([sys.executable, "-m", "mrstudio", "info", str(out), "--json"],
                                     capture_output=True, text=True).stdout)
    assert info["slices"] == 124 and abs(info["spacing_mm"][0] - 1.0) < 1e-3
    import pydicom

    d = pydicom.dcmread(sorted(out.glob("*.dcm"))[0])
    assert "cubic x3" in d.DerivationDescription and d.Modality == "CT"
    p = subprocess.run([sys.executable, "-m", "mrstudio", "interp", "--method", "linear", "--holdout", "--json"],
                       capture_output=True, text=True)
    r = json.loads(p.stdout)
    assert set(r) >= {"method", "factor", "psnr", "ssim", "seconds", "device"}
    p = subprocess.run([sys.executable, "-m", "mrstudio", "interp", "--method", "nearest"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "unknown interpolation method" in p.stderr


def test_train_ct_time_budget_ends_the_run(tmp_path):
    """A time budget lowers the step count (estimated after 10 steps, refined at each validation)."""
    import time

    from mrstudio.train.ct import CTTrainConfig, train_ct

    cfg = CTTrainConfig(variant="hrinet", steps=100_000, batch=1, base=4, size=64, crop=64, slices=9,
                        train_volumes=2, val_volumes=1, test_volumes=0, val_every=20, run_dir=str(tmp_path / "run"),
                        out=None, device="cpu", time_budget_s=3.0)
    t0 = time.perf_counter()
    train_ct(cfg)
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert 10 < log[-1]["step"] < 100_000 and "val_psnr" in log[-1]
    assert log[-1]["seconds"] < 3.0 * 1.5 + 2 and time.perf_counter() - t0 < 120


def test_train_ct_refuses_a_missing_output_folder_before_training(tmp_path):
    from mrstudio.core.errors import StudyError
    from mrstudio.train.ct import CTTrainConfig, train_ct

    cfg = CTTrainConfig(variant="ae", steps=2, batch=1, base=4, size=64, crop=64, slices=9, train_volumes=1,
                        val_volumes=1, test_volumes=0, run_dir=str(tmp_path / "run"),
                        out=str(tmp_path / "no" / "such" / "m.pt"), device="cpu")
    with pytest.raises(StudyError, match="does not exist"):
        train_ct(cfg)
    assert not (tmp_path / "run").exists()  # refused before anything ran


def test_train_seconds_add_up_over_resumed_parts():
    from mrstudio.train.run import cumulative_seconds, total_seconds

    assert total_seconds([{"seconds": 1.0}, {"seconds": 5.0}, {"seconds": 2.0}, {"seconds": 3.0}]) == 8.0
    assert total_seconds([]) == 0.0
    assert cumulative_seconds([{"seconds": 1.0}, {"seconds": 5.0}, {"seconds": 2.0}, {"seconds": 3.0}]) == [1, 5, 7, 8]


def test_train_ct_on_a_folder_of_dicom_series(tmp_path):
    """`mrstudio train ct --data FOLDER` end to end on CT DICOM series written in the real layout."""
    from mrstudio.io.dicom_export import write_volume_dicom

    data = tmp_path / "dicom"
    data.mkdir()
    for seed in range(3):
        write_volume_dicom(thick(make_ct_phantom(size=64, slices=27, seed=seed), 3), data / f"patient{seed}")
    out = tmp_path / "ct-real.pt"
    p = subprocess.run([sys.executable, "-m", "mrstudio", "train", "ct", "--data", str(data), "--variant", "hrinet-skip",
                        "--steps", "3", "--batch", "1", "--base", "4", "--crop", "64", "--val-every", "3",
                        "--run-dir", str(tmp_path / "run"), "--out", str(out), "--device", "cpu"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["training_data"]["kind"] == "files" and card["training_data"]["split"] == {"val": 1, "train": 2}
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    assert not {s.split(":")[0] for s in split["val"]} & {s.split(":")[0] for s in split["train"]}  # by volume


def test_ct_ddp_with_a_time_budget_ends_together(tmp_path):
    """Two gloo ranks with a time budget: rank 0's plan is broadcast, so both stop at the same step (no hang)."""
    import os

    script = tmp_path / "ddp_ct.py"
    script.write_text(f"""
import os, time
import torch.distributed as dist
from mrstudio.train.ct import CTTrainConfig, train_ct
if os.environ["RANK"] == "1":  # rank 1's clock runs 3x fast: left to itself it would plan fewer steps and hang rank 0
    real = time.perf_counter
    time.perf_counter = lambda: 3 * real()
keep = dist.destroy_process_group
dist.destroy_process_group = lambda *a, **k: None
cfg = CTTrainConfig(variant="hrinet", steps=100000, batch=1, base=4, size=64, crop=64, slices=9, train_volumes=2,
                    val_volumes=1, test_volumes=0, val_every=15, run_dir=r"{tmp_path / 'run'}", out=None,
                    device="cpu", time_budget_s=4.0)
train_ct(cfg)
print("STEPS", dist.get_rank(), cfg.steps, cfg.val_every, flush=True)
keep()
""")
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(30500 + os.getpid() % 1000),
           "WORLD_SIZE": "2", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, str(script)], env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    try:
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert all(p.returncode == 0 for p in procs), outs[0][1][-2000:] + outs[1][1][-2000:]
    plans = [next(x.split()[2:] for x in o[0].splitlines() if x.startswith("STEPS")) for o in outs]
    assert plans[0] == plans[1] and 10 < int(plans[0][0]) < 100000


def test_hrinet_anatomy_stacks_keep_the_validation_slab_out(monkeypatch):
    """Training stacks hold nothing of the axial validation slab ± guard; validation stacks only the slab."""
    import mrstudio.io.anatomy as anatomy
    from mrstudio.core.splits import ANATOMY_GUARD_MM, ANATOMY_VAL_SLAB_MM
    from mrstudio.train import anatomy_stacks

    lo, hi = ANATOMY_VAL_SLAB_MM[0] - ANATOMY_GUARD_MM, ANATOMY_VAL_SLAB_MM[1] + ANATOMY_GUARD_MM
    vol = np.ones((40, 72, 170), np.float32)  # (X, Y, Z), 1 mm: axis 2 is axial
    vol[..., int(lo):int(np.ceil(hi))] = 2.0  # the excluded range: maps to +1000 on the working scale, the rest to −1000
    monkeypatch.setattr(anatomy, "thin_volume", lambda source: vol)
    work = anatomy_stacks.work_volume()
    train = anatomy_stacks.training_stacks(work, crop=32)
    val = anatomy_stacks.validation_stacks(work)
    assert train and all(float(s.max()) == pytest.approx(-1000.0) for s in train)
    assert {s.shape[1:] for s in train} >= {(72, 40), (85, 72)}  # axial sections, and sagittal ones of the lower piece
    assert all(float(s.min()) == pytest.approx(1000.0) for s in val)
    assert val[0].shape[0] == int(ANATOMY_VAL_SLAB_MM[1] - ANATOMY_VAL_SLAB_MM[0])


@pytest.mark.skipif(not __import__("os").path.isdir("/usr/share/mricron/templates"), reason="mricron-data not installed")
def test_train_ct_on_real_anatomy_writes_its_split(tmp_path):
    """`mrstudio train ct --data anatomy`: Colin 27 stacks mixed with the phantom, from given weights (Stage II at once)."""
    from mrstudio.cli import main
    from mrstudio.io.model_store import read_card
    from mrstudio.train.ct import CTTrainConfig, train_ct

    init = tmp_path / "init.pt"
    train_ct(CTTrainConfig(variant="hrinet", steps=2, batch=1, base=4, size=64, crop=64, slices=9, train_volumes=1,
                           val_volumes=1, test_volumes=0, val_every=2, run_dir=str(tmp_path / "r0"), out=str(init),
                           device="cpu"))
    out = tmp_path / "mix.pt"
    assert main(["train", "ct", "--data", "anatomy", "--variant", "hrinet", "--base", "4", "--size", "64", "--crop", "64",
                 "--batch", "2", "--steps", "4", "--val-every", "2", "--train-volumes", "1", "--init", str(init),
                 "--run-dir", str(tmp_path / "run"), "--out", str(out), "--device", "cpu"]) == 0
    card = read_card(out).fields
    assert card["training_data"]["kind"].startswith("real anatomy") and "INIA19 (never used here)" in card["training_data"]["split"]
    assert card["training_data"]["ct_phantom"]["fraction"] == pytest.approx(0.2)
    assert np.isfinite(card["validation"]["psnr"]) and card["validation"]["linear_psnr"] > 10
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert all(r["stage"] == 2 for r in log)  # started from weights: no Stage I
