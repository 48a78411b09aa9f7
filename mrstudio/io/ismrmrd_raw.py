"""OCMR / ISMRMRD raw data (``.h5``) → :class:`CineStudy`.

Layout (ISMRMRD HDF5, https://ismrmrd.readthedocs.io/en/latest/file_format.html): a group
``dataset`` holding ``xml`` (the XML header: encoded/recon matrix and FOV, encoding limits)
and ``data``, a 1-D compound dataset with one row per readout: ``head`` (the
AcquisitionHeader: flags, number_of_samples, active_channels, center_sample, idx with
kspace_encode_step_1, average, slice, phase, set, repetition, …), ``traj`` and ``data``
(variable-length float32, interleaved real/imag, channel-major: C × number_of_samples).
OCMR (https://ocmr.info, https://github.com/MRIOpenData/ocmr) stores cardiac frames in
``idx.phase``, puts ky at ``kspace_encode_step_1`` relative to the encoding-limits centre,
and acquires the readout with 2× oversampling and sometimes an asymmetric echo.

This reader is plain h5py (no ismrmrd dependency): it sorts readouts into
``(C, T, Ny, Nx)`` for one slice, averages repeated averages, zero-fills partial
Fourier/asymmetric echo, removes readout oversampling, derives the ky–t mask from what was
acquired, and records what it discarded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.study import CineStudy

_NS = {"m": "http://www.ismrm.org/ISMRMRD"}
# ISMRMRD AcquisitionFlags are 1-based bit numbers: flag b is set when flags & (1 << (b - 1)).
_SKIP_FLAGS = {19: "noise measurement", 20: "parallel calibration only", 23: "navigator",
               24: "phase correction", 25: "RT feedback", 26: "HP feedback", 28: "surface coil correction"}


def is_ismrmrd(f) -> bool:
    """True when an open h5py file has the ISMRMRD ``dataset/data`` + ``dataset/xml`` layout."""
    return "dataset" in f and "data" in f["dataset"] and "xml" in f["dataset"]


def _text(node: ET.Element | None, path: str, default: float | None = None) -> float:
    el = node.find(path, _NS) if node is not None else None
    if el is None or el.text is None:
        if default is None:
            raise KeyError(path)
        return default
    return float(el.text)


def parse_header(xml: str) -> dict[str, Any]:
    """Matrix sizes, FOVs and encoding limits from an ISMRMRD XML header."""
    root = ET.fromstring(xml)
    enc = root.find("m:encoding", _NS)
    if enc is None:
        raise KeyError("encoding")
    e, r = enc.find("m:encodedSpace", _NS), enc.find("m:reconSpace", _NS)
    lim = enc.find("m:encodingLimits", _NS)
    h = {"enc_matrix": [int(_text(e, f"m:matrixSize/m:{a}")) for a in "xyz"],
         "enc_fov": [_text(e, f"m:fieldOfView_mm/m:{a}") for a in "xyz"],
         "recon_matrix": [int(_text(r, f"m:matrixSize/m:{a}")) for a in "xyz"],
         "recon_fov": [_text(r, f"m:fieldOfView_mm/m:{a}") for a in "xyz"]}
    for name in ("kspace_encoding_step_1", "phase", "slice", "average"):
        node = lim.find(f"m:{name}", _NS) if lim is not None else None
        h[name] = {k: int(_text(node, f"m:{k}", 0.0)) for k in ("minimum", "maximum", "center")}
    h["system"] = root.findtext("m:acquisitionSystemInformation/m:systemModel", default="", namespaces=_NS)
    h["field_T"] = root.findtext("m:acquisitionSystemInformation/m:systemFieldStrength_T", default="",
                                 namespaces=_NS)
    return h


def read_ismrmrd(path: str | Path, slice: int = 0) -> CineStudy:  # noqa: A002 - the ISMRMRD name
    """Read one slice of an OCMR/ISMRMRD cine into a :class:`CineStudy` (k-space, mask, FOV)."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            if not is_ismrmrd(f):
                raise StudyError(path, "not an ISMRMRD file (needs dataset/data and dataset/xml)")
            raw_xml = f["dataset/xml"][()]
            from ..core.memory import check_fits

            check_fits(f["dataset/data"].id.get_storage_size() * 3, "reading the acquisitions", path,
                       "the file is larger than memory; split it by slice first")
            rows = f["dataset/data"][()]
    except StudyError:
        raise
    except Exception as exc:
        raise StudyError(path, f"unreadable ISMRMRD HDF5 ({type(exc).__name__}: {exc})") from None
    xml = raw_xml[0] if isinstance(raw_xml, np.ndarray) and raw_xml.ndim else raw_xml
    xml = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else str(xml)
    try:
        hdr = parse_header(xml)
    except (ET.ParseError, KeyError, ValueError) as exc:
        raise StudyError(path, f"ISMRMRD XML header is invalid or incomplete ({type(exc).__name__}: {exc})") from None
    names = rows.dtype.names or ()
    if not {"head", "data"} <= set(names):
        raise StudyError(path, f"dataset/data has fields {list(names)}, expected head, traj, data")
    if len(rows) == 0:
        raise StudyError(path, "dataset/data holds no acquisitions")
    return _assemble(path, hdr, rows, slice)


