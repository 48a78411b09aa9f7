"""fastMRI-style ``.h5`` → :class:`CineStudy` (one slice, one frame).

Layout (fastMRI dataset description, https://github.com/facebookresearch/fastMRI#dataset and
https://arxiv.org/abs/1811.08839 §4): dataset ``kspace`` complex64, multi-coil
``(slices, coils, kx, ky)`` or single-coil ``(slices, kx, ky)`` with the (2× oversampled)
readout along the rows and phase encodes along the columns; optional
``reconstruction_rss`` ``(slices, 320, 320)``, optional ``mask`` ``(ky,)`` (challenge test
files), ``ismrmrd_header`` (XML: encoded/recon matrix and FOV), attributes ``acquisition``,
``max``, ``norm``, ``patient_id``.

MR Studio keeps the readout on the last axis, so the slice is transposed to ``(C, 1, ky,
kx)``: images appear rotated by 90° relative to fastMRI's own display. A fastMRI volume is
a stack of 2-D slices, not a cine: the study has one frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import StudyError
from ..core.study import CineStudy


def is_fastmri(f) -> bool:
    """True when an open h5py file has a top-level ``kspace`` dataset (and is not ISMRMRD)."""
    return "kspace" in f and "dataset" not in f and "format" not in f.attrs


def read_fastmri(path: str | Path, slice: int | None = None) -> CineStudy:  # noqa: A002
    """Read one slice (default: the middle one) of a fastMRI-style file."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            ds = f["kspace"]
            if not isinstance(ds, h5py.Dataset):
                raise StudyError(path, "'kspace' is not a dataset")
            if ds.ndim not in (3, 4):
                raise StudyError(path, f"'kspace' has shape {ds.shape}, expected (slices, coils, kx, ky) or "
                                       "(slices, kx, ky)")
            if not np.iscomplexobj(np.empty(0, ds.dtype)):
                raise StudyError(path, f"'kspace' has dtype {ds.dtype}, expected complex")
            nz = ds.shape[0]
            s = nz // 2 if slice is None else slice
            if not 0 <= s < nz:
                raise StudyError(path, f"slice {s} not in the file ({nz} slices)")
            from ..core.memory import check_fits

            check_fits(8.0 * ds.size / max(nz, 1) * 4, f"one slice of 'kspace' {ds.shape}", path,
                       "the declared k-space is larger than memory")
            k = ds[s].astype(np.complex64)
            mask = f["mask"][()] if "mask" in f else None
            xml = f["ismrmrd_header"][()] if "ismrmrd_header" in f else None
            attrs = {a: f.attrs[a] for a in ("acquisition", "patient_id", "max", "norm") if a in f.attrs}
    except StudyError:
        raise
    except Exception as exc:
        raise StudyError(path, f"unreadable fastMRI HDF5 ({type(exc).__name__}: {exc})") from None
    k = k[None] if k.ndim == 2 else k  # (C, kx, ky)
    if not np.isfinite(k).all():
        raise StudyError(path, "'kspace' holds NaN or Inf values")
    kspace = np.ascontiguousarray(k.transpose(0, 2, 1))[:, None]  # (C, 1, ky, kx)
    _, _, ny, nx = kspace.shape
    fov = (float(ny), float(nx))
    meta: dict = {"slices": nz, "slice": s, "note": "one 2-D slice (1 frame); transposed so the readout is x"}
    if xml is not None:
        from .ismrmrd_raw import parse_header

        try:
            text = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else str(xml)
            hdr = parse_header(text)
            fov = (hdr["enc_fov"][1], hdr["enc_fov"][0])
            meta["recon_matrix"] = hdr["recon_matrix"][:2]
        except Exception as exc:  # the header is optional; say why it was not used
            meta["header_note"] = f"ismrmrd_header not used ({type(exc).__name__})"
    else:
        meta["fov_note"] = "no ismrmrd_header; 1 mm pixels assumed"
    for a, v in attrs.items():
        meta["PatientID" if a == "patient_id" else a] = v.item() if hasattr(v, "item") else (
            v.decode() if isinstance(v, bytes) else v)
    m = None
    if mask is not None:
        m = np.asarray(mask).astype(bool).reshape(-1)
        if m.shape != (ny,):
            raise StudyError(path, f"'mask' has shape {np.shape(mask)}, expected ({ny},) phase encodes")
        m = m[None, :]
        if not m.any():
            raise StudyError(path, "'mask' is empty")
    return CineStudy(kspace=kspace, mask=m, name=f"{path.stem} slice {s}", fov_mm=fov, source=str(path),
                     format="fastmri", meta=meta)
