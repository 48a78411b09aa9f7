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
after_change = sorted(ws.results)
todo = ws.plan(specs)
for s in todo:
    ws.apply_result(s, ws.compute(s))
back = MaskSpec(accel=15)
ws.set_mask(make_mask(back, 20, 32), back)  # the first mask again: every result comes from the cache
cached = sorted(ws.results)
prov = recon_provenance(cnn, study, ws.mask_spec)
h5 = write_recon(cnn, study, sys.argv[1] + "/cnn.h5", "h5", prov)
dcm = write_recon(cnn, study, sys.argv[1] + "/cnn_dicom", "dicom", prov)
print(json.dumps({"first": first, "after_change": after_change, "todo": [s.title for s in todo], "cached": cached,
                  "events": len(seen), "model_sha256": prov.get("model_sha256"), "h5": str(h5), "dicom": str(dcm),
                  "qt": sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "superqt"))}))
"""


def test_the_default_comparison_runs_without_qt(tmp_path):
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout.splitlines()[-1])
    assert r["qt"] == []
    from mrstudio.recon.unrolled import default_unrolled

    want = {"Zero-filled", "CS (l1-ESPIRiT)", "CNN l2-r15"} | ({"Unrolled (any mask)"} if default_unrolled() else set())
    assert set(r["first"]) == want and all(v > 10 for v in r["first"].values())
    assert r["first"]["CNN l2-r15"] > r["first"]["Zero-filled"]
    assert r["after_change"] == [] and len(r["todo"]) == len(want) and r["cached"] == sorted(r["first"])
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
    late = ws.compute(spec)  # started under the first mask …
    ws.set_mask(make_mask(MaskSpec(accel=3), 4, 32))  # … the mask changes before it is applied
    assert ws.apply_result(spec, late) is False and ws.results == {}
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
