"""Append cascades to a trained unrolled model (:func:`mrstudio.nets.unrolled.grown`): the grown model
computes exactly what its source did, so training it starts from the source's figures.

    .venv/bin/python scripts/grow_unrolled.py cine-unrolled 6 runs/cine-unrolled-6/cine-unrolled-6.pt

The card keeps the source's fields (steps, minutes, data) and records ``grown_from``; ``train unrolled
--init`` of the grown file takes its shapes and carries its steps and minutes into the new card.
"""

from __future__ import annotations

import sys
from dataclasses import asdict

from mrstudio.io.model_store import load_state, save_model
from mrstudio.nets.unrolled import Unrolled, UnrolledConfig, grown

if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, cascades, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    state, card, _ = load_state(src)
    model = Unrolled(UnrolledConfig(**card.fields["unrolled"]))
    model.load_state_dict({k: v.float() for k, v in state.items()})
    try:
        new = grown(model, cascades)
    except ValueError as e:
        sys.exit(f"grow_unrolled: error: {src}: {e}")
    fields = {k: v for k, v in card.fields.items() if k not in ("sha256", "file", "bytes", "stored_dtype", "replaces")}
    fields.update(unrolled=asdict(new.cfg), parameters=sum(p.numel() for p in new.parameters()),
                  grown_from={"model": card.name, "sha256": card.sha256, "cascades": model.cfg.cascades})
    out = save_model(new.state_dict(), fields, dest, force=True)
    print(f"{dest}: {cascades} cascades, {out['parameters']} parameters (from {card.name}, {model.cfg.cascades})")
