"""DICOM files → image stacks: series grouping with the sanity checks real exports need.

A *stack* is what MR Studio opens: the images of one series (SeriesInstanceUID, PS3.3
C.7.3.1) that share one orientation and one echo. Within a series:

* the same SOP instance found several times (one image in several transfer syntaxes, or
  a copied file) is read once;
* localizers/scouts (ImageType LOCALIZER or SCOUT) are excluded when the series holds
  other images (a series of nothing but localizers is kept, split by plane);
* images are split by orientation (within :data:`ORIENTATION_TOL`) and by echo; a split
  where one part holds nearly everything (the others ≤ 2 images, ≤ 10 % in all) keeps
  that part and notes the excluded images, otherwise every part is its own stack, listed
  and chosen like a series;
* slice positions are grouped by distance along the slice normal within
  :data:`POSITION_TOL_MM`, so decimal-string jitter never splits one slice in two;
* images in different frames of reference never share a stack.

A stack is a **volume** when it has several positions with one image each, a **cine**
when it has one position with several images (or several positions with the same number
of images each: a multi-slice cine, one slice opened at a time), by geometry and not by
modality.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.geometry import normal_of, plane_name
from .dicom_files import Inputs, collect, read_header, series_uid
from .dicom_frames import Frame, frames_of

POSITION_TOL_MM = 0.01  # 25× the ±0.0004 mm of decimal-string jitter; 1/10 of the thinnest MR slices
ORIENTATION_TOL = 1e-3  # largest difference of direction cosines within one stack (≈ 0.06°)
MODALITIES = ("MR", "CT")
IMAGE_STORAGE = {"1.2.840.10008.5.1.4.1.1.2": "CT", "1.2.840.10008.5.1.4.1.1.2.1": "CT",
                 "1.2.840.10008.5.1.4.1.1.4": "MR", "1.2.840.10008.5.1.4.1.1.4.1": "MR"}


@dataclass
class Stack:
    """One openable stack: frames of one series, one orientation, one echo."""

    uid: str
    frames: list[Frame]
    label: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> Any:
        """The header of the stack's first image (series-level attributes)."""
        return self.frames[0].ds

    @property
    def modality(self) -> str:
        """DICOM Modality, else the one the SOP class implies."""
        m = str(self.first.get("Modality", "") or "")
        return m or IMAGE_STORAGE.get(str(self.first.get("SOPClassUID", "")), "")

    @property
    def description(self) -> str:
        return str(self.first.get("SeriesDescription", "") or "")

    @property
    def number(self) -> int | None:
        """SeriesNumber, when it is a number."""
        v = self.first.get("SeriesNumber")
        try:
            return int(v) if v not in (None, "") else None
        except (TypeError, ValueError):
            return None

    @property
    def orientation(self) -> np.ndarray | None:
        """ImageOrientationPatient (6,) shared by the stack (within :data:`ORIENTATION_TOL`), or None."""
        return self.frames[0].orientation

    def slices(self) -> list[list[int]]:
        """Frame indices grouped by slice position, sorted along the normal (one group without positions)."""
        return _position_groups(self.frames, self.orientation)

    def kind(self) -> str:
        """``"volume"`` or ``"cine"`` (raises on a layout that is neither, e.g. duplicate positions)."""
        missing = [f for f in self.frames if f.position is None or f.orientation is None]
        if self.modality == "CT" and len(self.frames) > 1 and missing:  # a CT series is a volume: it needs both
            raise StudyError(missing[0].path, "no ImagePositionPatient/ImageOrientationPatient (needed to order "
                                              "slices)")
        groups = self.slices()
        counts = sorted({len(g) for g in groups})
        timed = _has_timing(self.frames)
        if len(groups) == 1:
            if len(self.frames) == 1:
                return "volume" if self.modality == "CT" else "cine"
            if self.modality == "CT" and not timed:
                raise StudyError(self.where(), f"duplicate slice positions ({len(self.frames)} images at one "
                                               "position, no timing): mixed or repeated acquisitions")
            return "cine"
        if counts == [1]:
            return "volume"
        if counts[0] > 1 and len(counts) == 1:
            if not timed:
                raise StudyError(self.where(), f"{counts[0]} images at every one of {len(groups)} slice positions "
                                               "and no timing tags: repeated acquisitions in one series, not a cine")
            return "cine"
        if counts[0] > 1:
            raise StudyError(self.where(), f"unequal numbers of images per slice position ({counts[0]}–{counts[-1]} "
                                           f"at {len(groups)} positions): a frame is missing or an acquisition repeated")
        multi = [g for g in groups if len(g) > 1]
        names = ", ".join(self.frames[g[1]].name for g in multi[:3])
        raise StudyError(self.where(), f"duplicate slice positions at {len(multi)} of {len(groups)} positions "
                                       f"(e.g. {names}): mixed or repeated acquisitions")

    def where(self):
        return self.frames[0].path.parent

    def summary(self, index: int) -> dict[str, Any]:
        """What ``info`` lists for this stack."""
        d: dict[str, Any] = {"index": index, "uid": self.uid, "number": self.number, "modality": self.modality,
                             "description": self.description, "label": self.label,
                             "plane": plane_name(self.orientation) if self.orientation is not None else "?",
                             "files": len({f.path for f in self.frames}), "images": len(self.frames)}
        f0 = self.frames[0]
        try:
            kind = self.kind()
            groups = self.slices()
            d["kind"] = kind
            d["shape"] = [len(groups), f0.rows, f0.columns] if kind == "volume" else \
                [len(groups[0]), f0.rows, f0.columns]
            if kind == "cine" and len(groups) > 1:
                d["slices"] = len(groups)
        except StudyError as exc:
            d["kind"] = "unusable"
            d["error"] = exc.reason
        if self.notes:
            d["notes"] = list(self.notes)
        return d


