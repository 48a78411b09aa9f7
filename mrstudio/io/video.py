"""Movies and pictures of cines: MP4 (imageio-ffmpeg), GIF and PNG, written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import StudyError
from .atomic import atomic_path


def to_uint8(stack: np.ndarray, levels: tuple[float, float] | None = None) -> np.ndarray:
    """Window a magnitude stack (…, H, W) to uint8 with ``levels`` (default 0.5–99.5 percentiles)."""
    from ..core.profiles import display_levels

    lo, hi = levels or display_levels(stack)
    return (np.clip((np.asarray(stack, np.float32) - lo) / (hi - lo), 0, 1) * 255 + 0.5).astype(np.uint8)


def side_by_side(stacks: list[np.ndarray], levels: tuple[float, float] | None = None, gap: int = 4) -> np.ndarray:
    """Concatenate several (T, H, W) stacks horizontally (uint8), with a black gap."""
    frames = [to_uint8(s, levels) for s in stacks]
    t = min(f.shape[0] for f in frames)
    h = max(f.shape[1] for f in frames)
    parts = []
    for f in frames:
        pad = np.zeros((t, h, f.shape[2]), np.uint8)
        pad[:, : f.shape[1]] = f[:t]
        parts += [pad, np.zeros((t, h, gap), np.uint8)]
    return np.concatenate(parts[:-1], axis=2)


def write_movie(frames: np.ndarray, path: str | Path, fps: float = 10.0, force: bool = False) -> Path:
    """Write uint8 frames ``(T, H, W)`` or ``(T, H, W, 3)`` as ``.mp4`` or ``.gif``."""
    import imageio.v3 as iio

    path = Path(path)
    if frames.dtype != np.uint8:
        frames = to_uint8(frames)
    if path.suffix.lower() == ".mp4":
        # H.264 needs even sizes; pad with black
        t, h, w = frames.shape[:3]
        pad = [(0, 0), (0, h % 2), (0, w % 2)] + ([(0, 0)] if frames.ndim == 4 else [])
        frames = np.pad(frames, pad)
        with atomic_path(path, force) as tmp:
            iio.imwrite(tmp, frames, extension=".mp4", plugin="pyav" if _has_pyav() else "FFMPEG", fps=fps,
                        **({} if _has_pyav() else {"macro_block_size": 1}))
    elif path.suffix.lower() == ".gif":
        if frames.ndim == 3:  # RGB frames: Pillow 13 cannot read back its own greyscale ("L") animated GIFs
            frames = np.repeat(frames[..., None], 3, axis=-1)
        with atomic_path(path, force) as tmp:
            iio.imwrite(tmp, frames, extension=".gif", duration=1000.0 / fps, loop=0)
    else:
        raise StudyError(path, "movie must end in .mp4 or .gif")
    return path


def write_png(image: np.ndarray, path: str | Path, force: bool = False) -> Path:
    """Write one uint8 image (H, W) or (H, W, 3) as PNG."""
    import imageio.v3 as iio

    path = Path(path)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    with atomic_path(path, force) as tmp:
        iio.imwrite(tmp, image, extension=".png")
    return path


def _has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True