def _assemble(path: Path, hdr: dict[str, Any], rows: np.ndarray, slice_: int) -> CineStudy:
    head = rows["head"]
    flags = head["flags"].astype(np.uint64)
    discarded: Counter[str] = Counter()
    keep = np.ones(len(rows), bool)
    for bit, what in _SKIP_FLAGS.items():
        hit = (flags & np.uint64(1 << (bit - 1))) != 0
        discarded[what] += int((hit & keep).sum())
        keep &= ~hit
    idx = head["idx"]
    slices = sorted(set(idx["slice"][keep].tolist()))
    if not slices:
        raise StudyError(path, "no imaging acquisitions (all are noise/calibration/navigator)")
    if slice_ not in slices:
        raise StudyError(path, f"slice {slice_} not in the file (slices {slices})")
    other = keep & (idx["slice"] != slice_)
    discarded["other slices"] += int(other.sum())
    keep &= idx["slice"] == slice_
    for field in ("set", "repetition", "contrast"):  # keep the first of each, say what was dropped
        first = int(idx[field][keep].min())
        drop = keep & (idx[field] != first)
        if drop.any():
            discarded[f"{field} ≠ {first}"] += int(drop.sum())
        keep &= ~drop
    sel = np.flatnonzero(keep)
    ns = head["number_of_samples"][sel].astype(int)
    nc = head["active_channels"][sel].astype(int)
    if len(set(nc.tolist())) != 1 or len(set(ns.tolist())) != 1:
        raise StudyError(path, f"acquisitions differ in channels {sorted(set(nc.tolist()))} "
                               f"or samples {sorted(set(ns.tolist()))}")
    c, n = int(nc[0]), int(ns[0])
    enc_x, enc_y = hdr["enc_matrix"][0], hdr["enc_matrix"][1]
    frames = max(hdr["phase"]["maximum"] + 1, int(idx["phase"][sel].max()) + 1)
    ky_center = hdr["kspace_encoding_step_1"]["center"]
    ky_offset = enc_y // 2 - ky_center  # partial Fourier: the centre sits at enc_y // 2
    from ..core.memory import check_fits

    check_fits(3 * 8.0 * c * frames * enc_y * enc_x, f"k-space {c}×{frames}×{enc_y}×{enc_x}", path,
               "the header declares a very large matrix; check the file")
    kspace = np.zeros((c, frames, enc_y, enc_x), np.complex64)
    counts = np.zeros((frames, enc_y), np.int32)
    for i in sel:
        data = np.asarray(rows["data"][i], np.float32)
        if data.size != 2 * c * n:
            raise StudyError(path, f"acquisition {i} holds {data.size} floats, expected 2 × {c} × {n}")
        line = data.view(np.complex64).reshape(c, n)
        if not np.isfinite(line).all():
            raise StudyError(path, f"acquisition {i} holds NaN or Inf samples")
        x0 = enc_x // 2 - int(head["center_sample"][i])  # asymmetric echo: place the echo centre
        if x0 < 0 or x0 + n > enc_x:
            raise StudyError(path, f"acquisition {i}: {n} samples centred at {head['center_sample'][i]} "
                                   f"do not fit the encoded matrix x = {enc_x}")
        ky = int(idx["kspace_encode_step_1"][i]) + ky_offset
        t = int(idx["phase"][i])
        if not 0 <= ky < enc_y:
            raise StudyError(path, f"acquisition {i}: ky {ky} outside the encoded matrix y = {enc_y}")
        kspace[:, t, ky, x0:x0 + n] += line
        counts[t, ky] += 1
    if (counts > 1).any():
        discarded["(averaged repeats)"] += int((counts[counts > 1] - 1).sum())
    kspace /= np.maximum(counts, 1)[None, :, :, None]
    mask = counts > 0
    kspace, nx, fov_x = _remove_readout_oversampling(kspace, hdr)
    if not mask.any(axis=1).all():
        missing = np.flatnonzero(~mask.any(axis=1)).tolist()
        raise StudyError(path, f"cardiac frames {missing} have no data")
    full = bool(mask.all())
    meta = {"slices": len(slices), "slice": slice_, "encoded_matrix": hdr["enc_matrix"][:2],
            "recon_matrix": hdr["recon_matrix"][:2], "readout_oversampling_removed": nx != enc_x,
            "discarded": {k: v for k, v in discarded.items() if v}, "system": hdr["system"],
            "field_T": hdr["field_T"]}
    return CineStudy(kspace=kspace, mask=None if full else mask, name=path.stem,
                     fov_mm=(hdr["enc_fov"][1], fov_x), source=str(path), format="ismrmrd", meta=meta)


def _remove_readout_oversampling(kspace: np.ndarray, hdr: dict[str, Any]) -> tuple[np.ndarray, int, float]:
    """Crop x to the recon matrix in image space when the encoded readout is oversampled."""
    enc_x, rec_x = hdr["enc_matrix"][0], hdr["recon_matrix"][0]
    if rec_x >= enc_x or rec_x <= 0:
        return kspace, enc_x, hdr["enc_fov"][0]
    from ..core.fft import fftc, ifftc

    img = ifftc(kspace, axis=-1)
    x0 = (enc_x - rec_x) // 2
    out = fftc(img[..., x0:x0 + rec_x], axis=-1).astype(np.complex64)
    return out, rec_x, hdr["enc_fov"][0] * rec_x / enc_x
