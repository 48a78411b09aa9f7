"""CMRxRecon cine k-space (``.mat`` v7.3) → :class:`CineStudy`.

Layout (CMRxRecon 2023/2024 data description, https://cmrxrecon.github.io/Challenge.html and
https://github.com/CmrxRecon/CMRxRecon): MATLAB v7.3 files are HDF5. ``cine_sax.mat`` /
``cine_lax.mat`` hold one complex k-space variable, ``kspace_full`` (fully sampled) or
``kspace_sub04``/``kspace_sub08``/``kspace_sub10`` (undersampled, zeros where not acquired),
MATLAB dimensions ``(kx, ky, sc, sz, t)`` (single-coil: ``(kx, ky, sz, t)``). MATLAB writes
complex arrays as a compound dtype with fields ``real`` and ``imag`` and h5py sees the axes
reversed: ``(t, sz, sc, ky, kx)``. The masks ``mask04``/``mask08``/``mask10`` live in
``cine_sax_mask.mat`` next to the data (or in the same file), MATLAB ``(kx, ky)`` (2023,
the same lines in every frame) or ``(kx, ky, t)`` (2024 k–t masks), h5py ``(ky, kx)`` /
``(t, ky, kx)``. The files store no FOV; pixels are taken as 1 mm and ``meta`` says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..core.errors import StudyError
from ..core.study import CineStudy

_KSPACE = re.compile(r"^kspace(_single)?_(full|sub\d+)$")


def is_cmrxrecon(f) -> bool:
    """True when an open h5py file is a MATLAB v7.3 file with a CMRxRecon k-space variable."""
    return any(_KSPACE.match(k) for k in f.keys())


def _complex(path: Path, ds, name: str) -> np.ndarray:
    arr = ds[()]
    if arr.dtype.names is not None:
        if not {"real", "imag"} <= set(arr.dtype.names):
            raise StudyError(path, f"'{name}' is a compound without real/imag fields ({list(arr.dtype.names)})")
        out = np.empty(arr.shape, np.complex64)
        out.real, out.imag = arr["real"], arr["imag"]
        return out
    if np.iscomplexobj(arr) or np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.complex64)
    raise StudyError(path, f"'{name}' has dtype {arr.dtype}, expected complex (MATLAB real/imag compound)")


def _find_mask(path: Path, f, key: str) -> tuple[np.ndarray | None, str | None]:
    """The mask variable for ``kspace_subNN``: in the same file, else in ``<stem>_mask.mat``."""
    import h5py

    m = re.search(r"sub(\d+)$", key)
    if m is None:
        return None, None
    name = f"mask{m.group(1)}"
    if name in f:
        return f[name][()], f"{path.name}:{name}"
    side = path.with_name(f"{path.stem}_mask.mat")
    if side.exists():
        try:
            with h5py.File(side, "r") as g:
                if name in g:
                    return g[name][()], f"{side.name}:{name}"
        except OSError as exc:
            raise StudyError(side, f"unreadable mask file ({exc})") from None
    return None, None


def read_cmrxrecon(path: str | Path, slice: int | None = None) -> CineStudy:  # noqa: A002
    """Read one slice (default: the middle one) of a CMRxRecon cine ``.mat`` into a study."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            keys = [k for k in f.keys() if _KSPACE.match(k)]
            if not keys:
                raise StudyError(path, f"no CMRxRecon k-space variable (kspace_full / kspace_subNN) in {list(f.keys())}")
            key = sorted(keys, key=lambda k: ("full" not in k, k))[0]
            ds = f[key]
            if not isinstance(ds, h5py.Dataset):
                raise StudyError(path, f"'{key}' is not a dataset")
            single = "_single" in key
            want = 4 if single else 5
            if ds.ndim != want:
                raise StudyError(path, f"'{key}' has {ds.ndim} dimensions {ds.shape}, expected {want} "
                                       f"(MATLAB {'(kx, ky, sz, t)' if single else '(kx, ky, sc, sz, t)'})")
            nz = ds.shape[1]
            from ..core.memory import check_fits

            check_fits(16.0 * ds.size / max(nz, 1) * 3, f"one slice of '{key}' {ds.shape}", path,
                       "the declared k-space is larger than memory")
            s = nz // 2 if slice is None else slice
            if not 0 <= s < nz:
                raise StudyError(path, f"slice {s} not in the file ({nz} slices)")
            k = _complex(path, ds, key)[:, s]  # (t, sc, ky, kx) or (t, ky, kx)
            mask_raw, mask_src = _find_mask(path, f, key)
    except StudyError:
        raise
    except Exception as exc:
        raise StudyError(path, f"unreadable MATLAB v7.3 / HDF5 file ({type(exc).__name__}: {exc})") from None
    k = k[:, None] if single else k
    kspace = np.ascontiguousarray(k.transpose(1, 0, 2, 3))  # (C, T, Ny, Nx)
    if not np.isfinite(kspace).all():
        raise StudyError(path, f"'{key}' holds NaN or Inf values")
    _, t, ny, nx = kspace.shape
    meta: dict = {"variable": key, "slices": nz, "slice": s, "fov_note": "no FOV in the file; 1 mm pixels assumed"}
    mask = None
    if "sub" in key:
        if mask_raw is not None:
            mask = _mask_lines(path, np.asarray(mask_raw), t, ny, nx)
            meta["mask_source"] = mask_src
        else:
            mask = np.abs(kspace).sum(axis=(0, 3)) > 0
            meta["mask_source"] = "derived from the non-zero k-space lines (no mask variable found)"
        if not mask.any():
            raise StudyError(path, "the undersampling mask is empty")
    return CineStudy(kspace=kspace, mask=mask, name=f"{path.stem} slice {s}", fov_mm=(float(ny), float(nx)),
                     source=str(path), format="cmrxrecon", meta=meta)


def _mask_lines(path: Path, m: np.ndarray, t: int, ny: int, nx: int) -> np.ndarray:
    """h5py ``(ky, kx)`` or ``(t, ky, kx)`` mask → ``(T, Ny)`` ky–t lines."""
    if m.shape == (ny, nx):
        return np.broadcast_to(m.astype(bool).any(axis=1), (t, ny)).copy()
    if m.shape == (t, ny, nx):
        return m.astype(bool).any(axis=2)
    if m.shape == (ny,):
        return np.broadcast_to(m.astype(bool), (t, ny)).copy()
    raise StudyError(path, f"mask shape {m.shape} does not match k-space (t, ky, kx) = {(t, ny, nx)}")
