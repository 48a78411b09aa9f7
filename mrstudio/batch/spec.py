"""What a batch runs on every study, and the hash that tells ``--resume`` whether a result still holds."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import __version__

COMMANDS = ("recon", "interp")
FORMATS = {"recon": ("h5", "npz", "dicom"), "interp": ("dicom",)}


@dataclass(frozen=True)
class BatchSpec:
    """One method on every study, with the options of ``mrstudio recon`` / ``mrstudio interp``.

    recon: ``mask`` (kind or ``FILE.npy``), ``accel``, ``acs``, ``seed``; interp: ``factor`` and
    ``holdout`` (score instead of write). ``model`` and ``params`` go to the method as in the CLI.
    ``fmt``: the output format (``h5``/``npz``/``dicom`` for recon, ``dicom`` for interp).
    """

    command: str
    method: str
    fmt: str = "h5"
    device: str = "cpu"
    mask: str = "vd-kt"
    accel: float | None = None
    acs: int = 2
    seed: int = 0
    factor: int = 3
    holdout: bool = False
    model: str | None = None
    anonymize: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # names the outputs and the report's row when one method runs with several settings

    @property
    def title(self) -> str:
        """The method's name in outputs, records and the report (``label`` or the method)."""
        return re.sub(r"[^A-Za-z0-9.+-]+", "-", self.label).strip("-") if self.label else self.method

    def method_params(self) -> dict[str, Any]:
        """Keyword arguments of the method (``model`` included when given)."""
        return {**self.params, **({"model": self.model} if self.model else {})}

    def params_hash(self) -> str:
        """sha256 (16 hex digits) of everything that decides the output, and of MR Studio's version."""
        fields = {k: v for k, v in asdict(self).items() if k not in ("device", "label")}
        text = json.dumps({"spec": fields, "version": __version__}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def output_name(self, study_name: str) -> str | None:
        """The output's file (or, for DICOM, folder) name in the batch folder; ``None`` in hold-out mode."""
        if self.command == "interp" and self.holdout:
            return None
        return f"{study_name}.{self.title}" + ("" if self.fmt == "dicom" else f".{self.fmt}")
