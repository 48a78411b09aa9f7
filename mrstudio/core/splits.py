"""The one place for data splits: which phantom seeds are for training, validation and test.

Disjoint seed ranges give disjoint anatomy. Nothing is ever tuned on a ``test`` seed; the
benchmarks and the CLI's defaults use the first test seeds (``TEST_SEED``).
"""

from __future__ import annotations

CINE_PHANTOM = {"train": range(0, 10_000), "val": range(10_000, 10_100), "test": range(20_000, 20_100)}
CT_PHANTOM = {"train": range(0, 10_000), "val": range(10_000, 20_000), "test": range(20_000, 30_000)}
TEST_SEED = 20_000  # the first test seed of both phantoms
