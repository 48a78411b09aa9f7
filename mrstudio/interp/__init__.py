"""CT slice interpolation: methods (linear, cubic, HRINet), the factor-k pipeline, held-out evaluation."""

from .base import REGISTRY, get_interp, register_interp

__all__ = ["REGISTRY", "get_interp", "register_interp"]
