"""The cine U-Net, its losses, training (resume, DDP) and inference on tiny sizes (CPU, seconds)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from mrstudio.core.errors import CheckpointError, StudyError
from mrstudio.io.model_store import load_state, save_model, sha256_file
from mrstudio.nets.unet import CineUNet, UNet, UNetConfig, normalise
from mrstudio.train import losses

TINY = dict(steps=4, batch=2, base=4, depth=2, size=64, frames=8, coils=4, train_cines=3, val_cines=1,
            test_cines=1, val_every=2, crop=32)


def test_unet_shapes_and_odd_sizes():
    net = UNet(UNetConfig(frames=5, base=4, depth=3))
    for h, w in ((32, 32), (30, 27)):
        assert net(torch.rand(2, 5, h, w)).shape == (2, 5, h, w)
    # paper's structure: two 3x3 conv+BN+ReLU per level, transposed-conv up, 1x1 out
    assert isinstance(net.out, torch.nn.Conv2d) and net.out.kernel_size == (1, 1)
    assert all(isinstance(u, torch.nn.ConvTranspose2d) for u in net.up)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.down[0]) == 2


def test_normalisation_roundtrip():
    x = torch.rand(2, 4, 8, 8) * 3
    n, scale, mean = normalise(x)
    assert torch.allclose((n + mean) / scale, x, atol=1e-5)
    assert torch.allclose((n + mean).flatten(1).amax(1), torch.full((2,), 1000.0))
    assert abs(float(n.mean())) < 1e-2
    model = CineUNet(UNetConfig(frames=4, base=4, depth=1))
    torch.nn.init.zeros_(model.net.out.weight)
    torch.nn.init.zeros_(model.net.out.bias)
    assert torch.allclose(model(x), x, atol=1e-4)  # residual: a zero net returns its input


def test_losses():
    a = torch.rand(2, 3, 16, 16)
    assert float(losses.l2_loss(a, a)) == 0 and float(losses.l1_fourier_loss(a, a)) == 0
    assert float(losses.ssim_loss(a, a)) == pytest.approx(0, abs=1e-6)
    b = a + 0.1 * torch.randn_like(a)
    for name in losses.LOSSES:
        val = losses.get_loss(name)(b, a)
        assert float(val) > 0
    # l1-fourier equals the l1 of the orthonormal 2-D FFT of the difference
    ref = np.abs(np.fft.fft2((b - a).numpy(), norm="ortho")).mean()
    assert float(losses.l1_fourier_loss(b, a)) == pytest.approx(ref, rel=1e-4)
    with pytest.raises(StudyError):
        losses.get_loss("l3")


def test_ssim_loss_matches_skimage():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    t = rng.random((1, 2, 32, 32)).astype(np.float32)
    p = (t + 0.1 * rng.standard_normal(t.shape)).astype(np.float32)
    dr = float(t.max() - t.min())
    ref = np.mean([structural_similarity(t[0, i], p[0, i], data_range=dr, gaussian_weights=True, sigma=1.5,
                                         use_sample_covariance=False) for i in range(2)])
    ours = 1 - float(losses.ssim_loss(torch.from_numpy(p), torch.from_numpy(t)))
    assert ours == pytest.approx(ref, abs=0.01)  # valid-region vs skimage's cropped mean
    # pixel by pixel on the valid region (the separable window is the 2-D one)
    full = structural_similarity(t[0, 0], p[0, 0], data_range=dr, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, full=True)[1][5:-5, 5:-5]
    ours_map = losses.ssim_map(torch.from_numpy(p), torch.from_numpy(t), dr)[0, 0].numpy()
    np.testing.assert_allclose(ours_map, full, atol=1e-4)


def test_checkpoint_hash_and_weights_only(tmp_path):
    state = CineUNet(UNetConfig(frames=4, base=4, depth=1)).state_dict()
    card = save_model(state, {"unet": {"frames": 4, "base": 4, "depth": 1}}, tmp_path / "m.pt")
    assert card["sha256"] == sha256_file(tmp_path / "m.pt")
    loaded, card2, _ = load_state(tmp_path / "m.pt")
    assert set(loaded) == set(state) and card2.sha256 == card["sha256"]
    with open(tmp_path / "m.pt", "ab") as fh:
        fh.write(b"tamper")
    with pytest.raises(CheckpointError, match="sha256"):
        load_state(tmp_path / "m.pt")


def test_pickle_with_code_is_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    p = tmp_path / "evil.pt"
    p.write_bytes(pickle.dumps({"x": Evil()}))
    (tmp_path / "evil.json").write_text(json.dumps({"sha256": sha256_file(p)}))
    with pytest.raises(CheckpointError, match="weights-only"):
        load_state(p)
    assert not (tmp_path / "pwned").exists()


def test_train_resume_and_infer(tmp_path):
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom
    from mrstudio.recon.pipeline import run_recon
    from mrstudio.train.loop import TrainConfig, train_cine

    run = tmp_path / "run"
    out = tmp_path / "tiny.pt"
    card = train_cine(TrainConfig(**{**TINY, "steps": 2}, run_dir=str(run), out=str(out)))
    assert (run / "last.pt").exists() and json.loads((run / "log.json").read_text())[-1]["step"] == 2
    # resume to 4 steps: starts at 2, not 0
    card = train_cine(TrainConfig(**TINY, run_dir=str(run), out=str(out)))
    log = json.loads((run / "log.json").read_text())
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert (run / "curves.png").stat().st_size > 1000 and (run / "log.csv").exists()
    assert card["sha256"] == sha256_file(out) and card["loss"] == "l2" and "test" in card
    s = make_phantom(size=64, frames=6, coils=4, seed=20_001)  # 6 frames: resampled to the model's 8
    mask = make_mask(MaskSpec(accel=4), 6, 64)
    r = run_recon(s, mask, "cnn", model=str(out))
    assert r.image.shape == (6, 64, 64) and np.isfinite(r.image).all()
    r_dc = run_recon(s, mask, "cnn", model=str(out), dc=True)
    assert np.iscomplexobj(r_dc.image) and np.isfinite(r_dc.scores["psnr"])


def test_tiny_overfit_reduces_loss(tmp_path):
    from mrstudio.train.loop import TrainConfig, train_cine

    run = tmp_path / "run"
    train_cine(TrainConfig(**{**TINY, "steps": 30, "val_every": 30, "train_cines": 1, "lr": 3e-3, "test_cines": 0},
                           run_dir=str(run)))
    log = json.loads((run / "log.json").read_text())
    first, last = np.mean([r["loss"] for r in log[:5]]), np.mean([r["loss"] for r in log[-5:]])
    assert last < first


def test_ddp_two_cpu_processes_hold_identical_weights(tmp_path):
    """torchrun-style: 2 gloo processes, a few steps; the runner compares the replicas at the end."""
    script = tmp_path / "ddp.py"
    script.write_text(f"""
