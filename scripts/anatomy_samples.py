"""Write docs/images/anatomy-samples.png: real-anatomy cines (frame 0, |frame 0 − frame T/3|, x–t profile).

Usage: .venv/bin/python scripts/anatomy_samples.py [OUT.png]
"""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image, ImageDraw

from mrstudio.io.anatomy import anatomy_cine


def tile(a: np.ndarray, lo: float, hi: float) -> Image.Image:
    return Image.fromarray((np.clip((a - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8))


def main(out: str = "docs/images/anatomy-samples.png") -> None:
    picks = [("train", 0), ("train", 1), ("train", 2), ("val", 0), ("test", 0), ("test", 1), ("test", 2)]
    rows = []
    for split, k in picks:
        st = anatomy_cine(split, k)
        ref = np.abs(st.reference)
        hi = float(np.percentile(ref, 99.5))
        xt = ref[:, ref.shape[1] // 2, :]  # (T, Nx) through the middle row
        xt = np.repeat(xt, 128 // xt.shape[0] + 1, axis=0)[:128]
        row = Image.new("L", (3 * 128 + 20, 128 + 14), 255)
        row.paste(tile(ref[0], 0, hi), (0, 14))
        row.paste(tile(np.abs(ref[0] - ref[len(ref) // 3]), 0, 0.3 * hi), (128 + 10, 14))
        row.paste(tile(xt, 0, hi), (256 + 20, 14))
        ImageDraw.Draw(row).text((2, 0), f"{split} {k}: {st.meta['slice']}, SNR {st.meta['snr']:.0f}", fill=0)
        rows.append(row)
    img = Image.new("L", (rows[0].width, sum(r.height for r in rows)), 255)
    y = 0
    for r in rows:
        img.paste(r, (0, y))
        y += r.height
    img.save(out)
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
