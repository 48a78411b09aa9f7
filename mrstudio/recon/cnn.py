"""``cnn``: the paper's residual U-Net on the naive (zero-filled sum-of-squares) recon.

Weights come from ``--model NAME|PATH`` (default: the installed l2 model whose card's R is
nearest the mask's effective R), verified against the sha256 of their model card and
loaded with ``weights_only=True``. Inference is
batched over slices, runs on the chosen device with bf16 autocast on CUDA and
channels-last memory there.

Frames ≠ the model's ``T``: the naive cine is resampled periodically in time (linear
interpolation on the cardiac cycle) to ``T`` frames, reconstructed, and resampled back.

``dc=True`` adds the data-consistency step the paper names as future work: the CNN's
magnitude gets the phase of the zero-filled SENSE-1 image, is projected onto each coil
with ESPIRiT maps, the acquired k-space lines replace the predicted ones, and the coils
are combined again (SENSE-1).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..core.coils import espirit_maps
from ..core.jobs import CancelToken, Progress, check, report
from .base import register, undersample
from .zerofilled import sos_naive_torch

DEFAULT_MODEL = "cine-unet-l2-r15"


def resample_time(x: np.ndarray, frames: int) -> np.ndarray:
    """Periodic linear resampling of ``(..., T, H, W)`` along T to ``frames`` frames."""
    t = x.shape[-3]
    if t == frames:
        return x
    pos = np.arange(frames) * t / frames
    i0 = np.floor(pos).astype(int) % t
    i1 = (i0 + 1) % t
    w = (pos - np.floor(pos)).astype(np.float32)[:, None, None]
    return (x[..., i0, :, :] * (1 - w) + x[..., i1, :, :] * w).astype(x.dtype)


@lru_cache(maxsize=8)
def load_cine_model(name_or_path: str, device: str):
    """The :class:`~mrstudio.nets.unet.CineUNet` and its card, cached per (model, device)."""
    import torch

    from ..io.model_store import load_state
    from ..nets.unet import CineUNet, UNetConfig

    state, card, path = load_state(name_or_path)
    model = CineUNet(UNetConfig(**card.fields["unet"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    model = model.eval().to(device).to(memory_format=torch.channels_last)  # NHWC (the U-Net 1.4× faster on the CPU)
    return model, card, str(path)


def cnn_magnitude(naive: np.ndarray, model_name: str, device: str = "cpu", batch: int = 8) -> np.ndarray:
    """Apply the CNN to naive magnitudes ``float32 (S, T, H, W)`` (S slices) → same shape."""
    import torch

    model, card, _ = load_cine_model(model_name, device)
    frames = card.fields["unet"]["frames"]
    t = naive.shape[1]
    x = resample_time(naive, frames)
    out = np.empty_like(x)
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch])).to(device)
            xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
                yb = model(xb)
            out[i:i + batch] = yb.float().cpu().numpy()
    out = np.maximum(out, 0)
    return resample_time(out, t) if t != frames else out


def data_consistency(mag: np.ndarray, kspace: np.ndarray, mask: np.ndarray, maps: np.ndarray,
                     device: str = "cpu") -> np.ndarray:
    """One DC step: phase from the zero-filled SENSE-1 image, acquired lines restored per coil.

    Through the SENSE operator of :mod:`mrstudio.nets.sense`, the one ``cs`` and ``unrolled`` use
    (SENSE-1: :func:`~mrstudio.nets.sense.sense1`).
    ``mag`` float32 (T, Ny, Nx), ``kspace`` (C, T, Ny, Nx) zero-filled, ``maps`` (C, Ny, Nx).
    Returns complex64 (T, Ny, Nx).
    """
    import torch

    from ..nets import sense

    with torch.inference_mode():
        y = sense.ifftc_x(torch.from_numpy(np.ascontiguousarray(kspace, dtype=np.complex64)).to(device))[None]
        s = torch.from_numpy(np.ascontiguousarray(maps, dtype=np.complex64)).to(device)[None]
        m = torch.from_numpy(np.ascontiguousarray(mask, dtype=bool)).to(device)[None]
        full = torch.ones_like(m)
        zf = sense.sense1(y, s, m)
        x = torch.from_numpy(np.ascontiguousarray(mag, dtype=np.float32)).to(device)[None] * torch.sgn(zf)
        est = torch.where(m[:, None, :, :, None], y, sense.forward(x, s, full))
        out = sense.sense1(est, s, full)
    return out[0].cpu().numpy()


def prepare_cnn(params: dict[str, Any], device: str, accel: float | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Choose the model (the given one, else the l2 card nearest ``accel``), load it once; its provenance."""
    from ..core.errors import ParameterError
    from ..io.model_store import nearest_model

    params = dict(params)
    chosen = None
    if "model" not in params:
        card = nearest_model(accel or 15.0, "l2")
        if card is None:
            raise ParameterError("model", "no installed cine model (models/cine-unet-*.pt): choose a checkpoint",
                                 cli_hint="give --model PATH")
        params["model"] = card.name
        chosen = f"nearest installed R to {accel:.3g}: {card.name} (R {card.accel:g})" if accel else None
    _, card, _ = load_cine_model(str(params["model"]), device)
    prov = card.provenance()
    if chosen:
        prov["model_choice"] = chosen
    return params, prov


@register("cnn", "the paper's residual U-Net on the naive recon (optionally with data consistency)", uses_torch=True,
          prepare=prepare_cnn)
def cnn(kspace: np.ndarray, mask: np.ndarray, *, maps: np.ndarray | None = None, device: str = "cpu",
        progress: Progress | None = None, cancel: CancelToken | None = None, model: str = DEFAULT_MODEL,
        dc: bool = False, **params: Any) -> np.ndarray:  # run_recon passes the model prepare_cnn chose
    """CNN recon ``complex64 (T, Ny, Nx)`` (real-valued magnitude unless ``dc``)."""

    from ..core.errors import ParameterError

    if params:
        raise ParameterError("param", f"unknown cnn parameter(s): {', '.join(sorted(params))} (known: model, dc)")
    check(cancel)
    k = undersample(kspace, mask)
    naive = sos_naive_torch(k, mask, device)
    report(progress, 0.2, "naive recon")
    check(cancel)
    mag = cnn_magnitude(naive[None], str(model), device)[0]
    report(progress, 0.8, "CNN")
    if dc:
        check(cancel)
        m = maps if maps is not None else espirit_maps(k, mask)
        out = data_consistency(mag, k, mask, m, device)
    else:
        out = mag.astype(np.complex64)
    report(progress, 1.0, "done")
    return out

