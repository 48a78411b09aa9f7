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
from mrstudio.recon.sense import Sense, SenseNormal


def _adjoint_check(fwd, adj, ishape, oshape, rng):
    u = (rng.standard_normal(ishape) + 1j * rng.standard_normal(ishape)).astype(np.complex64)
    v = (rng.standard_normal(oshape) + 1j * rng.standard_normal(oshape)).astype(np.complex64)
    lhs = np.vdot(fwd(u), v)
    rhs = np.vdot(u, adj(v))
    assert abs(lhs - rhs) / abs(lhs) < 1e-4


@pytest.mark.parametrize("ny,nx", [(16, 12), (15, 13)])
def test_sense_adjoint(rng, ny, nx):
    maps = (rng.standard_normal((3, ny, nx)) + 1j * rng.standard_normal((3, ny, nx))).astype(np.complex64)
    mask = rng.random((4, ny)) > 0.5
    A = Sense(maps, mask)
    _adjoint_check(A.forward, A.adjoint, (4, ny, nx), (3, 4, ny, nx), rng)
    N = SenseNormal(maps, mask)
    x = (rng.standard_normal((4, ny, nx)) + 1j * rng.standard_normal((4, ny, nx))).astype(np.complex64)
    np.testing.assert_allclose(N.from_internal(N(N.to_internal(x))), A.normal(x), atol=1e-4)


def test_sense_matches_centred_fft(rng):
    from mrstudio.core.fft import fft2c

    maps = (rng.standard_normal((2, 8, 8)) + 1j * rng.standard_normal((2, 8, 8))).astype(np.complex64)
    mask = rng.random((3, 8)) > 0.3
    x = (rng.standard_normal((3, 8, 8)) + 1j * rng.standard_normal((3, 8, 8))).astype(np.complex64)
    A = Sense(maps, mask)
    np.testing.assert_allclose(A.modulate(A.forward(x)), fft2c(maps[:, None] * x[None]) * mask[None, :, :, None],
                               atol=1e-5)


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
