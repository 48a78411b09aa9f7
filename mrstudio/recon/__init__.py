"""Cine reconstruction methods and their registry (``REGISTRY``: name → method)."""

from . import zerofilled  # noqa: F401  (registers "zero-filled")
from .base import REGISTRY, MethodInfo, ReconResult, get_method, register, undersample

for _optional in ("cs", "cnn"):
    try:
        __import__(f"{__name__}.{_optional}")
    except ModuleNotFoundError as _exc:  # the module itself not written yet
        if _exc.name != f"{__name__}.{_optional}":
            raise

__all__ = ["REGISTRY", "MethodInfo", "ReconResult", "get_method", "register", "undersample"]
