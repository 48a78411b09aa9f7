"""``unrolled``: the any-mask unrolled network (:mod:`mrstudio.nets.unrolled`) — one model for every mask and R.

The k-space is moved to hybrid (ky, x) space once (the readout is fully sampled), the
network estimates its coil maps from the time-averaged centre, and runs its cascades of
data consistency and CNN. Weights: ``--model NAME|PATH`` (default ``cine-unrolled``),
verified against their card's sha256 and loaded with ``weights_only=True``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report
from ..core.registry import loading_prepare
from .base import register

DEFAULT_MODEL = "cine-unrolled"
TASK = "cine-unrolled"


def default_unrolled() -> str | None:
    """The installed any-mask unrolled model, if any (the best by validation PSNR)."""
    from ..io.model_store import list_models

    cards = sorted(list_models(task=TASK), key=lambda c: -float((c.get("validation") or {}).get("psnr", 0.0)))
    return cards[0].name if cards else None


def unrolled_config(card, path):
    """The :class:`~mrstudio.nets.unrolled.UnrolledConfig` a model card records; ``CheckpointError`` if it has none."""
    from ..core.errors import CheckpointError
    from ..nets.unrolled import UnrolledConfig

    if card.task != TASK:
        raise CheckpointError(path, f"not an unrolled cine model (task {card.task!r})")
    try:
        return UnrolledConfig(**card.fields["unrolled"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(path, f"its card records no valid 'unrolled' architecture ({e})") from None


@lru_cache(maxsize=4)
def load_unrolled_model(name_or_path: str, device: str):
    """The :class:`~mrstudio.nets.unrolled.Unrolled` network and its card, cached per (model, device)."""
    from ..io.model_store import load_state
    from ..nets.unrolled import Unrolled

    state, card, path = load_state(name_or_path)
    model = Unrolled(unrolled_config(card, path))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval().to(device), card, str(path)


@register("unrolled", "any-mask unrolled network: cascades of SENSE data consistency and a 2D+t CNN",
          uses_torch=True, prepare=loading_prepare(load_unrolled_model, DEFAULT_MODEL))
def unrolled(kspace: np.ndarray, mask: np.ndarray, *, maps: np.ndarray | None = None, device: str = "cpu",
             progress: Progress | None = None, cancel: CancelToken | None = None, model: str = DEFAULT_MODEL,
             **params: Any) -> np.ndarray:
    """Undersampled k-space ``complex64 (C, T, Ny, Nx)`` and its mask → image ``complex64 (T, Ny, Nx)``."""
    import torch

    from ..core.errors import StudyError
    from ..nets.sense import ifftc_x

    if params:
        raise StudyError("unrolled", f"unknown parameter(s): {', '.join(sorted(params))} (known: model)")
    check(cancel)
    net, _, _ = load_unrolled_model(str(model), device)
    y = ifftc_x(torch.from_numpy(np.ascontiguousarray(kspace))).to(device)[None]
    m = torch.from_numpy(np.ascontiguousarray(mask)).to(device)[None]
    report(progress, 0.2, "unrolled network")
    with torch.inference_mode():
        out = net(y, m)[0]
    report(progress, 1.0, "done")
    return out.cpu().numpy().astype(np.complex64)