def _has_timing(frames: list[Frame]) -> bool:
    return any(f.trigger_ms is not None or f.temporal_index is not None for f in frames)


def _position_groups(frames: list[Frame], orientation: np.ndarray | None) -> list[list[int]]:
    """Indices grouped by position along the normal within :data:`POSITION_TOL_MM`, sorted.

    Without an orientation, positions can only be grouped when they all coincide (one slice).
    """
    pos = [f.position for f in frames]
    if all(p is None for p in pos):
        return [list(range(len(frames)))]
    if any(p is None for p in pos):
        missing = next(f for f, p in zip(frames, pos) if p is None)
        raise StudyError(missing.path, "no ImagePositionPatient (needed to order slices)")
    if orientation is None:
        spread = max(float(np.linalg.norm(p - pos[0])) for p in pos)
        if spread > POSITION_TOL_MM:
            raise StudyError(frames[0].path, "no ImageOrientationPatient (needed to order slices)")
        return [list(range(len(frames)))]
    along = np.array([p @ normal_of(orientation) for p in pos])
    order = np.argsort(along, kind="stable")
    groups: list[list[int]] = [[int(order[0])]]
    for a, b in zip(order[:-1], order[1:]):
        if along[b] - along[a] > POSITION_TOL_MM:
            groups.append([])
        groups[-1].append(int(b))
    return groups


def _cluster_orientations(frames: list[Frame]) -> list[list[int]]:
    reps: list[np.ndarray | None] = []
    out: list[list[int]] = []
    for i, f in enumerate(frames):
        for k, r in enumerate(reps):
            if (r is None and f.orientation is None) or (
                    r is not None and f.orientation is not None and np.abs(r - f.orientation).max() <= ORIENTATION_TOL):
                out[k].append(i)
                break
        else:
            reps.append(f.orientation)
            out.append([i])
    return out


def _uncompressed_first(frame: Frame) -> tuple[int, str]:
    ts = getattr(getattr(frame.ds, "file_meta", None), "TransferSyntaxUID", None)
    return (1 if ts is not None and getattr(ts, "is_compressed", False) else 0, str(frame.path))


