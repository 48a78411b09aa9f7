"""MR Studio's own cine formats: HDF5 (``.h5``) and NumPy (``.npz``), versioned.

Layout (both formats, same names): ``kspace`` complex64 (C, T, Ny, Nx); optional
``mask`` bool (T, Ny), ``reference`` complex64 (T, Ny, Nx), ``maps`` complex64
(C, Ny, Nx), ``image`` complex64 (T, Ny, Nx) (a reconstruction result); ``format``
= ``"mrstudio-cine"`` or ``"mrstudio-result"``, ``format_version`` = 1, and a JSON
``meta`` (name, fov_mm, reference_kind, provenance, …). HDF5 stores these as root
attributes, NPZ as 0-d string arrays.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.memory import check_fits
from ..core.study import CineStudy
from .atomic import atomic_path

FORMAT_CINE = "mrstudio-cine"
FORMAT_RESULT = "mrstudio-result"
FORMAT_VERSION = 1
_ARRAYS = ("kspace", "mask", "reference", "maps", "image")


def provenance(method: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The provenance block stored with every result: method, parameters, version, time."""
    from .. import __version__

    return {"method": method, "parameters": params, "mrstudio_version": __version__,
            "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), **extra}


def _write(path: Path, fmt: str, arrays: dict[str, np.ndarray | None], meta: dict[str, Any], npz: bool) -> None:
    arrays = {k: v for k, v in arrays.items() if v is not None}
    meta_json = json.dumps(meta, default=str)
    extra = {"provenance": np.array(json.dumps(meta["provenance"], default=str))} if "provenance" in meta else {}
    if npz:
        with open(path, "wb") as fh:
            np.savez_compressed(fh, format=np.array(fmt), format_version=np.array(FORMAT_VERSION),
                                meta=np.array(meta_json), **extra, **arrays)
    else:
        import h5py

        with h5py.File(path, "w") as f:
            f.attrs["format"] = fmt
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["meta"] = meta_json
            if extra:
                f.create_dataset("provenance", data=str(extra["provenance"]))
            for k, v in arrays.items():
                f.create_dataset(k, data=v, compression="gzip", compression_opts=1 if v.size > 1 << 16 else 4)


def _check_suffix(path: Path) -> None:
    if path.suffix not in (".h5", ".hdf5", ".npz"):
        raise StudyError(path, "output must end in .h5, .hdf5 or .npz")


def write_cine(study: CineStudy, path: str | Path, force: bool = False) -> Path:
    """Write a study (k-space, mask, reference, maps, metadata) atomically."""
    path = Path(path)
    _check_suffix(path)
    meta = {"name": study.name, "fov_mm": list(study.fov_mm), "reference_kind": study.reference_kind,
            "source": study.source, **{k: v for k, v in study.meta.items() if k != "provenance"}}
    if study.geometry is not None:
        meta["geometry"] = study.geometry.to_dict()
    with atomic_path(path, force) as tmp:
        _write(tmp, FORMAT_CINE, {"kspace": study.kspace, "mask": study.mask, "reference": study.reference,
                                  "maps": study.maps}, meta, npz=path.suffix == ".npz")
    return path


def write_result(path: str | Path, image: np.ndarray, mask: np.ndarray, prov: dict[str, Any],
                 force: bool = False, kspace: np.ndarray | None = None, study: CineStudy | None = None) -> Path:
    """Write a reconstruction: ``image`` (T, Ny, Nx) complex64, ``mask``, provenance JSON, and the
    source ``study``'s name, field of view and patient geometry when given."""
    path = Path(path)
    _check_suffix(path)
    meta: dict[str, Any] = {"provenance": prov}
    if study is not None:
        meta.update(name=study.name, fov_mm=list(study.fov_mm))
        if study.geometry is not None:
            meta["geometry"] = study.geometry.to_dict()
    with atomic_path(path, force) as tmp:
        _write(tmp, FORMAT_RESULT, {"image": image.astype(np.complex64), "mask": mask.astype(bool),
                                    "kspace": kspace}, meta, npz=path.suffix == ".npz")
    return path


def _read_npz(path: Path) -> tuple[str, int, dict[str, Any], dict[str, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            declared = sum(i.file_size for i in z.zip.infolist())
            check_fits(2 * declared, "unpacking the .npz", path, "crop the study before saving it")
            if "format" not in keys:
                raise StudyError(path, "not an MR Studio .npz (no 'format' entry)")
            fmt, ver = str(z["format"]), int(z["format_version"])
            meta = json.loads(str(z["meta"])) if "meta" in keys else {}
            arrays = {k: z[k] for k in _ARRAYS if k in keys}
    except StudyError:
        raise
    except Exception as exc:
        raise StudyError(path, f"unreadable .npz ({type(exc).__name__}: {exc})") from None
    return fmt, ver, meta, arrays


def _read_h5(path: Path) -> tuple[str, int, dict[str, Any], dict[str, np.ndarray]]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
            if fmt is None:
                raise StudyError(path, "not an MR Studio HDF5 file (no 'format' attribute)")
            fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
            ver = int(f.attrs.get("format_version", 0))
            meta = json.loads(f.attrs.get("meta", "{}"))
            arrays = {}
            for k in _ARRAYS:
                if k in f:
                    if not isinstance(f[k], h5py.Dataset):
                        raise StudyError(path, f"'{k}' is not a dataset")
                    check_fits(3 * f[k].size * f[k].dtype.itemsize, f"reading '{k}' {f[k].shape}", path,
                               "crop the study or reduce coils/frames before saving it")
                    arrays[k] = f[k][()]
    except StudyError:
        raise
    except Exception as exc:
        raise StudyError(path, f"unreadable HDF5 ({type(exc).__name__}: {exc})") from None
    return fmt, ver, meta, arrays


def read_native(path: str | Path) -> CineStudy:
    """Read an MR Studio ``.h5``/``.npz`` cine or result into a :class:`CineStudy`.

    A result file (``image`` without ``kspace``) becomes a single-coil study whose
    k-space is the FFT of the image, so it can be viewed and compared like any study.
    """
    path = Path(path)
    fmt, ver, meta, arrays = _read_npz(path) if path.suffix == ".npz" else _read_h5(path)
    if fmt not in (FORMAT_CINE, FORMAT_RESULT):
        raise StudyError(path, f"unknown MR Studio format {fmt!r}")
    if ver > FORMAT_VERSION:
        raise StudyError(path, f"format version {ver} is newer than this MR Studio understands ({FORMAT_VERSION})")
    if "kspace" not in arrays:
        if "image" not in arrays:
            raise StudyError(path, "missing key 'kspace' (and no 'image')")
        from ..core.fft import fft2c

        img = arrays["image"]
        if img.ndim != 3 or not np.iscomplexobj(img):
            raise StudyError(path, f"'image' must be complex (T, Ny, Nx), got {img.dtype} {img.shape}")
        arrays["kspace"] = fft2c(img.astype(np.complex64))[None]
        arrays.pop("mask", None)  # the image is already reconstructed
    mask = arrays.get("mask")
    if mask is not None and mask.dtype != bool:
        raise StudyError(path, f"'mask' must be boolean, got {mask.dtype}")
    geometry = None
    if meta.get("geometry"):
        from ..core.geometry import Geometry

        try:
            geometry = Geometry.from_dict(meta["geometry"])
        except (KeyError, TypeError, ValueError, StudyError) as exc:
            raise StudyError(path, f"malformed geometry in the metadata ({type(exc).__name__}: {exc})") from None
    return CineStudy(kspace=arrays["kspace"], mask=mask, reference=arrays.get("reference"),
                     reference_kind=meta.get("reference_kind") if "reference" in arrays else None,
                     maps=arrays.get("maps"), name=meta.get("name", path.stem),
                     fov_mm=tuple(meta.get("fov_mm", (320.0, 320.0))), source=str(path), format=fmt,
                     meta={k: v for k, v in meta.items() if k not in ("name", "fov_mm", "reference_kind", "geometry")},
                     geometry=geometry)
