"""Append cascades to a trained unrolled model (:func:`mrstudio.nets.unrolled.grown`): the grown model
computes exactly what its source did, so training it starts from the source's figures.

    .venv/bin/python scripts/grow_unrolled.py [--force] SOURCE CASCADES DEST.pt
    .venv/bin/python scripts/grow_unrolled.py cine-unrolled 6 runs/cine-unrolled-6/cine-unrolled-6.pt

The card keeps the source's fields (steps, minutes, data) and records ``grown_from``; ``train unrolled
--init DEST.pt`` takes its shapes and carries its steps and minutes into the new card. An existing
DEST is overwritten only with ``--force``.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import torch

from mrstudio.core.errors import StudyError
from mrstudio.io.model_store import carried_fields, save_model
from mrstudio.nets.unrolled import grown
from mrstudio.recon.unrolled import load_unrolled_model


def grow(src: str, cascades: int, dest: str, force: bool = False) -> dict:
    """Write ``src`` grown to ``cascades`` cascades as ``dest``; returns the new card."""
    model, card, path = load_unrolled_model(src, "cpu")
    out = Path(dest)
    if out.exists() and not force:
        raise StudyError(dest, "exists (pass --force to overwrite it)")
    if out.resolve() == Path(path).resolve():
        raise StudyError(dest, "is the source model itself")
    torch.manual_seed(0)  # the new cascades' inner layers: reproducible
    try:
        new = grown(model, cascades)
    except ValueError as e:
        raise StudyError(src, str(e)) from None
    fields = carried_fields(card)
    fields.update(unrolled=asdict(new.cfg), parameters=sum(p.numel() for p in new.parameters()),
                  grown_from={"model": card.name, "sha256": card.sha256, "cascades": model.cfg.cascades})
    out.parent.mkdir(parents=True, exist_ok=True)
    return save_model(new.state_dict(), fields, out, force=True)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--force"]
    if len(args) != 3 or not args[1].isdigit():
        sys.exit(__doc__)
    try:
        card = grow(args[0], int(args[1]), args[2], force="--force" in sys.argv[1:])
    except StudyError as e:
        sys.exit(f"grow_unrolled: error: {e}")
    print(f"{args[2]}: {args[1]} cascades, {card['parameters']} parameters (from {card['grown_from']['model']}, "
          f"{card['grown_from']['cascades']} cascades)")
