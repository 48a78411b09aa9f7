"""CS experiments behind issue 5: how the ``cs`` defaults were chosen, and convergence against BART.

Run: .venv/bin/python scripts/cs_experiments.py tune|bart|check|convergence|tune-anatomy|tune-wavelet

- ``tune``: grid over the dual step σ and the two λ's of MR Studio ``cs`` on *training* phantom seeds;
- ``bart``: the same λ grid for BART ``pics`` on the same seeds (is BART best at the same λ?);
- ``check``: the chosen defaults against the old ones on validation seeds (never test seeds);
- ``convergence``: ``cs`` and BART at 50, 100 and 300 iterations on one validation seed;
- ``tune-anatomy`` (issue 16): the λ grid on real-anatomy *training* cines, then the choice on phantom seeds.
- ``tune-wavelet`` (issue 16, the torch solver's periodized wavelet): wavelet and λ_w on the same training cines.

128², 20 frames, 8 coils, vd-kt R = 15. Prints one line per setting: PSNR dB, SSIM, seconds (mean over seeds).
"""

import sys
import time

import numpy as np

TRAIN = (0, 1)
VAL = (10000, 10001, 10002)


def _data(seed):
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom
    from mrstudio.recon.base import undersample

    st = make_phantom(size=128, frames=20, coils=8, seed=seed)
    m = make_mask(MaskSpec(kind="vd-kt", accel=15, seed=seed), 20, 128)
    return st, undersample(st.kspace, m), m


def _mean_scores(cfg, seeds, backend):
    from mrstudio.core.metrics import score
    from mrstudio.recon.bart import bart_pics
    from mrstudio.recon.cs import reconstruct_cs

    rows = []
    for seed in seeds:
        st, k, m = _data(seed)
        t = time.perf_counter()
        img = reconstruct_cs(k, m, None, cfg, "cpu")[0] if backend == "cs" else bart_pics(k, m, cfg)
        t = time.perf_counter() - t
        s = score(img, st.reference)
        rows.append((s.psnr, s.ssim, t))
    return np.mean(rows, axis=0)


def _print(label, r):
    print(f"{label}: PSNR {r[0]:.2f}  SSIM {r[1]:.3f}  {r[2]:.1f} s", flush=True)


def tune():
    from mrstudio.recon.cs import CSConfig

    for sigma in (0.125, 0.05):
        for lw in (0.002, 0.004, 0.008):
            for lt in (0.02, 0.05, 0.1):
                cfg = CSConfig(lam_wavelet=lw, lam_temporal=lt, dual_step=sigma, iters=100, tol=0.0)
                _print(f"cs σ={sigma} λw={lw} λt={lt}", _mean_scores(cfg, TRAIN, "cs"))
    for label, kw in (("db4", {"wavelet": "db4"}), ("no shifts", {"shifts": False})):
        cfg = CSConfig(iters=100, tol=0.0, **kw)
        _print(f"cs defaults but {label}", _mean_scores(cfg, TRAIN, "cs"))


def bart():
    from mrstudio.recon.cs import CSConfig

    for lw, lt in ((0.002, 0.05), (0.004, 0.02), (0.004, 0.05), (0.004, 0.1), (0.008, 0.05), (0.008, 0.1)):
        cfg = CSConfig(lam_wavelet=lw, lam_temporal=lt, iters=100, tol=0.0)
        _print(f"bart λw={lw} λt={lt}", _mean_scores(cfg, TRAIN, "bart"))


def check():
    from mrstudio.recon.cs import CSConfig

    _print("cs defaults", _mean_scores(CSConfig(iters=100, tol=0.0), VAL, "cs"))
    old = CSConfig(lam_wavelet=0.0005, lam_temporal=0.03, wavelet="db4", shifts=False, dual_step=0.2, iters=100, tol=0.0)
    _print("cs previous solver settings (λ's on the new data scale)", _mean_scores(old, VAL, "cs"))
    _print("bart at the cs defaults", _mean_scores(CSConfig(iters=100, tol=0.0), VAL, "bart"))


