"""The one place for data splits: which phantom seeds are for training, validation and test.

Disjoint seed ranges give disjoint anatomy. Nothing is ever tuned on a ``test`` seed; the
benchmarks and the CLI's defaults use the first test seeds (``TEST_SEED``).
"""

from __future__ import annotations

CINE_PHANTOM = {"train": range(0, 10_000), "val": range(10_000, 10_100), "test": range(20_000, 20_100)}
CT_PHANTOM = {"train": range(0, 10_000), "val": range(10_000, 20_000), "test": range(20_000, 30_000)}
TEST_SEED = 20_000  # the first test seed of both phantoms

# Real anatomy (mricron-data, see mrstudio/io/anatomy.py and docs/data.md): split by source volume and slab.
# * test: the INIA19 template, every orientation: a different subject from all training and validation data.
# * val: an axial slab of Colin 27 (ch2better = ch2, one subject), ``ANATOMY_VAL_SLAB_MM`` along its z axis.
# * train: the rest of Colin 27, every orientation, except axial slices within ``ANATOMY_GUARD_MM`` of the slab.
ANATOMY_SOURCES = {"train": "colin27", "val": "colin27", "test": "inia19"}
ANATOMY_VAL_SLAB_MM = (95.0, 115.0)  # z of the validation slab, from the first axial slice of Colin 27
ANATOMY_GUARD_MM = 10.0
ANATOMY_SEEDS = {"train": range(0, 10_000), "val": range(10_000, 10_100), "test": range(20_000, 20_100)}
