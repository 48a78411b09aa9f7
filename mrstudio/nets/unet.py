"""The paper's modified U-Net for cine reconstruction (Sandino et al., 2017).

Per level two 3×3 convolutions with BatchNorm and ReLU, 2×2 max-pooling down,
channels doubling, 2×2 transposed convolutions up, skip concatenation, a final 1×1
convolution. Cardiac frames are channels (``T`` in, ``T`` out). The network is used
residually by :class:`CineUNet`: it predicts ``reference − naive`` on the normalised
naive image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of :class:`UNet`.

    ``frames`` input = output channels; ``base`` channels at the first level, doubled at
    each of the ``depth`` levels below it.
    """

    frames: int = 20
    base: int = 32
    depth: int = 3


class ConvBlock(nn.Sequential):
    """Two (3×3 conv → BatchNorm → ReLU). ``(N, c_in, H, W) → (N, c_out, H, W)``."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """``(N, T, H, W) → (N, T, H, W)``; H and W need not be multiples of ``2**depth`` (inputs are padded)."""

    def __init__(self, cfg: UNetConfig = UNetConfig()):
        super().__init__()
        self.cfg = cfg
        chans = [cfg.base * 2**i for i in range(cfg.depth + 1)]
        self.down = nn.ModuleList([ConvBlock(cfg.frames, chans[0])] +
                                  [ConvBlock(chans[i], chans[i + 1]) for i in range(cfg.depth)])
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList([nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in reversed(range(cfg.depth))])
        self.dec = nn.ModuleList([ConvBlock(2 * chans[i], chans[i]) for i in reversed(range(cfg.depth))])
        self.out = nn.Conv2d(chans[0], cfg.frames, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (N, T, H, W) float → (N, T, H, W)."""
        h, w = x.shape[-2:]
        m = 2**self.cfg.depth
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = nn.functional.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        skips = []
        for i, block in enumerate(self.down):
            x = block(x)
            if i < self.cfg.depth:
                skips.append(x)
                x = self.pool(x)
        for up, dec in zip(self.up, self.dec):
            x = up(x)
            x = dec(torch.cat([skips.pop(), x], dim=1))
        return self.out(x)[..., :h, :w]


SCALE = 1000.0


def normalise(naive: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The paper's input normalisation: scale each cine to [0, 1000], subtract its mean.

    ``naive`` (N, T, H, W) magnitude → ``(x, scale, mean)`` with ``x = naive·scale − mean``.
    """
    peak = naive.flatten(1).amax(dim=1).clamp_min(1e-12)
    scale = (SCALE / peak).view(-1, 1, 1, 1)
    scaled = naive * scale
    mean = scaled.mean(dim=(1, 2, 3), keepdim=True)
    return scaled - mean, scale, mean


class CineUNet(nn.Module):
    """Residual wrapper: ``naive → naive + UNet(normalised naive)``, normalisation undone on output.

    Input and output are magnitude cines ``(N, T, H, W)`` on the scale of the data.
    """

    def __init__(self, cfg: UNetConfig = UNetConfig()):
        super().__init__()
        self.net = UNet(cfg)

    @property
    def cfg(self) -> UNetConfig:
        return self.net.cfg

    def forward(self, naive: torch.Tensor, normalised: bool = False) -> torch.Tensor:
        """``naive`` (N, T, H, W) → reconstruction (N, T, H, W).

        With ``normalised=True`` the output stays on the [0, 1000] scale of the input
        normalisation (for losses); otherwise it is on the scale of ``naive``.
        """
        x, scale, mean = normalise(naive)
        # the U-Net itself works in units of the peak (x / 1000): its output layer then needs
        # weights of order one, not of order 1000, to express the residual
        y = x + self.net(x / SCALE) * SCALE + mean
        return y if normalised else y / scale
