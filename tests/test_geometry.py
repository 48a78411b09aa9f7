"""Patient geometry: the DICOM pixel → patient mapping, slice normal, insertion, validation."""

from __future__ import annotations

import numpy as np
import pytest

from mrstudio.core.errors import StudyError
from mrstudio.core.geometry import AXIAL, Geometry, plane_name


def test_pixel_to_patient_is_the_dicom_formula():
    r, c = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])  # sagittal
    g = Geometry((*r, *c), [[10.0, -20.0, 30.0], [14.0, -20.0, 30.0]], (0.5, 0.25), 4.0, "1.2.3")
    np.testing.assert_allclose(g.normal, np.cross(r, c))
    # PS3.3 C.7.6.2.1.1: P = S + j·Δj·row + i·Δi·column, Δi the row spacing (PixelSpacing[0])
    np.testing.assert_allclose(g.to_patient(1, 3, 7), [14.0, -20.0 + 7 * 0.25, 30.0 - 3 * 0.5])
    np.testing.assert_allclose(g.to_patient(0.5, 0, 0), [12.0, -20.0, 30.0])
    assert plane_name(g.orientation) == "sagittal" and g.slice_spacing == 4.0 and g.tilt_degrees == 0.0


def test_insert_puts_slices_between_neighbours_and_keeps_the_rest():
    step = np.array([0.0, 0.5, 3.0])  # a sheared (tilted) stack
    g = Geometry(AXIAL, np.arange(4)[:, None] * step, (1.0, 1.0), 3.0, "9.9")
    h = g.insert(np.tile([1 / 3, 2 / 3], (3, 1)))
    assert len(h.positions) == 10 and h.frame_of_reference == "9.9" and h.slice_thickness == 3.0
    np.testing.assert_allclose(h.positions, np.arange(10)[:, None] * step / 3)
    np.testing.assert_allclose(h.slice_spacing, 1.0)
    assert h.tilt_degrees == pytest.approx(np.degrees(np.arctan(0.5 / 3.0)))
    with pytest.raises(StudyError, match="alphas"):
        g.insert(np.zeros((2, 1)))


def test_round_trip_through_dict_and_refusals():
    g = Geometry.axial((4, 6), (0.7, 0.9), [0.0, 2.5], 2.5)
    assert g.is_new and Geometry.from_dict(g.to_dict()).to_dict() == g.to_dict()
    np.testing.assert_allclose(g.positions[0], [-0.9 * 5 / 2, -0.7 * 3 / 2, 0.0])
    with pytest.raises(StudyError, match="orthogonal"):
        Geometry((1, 0, 0, 0.1, 1, 0), [[0, 0, 0]], (1, 1))
    with pytest.raises(StudyError, match="pixel spacing"):
        Geometry(AXIAL, [[0, 0, 0]], (0, 1))
    with pytest.raises(StudyError, match="positions"):
        Geometry(AXIAL, [[0, np.nan, 0]], (1, 1))
