import threading
import time

import numpy as np
import pytest

from mrstudio.core.coils import espirit_maps
from mrstudio.core.errors import StudyError
from mrstudio.core.jobs import Cancelled, CancelToken
from mrstudio.core.masks import MaskSpec, make_mask
from mrstudio.core.phantom import make_phantom
from mrstudio.recon import get_method
from mrstudio.recon.cs import CSConfig
from mrstudio.recon.pipeline import run_recon


def test_cs_normal_operator_is_the_shared_sense_operator_transposed(rng):
    """``cs``'s ``AᴴA`` in its (T, Nx, Ny) layout = ``Aᴴ(A x)`` of :mod:`mrstudio.nets.sense` (even and odd Ny)."""
    import torch

    from mrstudio.nets import sense
    from mrstudio.recon.cs_solver import NormalOp

    for ny, nx in ((16, 12), (15, 13)):
        maps = torch.from_numpy((rng.standard_normal((3, ny, nx)) + 1j * rng.standard_normal((3, ny, nx))).astype(np.complex64))
        mask = torch.from_numpy(rng.random((4, ny)) > 0.5)
        x = torch.from_numpy((rng.standard_normal((4, ny, nx)) + 1j * rng.standard_normal((4, ny, nx))).astype(np.complex64))
        ref = sense.adjoint(sense.forward(x[None], maps[None], mask[None]), maps[None], mask[None])[0]
        N = NormalOp(maps, mask)
        assert N.ishape == (4, nx, ny)
        np.testing.assert_allclose(N.from_internal(N(N.to_internal(x))).numpy(), ref.numpy(), atol=1e-4)


def test_espirit_reproduces_phantom_maps():
    s = make_phantom(size=64, frames=8, coils=4, seed=11, snr=100)
    mask = make_mask(MaskSpec(accel=4, seed=0), 8, 64)
    est = espirit_maps(s.kspace * mask[None, :, :, None], mask)
    true = s.maps
    support = np.abs(s.reference).mean(0) > 0.1  # inside the body
    # compare up to a per-pixel common phase: |<est, true>| / (|est||true|) over coils
    inner = np.abs((np.conj(est) * true).sum(0))
    norms = np.sqrt((np.abs(est) ** 2).sum(0) * (np.abs(true) ** 2).sum(0)) + 1e-12
    corr = inner / norms
    assert np.median(corr[support]) > 0.98
    assert np.mean(corr[support] > 0.9) > 0.9


def test_espirit_keeps_the_object_when_the_calibration_is_narrow():
    """A painted mask (8 central lines, most once) lowers every eigenvalue: the default crop alone kept ~5 %
    of the object (a near-black CS image); the lowered crop keeps it and CS beats zero-filled again."""
    from mrstudio.core.coils import EspiritConfig, signal_coverage, time_averaged_kspace
    from mrstudio.core.masks import painted_mask
    from mrstudio.recon.base import undersample

    s = make_phantom(size=64, frames=12, coils=8, seed=3, snr=60)
    mask = painted_mask(np.random.default_rng(1), 12, 64, 8.0)
    k = undersample(s.kspace, mask)
    avg = time_averaged_kspace(k, mask)
    fixed = espirit_maps(k, mask, EspiritConfig(min_coverage=0.0))  # the default crop, never lowered
    est = espirit_maps(k, mask)
    body = np.abs(s.reference).mean(0) > 0.1
    assert signal_coverage(est, avg) >= 0.95 > signal_coverage(fixed, avg)
    assert ((np.abs(est) ** 2).sum(0) > 0)[body].mean() > 0.95
    cs = get_method("cs").func(k, mask, iters=30)
    zf = get_method("zero-filled").func(k, mask)
    ref = np.abs(s.reference)
    assert np.linalg.norm(np.abs(cs) - ref) < np.linalg.norm(np.abs(zf) - ref)
    vd = make_mask(MaskSpec(accel=4, seed=0), 12, 64)  # a usual calibration keeps the usual crop (0.95)
    kv = undersample(s.kspace, vd)
    assert np.array_equal(espirit_maps(kv, vd), espirit_maps(kv, vd, EspiritConfig(min_coverage=0.0)))


def test_cs_beats_zero_filled_small():
    s = make_phantom(size=64, frames=10, coils=4, seed=12)
    mask = make_mask(MaskSpec(accel=6, seed=1), 10, 64)
    zf = run_recon(s, mask, "zero-filled")
    cs = run_recon(s, mask, "cs", iters=40)
    assert cs.scores["psnr"] > zf.scores["psnr"] + 5
    assert cs.scores["ssim"] > zf.scores["ssim"] + 0.15
    assert cs.image.dtype == np.complex64 and cs.image.shape == (10, 64, 64)


