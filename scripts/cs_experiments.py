"""CS experiments behind the issue-5 note: solver step size and convergence vs BART on validation seeds.

Run: .venv/bin/python scripts/cs_experiments.py step|convergence   (validation seeds only, never test)
"""

import sys


def step():
    import numpy as np, time
    from mrstudio.core.phantom import make_phantom, SPLITS
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.metrics import score
    from mrstudio.recon import get_method
    from mrstudio.recon.base import undersample
    cs = get_method("cs").func
    for seed in SPLITS["val"][:3]:
        st = make_phantom(size=128, frames=20, coils=8, seed=seed)
        m = make_mask(MaskSpec(kind="vd-kt", accel=15, acs=2, seed=seed), 20, 128)
        k = undersample(st.kspace, m); ref = np.abs(st.reference)
        for ds in (0.0, 0.05, 0.2):
            t=time.perf_counter(); img = cs(k, m, device="cpu", dual_step=ds); t=time.perf_counter()-t
            s = score(img, ref); print(seed, ds, round(s.psnr,2), round(s.ssim,3), round(t,1), flush=True)


def convergence():
    import time
    from mrstudio.core.phantom import make_phantom
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.metrics import score
    from mrstudio.recon.base import undersample
    from mrstudio.recon.cs import CSConfig, reconstruct_cs
    from mrstudio.recon.bart import bart_pics
    seed = 10000
    st = make_phantom(size=128, seed=seed)
    m = make_mask(MaskSpec(kind="vd-kt", accel=15, seed=seed), 20, 128)
    k = undersample(st.kspace, m)
    for it in (100, 300):
        cfg = CSConfig(iters=it, tol=0.0)
        t=time.perf_counter(); img,_ = reconstruct_cs(k, m, None, cfg, "cpu", None, None); t=time.perf_counter()-t
        s = score(img, st.reference); print("ours", it, round(s.psnr,2), round(s.ssim,3), round(t,1), flush=True)
        t=time.perf_counter(); img = bart_pics(k, m, cfg, None, None); t=time.perf_counter()-t
        s = score(img, st.reference); print("bart", it, round(s.psnr,2), round(s.ssim,3), round(t,1), flush=True)


if __name__ == "__main__":
    {"step": step, "convergence": convergence}[sys.argv[1]]()
