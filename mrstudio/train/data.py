"""Training data for the cine CNN: (naive input, reference target) magnitude pairs.

* :class:`PhantomCines` — the phantom family. Each item is a seed's noiseless anatomy
  and coil maps; every draw adds fresh complex noise and a fresh random mask (the
  augmentation over mask draws the paper's method needs), so the network never sees
  the same aliasing twice. Training, validation and test seeds are disjoint
  (:data:`~mrstudio.core.splits.CINE_PHANTOM`).
* :class:`AnatomyCines` — real-anatomy cines (:mod:`mrstudio.io.anatomy`, split by source volume and
  slab), mixed with the phantom by :class:`MixedCines` (``train cine --data anatomy``).
* :class:`StudyCines` — real studies read through :func:`mrstudio.io.open_study`,
  fully-sampled (reference: SENSE-1 combination with ESPIRiT maps) or undersampled
  (reference: ``cs``, as in the paper), with the reference cached on disk.

Both yield ``(naive, target)`` ``float32 (T, H, W)`` tensors.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.coils import sos
from ..core.fft import fftc, ifftc
from ..core.jobs import Progress
from ..core.masks import MaskSpec, make_mask
from ..core.phantom import PhantomConfig, cine_image, coil_maps
from ..recon.zerofilled import naive_image


@dataclass(frozen=True)
class SimConfig:
    """How training inputs are simulated from a fully-sampled cine."""

    accel: float = 15.0
    mask_kind: str = "vd-kt"
    acs: int = 2
    snr: float = 30.0
    crop: int | None = None  # random crop width along the readout (x), None = full

    def mask_spec(self, seed: int) -> MaskSpec:
        """The ky–t mask a training draw takes (this kind, R and ACS, drawn with ``seed``)."""
        return MaskSpec(kind=self.mask_kind, accel=self.accel, acs=self.acs, seed=seed)


def _fft_y(a: np.ndarray) -> np.ndarray:
    import scipy.fft as sfft

    return sfft.fft(a, axis=-2, norm="ortho", workers=-1).astype(np.complex64, copy=False)


def _ifft_y(a: np.ndarray) -> np.ndarray:
    import scipy.fft as sfft

    return sfft.ifft(a, axis=-2, norm="ortho", workers=-1, overwrite_x=True).astype(np.complex64, copy=False)


class PhantomCines:
    """Phantom anatomy for a list of seeds, generated once and kept in memory (complex64)."""

    def __init__(self, seeds, size: int = 128, frames: int = 20, coils: int = 8, sim: SimConfig = SimConfig(),
                 progress=None):
        self.seeds = list(seeds)
        self.sim = sim
        self.images, self.maps, self.sigmas = [], [], []
        for i, seed in enumerate(self.seeds):
            rng = np.random.default_rng([seed, 7919])
            x = cine_image(PhantomConfig(size=size, frames=frames, coils=coils, seed=seed), rng)
            self.images.append(x)
            self.maps.append(coil_maps(size, coils, rng))
            self.sigmas.append(float(np.abs(x)[np.abs(x) > 0.05].mean()) / sim.snr)
            if progress:
                progress((i + 1) / len(self.seeds), f"phantom {i + 1}/{len(self.seeds)}")

    def __len__(self) -> int:
        return len(self.seeds)

    def sample(self, index: int, rng: np.random.Generator, mask_seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(naive, target)`` float32 (T, H, W') with fresh noise and mask from ``rng``.

        Simulated in hybrid (ky, x) space: the readout is fully sampled, so the x FFT
        cancels and readout columns are independent — a crop along x is taken first, and
        white k-space noise is white in hybrid space too (only acquired lines get it).
        """
        x, maps = self.images[index], self.maps[index]
        t, ny, nx = x.shape
        seed = int(rng.integers(2**31)) if mask_seed is None else mask_seed
        mask = make_mask(self.sim.mask_spec(seed), t, ny)
        if self.sim.crop and self.sim.crop < nx:
            x0 = int(rng.integers(0, nx - self.sim.crop + 1))
            x, maps = x[..., x0:x0 + self.sim.crop], maps[..., x0:x0 + self.sim.crop]
        even = ny % 2 == 0
        if even:  # fold the centring shifts into a ±1 modulation along y; |·| after the inverse removes it
            maps = maps * (1 - 2 * (np.arange(ny) % 2)).astype(np.float32)[:, None]
        fwd, inv = (_fft_y, _ifft_y) if even else (fftc, ifftc)
        hyb = fwd(maps[:, None] * x[None]) * mask[None, :, :, None]
        c, w = maps.shape[0], x.shape[-1]
        n = int(mask.sum())
        noise = rng.standard_normal((2, c, n, w), dtype=np.float32) * (self.sigmas[index] / np.sqrt(2))
        hyb[:, mask] += (noise[0] + 1j * noise[1]).astype(np.complex64)
        return sos(inv(hyb)), np.abs(x).astype(np.float32)

    def to_device(self, device: str) -> None:
        """Keep the anatomy and coil maps as tensors on ``device`` for :meth:`sample_batch`."""
        import torch

        self._dev = device
        self._img_t = torch.from_numpy(np.stack(self.images)).to(device)
        self._maps_t = torch.from_numpy(np.stack(self.maps)).to(device)
        self._sig_t = torch.tensor(self.sigmas, dtype=torch.float32, device=device)

    def sample_batch(self, indices: list[int], rng: np.random.Generator):
        """A batch of :meth:`sample` draws simulated with torch on the pool's device.

        Same model as :meth:`sample` (fresh mask, crop and noise per item; noise only on
        acquired lines); masks and crop offsets come from ``rng``, the noise from a torch
        generator seeded by ``rng``. Returns ``(naive, target)`` float32 tensors (B, T, H, W').
        """
        import torch

        if not hasattr(self, "_img_t"):
            self.to_device("cpu")
        dev = self._dev
        b = len(indices)
        _, t, ny, nx = self._img_t.shape
        w = self.sim.crop if self.sim.crop and self.sim.crop < nx else nx
        masks = np.stack([make_mask(self.sim.mask_spec(int(rng.integers(2**31))), t, ny) for _ in indices])
        x0 = rng.integers(0, nx - w + 1, size=b) if w < nx else np.zeros(b, int)
        cols = torch.as_tensor(x0[:, None] + np.arange(w)[None], device=dev)  # (B, w)
        idx = torch.as_tensor(indices, device=dev)
        x = self._img_t[idx]  # (B, T, Ny, Nx)
        x = torch.take_along_dim(x, cols[:, None, None, :].expand(b, t, ny, w), dim=-1)
        maps = self._maps_t[idx]  # (B, C, Ny, Nx)
        c = maps.shape[1]
        maps = torch.take_along_dim(maps, cols[:, None, None, :].expand(b, c, ny, w), dim=-1)
        coil = maps[:, :, None] * x[:, None]  # (B, C, T, Ny, w)
        hyb = fftc(coil, axis=-2)
        m = torch.as_tensor(masks, device=dev)[:, None, :, :, None].to(hyb.real.dtype)  # (B, 1, T, Ny, 1)
        gen = torch.Generator(device=dev).manual_seed(int(rng.integers(2**62)))
        noise = torch.randn(hyb.shape, generator=gen, device=dev, dtype=torch.complex64)  # E|n|² = 1
        hyb = (hyb + noise * self._sig_t[idx].view(b, 1, 1, 1, 1)) * m
        img = ifftc(hyb, axis=-2)
        naive = img.abs().square().sum(dim=1).sqrt()
        return naive.float(), x.abs().float()