def test_cs_cancel_is_prompt(phantom128):
    mask = make_mask(MaskSpec(accel=15, seed=1), 20, 128)
    token = CancelToken()
    started = threading.Event()
    stamps = {}

    def progress(f, msg):
        if "iteration" in msg and not started.is_set():
            started.set()
            stamps["cancel"] = time.perf_counter()
            token.cancel()

    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        get_method("cs").func(phantom128.kspace * mask[None, :, :, None], mask, iters=500, progress=progress,
                              cancel=token)
    assert started.is_set()
    assert time.perf_counter() - stamps["cancel"] < 1.0
    assert time.perf_counter() - t0 < 60


def test_cs_refuses_non_finite():
    k = np.zeros((2, 4, 32, 32), np.complex64)
    k[0, 0, 0, 0] = np.nan
    with pytest.raises(StudyError, match="non-finite"):
        get_method("cs").func(k, np.ones((4, 32), bool))


def test_cs_config_validation():
    with pytest.raises(StudyError, match="unknown cs parameter"):
        CSConfig.from_params({"lambda": 1})
    with pytest.raises(StudyError):
        CSConfig(temporal="wavelet")
    with pytest.raises(StudyError, match="unknown wavelet"):
        CSConfig(wavelet="db99")
    with pytest.raises(StudyError, match="not orthogonal"):
        CSConfig(wavelet="bior2.2")
    with pytest.raises(StudyError, match="levels must be"):
        CSConfig(levels=0)
    with pytest.raises(StudyError, match="dual_step"):
        CSConfig(dual_step=0)
    assert CSConfig.from_params({"iters": 3, "backend": "bart"}).iters == 3


def test_temporal_fft_option_works():
    s = make_phantom(size=64, frames=8, coils=4, seed=13)
    mask = make_mask(MaskSpec(accel=4, seed=2), 8, 64)
    zf = run_recon(s, mask, "zero-filled")
    r = run_recon(s, mask, "cs", temporal="fft", iters=30)
    assert r.scores["psnr"] > zf.scores["psnr"]


def test_cfl_roundtrip(tmp_path, rng):
    from mrstudio.recon.bart import read_cfl, to_bart, write_cfl

    k = (rng.standard_normal((3, 4, 6, 5)) + 1j * rng.standard_normal((3, 4, 6, 5))).astype(np.complex64)
    b = to_bart(k)
    assert b.shape == (5, 6, 1, 3, 1, 1, 1, 1, 1, 1, 4)
    assert b[2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3] == k[0, 3, 1, 2]
    write_cfl(tmp_path / "x", b)
    assert (tmp_path / "x.hdr").read_text().splitlines()[1].split()[:4] == ["5", "6", "1", "3"]
    np.testing.assert_array_equal(read_cfl(tmp_path / "x"), b)


def test_bart_backend_if_installed():
    from mrstudio.recon.bart import bart_available

    if bart_available() is None:
        pytest.skip("bart not installed")
    s = make_phantom(size=64, frames=8, coils=4, seed=14)
    mask = make_mask(MaskSpec(accel=4, seed=3), 8, 64)
    zf = run_recon(s, mask, "zero-filled")
    r = run_recon(s, mask, "cs", backend="bart", iters=20)
    assert r.image.shape == (8, 64, 64)
    assert r.scores["psnr"] > zf.scores["psnr"] + 3  # same scale and orientation as ours


def _identity_problem(rng, t=3, n=32):
    """``A = I`` (one coil with unit map, every line sampled): ``AᴴA x = x``."""
    import torch

    from mrstudio.recon.cs_solver import NormalOp

    normal = NormalOp(torch.ones(1, n, n, dtype=torch.complex64), torch.ones(t, n, dtype=torch.bool))
    b = (rng.standard_normal((t, n, n)) + 1j * rng.standard_normal((t, n, n))).astype(np.complex64)
    return normal, normal.to_internal(torch.from_numpy(b))


