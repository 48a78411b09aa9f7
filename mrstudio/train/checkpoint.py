"""Shipped weights: ``NAME.pt`` (a state dict only) + ``NAME.json`` (model card with its sha256).

Loading always uses ``torch.load(weights_only=True)`` and refuses a file whose sha256
does not match its card. Model lookup: a path, else ``NAME`` in ``$MRSTUDIO_MODELS``,
the source checkout's ``models/``, or the installed package's ``mrstudio/models/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

from ..core.errors import CheckpointError
from ..io.atomic import atomic_path


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent.parent
    dirs = []
    if os.environ.get("MRSTUDIO_MODELS"):
        dirs.append(Path(os.environ["MRSTUDIO_MODELS"]))
    dirs += [here.parent / "models", here / "models"]
    return [d for d in dirs if d.is_dir()]


def resolve_model(name_or_path: str | Path) -> Path:
    """The ``.pt`` file for a model name or path; :class:`CheckpointError` if not found."""
    p = Path(name_or_path)
    if p.suffix == ".pt" or p.exists():
        if not p.is_file():
            raise CheckpointError(p, "checkpoint not found")
        return p
    for d in model_dirs():
        cand = d / f"{name_or_path}.pt"
        if cand.is_file():
            return cand
    known = sorted({f.stem for d in model_dirs() for f in d.glob("*.pt")})
    raise CheckpointError(name_or_path, f"no such model (available: {', '.join(known) or 'none'})")


def list_models(prefix: str = "") -> list[dict[str, Any]]:
    """Model cards of the shipped/installed models whose name starts with ``prefix``."""
    cards = {}
    for d in model_dirs():
        for f in sorted(d.glob(f"{prefix}*.json")):
            try:
                cards.setdefault(f.stem, {**json.loads(f.read_text()), "name": f.stem, "path": str(f.with_suffix(".pt"))})
            except (OSError, json.JSONDecodeError):
                continue
    return list(cards.values())


def read_card(pt: Path) -> dict[str, Any]:
    card_path = pt.with_suffix(".json")
    if not card_path.is_file():
        raise CheckpointError(pt, f"model card {card_path.name} is missing")
    try:
        return json.loads(card_path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(card_path, f"model card is not valid JSON ({exc})") from None


def load_state(name_or_path: str | Path, verify: bool = True) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """``(state_dict, card, path)``; verifies the sha256 recorded in the card."""
    import torch

    pt = resolve_model(name_or_path)
    card = read_card(pt)
    if verify:
        digest = sha256_file(pt)
        if card.get("sha256") != digest:
            raise CheckpointError(pt, f"sha256 {digest[:12]}… does not match the model card's "
                                  f"{str(card.get('sha256'))[:12]}… (file changed or corrupt)")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols; the error (if any) says enough
            warnings.simplefilter("ignore")
            state = torch.load(pt, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(pt, f"not a loadable weights-only checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200]})") from None
    if not isinstance(state, dict):
        raise CheckpointError(pt, "checkpoint does not hold a state dict")
    return state, card, pt


def save_model(state: dict[str, Any], card: dict[str, Any], path: str | Path, force: bool = False,
               half: bool = False) -> dict[str, Any]:
    """Write ``path`` (.pt state dict) and its card (.json) atomically; return the card with its sha256.

    ``half`` stores floating-point tensors as float16 (weights are cast back on load).
    """
    import torch

    path = Path(path)
    if path.suffix != ".pt":
        raise CheckpointError(path, "model path must end in .pt")
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    with atomic_path(path, force) as tmp:
        torch.save(state, tmp)
    card = {**card, "sha256": sha256_file(path), "file": path.name, "bytes": path.stat().st_size,
            "stored_dtype": "float16" if half else "float32"}
    with atomic_path(path.with_suffix(".json"), True) as tmp:
        tmp.write_text(json.dumps(card, indent=2, default=str) + "\n")
    return card
