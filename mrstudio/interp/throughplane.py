"""``throughplane``: SAINT-style slice interpolation — linear along z, refined on the planes that contain z.

See :mod:`mrstudio.nets.throughplane`. Works on any volume (the pipeline maps CT HU and MR
robust ranges onto one working scale), any factor and uneven spacing (the gap of every output
slice is a network input), any matrix (fully convolutional), and on CPU in bounded memory:
planes go through the network in batches sized to stay in the CPU's cache (``batch`` to
override), and the (z, x) and (z, y) passes are averaged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report, sub_progress
from ..core.registry import loading_prepare
from .base import register_interp

TASK = "volume-throughplane"
DEFAULT_MODEL = "interp-throughplane"
WORK_LO, WORK_SPAN = -1000.0, 2000.0  # the working (HU-like) scale → the network's [0, 1]


@lru_cache(maxsize=4)
def load_plane_model(name_or_path: str, device: str):
    """The :class:`~mrstudio.nets.throughplane.PlaneNet` and its card, cached per (model, device)."""
    import torch

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
    # channels-last: oneDNN's convolutions with few channels run 1.75× faster so on the 2-core CPU
    return model.eval().to(device).to(memory_format=torch.channels_last), card, str(path)


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


CPU_BATCH_PIXELS = 320_000  # plane pixels per CPU batch: 16 channels of it (≈ 20 MB) stay in the cache


def plane_batch(zo: int, width: int, device: str) -> int:
    """Planes per network call: on the CPU as many as keep one layer's activations in the cache
    (a 16-plane batch of 298 × 512 planes ran 2× slower per plane than a 2-plane one); 16 on a GPU."""
    return 16 if device != "cpu" else max(1, CPU_BATCH_PIXELS // max(1, zo * width))


def _plane_pass(net, vol: np.ndarray, inputs, device: str, batch: int, progress: Progress | None,
                cancel: CancelToken | None) -> np.ndarray:
    """The network on every (z, w) plane ``vol[:, i, :]`` of a C-contiguous ``(Z', N, W)`` volume."""
    import torch

    zo, n, w = vol.shape
    out = np.empty_like(vol)
    d, g = inputs
    for s in range(0, n, batch):
        check(cancel)
        e = min(n, s + batch)
        x = torch.from_numpy(np.ascontiguousarray(vol[:, s:e, :].transpose(1, 0, 2))).to(device)  # (B, Z', W)
        b = e - s
        inp = torch.stack([x, d[None, :, None].expand(b, zo, w), g[None, :, None].expand(b, zo, w)], 1)
        y = net(inp.contiguous(memory_format=torch.channels_last))[:, 0].float().cpu().numpy()
        out[:, s:e, :] = y.transpose(1, 0, 2)
        report(progress, e / n, f"planes {e}/{n}")
    return out


def refine(net, base: np.ndarray, dist: np.ndarray, gap: np.ndarray, device: str, batch: int | None = None,
           progress: Progress | None = None, cancel: CancelToken | None = None) -> np.ndarray:
    """The mean of the network's (z, x)-plane and (z, y)-plane refinements of ``base`` (float32 (Z', Y, X), [0, 1]).

    ``batch``: planes per network call (default :func:`plane_batch`). The (z, y) pass runs on a transposed
    copy, so that both passes read and write whole rows.
    """
    import torch

    zo, ny, nx = base.shape
    d = torch.as_tensor(dist, dtype=torch.float32, device=device)
    g = torch.as_tensor(gap / 10.0, dtype=torch.float32, device=device)
    half = ny / (ny + nx)  # of the progress: the (z, x) planes, one per row y
    with torch.inference_mode():
        out = _plane_pass(net, base, (d, g), device, batch or plane_batch(zo, nx, device),
                          sub_progress(progress, 0.0, half), cancel)
        across = _plane_pass(net, np.ascontiguousarray(base.transpose(0, 2, 1)), (d, g), device,
                             batch or plane_batch(zo, ny, device), sub_progress(progress, half, 1.0), cancel)
    out += across.transpose(0, 2, 1)
    out *= 0.5
    return out


def plane_example(thin: np.ndarray, k: int, gap_mm: float | None = None) -> dict[str, np.ndarray]:
    """One training example from a thin plane ``(L, W)`` (slice normal along rows, 1 mm apart unless ``gap_mm``
    says how thick a slab of ``k`` rows is): the network's input ``(3, Z', W)``, the truth ``(Z', W)`` and which
    rows are inserted ``(Z',)``. The same inputs :func:`throughplane` builds from a volume."""
    from ..core.slabs import slab_average
    from .slab import thin_at

    thick, centres = slab_average(thin, k)
    m = np.arange((len(thick) - 1) * k + 1)
    lower, a = np.minimum(m // k, len(thick) - 1), (m % k) / k
    base = linear_along_z(thick[:, None, :], lower, a)[:, 0]
    truth = thin_at(thin, centres[0] + m)
    dist = np.broadcast_to((2 * np.minimum(a, 1 - a))[:, None], base.shape)
    gap = np.full_like(base, (gap_mm if gap_mm is not None else float(k)) / 10.0)
    return {"x": np.stack([base, dist, gap]).astype(np.float32), "y": truth.astype(np.float32), "inserted": a > 0}


def adapt(net, volume_unit: np.ndarray, k: int, gap_mm: float, seconds: float, device: str, seed: int = 0,
          batch: int = 16, lr: float = 3e-4, cancel: CancelToken | None = None):
    """Self-supervised refinement on the input volume itself (SMORE-style): its own slices ``(Y, X)`` are
    resolved ``k``× finer in-plane than across, so slabs of ``k`` pixels along y (or x) made from them are
    training pairs of exactly the kind the network will then resolve along z. Fine-tunes a copy of ``net``
    for ``seconds`` and returns it (``net`` is left as it is)."""
    import copy
    import time

    import torch

    z, ny, nx = volume_unit.shape
    length, width = min(48 // k + 1, max(2, min(ny, nx) // k)) * k, min(64, ny, nx)
    tuned = copy.deepcopy(net).train()
    opt = torch.optim.Adam(tuned.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        check(cancel)
        exs = []
        for _ in range(batch):
            sl = volume_unit[rng.integers(z)]
            sl = sl if rng.random() < 0.5 else sl.T
            r0, c0 = rng.integers(0, sl.shape[0] - length + 1), rng.integers(0, sl.shape[1] - width + 1)
            exs.append(plane_example(sl[r0:r0 + length, c0:c0 + width], k, gap_mm))
        x = torch.from_numpy(np.stack([e["x"] for e in exs])).to(device)
        y = torch.from_numpy(np.stack([e["y"] for e in exs])).to(device)
        loss = (tuned(x)[:, 0] - y).abs()[:, torch.from_numpy(exs[0]["inserted"]).to(device)].mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return tuned.eval()


@register_interp("throughplane", "SAINT-style: linear along z, refined by a 2D CNN on the (z, x) and (z, y) planes",
                 uses_torch=True, prepare=loading_prepare(load_plane_model, DEFAULT_MODEL))
def throughplane(volume: np.ndarray, z: np.ndarray, alphas: np.ndarray, *, device: str = "cpu",
                 progress: Progress | None = None, cancel: CancelToken | None = None, model: str = DEFAULT_MODEL,
                 batch: int | None = None, adapt_seconds: float = 0.0, **params: Any) -> np.ndarray:
    """Interpolate with the through-plane network; returns the inserted slices, float32 (P, K, Y, X).

    ``adapt_seconds`` > 0 first refines the network on the volume itself for that long (:func:`adapt`,
    assuming the slices are resolved in-plane as finely as the output is across them).
    """

    from ..core.errors import ParameterError

    if params:
        raise ParameterError("param", f"unknown throughplane parameter(s): {', '.join(sorted(params))} "
                                    "(known: model, batch, adapt_seconds)")
    net, _, _ = load_plane_model(str(model), device)
    lower, a, dist, gap = output_grid(np.asarray(z, float), alphas)
    if adapt_seconds > 0:
        report(progress, 0.0, f"adapting to the volume for {adapt_seconds:g} s")
        net = adapt(net, (volume - WORK_LO) / WORK_SPAN, alphas.shape[1] + 1, float(np.median(np.diff(z))),
                    float(adapt_seconds), device, cancel=cancel)
    base = (linear_along_z(volume, lower, a) - WORK_LO) / WORK_SPAN
    fused = refine(net, base, dist, gap, device, batch, progress, cancel) * WORK_SPAN + WORK_LO
    p, k = alphas.shape
    inserted = np.ones(len(lower), bool)
    inserted[::k + 1] = False
    return fused[inserted].reshape(p, k, *volume.shape[1:]).astype(np.float32)
