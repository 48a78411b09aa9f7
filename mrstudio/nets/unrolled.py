"""An any-mask unrolled network: cascades of gradient-step data consistency and a small 2D+t CNN.

    x₀ = Aᴴ y (or Aᴴ of the view-shared data),    x_{k+1} = x_k − η_k · (AᴴA x_k − Aᴴy) + CNN_k(x_k)      (k = 0 … K−1)

with ``A`` the SENSE operator of :mod:`.sense` (coil maps from :func:`.sense.lowres_maps`, zeroed
outside the object for models with ``map_support``; the same at training and inference) and each
``CNN_k`` a residual 3-D convolution network over (t, y, x) on the real and imaginary parts
(2 channels), dilated in space for a larger receptive field. Weights are **per cascade** (early cascades remove aliasing, late ones
refine), ``η_k`` learned. One model serves every mask and R: the mask enters only through
``A``. Inputs are scaled by the 99th percentile of ``|x₀|`` and the output scaled back.

``x0="viewshare"`` starts the cascades from the view-shared image (:func:`.sense.view_share`: each
frame's missing ky lines from the other frames' mean) rather than the zero-filled ``Aᴴy``. Without
any learning it is a few dB better than zero filling at R ≥ 8, its 99th percentile hardly depends
on R (the zero-filled image's shrinks as 1/R), and the cascades then correct motion, not aliasing.
Cards without the field are ``"adjoint"`` models.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from . import sense


@dataclass
class UnrolledConfig:
    cascades: int = 5
    channels: int = 16
    layers: int = 4
    x0: str = "adjoint"  # the cascades' start: "adjoint" (zero-filled Aᴴy) or "viewshare"
    map_support: float = 0.0  # coil maps zeroed below this share of the low-res RSS maximum (sense.lowres_maps)

    def __post_init__(self) -> None:
        if self.x0 not in X0_KINDS:
            raise ValueError(f"x0 must be one of {', '.join(X0_KINDS)}, got {self.x0!r}")
        if not 0.0 <= self.map_support < 1.0:
            raise ValueError(f"map_support must be in [0, 1), got {self.map_support!r}")


X0_KINDS = ("adjoint", "viewshare")


def quantile(v: torch.Tensor, q: float) -> torch.Tensor:
    """``torch.quantile(v, q, dim=1)`` (linear interpolation) of real ``v (B, N)`` → ``(B,)``.

    On the CPU from two ``kthvalue`` selections instead of a sort (several times faster on a 20 × 128² cine);
    elsewhere ``torch.quantile`` (CUDA's ``kthvalue`` on one long row is the slower one)."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile q must be in [0, 1], got {q}")
    if v.device.type != "cpu":
        return torch.quantile(v, q, dim=1)
    pos = q * (v.shape[1] - 1)
    lo = int(pos)
    a = torch.kthvalue(v, lo + 1, dim=1).values
    if lo + 1 >= v.shape[1]:
        return a
    b = torch.kthvalue(v, lo + 2, dim=1).values
    return a + (b - a) * (pos - lo)


class OneDnnConv3d(nn.Conv3d):
    """``nn.Conv3d`` that takes oneDNN for float32 on the CPU whenever oneDNN is enabled.

    PyTorch's heuristic sends a convolution with one small-channel sample — the first layer at
    inference, ``1 × 2 × T × Ny × Nx`` — to its im2col fallback, which was several times slower on the
    2-core CPU and returned NCDHW, so the next layer converted back. Same weights and values (tested),
    differentiable. Zero padding given as numbers only (what :class:`Denoiser` builds); anything else,
    autocast, CUDA and other dtypes take ``nn.Conv3d``'s own path.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x.device.type == "cpu" and x.dtype == torch.float32 and self.padding_mode == "zeros"
                and not isinstance(self.padding, str) and torch.backends.mkldnn.is_available()
                and torch.backends.mkldnn.enabled and not torch.is_autocast_enabled("cpu")):
            return torch.ops.aten.mkldnn_convolution(x, self.weight, self.bias, self.padding, self.stride,
                                                     self.dilation, self.groups)
        return super().forward(x)


class Denoiser(nn.Module):
    """Residual 3-D CNN on ``(B, 2, T, Ny, Nx)``; spatial dilation 1, 2, 4, … in the middle layers."""

    def __init__(self, channels: int, layers: int):
        super().__init__()
        mods: list[nn.Module] = [OneDnnConv3d(2, channels, 3, padding=1), nn.LeakyReLU(0.1)]
        for i in range(layers - 2):
            d = 2 ** (i + 1)
            mods += [OneDnnConv3d(channels, channels, 3, padding=(1, d, d), dilation=(1, d, d)), nn.LeakyReLU(0.1)]
        mods.append(OneDnnConv3d(channels, 2, 3, padding=1))
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """complex ``(B, T, Ny, Nx)`` → the correction, same shape.

        Activations are channels-last (NDHWC), which oneDNN runs faster than NCDHW on the CPU (the same values
        to 2e-7). ``view_as_real`` of a contiguous ``x`` already has that layout once permuted, so neither end
        copies."""
        z = torch.view_as_real(x).permute(0, 4, 1, 2, 3)  # (B, 2, T, Ny, Nx), channels-last strides
        out = self.net(z)
        return torch.view_as_complex(out.permute(0, 2, 3, 4, 1).contiguous())


class Unrolled(nn.Module):
    def __init__(self, cfg: UnrolledConfig):
        super().__init__()
        self.cfg = cfg
        self.denoisers = nn.ModuleList(Denoiser(cfg.channels, cfg.layers) for _ in range(cfg.cascades))
        self.steps = nn.Parameter(torch.ones(cfg.cascades))
        self.to(memory_format=torch.channels_last_3d)  # the convolution weights, as the activations (Denoiser)

    def maps(self, y: torch.Tensor, mask: torch.Tensor, avg: torch.Tensor | None = None) -> torch.Tensor:
        """The coil maps ``(B, C, Ny, Nx)`` this model estimates from hybrid ``y (B, C, T, Ny, Nx)`` (all columns)."""
        return sense.lowres_maps(y, mask, avg=avg, support=self.cfg.map_support)

    def forward(self, y: torch.Tensor, mask: torch.Tensor, maps: torch.Tensor | None = None) -> torch.Tensor:
        """Hybrid data ``y (B, C, T, Ny, Nx)``, mask ``(B, T, Ny)`` → image ``complex (B, T, Ny, Nx)``.

        ``maps``: :meth:`maps` of the full data when ``y`` is a readout crop (training)."""
        share = self.cfg.x0 == "viewshare"
        avg = sense.time_average(y, mask) if maps is None or share else None  # once, for the maps and the start
        if maps is None:
            maps = self.maps(y, mask, avg)
        aty = sense.adjoint(y, maps, mask)  # the gradient Aᴴ(Ax − y) is AᴴA x − Aᴴy
        x = sense.adjoint(sense.view_share(y, mask, avg), maps, torch.ones_like(mask)) if share else aty
        scale = quantile(x.abs().flatten(1), 0.99).clamp_min(1e-8).view(-1, 1, 1, 1)
        x, aty = x / scale, aty / scale
        for eta, net in zip(self.steps, self.denoisers):
            x = x - eta * (sense.normal(x, maps, mask) - aty) + net(x)
        return x * scale


def grown(model: Unrolled, cascades: int) -> Unrolled:
    """A copy of ``model`` with ``cascades`` cascades that computes exactly what ``model`` does.

    The first cascades are ``model``'s; each appended one starts with ``η = 0`` and a zero last
    convolution, so it passes its input through until training moves it (a warm start for a deeper
    model, instead of training it from scratch)."""
    if cascades < model.cfg.cascades:
        raise ValueError(f"cannot grow {model.cfg.cascades} cascades to {cascades}")
    new = Unrolled(replace(model.cfg, cascades=cascades)).to(model.steps.device, model.steps.dtype)
    n = model.cfg.cascades
    with torch.no_grad():
        for k in range(n):
            new.denoisers[k].load_state_dict(model.denoisers[k].state_dict())
        new.steps.zero_()
        new.steps[:n] = model.steps
        for net in new.denoisers[n:]:
            net.net[-1].weight.zero_()
            net.net[-1].bias.zero_()
    return new
