import numpy as np
import pytest

from mrstudio.core.errors import StudyError
from mrstudio.core.masks import (
    MASK_KINDS,
    MaskSpec,
    accel_effective,
    acs_lines,
    load_mask,
    make_mask,
    peak_sidelobe_ratio,
    point_spread,
)


@pytest.mark.parametrize("kind", MASK_KINDS)
@pytest.mark.parametrize("accel", [4, 8, 15, 30, 60])
def test_accel_within_3_percent(kind, accel):
    m = make_mask(MaskSpec(kind=kind, accel=accel, seed=1), 20, 128)
    assert m.shape == (20, 128) and m.dtype == bool
    assert abs(accel_effective(m) - accel) / accel < 0.03
    assert m.any(axis=1).all()  # every frame sampled


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_acs_in_every_frame(kind):
    m = make_mask(MaskSpec(kind=kind, accel=8, acs=4, seed=2), 20, 128)
    assert m[:, acs_lines(128, 4)].all()
    assert 64 in acs_lines(128, 4)  # the DC line is part of the centre


def test_acs_reduced_to_half_of_frame_samples():
    # R = 60 at 128 lines: about 2 lines per frame, so at most 1 is calibration
    m = make_mask(MaskSpec(kind="vd-kt", accel=60, acs=2, seed=0), 20, 128)
    assert m.sum(axis=1).min() >= 2
    assert m[:, 64].all()
    assert not m[:, 63].all()


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_deterministic_and_seeded(kind):
    a = make_mask(MaskSpec(kind=kind, accel=10, seed=5), 12, 96)
    b = make_mask(MaskSpec(kind=kind, accel=10, seed=5), 12, 96)
    np.testing.assert_array_equal(a, b)
    if kind != "equispaced":
        c = make_mask(MaskSpec(kind=kind, accel=10, seed=6), 12, 96)
        assert (a != c).any()


def test_global_rng_untouched():
    state = np.random.get_state()[1].copy()
    for kind in MASK_KINDS:
        make_mask(MaskSpec(kind=kind, accel=6, seed=0), 8, 64)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_vd_kt_varies_over_time_and_is_denser_in_centre():
    m = make_mask(MaskSpec(kind="vd-kt", accel=8, seed=0), 20, 128)
    assert len({row.tobytes() for row in m}) > 10
    centre = m[:, 48:80].mean()
    edge = np.concatenate([m[:, :16], m[:, -16:]], 1).mean()
    assert centre > 3 * edge


def test_time_average_fills_centre_for_calibration():
    m = make_mask(MaskSpec(kind="vd-kt", accel=15, seed=0), 20, 128)
    assert m.any(axis=0)[56:72].all()


def test_equispaced_shifts_per_frame():
    m = make_mask(MaskSpec(kind="equispaced", accel=4, acs=0, seed=0), 4, 64)
    assert not (m[0] == m[1]).all()
    gaps = np.diff(np.flatnonzero(m[0]))
    assert set(gaps) <= {3, 4, 5}
    assert 0 < np.diff(np.flatnonzero(m[1]))[0] < 6


def test_psf_peak_and_sidelobes():
    full = np.ones((8, 32), bool)
    assert peak_sidelobe_ratio(full) < 1e-6
    psf = point_spread(full)
    assert psf[4, 16] == pytest.approx(1.0)
    rand = make_mask(MaskSpec(kind="vd-kt", accel=8, seed=0), 20, 128)
    lattice = make_mask(MaskSpec(kind="equispaced", accel=8, acs=0, seed=0), 20, 128)
    # incoherent sampling spreads aliasing; a lattice concentrates it into coherent peaks
    assert peak_sidelobe_ratio(rand) < peak_sidelobe_ratio(lattice)
    assert 0 < peak_sidelobe_ratio(rand) < 1


@pytest.mark.parametrize("bad", [dict(accel=1.0), dict(accel=0.5), dict(accel=float("nan")), dict(kind="spiral"),
                                 dict(acs=-1)])
def test_bad_spec(bad):
    with pytest.raises(StudyError):
        MaskSpec(**bad)


def test_parameter_errors_speak_words_to_the_gui_and_flags_to_the_cli(capsys):
    from mrstudio.cli import main
    from mrstudio.core.errors import ParameterError

    with pytest.raises(ParameterError) as exc:
        MaskSpec(accel=0.5)
    assert str(exc.value).startswith("acceleration R: ") and "--" not in str(exc.value) and exc.value.flag == "--accel"
    assert main(["recon", "--study", "phantom", "--size", "32", "--frames", "4", "--coils", "2",
                 "--method", "zero-filled", "--accel", "0.5"]) == 2
    assert capsys.readouterr().err.startswith("mrstudio: error: --accel: acceleration must be a number > 1")


def test_too_high_accel():
    with pytest.raises(StudyError, match="fewer than one line"):
        make_mask(MaskSpec(accel=200), 20, 128)


def test_load_mask(tmp_path):
    m = make_mask(MaskSpec(accel=4), 6, 32)
    np.save(tmp_path / "m.npy", m.astype(np.uint8))
    np.testing.assert_array_equal(load_mask(tmp_path / "m.npy", 6, 32), m)
    with pytest.raises(StudyError, match="shape"):
        load_mask(tmp_path / "m.npy", 7, 32)
    np.save(tmp_path / "bad.npy", np.full((6, 32), 0.5))
    with pytest.raises(StudyError, match="0/1"):
        load_mask(tmp_path / "bad.npy", 6, 32)
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(StudyError, match="junk.npy"):
        load_mask(tmp_path / "junk.npy", 6, 32)


def test_library_hints_name_flags_only_on_the_cli(tmp_path, capsys):
    from mrstudio.cli import main
    from mrstudio.io.atomic import check_target

    out = tmp_path / "r.npz"
    out.write_bytes(b"kept")
    with pytest.raises(StudyError) as exc:
        check_target(out)
    assert str(exc.value) == f"{out}: already exists" and exc.value.cli_hint == "use --force to overwrite"
    assert main(["recon", "--study", "phantom", "--size", "32", "--frames", "4", "--coils", "2",
                 "--method", "zero-filled", "--accel", "2", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"mrstudio: error: {out}: already exists (use --force to overwrite)"
    assert out.read_bytes() == b"kept"
