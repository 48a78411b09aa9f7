"""The Qt-free workspaces drive the whole comparison without any GUI (run in a fresh interpreter: no Qt)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

SCRIPT = r"""
import json, sys
import numpy as np
from mrstudio.core.masks import MaskSpec, make_mask
from mrstudio.io import open_study
from mrstudio.workspace.cine import CineWorkspace, default_specs
from mrstudio.workspace.export import recon_provenance, write_recon

study = open_study("phantom", size=32, frames=20, coils=2, seed=3)
ws = CineWorkspace(study, mask_spec=MaskSpec(accel=15))
seen = []
ws.events.results_changed.connect(lambda: seen.append(sorted(ws.results)))
specs = default_specs(15.0)
specs = [s if s.method != "cs" else type(s)("cs", (("iters", 5),), s.label) for s in specs]
res = ws.run(specs)
first = {t: r.scores["psnr"] for t, r in res.items()}
cnn = next(r for r in res.values() if r.method == "cnn")
# a new mask: results go, the reference stays; only what is not cached is computed again
spec2 = MaskSpec(accel=30)
ws.set_mask(make_mask(spec2, 20, 32), spec2)
after_change, stale = sorted(ws.results), sorted(ws.stale)
todo = ws.plan(specs)
for s in todo:
    ws.apply_result(s, ws.compute(s))
model30 = next(r for r in ws.results.values() if r.method == "cnn").model["model"]
back = MaskSpec(accel=15)
ws.set_mask(make_mask(back, 20, 32), back)  # the first mask again: every result comes from the cache
cached = sorted(ws.results)
prov = recon_provenance(cnn, study, ws.mask_spec)
h5 = write_recon(cnn, study, sys.argv[1] + "/cnn.h5", "h5", prov)
dcm = write_recon(cnn, study, sys.argv[1] + "/cnn_dicom", "dicom", prov)
print(json.dumps({"first": first, "after_change": after_change, "stale": stale, "model30": model30,
                  "todo": [s.title for s in todo], "cached": cached,
                  "events": len(seen), "model_sha256": prov.get("model_sha256"), "h5": str(h5), "dicom": str(dcm),
                  "qt": sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "superqt"))}))
