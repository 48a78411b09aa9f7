"""A registry of named methods (reconstructors, interpolators) that the CLI and GUI list and call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import StudyError


@dataclass(frozen=True)
class MethodInfo:
    name: str
    func: Callable[..., Any]
    summary: str
    uses_torch: bool = False


class Registry(dict[str, MethodInfo]):
    """``name → MethodInfo``; ``what`` names the kind of method in errors ("method", "interpolation method")."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def register(self, name: str, summary: str, uses_torch: bool = False) -> Callable[[Callable], Callable]:
        """Decorator: add a method under ``name``."""

        def _wrap(func: Callable) -> Callable:
            self[name] = MethodInfo(name, func, summary, uses_torch)
            return func

        return _wrap

    def info(self, name: str) -> MethodInfo:
        """The method called ``name``, or :class:`StudyError` naming the choices."""
        if name not in self:
            raise StudyError("--method", f"unknown {self.what} {name!r} (choose from {', '.join(sorted(self))})")
        return self[name]