from mrstudio.train.loop import TrainConfig, train_cine
cfg = TrainConfig(**{{**{TINY!r}, "test_cines": 0}}, run_dir=r"{tmp_path / 'run'}", device="cpu")
cfg.steps = 3; cfg.val_every = 3
card = train_cine(cfg)
print("CARD", bool(card))
""")
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(29500 + os.getpid() % 1000),
           "WORLD_SIZE": "2", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, str(script)], env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs[0][1][-2000:] + outs[1][1][-2000:]
    assert "CARD True" in outs[0][0] and "CARD False" in outs[1][0]  # rank 0 alone writes the card
    card = json.loads((tmp_path / "run" / "card.json").read_text())
    assert card["ddp"] == {"world": 2, "replica_max_diff": 0.0} and card["steps"] == 3
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert [r["step"] for r in log] == [1, 2, 3] and "val_psnr" in log[-1]
    assert (tmp_path / "run" / "last.pt").exists() and (tmp_path / "run" / "curves.png").exists()


def test_torch_batch_sampler_matches_numpy_sampler():
    """The batched torch simulation is the numpy one: same mask, same crop, no noise → same images."""
    import torch

    from mrstudio.train.data import PhantomCines, SimConfig

    pool = PhantomCines([3, 4], size=32, frames=6, coils=3, sim=SimConfig(accel=4, acs=2))
    pool.sigmas = [0.0, 0.0]
    naive_np, target_np = pool.sample(1, np.random.default_rng(5))
    naive_t, target_t = pool.sample_batch([1], np.random.default_rng(5))
    assert isinstance(naive_t, torch.Tensor) and naive_t.shape == (1, 6, 32, 32)
    np.testing.assert_allclose(naive_t[0].numpy(), naive_np, atol=1e-5 * naive_np.max())
    np.testing.assert_allclose(target_t[0].numpy(), target_np, atol=1e-6)
    # noise: the batch's naive image differs from the noiseless one by about the set SNR
    pool2 = PhantomCines([3], size=32, frames=6, coils=3, sim=SimConfig(accel=4, acs=2, crop=16))
    a, _ = pool2.sample_batch([0, 0], np.random.default_rng(1))
    assert a.shape == (2, 6, 32, 16) and not torch.equal(a[0], a[1])


def test_time_budget_lowers_steps(tmp_path):
    from mrstudio.train.loop import TrainConfig, train_cine

    run = tmp_path / "run"
    cfg = TrainConfig(**{**TINY, "steps": 100_000, "test_cines": 0}, run_dir=str(run), time_budget_s=0.01)
    card = train_cine(cfg)
    assert cfg.steps == card["steps"] == 1  # the budget is spent by the first step: the run stops there
    log = json.loads((run / "log.json").read_text())
    assert log[-1]["step"] == 1 and log[-1].get("val_psnr") is not None
    cfg = TrainConfig(**{**TINY, "steps": 100_000, "test_cines": 0, "val_every": 1000}, run_dir=str(tmp_path / "r2"),
                      time_budget_s=3.0)
    card = train_cine(cfg)  # planned after 10 steps, re-planned at each validation: ends validated, early
    log = json.loads((tmp_path / "r2" / "log.json").read_text())
    assert 10 < card["steps"] == log[-1]["step"] < 100_000 and log[-1].get("val_psnr") is not None
    assert json.loads((tmp_path / "r2" / "config.json").read_text())["steps"] == card["steps"]