"""


def test_the_default_comparison_runs_without_qt(tmp_path):
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout.splitlines()[-1])
    assert r["qt"] == []
    from mrstudio.recon.unrolled import default_unrolled

    want = {"Zero-filled", "CS (l1-ESPIRiT)", "CNN l2 (nearest R)"} | ({"Unrolled (any mask)"} if default_unrolled()
                                                                        else set())
    assert set(r["first"]) == want and all(v > 10 for v in r["first"].values())
    assert r["first"]["CNN l2 (nearest R)"] > r["first"]["Zero-filled"]
    assert r["after_change"] == [] and len(r["todo"]) == len(want) and r["cached"] == sorted(r["first"])
    assert r["stale"] == sorted(want) and r["model30"] == "cine-unet-l2-r30"  # shown stale; the U-Net follows R
    assert r["events"] >= 5 and len(r["model_sha256"]) == 64
    import h5py

    from mrstudio.io import open_study

    with h5py.File(r["h5"]) as f:
        img = np.abs(f["image"][()])
        assert json.loads(f.attrs["meta"])["provenance"]["model_sha256"] == r["model_sha256"]
    dcm = open_study(r["dicom"])
    np.testing.assert_allclose(np.abs(dcm.reference), img, rtol=0, atol=img.max() / 30000)


def test_a_stale_result_is_not_shown():
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom
    from mrstudio.workspace.cine import CineWorkspace, MethodSpec

    ws = CineWorkspace(make_phantom(size=32, frames=4, coils=2), mask_spec=MaskSpec(accel=2))
    spec = MethodSpec("zero-filled")
    ws.apply_reference(ws.compute_reference())
    assert ws.plan([spec]) == [spec]
    late = ws.compute(spec)  # started under the first mask …
    ws.set_mask(make_mask(MaskSpec(accel=3), 4, 32))  # … the mask changes before it is applied
    assert ws.apply_result(spec, late) is False and ws.results == {} and ws.status("zero-filled") == "missing"
    ws.set_mask(late.mask)
    assert list(ws.results) == ["zero-filled"]  # but it was cached for its own mask


def test_volume_workspace_keeps_methods_side_by_side():
    from mrstudio.core.ct_phantom import make_ct_phantom, thick
    from mrstudio.workspace.volume import VolumeWorkspace

    ws = VolumeWorkspace(thick(make_ct_phantom(size=32, slices=21, seed=20000), 3))
    for m in ("linear", "cubic"):
        ws.apply_interpolation(ws.compute_interpolation(m, None, 2))
    label = ws.apply_holdout(ws.compute_holdout("linear", None, 3))
    assert list(ws.interpolations) == ["linear ×2", "cubic ×2"] and ws.latest == "cubic ×2"
    assert label == "linear ×3 hold-out" and ws.holdouts[label]["psnr"] > 10


def test_mask_edit_strokes_brush_symmetry_and_undo():
    from mrstudio.workspace.mask_edit import MaskEdit

    ed = MaskEdit(np.zeros((6, 16), bool))
    ed.mask[0, 8] = False
    ed = MaskEdit(np.eye(6, 16, dtype=bool))
    start = ed.mask
    assert ed.begin_stroke(0, 3) and ed.stroke_to(5, 3)  # a drag down the frames: no frame skipped
    assert ed.end_stroke() and ed.mask[:, 3].all()
    ed.brush, ed.symmetric = 3, True
    assert ed.lines(5) == [4, 5, 6, 10, 11, 12]  # 3 lines and their mirror about ky = 8
    ed.paint(2, 5)
    assert ed.mask[2, [4, 5, 6, 10, 11, 12]].all()
    ed.brush, ed.symmetric = 1, False
    ed.begin_stroke(0, 3, erase=True)
    ed.stroke_to(5, 3)
    ed.end_stroke()
    assert not ed.mask[:, 3].any()
    assert ed.undo() and ed.mask[:, 3].all()  # one stroke, one undo step
    assert ed.undo() and not ed.mask[2, 10] and ed.undo() and np.array_equal(ed.mask, start) and not ed.undo()
    assert ed.redo() and ed.mask[:, 3].all()
    ed.set(np.zeros((6, 16), bool) | (np.arange(16) == 8))  # a new mask is an undo step and clears the redo
    assert not ed.can_redo and ed.undo() and ed.mask[:, 3].all()
    one = MaskEdit(np.zeros((2, 4), bool) | (np.arange(4) == 1))
    one.begin_stroke(0, 1, erase=True)
    one.stroke_to(1, 1)
    assert one.mask.any()  # erasing never leaves an empty mask


def test_layers_stale_results_and_the_cache():
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom
    from mrstudio.workspace.cine import CineWorkspace, MethodSpec

    study = make_phantom(size=32, frames=4, coils=2)
    ws = CineWorkspace(study, mask_spec=MaskSpec(accel=2))
    zf, cs = MethodSpec("zero-filled", label="ZF"), MethodSpec("cs", (("iters", 3),), label="CS")
    ws.run([zf, cs])
    first = dict(ws.results)
    assert ws.order == ["ZF", "CS"] and ws.status("CS") == "fresh"
    ws.set_mask(make_mask(MaskSpec(accel=3), 4, 32))
    assert ws.results == {} and ws.status("ZF") == "updating" and ws.status("CS") == "stale"
    assert ws.shown()["CS"] is first["CS"]  # the stale result stays on show until it is re-run
    assert [s.title for s in ws.live_specs()] == ["ZF"]
    todo = ws.plan([zf])
    assert todo == [zf]
    ws.apply_result(zf, ws.compute(zf))
    assert ws.status("ZF") == "fresh" and ws.status("CS") == "stale"
    name = ws.snapshot()
    ws.restore(name)
    ws.set_mask(first["ZF"].mask)
    assert ws.results == first  # back to the first mask: both from the cache
    ws.move("CS", 0)
    ws.set_visible("ZF", False)
    assert ws.order == ["CS", "ZF"] and list(ws.magnitudes()[0])[1:] == ["CS"]
    ws.set_visible("ZF", True)
    ws.set_difference("CS", "ZF")
    stacks = ws.magnitudes()[0]
    np.testing.assert_allclose(stacks["CS − ZF"], stacks["CS"] - stacks["ZF"])
    ws.remove("ZF")
    assert ws.order == ["CS"] and ws.difference is None and "ZF" not in ws.results
    late = ws.compute(zf)
    assert ws.apply_result(zf, late) is False  # a removed layer's late result is cached, not shown
    assert ws.plan([zf]) == [] and "ZF" in ws.results


def test_the_learned_model_follows_r_and_a_mismatch_is_flagged():
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom
    from mrstudio.io.model_store import nearest_model
    from mrstudio.workspace.cine import CineWorkspace, cnn_spec, loss_specs

    if nearest_model(30.0, "l2") is None:
        import pytest

        pytest.skip("no cine models installed")
    study = make_phantom(size=32, frames=20, coils=2)
    auto, fixed = cnn_spec(), cnn_spec("cine-unet-l2-r15")
    ws = CineWorkspace(study, mask_spec=MaskSpec(accel=30), mask=make_mask(MaskSpec(accel=30), 20, 32))
    ws.run([auto, fixed])
    assert ws.results[auto.title].model["model"] == "cine-unet-l2-r30"
    assert ws.model_note(auto.title) == ("model l2-r30, trained R 30", False)
    note, mismatch = ws.model_note(fixed.title)
    assert mismatch and "trained R 15 ≠ mask R 30" in note
    assert sorted(s.label for s in loss_specs(30.0)) == ["CNN l1-fourier-r30", "CNN l2-r30", "CNN ssim-r30"]
