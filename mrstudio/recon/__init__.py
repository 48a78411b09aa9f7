"""Cine reconstruction methods and their registry (``REGISTRY``: name → method)."""

from . import cnn, cs, unrolled, zerofilled  # noqa: F401  (register the methods; numpy-only at import)
from .base import REGISTRY, MethodInfo, ReconResult, get_method, register, undersample

__all__ = ["REGISTRY", "MethodInfo", "ReconResult", "get_method", "register", "undersample"]