def convergence():
    from mrstudio.recon.cs import CSConfig

    _mean_scores(CSConfig(iters=1), VAL[:1], "cs")  # pay sigpy's one-time set-up before timing
    for it in (50, 100, 300):
        cfg = CSConfig(iters=it, tol=0.0)
        _print(f"cs {it} iterations", _mean_scores(cfg, VAL[:1], "cs"))
        _print(f"bart {it} iterations", _mean_scores(cfg, VAL[:1], "bart"))


def _vdkt_cases(studies):
    """``[(undersampled k-space, mask, ESPIRiT maps, |truth|)]`` of ``(seed, study, R)`` with vd-kt masks (2 ACS)."""
    from mrstudio.core.coils import espirit_maps
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.recon.base import undersample

    out = []
    for k, st, accel in studies:
        m = make_mask(MaskSpec(kind="vd-kt", accel=accel, acs=2, seed=k), st.frames, st.matrix[0])
        kk = undersample(st.kspace, m)
        out.append((kk, m, espirit_maps(kk, m), np.abs(st.reference)))
    return out


def _run_cases(cfg, data):
    from mrstudio.core.metrics import score
    from mrstudio.recon.cs import reconstruct_cs

    sc = [score(reconstruct_cs(kk, m, maps, cfg)[0], ref) for kk, m, maps, ref in data]
    return np.mean([s.psnr for s in sc]), np.mean([s.ssim for s in sc])


def tune_wavelet():
    """Wavelet × λ_w (λ_t 0.025) on real-anatomy training cines 0 and 1 at R 15 and 30, per R."""
    from mrstudio.io.anatomy import anatomy_cine
    from mrstudio.recon.cs import CSConfig

    by_r = {r: _vdkt_cases([(k, anatomy_cine("train", k), r) for k in (0, 1)]) for r in (15.0, 30.0)}
    for wave in ("db2", "db4", "sym4"):
        for lw in (0.003, 0.004, 0.006):
            res = [_run_cases(CSConfig(wavelet=wave, lam_wavelet=lw), d) for d in by_r.values()]
            print(f"{wave} λ_w {lw:g}: " + ", ".join(f"R {r:g} %.2f / %.3f" % v for r, v in zip(by_r, res)), flush=True)


def tune_anatomy():
    """λ grid on real-anatomy training cines 0 and 1 (io/anatomy, train split) at vd-kt R 15 and 30, ESPIRiT
    maps computed once per case; then the chosen λ's against the old defaults on training phantom seeds 1, 2."""
    import itertools

    from mrstudio.core.phantom import make_phantom
    from mrstudio.io.anatomy import anatomy_cine
    from mrstudio.recon.cs import CSConfig

    def run(lw, lt, data):
        return _run_cases(CSConfig(lam_wavelet=lw, lam_temporal=lt), data)

    anat = _vdkt_cases([(k, anatomy_cine("train", k), r) for k in (0, 1) for r in (15.0, 30.0)])
    grid = sorted(set(itertools.product((0.002, 0.004, 0.008), (0.025, 0.05, 0.1)))
                  | set(itertools.product((0.001, 0.002, 0.004), (0.006, 0.0125))))
    for lw, lt in grid:
        print(f"anatomy λ_w {lw:g} λ_t {lt:g}: %.2f / %.3f" % run(lw, lt, anat), flush=True)
    phantom = _vdkt_cases([(s, make_phantom(size=128, frames=20, coils=8, seed=s), 15.0) for s in (1, 2)])
    for lw, lt in ((0.004, 0.05), (0.002, 0.025), (0.004, 0.025)):
        print(f"phantom λ_w {lw:g} λ_t {lt:g}: %.2f / %.3f" % run(lw, lt, phantom), flush=True)


if __name__ == "__main__":
    {"tune": tune, "bart": bart, "check": check, "convergence": convergence,
     "tune-anatomy": tune_anatomy, "tune-wavelet": tune_wavelet}[sys.argv[1]]()
