"""``throughplane``: SAINT-style slice interpolation — linear along z, refined on the planes that contain z.

See :mod:`mrstudio.nets.throughplane`. Works on any volume (the pipeline maps CT HU and MR
robust ranges onto one working scale), any factor and uneven spacing (the gap of every output
slice is a network input), any matrix (fully convolutional), and on CPU in bounded memory:
planes go through the network in batches of ``batch`` and the (z, x) and (z, y) passes add
into one output volume.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report
from ..core.registry import loading_prepare
from .base import register_interp

TASK = "volume-throughplane"
DEFAULT_MODEL = "interp-throughplane"
WORK_LO, WORK_SPAN = -1000.0, 2000.0  # the working (HU-like) scale → the network's [0, 1]


@lru_cache(maxsize=4)
def load_plane_model(name_or_path: str, device: str):
    """The :class:`~mrstudio.nets.throughplane.PlaneNet` and its card, cached per (model, device)."""
    from ..core.errors import CheckpointError
    from ..io.model_store import load_state
    from ..nets.throughplane import PlaneNet, PlaneNetConfig

    state, card, path = load_state(name_or_path)
    if card.task != TASK:
        raise CheckpointError(path, f"not a through-plane interpolation model (task {card.task!r})")
    cfg = dict(card.fields["planenet"])
    cfg["dilations"] = tuple(cfg["dilations"])
    model = PlaneNet(PlaneNetConfig(**cfg))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval().to(device), card, str(path)


def output_grid(z: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the output slices (originals and inserted, in order): ``(lower original index, weight of the upper
    one, distance to the nearest original (0…1), gap in mm)``, each ``(Z',)``."""
    p, k = alphas.shape
    lower = np.concatenate([np.repeat(np.arange(p), k + 1), [p]])
    a = np.concatenate([np.column_stack([np.zeros(p), alphas]).reshape(-1), [0.0]])
    gaps = np.diff(z)
    gap = np.concatenate([np.repeat(gaps, k + 1), [gaps[-1]]])
    dist = 2 * np.minimum(a, 1 - a)
    return lower, a, dist, gap


def linear_along_z(volume: np.ndarray, lower: np.ndarray, a: np.ndarray) -> np.ndarray:
    """float32 (Z', Y, X): ``(1 − a)·volume[lower] + a·volume[lower + 1]``."""
    upper = np.minimum(lower + 1, len(volume) - 1)
    w = a.astype(np.float32)[:, None, None]
    return (1 - w) * volume[lower] + w * volume[upper]


def refine(net, base: np.ndarray, dist: np.ndarray, gap: np.ndarray, device: str, batch: int = 16,
           progress: Progress | None = None, cancel: CancelToken | None = None) -> np.ndarray:
    """The mean of the network's (z, x)-plane and (z, y)-plane refinements of ``base`` (float32 (Z', Y, X), [0, 1])."""
    import torch

    zo, ny, nx = base.shape
    out = np.zeros_like(base)
    d = torch.as_tensor(dist, dtype=torch.float32, device=device)
    g = torch.as_tensor(gap / 10.0, dtype=torch.float32, device=device)
    passes = ((1, ny), (2, nx))
    done, total = 0, ny + nx
    with torch.inference_mode():
        for axis, n in passes:
            for s in range(0, n, batch):
                check(cancel)
                e = min(n, s + batch)
                planes = base[:, s:e, :] if axis == 1 else base[:, :, s:e]
                x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(planes, axis, 0))).to(device)  # (B, Z', W)
                b, _, w = x.shape
                inp = torch.stack([x, d[None, :, None].expand(b, zo, w), g[None, :, None].expand(b, zo, w)], 1)
                y = net(inp)[:, 0].float().cpu().numpy()
                if axis == 1:
                    out[:, s:e, :] += 0.5 * np.moveaxis(y, 0, 1)
                else:
                    out[:, :, s:e] += 0.5 * np.moveaxis(y, 0, 2)
                done += e - s
                report(progress, done / total, f"planes {done}/{total}")
    return out


@register_interp("throughplane", "SAINT-style: linear along z, refined by a 2D CNN on the (z, x) and (z, y) planes",
                 uses_torch=True, prepare=loading_prepare(load_plane_model, DEFAULT_MODEL))
def throughplane(volume: np.ndarray, z: np.ndarray, alphas: np.ndarray, *, device: str = "cpu",
                 progress: Progress | None = None, cancel: CancelToken | None = None, model: str = DEFAULT_MODEL,
                 batch: int = 16, **params: Any) -> np.ndarray:
    """Interpolate with the through-plane network; returns the inserted slices, float32 (P, K, Y, X)."""
    from ..core.errors import StudyError

    if params:
        raise StudyError("--param", f"unknown throughplane parameter(s): {', '.join(sorted(params))} "
                                    "(known: model, batch)")
    net, _, _ = load_plane_model(str(model), device)
    lower, a, dist, gap = output_grid(np.asarray(z, float), alphas)
    base = (linear_along_z(volume, lower, a) - WORK_LO) / WORK_SPAN
    fused = refine(net, base, dist, gap, device, batch, progress, cancel) * WORK_SPAN + WORK_LO
    p, k = alphas.shape
    inserted = np.ones(len(lower), bool)
    inserted[::k + 1] = False
    return fused[inserted].reshape(p, k, *volume.shape[1:]).astype(np.float32)
