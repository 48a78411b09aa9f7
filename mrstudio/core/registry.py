"""A registry of named methods (reconstructors, interpolators) that the CLI and GUI list and call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ParameterError


@dataclass(frozen=True)
class MethodInfo:
    """A registered method. ``prepare(params, device, accel) -> (params, model provenance)``, when a
    method has one, resolves and loads its model once, before the method is timed."""

    name: str
    func: Callable[..., Any]
    summary: str
    uses_torch: bool = False
    prepare: Callable[[dict[str, Any], str, float | None], tuple[dict[str, Any], dict[str, Any]]] | None = None


def loading_prepare(loader: Callable[[str, str], tuple[Any, Any, str]], default: str) -> Callable:
    """The ``prepare`` step of a method with one model: ``model`` defaults to ``default`` and is loaded once
    by ``loader(name, device) -> (net, card, path)``; the provenance is the card's."""

    def prepare(params: dict[str, Any], device: str, accel: float | None = None) -> tuple[dict, dict]:
        params = {"model": default, **params}
        _, card, _ = loader(str(params["model"]), device)
        return params, card.provenance()

    return prepare


class Registry(dict[str, MethodInfo]):
    """``name → MethodInfo``; ``what`` names the kind of method in errors ("method", "interpolation method")."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def register(self, name: str, summary: str, uses_torch: bool = False,
                 prepare: Callable | None = None) -> Callable[[Callable], Callable]:
        """Decorator: add a method under ``name`` (with its model-loading ``prepare`` step, if any)."""

        def _wrap(func: Callable) -> Callable:
            self[name] = MethodInfo(name, func, summary, uses_torch, prepare)
            return func

        return _wrap

    def info(self, name: str) -> MethodInfo:
        """The method called ``name``, or :class:`StudyError` naming the choices."""
        if name not in self:
            raise ParameterError("method", f"unknown {self.what} {name!r} (choose from {', '.join(sorted(self))})")
        return self[name]
