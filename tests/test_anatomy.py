"""Real-anatomy cines from mricron-data: deterministic, split by volume and slab, physically sensible."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mrstudio.core.splits import ANATOMY_GUARD_MM, ANATOMY_VAL_SLAB_MM

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/usr/share/mricron/templates") and os.geteuid() != 0,
    reason="mricron-data not installed (make test installs it as root)")


def test_cines_are_regenerated_exactly_from_their_index():
    from mrstudio.io.anatomy import anatomy_cine

    a, b = anatomy_cine("test", 1), anatomy_cine("test", 1)
    assert a.shape == (8, 20, 128, 128) and a.reference_kind == "ground-truth"
    np.testing.assert_array_equal(a.kspace, b.kspace)
    assert a.meta["seed"] == 20001 and a.meta["source_file"] == "inia19-t1-brain.nii.gz"
    np.testing.assert_allclose((np.abs(a.maps) ** 2).sum(0), 1.0, atol=1e-5)  # normalised coils
    ref = np.abs(a.reference)
    assert np.abs(ref[0] - ref[len(ref) // 3]).mean() > 0.01 * ref.mean()  # it moves …
    assert not np.array_equal(anatomy_cine("test", 2).kspace, a.kspace)  # … and cines differ


def test_blurred_cine_is_the_same_cine_with_less_fine_detail():
    from mrstudio.core.errors import StudyError
    from mrstudio.io.anatomy import anatomy_cine

    sharp, soft = anatomy_cine("train", 3), anatomy_cine("train", 3, blur=1.5)
    assert soft.shape == sharp.shape and soft.meta["seed"] == sharp.meta["seed"] and "blur 1.5 px" in soft.name

    def high_share(st):  # share of the truth's energy outside the central half of k-space
        k = np.abs(np.fft.fftshift(np.fft.fft2(st.reference[0]))) ** 2
        n = k.shape[0]
        centre = k[n // 4:3 * n // 4, n // 4:3 * n // 4].sum()
        return 1 - centre / k.sum()

    assert high_share(soft) < 0.5 * high_share(sharp)
    assert np.abs(soft.reference).mean() == pytest.approx(np.abs(sharp.reference).mean(), rel=0.1)  # same anatomy
    with pytest.raises(StudyError, match="blur"):
        anatomy_cine("train", 3, blur=-1.0)


def test_split_by_volume_and_slab():
    from mrstudio.io.anatomy import slice_refs

    train, val, test = (slice_refs(s) for s in ("train", "val", "test"))
    assert {r.source for r in test} == {"inia19"} and {r.source for r in train + val} == {"colin27"}
    assert len(test) >= 20 and {r.axis for r in test} == {0, 1, 2} and {r.axis for r in train} == {0, 1, 2}
    lo, hi = ANATOMY_VAL_SLAB_MM
    assert all(r.axis == 2 and lo <= r.mm <= hi for r in val)
    assert all(r.mm <= lo - ANATOMY_GUARD_MM or r.mm >= hi + ANATOMY_GUARD_MM for r in train if r.axis == 2)


def test_the_data_are_not_made_by_the_reconstruction_operator():
    """No inverse crime: the acquired k-space is the centre of a finer grid's, not the FFT of the truth's grid."""
    from mrstudio.core.anatomy_cine import AnatomyCineConfig, make_anatomy_cine
    from mrstudio.core.fft import fft2c
    from mrstudio.io.anatomy import fine_slice, slice_refs

    fine = fine_slice(slice_refs("test")[0])
    st = make_anatomy_cine(fine, seed=5, cfg=AnatomyCineConfig(frames=4, coils=2, snr_range=(1e9, 1e9)))
    coarse = fine.reshape(128, 2, 128, 2).mean((1, 3))  # the truth's grid made by box averaging instead
    k_box = fft2c(coarse.astype(np.complex64))
    k_true = fft2c(np.abs(st.reference[0]).astype(np.complex64))
    assert np.linalg.norm(np.abs(k_box) - np.abs(k_true)) > 0.01 * np.linalg.norm(np.abs(k_true))


def test_cli_opens_an_anatomy_cine():
    p = subprocess.run([sys.executable, "-m", "mrstudio", "info", "anatomy:val:0", "--json"], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["shape"] == [8, 20, 128, 128] and d["split"] == "val" and "colin27 axial" in d["slice"]
    p = subprocess.run([sys.executable, "-m", "mrstudio", "info", "anatomy:nope:0"], capture_output=True, text=True)
    assert p.returncode == 2 and "no such split" in p.stderr


def test_train_cine_on_anatomy_mixed_with_the_phantom(tmp_path):
    """`mrstudio train cine --data anatomy`: real-anatomy and phantom cines in one pool, validated on anatomy."""
    from mrstudio.cli import main
    from mrstudio.io.model_store import read_card
    from mrstudio.train.data import AnatomyCines, SimConfig

    pool = AnatomyCines("train", 1, SimConfig(accel=8.0, crop=32))
    naive, target = pool.sample(0, np.random.default_rng(0))
    assert naive.shape == target.shape == (20, 128, 32) and naive.dtype == np.float32
    full = AnatomyCines("train", 1, SimConfig(accel=8.0))  # no crop: only the mask differs between draws
    a, t1 = full.sample(0, np.random.default_rng(0), mask_seed=5)
    b, t2 = full.sample(0, np.random.default_rng(0), mask_seed=6)
    assert np.array_equal(t1, t2) and not np.allclose(a, b)  # the same cine under a fresh mask
    out = tmp_path / "u.pt"
    assert main(["train", "cine", "--data", "anatomy", "--steps", "2", "--batch", "2", "--base", "4", "--depth", "2",
                 "--anatomy-cines", "2", "--train-cines", "2", "--val-cines", "1", "--val-every", "2",
                 "--run-dir", str(tmp_path / "run"), "--out", str(out), "--device", "cpu"]) == 0
    card = read_card(out).fields
    assert card["training_data"]["kind"].startswith("real anatomy") and "INIA19 (never used here)" in card["training_data"]["split"]
    assert card["validation"]["naive_psnr"] > 5 and np.isfinite(card["validation"]["psnr"])