def test_solver_reaches_wavelet_denoising_closed_form(rng):
    """With A = I and no temporal term, the minimiser is Ψᴴ soft(Ψ b, λ), Ψ PyWavelets' periodized Haar on 32²
    (orthonormal) at cs's default depth, the thresholding written out here."""
    import pywt

    from mrstudio.core.jobs import drive
    from mrstudio.recon.cs_solver import solve

    normal, b = _identity_problem(rng)
    cfg = CSConfig(lam_wavelet=0.3, lam_temporal=0.0, wavelet="haar", shifts=False, iters=200, tol=0.0)
    x = drive(solve(normal, b, cfg)).numpy()
    expected = np.empty_like(x)
    for f, frame in enumerate(b.numpy()):
        c = pywt.wavedec2(frame, "haar", mode="periodization", level=4)  # cs's default: one short of the full 5
        arr, slices = pywt.coeffs_to_array(c)
        arr = arr * np.maximum(0.0, 1.0 - 0.3 / np.maximum(np.abs(arr), 1e-30))
        expected[f] = pywt.waverec2(pywt.array_to_coeffs(arr, slices, output_format="wavedec2"), "haar",
                                    mode="periodization")
    np.testing.assert_allclose(x, expected, atol=1e-4)
    assert np.linalg.norm(expected - b.numpy()) > 1.0  # the threshold did something


def test_solver_reaches_temporal_tv_closed_form(rng):
    """Two frames, A = I, circular TV: the minimiser moves each pair towards its mean by at most 2λ."""
    from mrstudio.core.jobs import drive
    from mrstudio.recon.cs_solver import solve

    normal, b = _identity_problem(rng, t=2)
    lam = 0.2
    cfg = CSConfig(lam_wavelet=0.0, lam_temporal=lam, iters=2000, tol=0.0)
    x = drive(solve(normal, b, cfg)).numpy()
    b = b.numpy()
    # ‖Dx‖₁ = 2|x1 − x0| per pixel: the difference d = b1 − b0 shrinks by 4λ in magnitude, the mean stays
    d = b[1] - b[0]
    d_new = d * np.maximum(0.0, 1.0 - 4 * lam / np.abs(d))
    mean = (b[0] + b[1]) / 2
    np.testing.assert_allclose(x[0], mean - d_new / 2, atol=2e-3)
    np.testing.assert_allclose(x[1], mean + d_new / 2, atol=2e-3)


def test_cs_leaves_no_inference_mode_behind():
    """The solver's steps run under ``torch.inference_mode`` one at a time: the caller's thread is not left in it."""
    import torch

    s = make_phantom(size=32, frames=4, coils=2, seed=5)
    mask = make_mask(MaskSpec(accel=2, seed=0), 4, 32)
    seen = []
    get_method("cs").func(s.kspace * mask[None, :, :, None], mask, iters=3,
                          progress=lambda f, m: seen.append(torch.is_inference_mode_enabled()))
    assert seen and not any(seen) and not torch.is_inference_mode_enabled()


def test_random_shifts_are_reproducible_and_help():
    s = make_phantom(size=64, frames=8, coils=4, seed=3)
    mask = make_mask(MaskSpec(accel=6, seed=3), 8, 64)
    a = run_recon(s, mask, "cs", iters=40, seed=1)
    b = run_recon(s, mask, "cs", iters=40, seed=1)
    c = run_recon(s, mask, "cs", iters=40, seed=2)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)
    assert abs(a.scores["psnr"] - c.scores["psnr"]) < 0.5  # the shifts change details, not quality


def test_bart_data_scaling_rule():
    from mrstudio.recon.cs import data_scale

    flat = np.linspace(0, 1, 1001)  # evenly spread: the 90th percentile
    assert data_scale(flat) == pytest.approx(0.9)
    flat_top = np.concatenate([np.full(1000, 0.5), [10.0]])  # p90 = median: the rule falls back to the max
    assert data_scale(flat_top) == pytest.approx(10.0)
    skewed = np.concatenate([np.zeros(900), np.linspace(0.1, 10, 101)])  # max − p90 ≥ 2 (p90 − median): the max
    assert data_scale(skewed) == pytest.approx(10.0)
    assert data_scale(np.zeros(10)) == 1.0


def test_wavelet_depth_is_a_parameter():
    """``levels`` reaches Ψ: a shallower transform gives another image, of the same quality on this phantom."""
    s = make_phantom(size=64, frames=8, coils=4, seed=3)
    mask = make_mask(MaskSpec(accel=6, seed=3), 8, 64)
    deep = run_recon(s, mask, "cs", iters=30)
    shallow = run_recon(s, mask, "cs", iters=30, levels=2)
    assert not np.array_equal(deep.image, shallow.image)
    assert abs(deep.scores["psnr"] - shallow.scores["psnr"]) < 2.0
