"""A through-plane 2D network (SAINT-style): refines a volume interpolated along z, plane by plane.

The volume is first interpolated linearly along the slice normal onto the output grid; a
small residual CNN then works on 2D planes that contain the slice normal — the (z, x) planes
(one per row y) and the (z, y) planes (one per column x) — where the missing information is,
and the two refined volumes are averaged (the fusion). Inputs per plane, ``(B, 3, Z', W)``:
the linear estimate on [0, 1], each output slice's distance to the nearest original slice
(0 at an original, 1 half-way; the network's only notion of where the data are) and the gap
between its originals in mm / 10 (the slab thickness, which decides the blur to undo).
Dilations along z (2, 4, 8, 2) give a receptive field of 37 thin slices: several thick slices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class PlaneNetConfig:
    channels: int = 16
    dilations: tuple[int, ...] = (2, 4, 8, 2)  # along z, of the middle layers (first and last: 1)

    def as_dict(self) -> dict:
        return {**asdict(self), "dilations": list(self.dilations)}


class PlaneNet(nn.Module):
    """``(B, 3, Z', W)`` → residual ``(B, 1, Z', W)`` added to channel 0."""

    def __init__(self, cfg: PlaneNetConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or PlaneNetConfig()
        c = cfg.channels
        mods: list[nn.Module] = [nn.Conv2d(3, c, 3, padding=1), nn.LeakyReLU(0.1, inplace=True)]
        for d in cfg.dilations:
            mods += [nn.Conv2d(c, c, 3, padding=(d, 1), dilation=(d, 1)), nn.LeakyReLU(0.1, inplace=True)]
        mods.append(nn.Conv2d(c, 1, 3, padding=1))
        self.body = nn.Sequential(*mods)
        nn.init.zeros_(mods[-1].weight)
        nn.init.zeros_(mods[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :1] + self.body(x)
