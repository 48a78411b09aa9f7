"""The entries of a cine comparison: methods with their parameters and labels, and which are live.

A :class:`MethodSpec` is hashable (results are cached by it and the mask). The U-Net entry
without a model follows the mask: the run path picks the installed model whose trained R is
nearest the mask's effective R; :meth:`~mrstudio.workspace.cine.CineWorkspace.model_note`
flags a model trained at another R.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..recon.base import ReconResult

LIVE_METHODS = frozenset({"zero-filled", "cnn", "unrolled"})  # fast enough to follow the mask while it is edited
QUICK_METHODS = frozenset({"zero-filled", "cnn"})  # tens of ms: they follow every stroke; the other live ones
# (about a second) follow when the editing pauses
R_TOLERANCE = 1.25  # a model trained at an R more than this factor from the mask's is flagged


@dataclass(frozen=True)
class MethodSpec:
    """One entry of the comparison: a method and its parameters, with a display label."""

    method: str
    params: tuple[tuple[str, Any], ...] = ()
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.method

    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def live(self) -> bool:
        """Fast enough to re-run on every mask edit (CNN with data consistency computes coil maps: not live)."""
        return self.method in LIVE_METHODS and not self.kwargs().get("dc", False)

    @property
    def quick(self) -> bool:
        """A live method fast enough to follow every stroke of a drag."""
        return self.live and self.method in QUICK_METHODS


NEAREST = "nearest R"


def cnn_spec(model: str | None = None, dc: bool = False, loss: str = "l2") -> MethodSpec:
    """The U-Net entry for ``model`` (a name or a .pt path), optionally with data consistency.

    Without ``model`` the entry follows the mask: ``run_recon`` picks the installed ``l2``
    model whose trained R is nearest the mask's effective R.
    """
    if model is None:
        return MethodSpec("cnn", (("dc", True),) if dc else (), label=f"CNN {loss} ({NEAREST})" + (" + DC" if dc else ""))
    short = Path(str(model)).stem.removeprefix("cine-unet-")
    params = (("model", model), ("dc", True)) if dc else (("model", model),)
    return MethodSpec("cnn", params, label=f"CNN {short}" + (" + DC" if dc else ""))


def unrolled_spec(model: str) -> MethodSpec:
    return MethodSpec("unrolled", (("model", model),), label="Unrolled (any mask)")


def loss_specs(accel: float) -> list[MethodSpec]:
    """One U-Net per installed loss, each the model trained nearest ``accel`` ("add all losses at this R")."""
    from ..io.model_store import CINE_TASK, list_models, nearest_model

    losses = sorted({c.loss for c in list_models(task=CINE_TASK) if c.loss and c.accel})
    cards = [nearest_model(accel, loss) for loss in losses]
    return [cnn_spec(c.name) for c in cards if c is not None]


def default_specs(accel: float) -> list[MethodSpec]:
    """The comparison a study opens with: naive, CS, the l2 CNN that follows the mask's R, the unrolled network."""
    from ..io.model_store import nearest_model

    specs = [MethodSpec("zero-filled", label="Zero-filled"), MethodSpec("cs", label="CS (l1-ESPIRiT)")]
    if nearest_model(accel, "l2") is not None:
        specs.append(cnn_spec())
    from ..recon.unrolled import default_unrolled

    unrolled = default_unrolled()
    if unrolled is not None:
        specs.append(unrolled_spec(unrolled))
    return specs


@lru_cache(maxsize=64)
def _card_accel(model_path: str) -> float | None:
    from ..io.model_store import read_card

    try:
        return read_card(Path(model_path)).accel
    except Exception:  # a card that went away: nothing to flag
        return None


def trained_accel(result: ReconResult) -> float | None:
    """The R the result's model was trained for (``None``: no model, or a model for any R)."""
    path = result.model.get("model_path")
    return _card_accel(str(path)) if path else None
