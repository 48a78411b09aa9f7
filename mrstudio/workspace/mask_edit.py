"""Editing a ky–t mask by hand: strokes that paint or erase phase-encode lines, with undo and redo.

Qt-free: the mask editor widget turns mouse drags into :meth:`MaskEdit.begin_stroke`,
:meth:`MaskEdit.stroke_to` and :meth:`MaskEdit.end_stroke`; one stroke (a press, a drag, a
release) is one undo step, and so is a mask drawn from a spec or loaded from a file.
A brush covers ``brush`` neighbouring lines; ``symmetric`` also paints the mirrored line
about the centre of k-space (``ny // 2``, the DC line). The mask is never left empty.
"""

from __future__ import annotations

import numpy as np

MAX_UNDO = 200


class MaskEdit:
    """A ``bool (T, Ny)`` mask with a brush and an undo history.

    Attributes: ``mask`` (the current mask; replaced, never changed in place, so that a
    snapshot taken by a reader stays valid), ``brush`` (lines per stroke point, ≥ 1),
    ``symmetric`` (mirror each painted line about ``ny // 2``).
    """

    def __init__(self, mask: np.ndarray, brush: int = 1, symmetric: bool = False):
        self.mask = np.asarray(mask, bool).copy()
        self.brush, self.symmetric = max(1, int(brush)), bool(symmetric)
        self._undo: list[np.ndarray] = []
        self._redo: list[np.ndarray] = []
        self._before: np.ndarray | None = None  # the mask when the current stroke began
        self._last: tuple[int, int] | None = None  # the stroke's last point (t, ky)
        self._erase = False

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def lines(self, ky: int) -> list[int]:
        """The ky lines one stroke point at ``ky`` covers (brush and mirror), inside the matrix."""
        ny = self.mask.shape[1]
        first = ky - (self.brush - 1) // 2
        out = set(range(first, first + self.brush))
        if self.symmetric:
            centre = ny // 2
            out |= {2 * centre - k for k in out}
        return sorted(k for k in out if 0 <= k < ny)

    # --- strokes ------------------------------------------------------------------------------
    def begin_stroke(self, t: int, ky: int, erase: bool = False) -> bool:
        """Start a stroke at frame ``t``, line ``ky`` (erasing when ``erase``); True if the mask changed."""
        self.end_stroke()
        self._before, self._erase, self._last = self.mask, bool(erase), None
        return self.stroke_to(t, ky)

    def stroke_to(self, t: int, ky: int) -> bool:
        """Continue the stroke to (``t``, ``ky``), covering every point on the way; True if the mask changed."""
        if self._before is None:
            return self.begin_stroke(t, ky)
        t, ky = int(t), int(ky)
        points = [(t, ky)] if self._last is None else _segment(self._last, (t, ky))
        self._last = (t, ky)
        frames, _ = self.mask.shape
        new = self.mask.copy()
        for pt, pk in points:
            if 0 <= pt < frames:
                new[pt, self.lines(pk)] = not self._erase
        if not new.any():  # never an empty mask: keep the line under the pointer
            new[int(np.clip(t, 0, frames - 1)), int(np.clip(ky, 0, new.shape[1] - 1))] = True
        if np.array_equal(new, self.mask):
            return False
        self.mask = new
        return True

    def end_stroke(self) -> bool:
        """Finish the stroke: one undo step if it changed the mask; True if it did."""
        before, self._before, self._last = self._before, None, None
        if before is None or np.array_equal(before, self.mask):
            return False
        self._push(before)
        return True

    def paint(self, t: int, ky: int, erase: bool = False) -> bool:
        """One click: a stroke of one point (one undo step)."""
        changed = self.begin_stroke(t, ky, erase)
        self.end_stroke()
        return changed

    # --- whole masks, undo and redo ---------------------------------------------------------
    def set(self, mask: np.ndarray, undoable: bool = True) -> bool:
        """Replace the mask (a new spec, a loaded file); an undo step unless ``undoable`` is False."""
        self.end_stroke()
        mask = np.asarray(mask, bool)
        if mask.shape != self.mask.shape:
            raise ValueError(f"mask shape {mask.shape} is not {self.mask.shape}")
        if np.array_equal(mask, self.mask):
            return False
        if undoable:
            self._push(self.mask)
        self.mask = mask.copy()
        return True

    def clear_history(self) -> None:
        self._undo.clear()
        self._redo.clear()

    def undo(self) -> bool:
        return self._swap(self._undo, self._redo)

    def redo(self) -> bool:
        return self._swap(self._redo, self._undo)

    def _swap(self, source: list[np.ndarray], target: list[np.ndarray]) -> bool:
        """Make the last mask of ``source`` current and keep the current one on ``target``."""
        self.end_stroke()
        if not source:
            return False
        target.append(self.mask)
        self.mask = source.pop()
        return True

    def _push(self, before: np.ndarray) -> None:
        self._undo.append(before)
        del self._undo[:-MAX_UNDO]
        self._redo.clear()


def _segment(p0: tuple[int, int], p1: tuple[int, int]) -> list[tuple[int, int]]:
    """Integer points from ``p0`` (excluded) to ``p1`` (included), so a fast drag leaves no gaps."""
    n = max(abs(p1[0] - p0[0]), abs(p1[1] - p0[1]))
    if n == 0:
        return [p1]
    s = np.arange(1, n + 1) / n
    ts = np.round(p0[0] + s * (p1[0] - p0[0])).astype(int)
    ks = np.round(p0[1] + s * (p1[1] - p0[1])).astype(int)
    return list(zip(ts.tolist(), ks.tolist(), strict=True))
