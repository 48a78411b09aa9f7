"""How well each shipped CT model reproduces a slice it is given (α = 0): a practical ceiling on its interpolation.

Usage: .venv/bin/python scripts/ct_autoencode_ceiling.py [MODEL ...]   (default: every shipped ct-* model)

Every 3rd slice of the validation phantom volumes (seeds 10000–10001, as in training; never the test
seeds) is encoded and decoded; PSNR/SSIM on HU [−1000, 1000] → [0, 1], as the benchmark. The decoder
makes every interpolated slice from a code of the same size, so a network that reproduces its own input
no better than linear interpolation predicts the held-out slices is not expected to beat linear
interpolation (not a proof: a mix is a different input). Prints a Markdown table (also in
docs/ct-training.md).
"""

from __future__ import annotations

import sys

import numpy as np


def ceiling_table(names: list[str] | None = None) -> str:
    import torch

    from mrstudio.core.metrics import score
    from mrstudio.interp.learned import load_ct_model
    from mrstudio.interp.pipeline import to_unit
    from mrstudio.io.model_store import INTERP_TASK, list_models
    from mrstudio.nets.hrinet import hu_to_net, net_to_hu
    from mrstudio.train.ct import CT_SPLITS, phantom_volumes

    names = names or [c.name for c in list_models(task=INTERP_TASK)]
    vols = phantom_volumes(CT_SPLITS["val"][:2], 256, 42, 3)
    out = ["| model | variant | autoencode PSNR (dB) | autoencode SSIM |", "|---|---|---|---|"]
    for name in names:
        net, card, _ = load_ct_model(name, "cpu")
        pred, truth = [], []
        with torch.inference_mode():
            for v in vols:
                x = hu_to_net(torch.from_numpy(np.ascontiguousarray(v[::3])))[:, None]
                y = torch.cat([net.autoencode(x[i:i + 4]) for i in range(0, len(x), 4)])
                pred.append(net_to_hu(y)[:, 0].numpy())
                truth.append(v[::3])
        s = score(to_unit(np.concatenate(pred)), to_unit(np.concatenate(truth)))
        out.append(f"| {name} | {card.get('variant')} | {s.psnr:.2f} | {s.ssim:.3f} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(ceiling_table(sys.argv[1:]), end="")
