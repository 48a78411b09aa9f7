"""The model store: ``NAME.pt`` (a state dict only) + ``NAME.json`` (its model card, with the sha256).

Inference (``recon``, ``interp``), training, benchmarks and the GUI all find, read and
load models here; nothing below ``train`` imports training code to do so. Loading always
uses ``torch.load(weights_only=True)`` and refuses a file whose sha256 does not match its
card. Model lookup: a path, else ``NAME`` in ``$MRSTUDIO_MODELS``, the source checkout's
``models/``, or the installed package's ``mrstudio/models/``. Which model serves a request
is decided from the cards' fields (task, loss, R), never from the file names.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import CheckpointError
from .atomic import atomic_path

CINE_TASK = "cine-reconstruction"
INTERP_TASK = "ct-interpolation"


@dataclass(frozen=True)
class ModelCard:
    """A model card: what a model is for and how it was made (``NAME.json`` beside ``NAME.pt``).

    ``fields`` is the card as written (architecture config, training data, splits, steps,
    scores, …); the attributes are the ones the program decides with.
    """

    name: str
    path: Path  # the .pt file
    fields: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def task(self) -> str | None:
        return self.fields.get("task")

    @property
    def sha256(self) -> str | None:
        return self.fields.get("sha256")

    @property
    def loss(self) -> str | None:
        return self.fields.get("loss")

    @property
    def accel(self) -> float | None:
        """The acceleration R a cine model was trained for (``None`` for any-R models)."""
        r = self.fields.get("accel")
        return float(r) if r is not None else None

    def get(self, key: str, default: Any = None) -> Any:
        """Any other card field."""
        return self.fields.get(key, default)

    def provenance(self) -> dict[str, Any]:
        """What a result records about the model that made it."""
        return {"model": self.name, "model_sha256": self.sha256, "model_path": str(self.path)}


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


def list_models(prefix: str = "", task: str | None = None) -> list[ModelCard]:
    """Cards of the installed models whose name starts with ``prefix`` (and whose task is ``task``)."""
    cards: dict[str, ModelCard] = {}
    for d in model_dirs():
        for f in sorted(d.glob(f"{prefix}*.json")):
            try:
                fields = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(fields, dict) and (task is None or fields.get("task") == task):
                cards.setdefault(f.stem, ModelCard(f.stem, f.with_suffix(".pt"), fields))
    return list(cards.values())


def read_card(pt: Path) -> ModelCard:
    """The card beside ``pt`` (:class:`CheckpointError` when missing or not JSON)."""
    card_path = pt.with_suffix(".json")
    if not card_path.is_file():
        raise CheckpointError(pt, f"model card {card_path.name} is missing")
    try:
        fields = json.loads(card_path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(card_path, f"model card is not valid JSON ({exc})") from None
    if not isinstance(fields, dict):
        raise CheckpointError(card_path, "model card is not a JSON object")
    return ModelCard(pt.stem, pt, fields)


def nearest_model(accel: float, loss: str = "l2", task: str = CINE_TASK) -> ModelCard | None:
    """The installed model for ``task`` and ``loss`` whose trained R is nearest to ``accel`` (in log R)."""
    best, dist = None, math.inf
    for card in list_models(task=task):
        if card.loss != loss or card.accel is None or card.accel <= 0:
            continue
        d = abs(math.log(card.accel / accel))
        if d < dist or (d == dist and best is not None and card.name < best.name):
            best, dist = card, d
    return best


def load_state(name_or_path: str | Path, verify: bool = True) -> tuple[dict[str, Any], ModelCard, Path]:
    """``(state_dict, card, path)``; verifies the sha256 recorded in the card."""
    import torch

    pt = resolve_model(name_or_path)
    card = read_card(pt)
    if verify:
        digest = sha256_file(pt)
        if card.sha256 != digest:
            raise CheckpointError(pt, f"sha256 {digest[:12]}… does not match the model card's "
                                  f"{str(card.sha256)[:12]}… (file changed or corrupt)")
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


FILE_FIELDS = ("sha256", "file", "bytes", "stored_dtype", "replaces")  # what a card says of its own file


def carried_fields(card: ModelCard) -> dict[str, Any]:
    """``card``'s fields without those that describe its weights file (:data:`FILE_FIELDS`): what a copy or a
    derived model (installed under another name, grown) keeps, for :func:`save_model` to complete."""
    return {k: v for k, v in card.fields.items() if k not in FILE_FIELDS}


def save_model(state: dict[str, Any], card: dict[str, Any], path: str | Path, force: bool = False,
               half: bool = False) -> dict[str, Any]:
    """Write ``path`` (.pt state dict) and its card fields (.json) atomically; return the fields with the sha256.

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