def _split_series(uid: str, frames: list[Frame]) -> list[Stack]:
    notes: list[str] = []
    by_sop: dict[str, list[Frame]] = defaultdict(list)
    for f in frames:
        by_sop[f.sop_uid].append(f)
    dups = {k: v for k, v in by_sop.items() if len(v) > 1 and k and not k.startswith("#")}
    if dups:
        extra = sum(len(v) - 1 for v in dups.values())
        kept = {k: min(v, key=_uncompressed_first) for k, v in dups.items()}
        frames = [f for f in frames if f.sop_uid not in dups or f is kept[f.sop_uid]]
        names = ", ".join(sorted({f.path.name for v in dups.values() for f in v if f is not kept[f.sop_uid]})[:3])
        notes.append(f"{extra} duplicate image(s) of the same SOP instance ignored (e.g. {names}): "
                     "the same image in several files or transfer syntaxes")
    loc = [f for f in frames if f.is_localizer]
    if loc and len(loc) < len(frames):
        frames = [f for f in frames if not f.is_localizer]
        notes.append(f"{len(loc)} localizer/scout image(s) excluded (ImageType), e.g. {loc[0].name}")
    parts: list[tuple[str, list[Frame]]] = []
    fors = sorted({str(f.ds.get("FrameOfReferenceUID", "") or "") for f in frames})
    orients = [(fi, og) for fi, fr in enumerate(fors)
               for og in _cluster_orientations([f for f in frames if str(f.ds.get("FrameOfReferenceUID", "") or "") == fr])]
    groups_of = {fi: [f for f in frames if str(f.ds.get("FrameOfReferenceUID", "") or "") == fr]
                 for fi, fr in enumerate(fors)}
    for fi, og in orients:
        sub = [groups_of[fi][i] for i in og]
        echoes = sorted({f.echo for f in sub if f.echo is not None})
        several = sum(1 for f2, _ in orients if f2 == fi) > 1  # orientations within this frame of reference
        oname = plane_name(sub[0].orientation) if sub[0].orientation is not None and several else ""
        if len(fors) > 1:
            oname = " ".join(x for x in (oname, f"frame of reference {fi + 1}") if x)
        if len(echoes) > 1:
            for e in echoes:
                parts.append((" ".join(x for x in (oname, e) if x), [f for f in sub if f.echo == e]))
            rest = [f for f in sub if f.echo is None]
            if rest:
                parts.append((" ".join(x for x in (oname, "no echo") if x), rest))
        else:
            parts.append((oname, sub))
    if len(parts) > 1:
        parts.sort(key=lambda p: -len(p[1]))
        major, minor = parts[0], parts[1:]
        n_minor = sum(len(p[1]) for p in minor)
        if all(len(p[1]) <= 2 for p in minor) and n_minor <= 0.1 * (n_minor + len(major[1])):
            names = ", ".join(f.name for p in minor for f in p[1])[:200]
            what = " / ".join(sorted({p[0] for p in minor}))
            notes.append(f"{n_minor} image(s) of another orientation or echo ({what}) excluded: {names}")
            parts = [("", major[1])]
        else:
            labels = [p[0] for p in parts]
            for lab in set(labels):  # the same plane twice (two obliques): number them
                if labels.count(lab) > 1:
                    k = 0
                    for i, p in enumerate(parts):
                        if p[0] == lab:
                            k += 1
                            parts[i] = (f"{lab} #{k}", p[1])
            parts.sort(key=lambda p: p[0])
    return [Stack(uid, sub, label, list(notes)) for label, sub in parts]