class AnatomyCines:
    """Real-anatomy cines of one split of :mod:`mrstudio.io.anatomy`, made once and kept in memory.

    Each item is a cine's noisy fully-sampled k-space (simulated on a finer grid, so not with the
    operator that reconstructs it) in hybrid (ky, x) space, and its ``|truth|``; every draw takes a
    fresh mask (and readout crop), as :class:`PhantomCines` does, so the network never sees the same
    aliasing twice. The noise is the cine's own (its SNR is random per cine).
    """

    def __init__(self, split: str, n: int, sim: SimConfig = SimConfig(), progress: Progress | None = None):
        from ..io.anatomy import anatomy_cine

        self.split, self.sim = split, sim
        self.hybrid, self.truth = [], []
        for k in range(n):
            st = anatomy_cine(split, k)
            self.hybrid.append(ifftc(st.kspace, axis=-1).astype(np.complex64))
            self.truth.append(np.abs(st.reference).astype(np.float32))
            if progress:
                progress((k + 1) / n, f"{split} anatomy cine {k + 1}/{n}")

    def __len__(self) -> int:
        return len(self.truth)

    def sample(self, index: int, rng: np.random.Generator, mask_seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(naive, target)`` float32 (T, H, W') with a fresh mask (and crop) from ``rng``."""
        hyb, truth = self.hybrid[index], self.truth[index]
        _, t, ny, nx = hyb.shape
        seed = int(rng.integers(2**31)) if mask_seed is None else mask_seed
        mask = make_mask(self.sim.mask_spec(seed), t, ny)
        if self.sim.crop and self.sim.crop < nx:
            x0 = int(rng.integers(0, nx - self.sim.crop + 1))
            hyb, truth = hyb[..., x0:x0 + self.sim.crop], truth[..., x0:x0 + self.sim.crop]
        return sos(ifftc(hyb * mask[None, :, :, None], axis=-2)), truth


class MixedCines:
    """Several pools as one: item ``i`` of the concatenation (phantom and real-anatomy cines, say)."""

    def __init__(self, pools: list[PhantomCines | AnatomyCines | StudyCines]):
        self.pools = pools
        self.items = [(p, i) for p in pools for i in range(len(p))]

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, index: int, rng: np.random.Generator, mask_seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Item ``index`` of the concatenation, drawn by the pool that holds it."""
        pool, i = self.items[index]
        return pool.sample(i, rng, mask_seed)


class StudyCines:
    """Real cines from files/folders, one item per (file, slice); references cached under ``cache_dir``."""

    def __init__(self, paths: list[Path], sim: SimConfig, cache_dir: Path, device: str = "cpu", progress=None):
        from ..io import open_study
        from ..recon.reference import reference_image

        self.sim = sim
        self.kspace, self.refs, self.names = [], [], []
        cache_dir.mkdir(parents=True, exist_ok=True)
        for i, p in enumerate(paths):
            study = open_study(p)
            key = hashlib.sha1(f"{Path(p).resolve()}:{Path(p).stat().st_mtime_ns}".encode()).hexdigest()[:16]
            cached = cache_dir / f"ref-{key}.npy"
            if cached.exists():
                ref = np.load(cached)
            else:
                ref, _ = reference_image(study, device=device)
                ref = np.abs(ref).astype(np.float32)
                np.save(cached, ref)
            k = study.kspace if study.mask is None else study.kspace * study.mask[None, :, :, None]
            self.kspace.append(k)
            self.refs.append(ref)
            self.names.append(str(p))
            if progress:
                progress((i + 1) / len(paths), Path(p).name)

    def __len__(self) -> int:
        return len(self.kspace)

    def sample(self, index: int, rng: np.random.Generator, mask_seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        k = self.kspace[index]
        _, t, ny, _ = k.shape
        seed = int(rng.integers(2**31)) if mask_seed is None else mask_seed
        mask = make_mask(self.sim.mask_spec(seed), t, ny)
        return naive_image(k, mask), self.refs[index]


def split_files(paths: list[Path], fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict[str, list[str]]:
    """A reproducible train/val/test split of study files (a file = a slice of one subject)."""
    order = np.random.default_rng(seed).permutation(len(paths))
    n_train = max(1, int(round(fractions[0] * len(paths))))
    n_val = max(1 if len(paths) > 2 else 0, int(round(fractions[1] * len(paths))))
    names = [str(paths[i]) for i in order]
    return {"train": names[:n_train], "val": names[n_train:n_train + n_val], "test": names[n_train + n_val:]}


def find_studies(root: Path) -> list[Path]:
    """Study files under ``root`` (HDF5, NPZ, MAT), sorted."""
    if root.is_file():
        return [root]
    exts = {".h5", ".hdf5", ".npz", ".mat"}
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in exts and p.is_file())


def write_split(split: dict[str, list[str]], run_dir: Path) -> None:
    (run_dir / "split.json").write_text(json.dumps(split, indent=2) + "\n")
