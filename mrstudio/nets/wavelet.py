"""The orthonormal periodized 2-D discrete wavelet transform Ψ in torch (the sparsifying transform of ``cs``).

Ψ is ``pywt.wavedec2(x, name, mode="periodization", level=L)`` over the last two axes, its
coefficients in the in-place layout of ``pywt.coeffs_to_array`` (tested against PyWavelets). Each
level multiplies the current approximation block by the one-level analysis matrix of its size
on both sides; the matrices come from PyWavelets' own filters (the transform of the identity),
so there is no filter or boundary convention of our own. Dense matrices cost ``O(n)`` per
coefficient instead of ``O(filter length)``, but at MR sizes (≤ 512) one batched GEMM per axis
and level beats strided convolutions on the CPU and on CUDA.

Orthonormal wavelets only (haar, db, sym, coif): then ``Ψᴴ = Ψ⁻¹`` and the prox of ``t‖Ψx‖₁``
is soft-thresholding of the coefficients. Sizes that are not multiples of ``2^L`` are zero-padded
to the next multiple; ``Ψ`` is then an isometry on the image (``ΨᴴΨ = I``) and its adjoint crops.
Complex images are transformed as their real and imaginary parts (the wavelet is real), stacked
in a leading axis of the coefficients: complex ``(..., H, W)`` ↔ real ``(2, ..., Hp, Wp)``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch


def levels_for(shape: tuple[int, int], name: str) -> int:
    """The decomposition depth: PyWavelets' maximum useful level for the smaller side (at least 1)."""
    import pywt

    return max(pywt.dwt_max_level(min(shape), pywt.Wavelet(name).dec_len), 1)


@lru_cache(maxsize=64)
def _analysis(name: str, n: int) -> np.ndarray:
    """One periodized level for even length ``n``: the orthogonal ``(n, n)`` matrix, approximation rows first."""
    import pywt

    lo, hi = pywt.dwt(np.eye(n), name, mode="periodization", axis=-1)  # row j: the transform of e_j
    return np.ascontiguousarray(np.concatenate([lo, hi], axis=1).T)


class Wavelet2D:
    """Ψ for images ``(..., H, W)`` on ``device``: :meth:`forward` (analysis), :meth:`adjoint` (synthesis)."""

    def __init__(self, shape: tuple[int, int], name: str = "db2", levels: int | None = None,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32):
        import pywt

        if not pywt.Wavelet(name).orthogonal:  # users' names are checked by CSConfig; this guards other callers
            raise ValueError(f"{name!r} is not an orthogonal wavelet (haar, db*, sym*, coif*)")
        self.shape = (int(shape[0]), int(shape[1]))
        self.levels = levels if levels is not None else levels_for(self.shape, name)
        step = 2 ** self.levels
        self.padded = tuple(-(-n // step) * step for n in self.shape)
        self.period = step  # the coarsest coefficient grid repeats with this shift
        hp, wp = self.padded
        self.mats = []  # (h, w, M_h, M_wᵀ) per level, finest first
        for lev in range(self.levels):
            h, w = hp >> lev, wp >> lev
            mh = torch.as_tensor(_analysis(name, h), dtype=dtype, device=device)
            mw = torch.as_tensor(_analysis(name, w), dtype=dtype, device=device)
            self.mats.append((h, w, mh, mw.T.contiguous()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Complex ``(..., H, W)`` → real coefficients ``(2, ..., Hp, Wp)``."""
        c = torch.stack((x.real, x.imag))
        h, w = self.shape
        if (h, w) != self.padded:
            c = torch.nn.functional.pad(c, (0, self.padded[1] - w, 0, self.padded[0] - h))
        for h, w, mh, mwt in self.mats:
            c[..., :h, :w] = mh @ c[..., :h, :w] @ mwt
        return c

    def adjoint(self, c: torch.Tensor) -> torch.Tensor:
        """Real coefficients ``(2, ..., Hp, Wp)`` → complex ``(..., H, W)`` (the inverse, then the crop)."""
        c = c.clone()
        for h, w, mh, mwt in reversed(self.mats):
            c[..., :h, :w] = mh.T @ c[..., :h, :w] @ mwt.T
        h, w = self.shape
        return torch.complex(c[0, ..., :h, :w], c[1, ..., :h, :w])
