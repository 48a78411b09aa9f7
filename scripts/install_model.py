"""Install a trained model into models/ under another name, keeping its card (sha256 re-computed).

    .venv/bin/python scripts/install_model.py runs/unet-mix-l2-r15/cine-unet-l2-r15-mix.pt models/cine-unet-l2-r15.pt

The card gains ``replaces`` (the sha256 of the model it overwrites, if any); weights stay in their stored dtype.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mrstudio.io.model_store import carried_fields, load_state, read_card, save_model


def install(src: str, dest: str) -> dict:
    """Save the weights of ``src`` (sha256 verified on load) as ``dest`` with ``src``'s card; returns the new card."""
    state, card, _ = load_state(src)
    fields = carried_fields(card)
    old = Path(dest)
    if old.is_file() and old.with_suffix(".json").is_file():
        fields["replaces"] = read_card(old).sha256
    half = card.get("stored_dtype") == "float16"
    return save_model({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, fields, dest,
                      force=True, half=half)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out = install(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[2]}: sha256 {out['sha256'][:12]}…, validation {out.get('validation')}")
