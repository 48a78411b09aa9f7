"""The ``cs`` solver in torch: Condat–Vũ primal–dual iterations on the shared SENSE operator.

The normal operator is :func:`mrstudio.nets.sense.normal` — the one the unrolled network's data
consistency uses — in its transposed layout: images are held as ``(T, Nx, Ny)`` so the ky FFT runs
over contiguous memory. The wavelet is :class:`mrstudio.nets.wavelet.Wavelet2D`. Everything runs
on the device of its tensors (CPU or CUDA), each iteration under ``torch.inference_mode``; the
model and the step rule are those of :mod:`mrstudio.recon.cs`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..core.jobs import Step
from ..nets import sense
from ..nets.wavelet import Wavelet2D, levels_for

if TYPE_CHECKING:
    from .cs import CSConfig


class NormalOp:
    """``AᴴA`` of one cine, maps ``complex64 (C, Ny, Nx)`` and mask ``bool (T, Ny)`` as tensors on one device.

    Works on internal images ``(T, Nx, Ny)``; :meth:`to_internal` / :meth:`from_internal` at the edges."""

    def __init__(self, maps: torch.Tensor, mask: torch.Tensor):
        self.maps = maps.transpose(-1, -2).contiguous()[None]  # (1, C, Nx, Ny)
        self.mask = mask.to(torch.bool)[None]  # (1, T, Ny)
        self.ishape = (mask.shape[0], maps.shape[-1], maps.shape[-2])

    @staticmethod
    def to_internal(x: torch.Tensor) -> torch.Tensor:
        """``(T, Ny, Nx)`` → ``(T, Nx, Ny)`` contiguous (and back: the same transpose)."""
        return x.transpose(-1, -2).contiguous()

    from_internal = to_internal

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return sense.normal(x[None], self.maps, self.mask, ky_last=True)[0]


class _Temporal:
    """Temporal sparsifying operator ``D`` along axis 0: circular difference (‖D‖² ≤ 4) or orthonormal FFT (1)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.norm2 = 4.0 if kind == "tv" else 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "tv":
            return torch.roll(x, -1, 0) - x
        return torch.fft.fft(x, dim=0, norm="ortho")

    def adjoint(self, d: torch.Tensor) -> torch.Tensor:
        if self.kind == "tv":
            return torch.roll(d, 1, 0) - d
        return torch.fft.ifft(d, dim=0, norm="ortho")


def clip(u: torch.Tensor, lam: float) -> torch.Tensor:
    """Projection of complex ``u`` onto the l∞ ball of radius λ (the prox of the conjugate of λ‖·‖₁)."""
    if lam == 0:
        return torch.zeros_like(u)
    return u / (u.abs() / lam).clamp_min(1.0)


def soft(c: torch.Tensor, t: float) -> torch.Tensor:
    """Complex soft-thresholding by ``t`` of coefficients stored as real and imaginary parts ``(2, ...)``."""
    mag = torch.hypot(c[0], c[1]).clamp_min(1e-30)
    return c * (1.0 - t / mag).clamp_min(0.0)


def default_levels(shape: tuple[int, int], name: str) -> int:
    """``cs``'s wavelet depth: one level short of the maximum (4 at 128², db2), which kept more SSIM at R 30 than
    the maximum on real-anatomy training cines at the same PSNR (docs/cs-experiments.md)."""
    return max(1, levels_for(shape, name) - 1)


class WaveletProx:
    """prox of ``t ‖Ψ x‖₁`` over the last two axes, after a random circular shift that changes every call
    (cycle spinning, as BART's random shifts: it removes the blocky artefacts of a shift-variant transform).

    ``levels=None`` is :func:`default_levels`, one short of :class:`Wavelet2D`'s own default (the maximum)."""

    def __init__(self, shape: tuple[int, int], name: str, shifts: bool, seed: int, device: torch.device,
                 levels: int | None = None):
        self.W = Wavelet2D(shape, name, levels=default_levels(shape, name) if levels is None else levels, device=device)
        self.rng = np.random.default_rng(seed) if shifts else None

    def __call__(self, x: torch.Tensor, t: float) -> torch.Tensor:
        if t == 0:
            return x
        if self.rng is None:
            return self.W.adjoint(soft(self.W.forward(x), t))
        s = tuple(int(v) for v in self.rng.integers(0, self.W.period, 2))
        z = self.W.adjoint(soft(self.W.forward(torch.roll(x, s, (-2, -1))), t))
        return torch.roll(z, (-s[0], -s[1]), (-2, -1))


def solve(normal: NormalOp, aty: torch.Tensor, cfg: CSConfig) -> Generator[Step, None, torch.Tensor]:
    """Condat–Vũ iterations as a generator of :class:`Step`; returns the image ``complex64 (T, Nx, Ny)``.

    ``normal`` applies ``AᴴA``; ``aty`` is ``Aᴴy`` in its internal layout, also the starting point."""
    prox = WaveletProx(normal.ishape[1:], cfg.wavelet, cfg.shifts, cfg.seed, aty.device, cfg.levels)
    D = _Temporal(cfg.temporal)
    sigma = cfg.dual_step
    tau = 1.0 / (0.5 + sigma * D.norm2)
    x = aty.clone()
    u = torch.zeros_like(aty)
    for it in range(cfg.iters):
        with torch.inference_mode():  # per iteration: the mode must not leak to the caller between steps
            z = x - tau * (normal(x) - aty + D.adjoint(u))
            x_new = prox(z, tau * cfg.lam_wavelet)
            u = clip(u + sigma * D.forward(2 * x_new - x), cfg.lam_temporal)
            change = float(torch.linalg.vector_norm(x_new - x) / torch.linalg.vector_norm(x_new).clamp_min(1e-12))
        x = x_new
        yield Step((it + 1) / cfg.iters, f"iteration {it + 1}/{cfg.iters}, Δ {change:.1e}")
        if change < cfg.tol and it >= 5:
            break
    return x
