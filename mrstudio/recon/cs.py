"""``cs``: l1-ESPIRiT compressed sensing for cine MRI.

Model: ESPIRiT coil maps from the time-averaged ACS region (sigpy ``EspiritCalib``),
SENSE forward model ``A`` over all frames (:class:`~mrstudio.recon.sense.Sense`), and

    min_x  ½‖A x − y‖²  +  λ_w ‖Ψ x‖₁  +  λ_t ‖D x‖₁

with ``Ψ`` an orthonormal Daubechies-4 wavelet over (y, x) per frame (sigpy's
``Wavelet`` linop) and ``D`` either the circular temporal finite difference (temporal
total variation, default: a cine is periodic) or the orthonormal temporal Fourier
transform (``temporal="fft"``, k-t sparsity). λ's are relative to the data scale: the
data are divided by the 99.9th percentile of ``|Aᴴy|`` before solving and the result is
multiplied back, so the same λ works across studies and scanners.

Solver: Condat–Vũ primal–dual splitting. The data term is smooth with gradient
Lipschitz constant ``β = ‖A‖² ≤ 1`` (ESPIRiT maps have ``Σ|S|² ≤ 1``, the FFT is
unitary, the mask a projection); both l1 terms are handled through their duals, whose
proximal steps are exact (clipping to the λ-ball), and ``‖Ψ‖ = 1``, ``‖D‖ ≤ 2`` (TV) or
1 (FFT). Each iteration costs one ``AᴴA``, one wavelet analysis/synthesis and one
temporal difference — no inner CG loop as in ADMM. The steps satisfy the convergence
condition ``τ(β/2 + σ‖L‖²) ≤ 1`` with ``L = [Ψ; D]``; σ = 1/‖L‖² balances the
primal and dual steps (τ = 2/3). Iterations stop at ``iters`` or when the relative
change of ``x`` falls below ``tol``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..core.coils import EspiritConfig, combine, espirit_maps
from ..core.errors import StudyError
from ..core.fft import ifft2c
from ..core.jobs import CancelToken, Progress, Step, drive, sub_progress
from .base import register
from .sense import SenseNormal


@dataclass(frozen=True)
class CSConfig:
    """Parameters of the ``cs`` method (defaults tuned on training phantom seeds)."""

    lam_wavelet: float = 0.0005
    lam_temporal: float = 0.03
    temporal: str = "tv"  # "tv" or "fft"
    iters: int = 100
    tol: float = 1e-4
    wavelet: str = "db4"
    dual_step: float = 0.0  # σ; 0 = automatic (1 / ‖L‖²)
    espirit: EspiritConfig = field(default_factory=EspiritConfig)

    def __post_init__(self) -> None:
        if self.temporal not in ("tv", "fft"):
            raise StudyError("cs", f"temporal regulariser must be 'tv' or 'fft', got {self.temporal!r}")
        if self.lam_wavelet < 0 or self.lam_temporal < 0 or self.iters < 1 or self.tol < 0:
            raise StudyError("cs", "λ's and tol must be ≥ 0 and iters ≥ 1")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> CSConfig:
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__ and k != "espirit"}
        unknown = set(params) - set(known) - {"backend"}
        if unknown:
            raise StudyError("--param", f"unknown cs parameter(s): {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(k for k in cls.__dataclass_fields__ if k != 'espirit')})")
        return cls(**known)


class _Temporal:
    """Temporal sparsifying operator along axis 0: circular difference or orthonormal FFT."""

    def __init__(self, kind: str, xp: Any):
        self.kind, self.xp = kind, xp
        self.norm2 = 4.0 if kind == "tv" else 1.0

    def forward(self, x: Any) -> Any:
        if self.kind == "tv":
            return self.xp.roll(x, -1, axis=0) - x
        return self.xp.fft.fft(x, axis=0, norm="ortho")

    def adjoint(self, d: Any) -> Any:
        if self.kind == "tv":
            return self.xp.roll(d, 1, axis=0) - d
        return self.xp.fft.ifft(d, axis=0, norm="ortho")


def _clip(u: Any, lam: float, xp: Any) -> Any:
    """Projection onto the complex l∞ ball of radius λ (prox of the conjugate of λ‖·‖₁)."""
    if lam == 0:
        return xp.zeros_like(u)
    mag = xp.abs(u)
    return u / xp.maximum(1.0, mag / lam)


def solve(normal: SenseNormal, aty: Any, cfg: CSConfig):
    """Condat–Vũ iterations as a generator of :class:`Step`; returns the image.

    ``normal`` applies ``AᴴA``; ``aty`` is ``Aᴴy``, also the starting point. Both in the
    operator's layout (``normal.ishape``), numpy or cupy.
    """
    import sigpy as sp

    xp = normal.xp
    W = sp.linop.Wavelet(normal.ishape, axes=(-2, -1), wave_name=cfg.wavelet)
    D = _Temporal(cfg.temporal, xp)
    x = aty.copy()
    sigma = cfg.dual_step or 1.0 / (1.0 + D.norm2)
    tau = 1.0 / (0.5 + sigma * (1.0 + D.norm2))
    u_w = xp.zeros(W.oshape, dtype=xp.complex64)
    u_t = xp.zeros(normal.ishape, dtype=xp.complex64)
    for it in range(cfg.iters):
        grad = normal(x) - aty + W.H(u_w) + D.adjoint(u_t)
        x_new = (x - tau * grad).astype(xp.complex64)
        xbar = 2 * x_new - x
        u_w = _clip(u_w + sigma * W(xbar), cfg.lam_wavelet, xp)
        u_t = _clip(u_t + sigma * D.forward(xbar), cfg.lam_temporal, xp)
        change = float(xp.linalg.norm(x_new - x) / max(float(xp.linalg.norm(x_new)), 1e-12))
        x = x_new
        yield Step((it + 1) / cfg.iters, f"iteration {it + 1}/{cfg.iters}, Δ {change:.1e}")
        if change < cfg.tol and it >= 5:
            break
    return x


def _to_device(a: np.ndarray, device: str) -> Any:
    if device.startswith("cuda"):
        try:
            import cupy
        except ImportError:
            raise StudyError("--device", "the cs method on CUDA needs cupy (pip install cupy-cuda12x); "
                             "use --device cpu") from None
        with cupy.cuda.Device(int(device.split(":")[1]) if ":" in device else 0):
            return cupy.asarray(a)
    return a


def reconstruct_cs(kspace: np.ndarray, mask: np.ndarray, maps: np.ndarray | None, cfg: CSConfig, device: str = "cpu",
                   progress: Progress | None = None, cancel: CancelToken | None = None) -> tuple[np.ndarray, np.ndarray]:
    """l1-ESPIRiT recon: returns ``(image complex64 (T, Ny, Nx), maps complex64 (C, Ny, Nx))``."""
    if not np.isfinite(kspace).all():
        raise StudyError("<memory>", "k-space contains non-finite values (NaN or Inf)")
    if maps is None:
        maps = espirit_maps(kspace, mask, cfg.espirit, device="cpu")
    if progress:
        progress(0.05, "ESPIRiT maps")
    aty = combine(ifft2c(kspace * mask[None, :, :, None]), maps, normalise=False)  # Aᴴy, (T, Ny, Nx)
    scale = float(np.percentile(np.abs(aty), 99.9)) or 1.0
    normal = SenseNormal(_to_device(maps, device), _to_device(mask, device))
    xp = normal.xp
    aty_int = normal.to_internal(_to_device(aty / scale, device))
    x = drive(solve(normal, aty_int, cfg), sub_progress(progress, 0.05, 1.0), cancel)
    x = normal.from_internal(x) * scale
    if xp is not np:
        x = x.get()
    return np.asarray(x, dtype=np.complex64), maps


@register("cs", "l1-ESPIRiT: ESPIRiT maps, SENSE, l1-wavelet + temporal TV (or temporal FFT), primal-dual solver")
def cs(kspace: np.ndarray, mask: np.ndarray, *, maps: np.ndarray | None = None, device: str = "cpu",
       progress: Progress | None = None, cancel: CancelToken | None = None, **params: Any) -> np.ndarray:
    """The ``cs`` reconstructor; ``params`` are :class:`CSConfig` fields, or ``backend="bart"``."""
    if params.get("backend", "mrstudio") == "bart":
        from .bart import bart_pics

        cfg = CSConfig.from_params(params)
        return bart_pics(kspace, mask, cfg, progress=progress, cancel=cancel)
    cfg = CSConfig.from_params(params)
    image, _ = reconstruct_cs(kspace, mask, maps, cfg, device, progress, cancel)
    return image


def config_dict(cfg: CSConfig) -> dict[str, Any]:
    return asdict(cfg)


__all__ = ["CSConfig", "cs", "reconstruct_cs", "solve", "combine", "ifft2c"]
