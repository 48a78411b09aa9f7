"""HRINet (Li, Koh, Lee): an autoencoder whose latent code *and* lower-level feature maps are
mixed by α between two slices, with two critics.

Generator (the autoencoder):

* encoder: ``EN`` blocks (two 3×3 convs, LeakyReLU 0.2; stride-2 conv to halve the size)
  from the input down to ``size/16``, where a 1×1 bottleneck gives the latent code
  ``16 × size/16 × size/16``; two further ``EN`` blocks with bottlenecks give the
  lower-level feature maps ``size/32`` and ``size/64`` (the paper's Table 1: 256² →
  16×16×16, 8×8×8, 4×4×8; 512² → 32×32×16, 16×16×8, 8×8×4);
* mixing: every level ``m_α = (1 − α)·E(a) + α·E(b)`` (α = 0 gives slice ``a``; MR Studio's
  convention, the paper writes the same mix with the roles swapped);
* decoder: from the smallest map up, ``DE`` blocks (nearest upsampling + two 3×3 convs)
  concatenating the mixed map of each level, then up to the input size, 1×1 output.

Critics: ``AlphaCritic`` (D1, ACAI) regresses α from an image (mean of a small conv net's
output map); ``PatchCritic`` (D2, PatchGAN, 70×70-style) scores patches real/fake.

Intensities: HU clipped to [−1000, 1000]·… scaled to [−1, 1] (:func:`hu_to_net`).
``residual=True`` (an MR Studio extension, not in the paper) adds the linear
interpolation of the two inputs to the decoder output, so the network learns a
correction to linear interpolation instead of the whole slice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HU_LO, HU_HI = -1000.0, 1000.0


def hu_to_net(hu: torch.Tensor) -> torch.Tensor:
    """HU → network scale: clip to [−1000, 1000] HU, map to [−1, 1]."""
    return (hu.clamp(HU_LO, HU_HI) - (HU_LO + HU_HI) / 2) / ((HU_HI - HU_LO) / 2)


def net_to_hu(x: torch.Tensor) -> torch.Tensor:
    return x * ((HU_HI - HU_LO) / 2) + (HU_LO + HU_HI) / 2


def pad_to_multiple(volume: np.ndarray, m: int = 64) -> tuple[np.ndarray, tuple[slice, slice]]:
    """``(padded, (rows, cols))``: ``volume (..., H, W)`` padded with air (−1000 HU) to multiples of ``m``
    (the generator's smallest map is 1/64), centred; ``padded[..., rows, cols]`` is the original."""
    h, w = volume.shape[-2:]
    (t, b), (left, r) = (((-n % m) // 2, (-n % m) - (-n % m) // 2) for n in (h, w))
    if t or b or left or r:
        volume = np.pad(volume, [(0, 0)] * (volume.ndim - 2) + [(t, b), (left, r)], constant_values=HU_LO)
    return volume, (slice(t, t + h), slice(left, left + w))


@dataclass
class HRINetConfig:
    size: int = 256  # training slice size; the latent sizes of Table 1 follow from it
    base: int = 32  # channels of the first EN block (doubling, capped at 8·base)
    latent: tuple[int, int, int] = (16, 8, 8)  # channels at size/16, size/32, size/64
    levels: int = 3  # 1 = ACAI (latent code only), 3 = HRINet (code + two feature levels)
    residual: bool = False
    skips: bool = False  # also mix the encoder's full-, 1/2-, 1/4- and 1/8-size features (extension)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["latent"] = list(self.latent)
        return d

    @staticmethod
    def for_size(size: int, **kw) -> HRINetConfig:
        """The paper's latent channels for 256² (16, 8, 8) or 512² (16, 8, 4)."""
        return HRINetConfig(size=size, latent=(16, 8, 4) if size >= 512 else (16, 8, 8), **kw)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.2, inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.LeakyReLU(0.2, inplace=True))


class Encoder(nn.Module):
    """Image ``(N, 1, H, W)`` → list of maps ``[code (N, l0, H/16, W/16), f1 (H/32), f2 (H/64)]``."""

    def __init__(self, cfg: HRINetConfig):
        super().__init__()
        chans = [min(cfg.base * 2 ** i, 8 * cfg.base) for i in range(5)]
        self.stem = _block(1, chans[0])
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
                          _block(chans[i + 1], chans[i + 1])) for i in range(4))  # H → H/16
        self.code = nn.Conv2d(chans[4], cfg.latent[0], 1)
        self.skips = cfg.skips
        self.deeper = nn.ModuleList()
        self.bottle = nn.ModuleList()
        for lvl in range(1, cfg.levels):
            self.deeper.append(nn.Sequential(nn.Conv2d(chans[4], chans[4], 3, stride=2, padding=1),
                                             nn.LeakyReLU(0.2, inplace=True), _block(chans[4], chans[4])))
            self.bottle.append(nn.Conv2d(chans[4], cfg.latent[lvl], 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The mixed levels (code first); with ``skips``, followed by the H, H/2, H/4, H/8 features."""
        h = self.stem(x)
        feats = [h]
        for d in self.down:
            h = d(h)
            feats.append(h)
        out = [self.code(h)]
        for deeper, bottle in zip(self.deeper, self.bottle):
            h = deeper(h)
            out.append(bottle(h))
        return out + feats[:4] if self.skips else out


class Decoder(nn.Module):
    """Mixed maps (as from :class:`Encoder`) → image ``(N, 1, H, W)``."""

    def __init__(self, cfg: HRINetConfig):
        super().__init__()
        chans = [min(cfg.base * 2 ** i, 8 * cfg.base) for i in range(5)]
        lat = list(cfg.latent[: cfg.levels])
        self.levels = cfg.levels
        self.from_deep = nn.ModuleList()
        c = 0
        for lvl in range(cfg.levels - 1, 0, -1):  # smallest map first
            self.from_deep.append(_block(c + lat[lvl], chans[4]))
            c = chans[4]
        self.at_code = _block(c + lat[0], chans[4])
        self.skips = cfg.skips
        extra = [chans[3 - i] if cfg.skips else 0 for i in range(4)]
        self.up = nn.ModuleList(_block(chans[4 - i] + extra[i], chans[3 - i]) for i in range(4))  # H/16 → H
        self.out = nn.Conv2d(chans[0], 1, 1)

    def forward(self, maps: list[torch.Tensor]) -> torch.Tensor:
        h = None
        for i, lvl in enumerate(range(self.levels - 1, 0, -1)):
            m = maps[lvl]
            h = m if h is None else torch.cat([F.interpolate(h, size=m.shape[-2:], mode="nearest"), m], 1)
            h = self.from_deep[i](h)
        code = maps[0]
        h = code if h is None else torch.cat([F.interpolate(h, size=code.shape[-2:], mode="nearest"), code], 1)
        h = self.at_code(h)
        skips = maps[self.levels:][::-1] if self.skips else []  # H/8, H/4, H/2, H
        for i, up in enumerate(self.up):
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            if skips:
                h = torch.cat([h, skips[i]], 1)
            h = up(h)
        return self.out(h)


class HRINet(nn.Module):
    """The generator: encode both slices, mix every level by α, decode."""

    def __init__(self, cfg: HRINetConfig | None = None):
        super().__init__()
        self.cfg = cfg or HRINetConfig()
        self.encoder = Encoder(self.cfg)
        self.decoder = Decoder(self.cfg)
        if self.cfg.residual:  # start as linear interpolation: the correction is zero at first
            nn.init.zeros_(self.decoder.out.weight)
            nn.init.zeros_(self.decoder.out.bias)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.encoder(x)

    @staticmethod
    def mix(ea: list[torch.Tensor], eb: list[torch.Tensor], alpha: torch.Tensor) -> list[torch.Tensor]:
        """``(1 − α)·ea + α·eb`` per level; ``alpha`` ``(N,)``."""
        a = alpha.view(-1, 1, 1, 1)
        return [(1 - a) * u + a * v for u, v in zip(ea, eb)]

    def decode(self, maps: list[torch.Tensor]) -> torch.Tensor:
        return self.decoder(maps)

    def forward(self, a: torch.Tensor, b: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """Slices ``a``, ``b`` ``(N, 1, H, W)`` on the network scale, ``alpha`` ``(N,)`` → ``(N, 1, H, W)``."""
        return self.interpolate(self.encode(a), self.encode(b), a, b, alpha)

    def interpolate(self, ea: list[torch.Tensor], eb: list[torch.Tensor], a: torch.Tensor, b: torch.Tensor,
                    alpha: torch.Tensor) -> torch.Tensor:
        """Decode the α-mix of encodings ``ea``, ``eb`` of slices ``a``, ``b`` (all broadcast to ``alpha``'s N).

        With ``residual``, the decoder's output is a correction added to ``(1 − α)·a + α·b``.
        """
        out = self.decode(self.mix(ea, eb, alpha))
        if self.cfg.residual:
            al = alpha.view(-1, 1, 1, 1)
            out = out + (1 - al) * a + al * b
        return out

    def autoencode(self, x: torch.Tensor) -> torch.Tensor:
        out = self.decode(self.encode(x))
        return out + x if self.cfg.residual else out


class AlphaCritic(nn.Module):
    """D1 (ACAI): regresses α ∈ [0, 0.5] from an image ``(N, 1, H, W)`` → ``(N,)``."""

    def __init__(self, base: int = 16):
        super().__init__()
        layers, c = [], 1
        for i in range(5):
            cout = min(base * 2 ** i, 8 * base)
            layers += [nn.Conv2d(c, cout, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            c = cout
        layers.append(nn.Conv2d(c, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).mean(dim=(1, 2, 3))


class PatchCritic(nn.Module):
    """D2: a PatchGAN discriminator, ``(N, 1, H, W)`` → patch logits ``(N, 1, H/8 − 2, W/8 − 2)``."""

    def __init__(self, base: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, base, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(base, base * 2, 4, stride=2, padding=1), nn.InstanceNorm2d(base * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(base * 2, base * 4, 4, stride=2, padding=1), nn.InstanceNorm2d(base * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(base * 4, base * 4, 3, padding=1), nn.InstanceNorm2d(base * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(base * 4, 1, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
