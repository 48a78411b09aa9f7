"""Cine reconstruction methods and their registry (``REGISTRY``: name → method)."""

from . import cnn, cs, zerofilled  # noqa: F401  (register "cnn", "cs" and "zero-filled"; numpy-only at import)
from .base import REGISTRY, MethodInfo, ReconResult, get_method, register, undersample

__all__ = ["REGISTRY", "MethodInfo", "ReconResult", "get_method", "register", "undersample"]
