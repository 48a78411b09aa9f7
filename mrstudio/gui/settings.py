"""Reading and writing the window's :class:`QtCore.QSettings`: values that survive a garbled settings file.

Every reader falls back to a default when a value is missing, of the wrong type or out of range, so that
a settings file left by an older version (or edited by hand) never stops the window from opening.
"""

from __future__ import annotations

import json

from PySide6 import QtCore

from ..core.errors import StudyError
from ..core.masks import MaskSpec


def json_setting(settings: QtCore.QSettings, key: str) -> dict:
    """A dict kept as JSON in the settings (a missing or garbled value gives ``{}``)."""
    try:
        value = json.loads(str(settings.value(key, "{}")))
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def number_setting(settings: QtCore.QSettings, key: str, default: float, lo: float, hi: float) -> float:
    """A numeric setting; a missing, garbled or out-of-range value gives ``default``."""
    try:
        v = float(settings.value(key, default))
    except (TypeError, ValueError):
        return default
    return v if lo <= v <= hi else default


def saved_mask_spec(settings: QtCore.QSettings) -> MaskSpec:
    """The mask kind, R, ACS and seed of the last session (R alone in older settings)."""
    saved = json_setting(settings, "mask")
    accel = number_setting(settings, "accel", 15.0, 1.5, 200.0)
    try:
        return MaskSpec(kind=str(saved.get("kind", "vd-kt")), accel=accel, acs=int(saved.get("acs", 2)),
                        seed=int(saved.get("seed", 0)))
    except (StudyError, TypeError, ValueError):
        return MaskSpec(accel=accel)


def save_mask_spec(settings: QtCore.QSettings, spec: MaskSpec) -> None:
    """Keep ``spec`` for the next session: R under ``accel`` (as older versions did), the rest as JSON."""
    settings.setValue("accel", spec.accel)
    settings.setValue("mask", json.dumps({"kind": spec.kind, "acs": spec.acs, "seed": spec.seed}))