@dataclass
class Scan:
    """The stacks found in an input, and what was noticed while reading it."""

    inputs: Inputs
    stacks: list[Stack]
    notes: list[str]
    focus_sop: str | None = None  # SOPInstanceUID of the file the user named

    def choose(self, series: int | str | None = None) -> Stack:
        """The stack to open: by index, by SeriesInstanceUID, the one holding the named file, or the only one."""
        label, stacks = self.inputs.label, self.stacks
        if series is None:
            if self.inputs.focus is not None:
                for s in stacks:
                    if any(f.path == self.inputs.focus for f in s.frames):
                        return s
                for s in stacks:  # the named file was a duplicate of an image read from another file
                    if self.focus_sop and any(f.sop_uid == self.focus_sop for f in s.frames):
                        return s
                raise StudyError(self.inputs.focus, "this image was excluded from its series: " +
                                 "; ".join(self.notes + [n for s in stacks for n in s.notes]))
            if len(stacks) == 1:
                return stacks[0]
            raise StudyError(label, f"holds {len(stacks)} series, choose one (series index or UID): "
                                    f"{self.listing()}")
        if isinstance(series, int) or str(series).isdigit():
            i = int(series)
            if not 0 <= i < len(stacks):
                raise StudyError(label, f"series index {i} out of range (0–{len(stacks) - 1})")
            return stacks[i]
        hits = [i for i, s in enumerate(stacks) if s.uid == str(series)]
        if not hits:
            raise StudyError(label, f"no series with UID {series}")
        if len(hits) > 1:
            raise StudyError(label, f"series {series} holds {len(hits)} stacks (orientations or echoes), choose one "
                                    f"by index: {self.listing(hits)}")
        return stacks[hits[0]]

    def listing(self, which: list[int] | None = None) -> str:
        parts = []
        for i in which if which is not None else range(len(self.stacks)):
            s = self.stacks[i]
            lab = f" [{s.label}]" if s.label else ""
            parts.append(f"[{i}] {s.modality or '?'} '{s.description}'{lab} ({len(s.frames)} images)")
        return "; ".join(parts)


def scan(source: Any) -> Scan:
    """Read the headers of ``source`` (folder, file, DICOMDIR or list) and split them into stacks."""
    inputs = collect(source)
    notes = list(inputs.notes)
    series: dict[str, list[Frame]] = defaultdict(list)
    skipped: list[str] = []
    focus_uid = focus_sop = None
    files = inputs.files
    if inputs.focus is not None:  # one file: siblings of its series only, found by their SeriesInstanceUID alone
        try:
            want = series_uid(inputs.focus)
        except Exception as exc:
            raise StudyError(inputs.focus, f"not a readable DICOM file ({type(exc).__name__}: {exc})") from None
        files = [inputs.focus]
        for p in inputs.files[1:]:
            try:
                uid = series_uid(p)
            except Exception as exc:
                skipped.append(f"{p.name} ({type(exc).__name__})")
                continue
            if uid is None:
                skipped.append(f"{p.name} (no readable SeriesInstanceUID)")
            elif uid == want:
                files.append(p)
    for p in files:
        must = p == inputs.focus or len(inputs.files) == 1
        try:
            ds = read_header(p, notes)
        except Exception as exc:
            if must:
                raise StudyError(p, f"not a readable DICOM file ({type(exc).__name__}: {exc})") from None
            skipped.append(f"{p.name} ({type(exc).__name__})")
            continue
        sop_class = str(ds.get("SOPClassUID", ""))
        if "Rows" not in ds:  # the header is read up to the pixel data: an image has Rows
            if sop_class in IMAGE_STORAGE:
                if must:
                    raise StudyError(p, "an MR/CT image file without image attributes or pixel data (truncated?)")
                skipped.append(f"{p.name} (no image attributes)")
            continue  # presentation states, reports, structure sets …
        uid = str(ds.get("SeriesInstanceUID", ""))
        if not uid:
            if must:
                raise StudyError(p, "no SeriesInstanceUID")
            skipped.append(f"{p.name} (no SeriesInstanceUID)")
            continue
        try:
            frames = frames_of(p, ds)
        except (StudyError, TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            if must:
                if isinstance(exc, StudyError):
                    raise
                raise StudyError(p, f"malformed image attributes ({type(exc).__name__}: {exc})") from None
            skipped.append(f"{p.name} (inconsistent header)")
            continue
        if p == inputs.focus:
            focus_uid, focus_sop = uid, frames[0].sop_uid
        series[uid].extend(frames)
    if skipped:
        notes.append(f"{len(skipped)} unreadable file(s) skipped: {', '.join(skipped[:5])}"
                     + (" …" if len(skipped) > 5 else ""))
    if focus_uid is not None:  # a single file: its own series only, siblings are only candidates
        series = {focus_uid: series[focus_uid]}
    if not series:
        raise StudyError(inputs.label, "no DICOM image series found" + (f" ({notes[-1]})" if skipped else ""))
    stacks = [s for uid, frames in series.items() for s in _split_series(uid, frames)]
    stacks.sort(key=lambda s: (s.number if s.number is not None else 1 << 30, s.uid, s.label))
    return Scan(inputs, stacks, notes, focus_sop)
