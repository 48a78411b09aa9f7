"""Training losses of the cine paper: l2, l1 in Fourier space, SSIM (1 − SSIM).

All take ``pred`` and ``target`` magnitude cines ``(N, T, H, W)`` on the same scale
(the paper's [0, 1000] normalisation) and return a scalar tensor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("l2", "l1-fourier", "ssim")


def l2_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error (weight decay is the optimiser's job)."""
    return F.mse_loss(pred, target)


def l1_fourier_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the orthonormal 2-D Fourier transforms (per frame)."""
    diff = torch.fft.fft2(pred - target, norm="ortho")
    return diff.abs().mean()


def _gaussian_window(size: int = 11, sigma: float = 1.5, device=None, dtype=None) -> torch.Tensor:
    """The normalised 1-D Gaussian ``(size,)``; the 2-D window is its outer product."""
    x = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim_map(pred: torch.Tensor, target: torch.Tensor, data_range: torch.Tensor | float) -> torch.Tensor:
    """Per-pixel SSIM, Gaussian window σ = 1.5 (as scikit-image with ``gaussian_weights``), valid region.

    ``pred``/``target`` (N, T, H, W); ``data_range`` scalar or (N,) per cine; returns ``(N·T, 1, H−10, W−10)``.
    The window is separable: the five local moments go through one grouped column pass and one row pass
    (22 instead of 121 products per pixel; a 2-D single-channel convolution also takes PyTorch's slow
    CPU path, and made SSIM training steps several times slower than l2 ones).
    """
    n, t, h, w = pred.shape
    g = _gaussian_window(device=pred.device, dtype=pred.dtype)
    p = pred.reshape(n * t, 1, h, w)
    q = target.reshape(n * t, 1, h, w)
    if isinstance(data_range, torch.Tensor) and data_range.ndim:
        L = data_range.repeat_interleave(t).view(-1, 1, 1, 1)
    else:
        L = data_range
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    z = torch.cat([p, q, p * p, q * q, p * q], 1)  # (N·T, 5, H, W)
    z = F.conv2d(z, g.view(1, 1, -1, 1).expand(5, 1, -1, 1), groups=5)
    z = F.conv2d(z, g.view(1, 1, 1, -1).expand(5, 1, 1, -1), groups=5)
    mu_p, mu_q, e_pp, e_qq, e_pq = z.split(1, dim=1)
    s_pp, s_qq, s_pq = e_pp - mu_p**2, e_qq - mu_q**2, e_pq - mu_p * mu_q
    return ((2 * mu_p * mu_q + c1) * (2 * s_pq + c2)) / ((mu_p**2 + mu_q**2 + c1) * (s_pp + s_qq + c2))


def ssim_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1 − mean SSIM`` with each cine's reference data range."""
    rng = (target.flatten(1).amax(1) - target.flatten(1).amin(1)).clamp_min(1e-6)
    return 1.0 - ssim_map(pred, target, rng).mean()


def get_loss(name: str):
    from ..core.errors import ParameterError

    table = {"l2": l2_loss, "l1-fourier": l1_fourier_loss, "ssim": ssim_loss}
    if name not in table:
        raise ParameterError("loss", f"unknown cine loss {name!r} (choose from {', '.join(LOSSES)})")
    return table[name]
