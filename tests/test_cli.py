"""End-to-end tests of the ``mrstudio`` command line (a real subprocess each)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def run(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "mrstudio", *args], capture_output=True, text=True, env=ENV, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr}")
    return p


def test_recon_json_contract():
    p = run("recon", "--study", "phantom", "--method", "zero-filled", "--mask", "vd-kt", "--accel", "15", "--json")
    out = json.loads(p.stdout)
    for key in ("method", "accel", "accel_effective", "psnr", "ssim", "nmse", "seconds", "device", "reference"):
        assert key in out
    assert out["reference"] == "ground-truth" and out["method"] == "zero-filled"
    assert abs(out["accel_effective"] - 15) / 15 < 0.03
    assert np.isfinite(out["psnr"]) and 0 < out["ssim"] < 1


def test_missing_file_one_line_exit_2():
    p = run("recon", "--study", "missing.h5", "--method", "zero-filled", "--accel", "4", check=False)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mrstudio: error: ") and "missing.h5" in lines[0]
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("args,needle", [
    (("recon", "--method", "nonsense", "--accel", "4"), "unknown method"),
    (("recon", "--method", "zero-filled", "--accel", "1"), "acceleration"),
    (("recon", "--method", "zero-filled", "--accel", "0.5"), "acceleration"),
    (("recon", "--method", "zero-filled", "--accel", "abc"), "--accel"),
    (("recon", "--method", "zero-filled", "--mask", "spiral", "--accel", "4"), "mask kind"),
    (("info",), "path"),
])
def test_bad_usage(args, needle):
    p = run(*args, check=False)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and needle in p.stderr


def test_not_a_study(tmp_path):
    f = tmp_path / "notes.h5"
    f.write_text("hello")
    p = run("info", str(f), check=False)
    assert p.returncode == 2 and "notes.h5" in p.stderr and "Traceback" not in p.stderr


def test_phantom_info_roundtrip_and_no_overwrite(tmp_path):
    out = tmp_path / "ph.h5"
    run("phantom", "--out", str(out), "--size", "64", "--frames", "6", "--coils", "3", "--seed", "4")
    info = json.loads(run("info", str(out), "--json").stdout)
    assert info["shape"] == [3, 6, 64, 64] and info["reference"] == "ground-truth"
    before = out.read_bytes()
    p = run("phantom", "--out", str(out), "--size", "64", check=False)
    assert p.returncode == 2 and "exists" in p.stderr
    assert out.read_bytes() == before
    assert "coils" in run("info", str(out)).stdout


def test_recon_out_npz_holds_contract(tmp_path):
    out = tmp_path / "r.npz"
    run("recon", "--size", "64", "--frames", "6", "--coils", "3", "--method", "zero-filled", "--accel", "4",
        "--out", str(out))
    with np.load(out) as z:
        assert z["image"].dtype == np.complex64 and z["image"].shape == (6, 64, 64)
        assert z["mask"].dtype == bool and z["mask"].shape == (6, 64)
        prov = json.loads(str(z["provenance"]))
    assert prov["method"] == "zero-filled" and "mrstudio_version" in prov and "time" in prov
    assert not list(tmp_path.glob(".*part*"))  # no temporary files left


def test_recon_with_mask_file(tmp_path):
    from mrstudio.core.masks import MaskSpec, make_mask

    m = make_mask(MaskSpec(kind="uniform", accel=5), 6, 64)
    np.save(tmp_path / "m.npy", m)
    out = json.loads(run("recon", "--size", "64", "--frames", "6", "--coils", "3", "--method", "zero-filled",
                         "--mask", str(tmp_path / "m.npy"), "--json").stdout)
    assert out["accel_effective"] == pytest.approx(m.size / m.sum(), rel=1e-3)


def test_help_is_fast_and_light():
    code = ("import sys, mrstudio.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph', 'sigpy', 'scipy') if m in sys.modules]\n"
            "print(bad)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip().endswith("[]"), p.stdout
    assert "recon" in p.stdout


def test_version():
    assert run("--version").stdout.startswith("mrstudio ")


def test_gui_screenshot(tmp_path):
    shot = tmp_path / "s.png"
    run("--study", "phantom", "--screenshot", str(shot))
    assert shot.stat().st_size > 5000


def test_recon_cs_cli():
    common = ("--size", "64", "--frames", "8", "--coils", "4", "--accel", "6", "--json")
    zf = json.loads(run("recon", "--method", "zero-filled", *common).stdout)
    cs = json.loads(run("recon", "--method", "cs", "--param", "iters=30", "--device", "cpu", *common).stdout)
    assert cs["method"] == "cs" and cs["reference"] == "ground-truth" and cs["device"] == "cpu"
    assert cs["psnr"] > zf["psnr"] + 3


def test_recon_bad_param():
    p = run("recon", "--method", "cs", "--accel", "4", "--param", "nonsense=1", check=False)
    assert p.returncode == 2 and "unknown cs parameter" in p.stderr


def test_bench_perf_quick(tmp_path):
    out = tmp_path / "perf.md"
    run("bench", "perf", "--quick", "--out", str(out))
    text = out.read_text()
    assert "Command: `mrstudio bench perf --quick" in text and "Machine:" in text
    assert "| 64² | mrstudio cs |" in text
    p = run("bench", "perf", "--quick", "--out", str(out), check=False)
    assert p.returncode == 2 and "exists" in p.stderr


def test_bench_infer_quick(tmp_path):
    """`bench infer`: the network alone and the whole unrolled / cs methods from k-space, with their times."""
    out = tmp_path / "infer.md"
    p = run("bench", "infer", "--quick", "--device", "cpu", "--out", str(out), "--json")
    res = json.loads(p.stdout)
    assert res["rows"][0]["size"] == 64 and res["rows"][0]["median_s"] > 0
    assert {r["method"] for r in res["methods"]} == {"unrolled", "cs"} and all(r["min_s"] > 0 for r in res["methods"])
    assert "Whole methods" in out.read_text()
    p = run("bench", "infer", "--data", "anatomy", "--quick", check=False)  # no data choice: refused, not ignored
    assert p.returncode == 2 and "no data choice" in p.stderr


def test_bench_perf_on_anatomy_quick(tmp_path):
    """`bench perf --data anatomy`: cs and BART (when installed) on a real-anatomy test cine, mean ± sd per R."""
    out = tmp_path / "perf-anatomy.md"
    p = run("bench", "perf", "--data", "anatomy", "--quick", "--out", str(out), "--json")
    rows = json.loads(p.stdout)["cs_vs_bart"]
    cs = next(r for r in rows if r["method"] == "mrstudio cs")
    assert cs["accel"] == 8.0 and cs["psnr"] > 25 and cs["seconds"] > 0
    text = out.read_text()
    assert "Command: `mrstudio bench perf --data anatomy --quick" in text and "Real-anatomy test cines" in text


def test_bench_interp_on_anatomy_only_quick(tmp_path):
    out = tmp_path / "interp-anatomy.md"
    p = run("bench", "interp", "--data", "anatomy", "--quick", "--device", "cpu", "--out", str(out), "--json")
    res = json.loads(p.stdout)
    assert "ct" not in res and {r["factor"] for r in res["anatomy"]["rows"]} == {3, 6}
    text = out.read_text()
    assert "bench interp on anatomy (quick)" in text and "Real anatomy" in text and "CT phantom (the paper" not in text


def test_bench_cine_quick(tmp_path):
    out = tmp_path / "cine.md"
    p = run("bench", "cine", "--quick", "--device", "cpu", "--out", str(out), "--json")
    result = json.loads(p.stdout)
    methods = {r["method"] for r in result["rows"]}
    assert {"naive (zero-filled)", "CS (l1-ESPIRiT)", "CNN-l2", "CNN-l1-fourier", "CNN-ssim", "CNN-l2 + DC"} <= methods
    assert result["seeds"][0] == 20000  # the held-out test split
    by = {r["method"]: r for r in result["rows"]}
    assert by["CNN-l2"]["psnr_mean"] > by["naive (zero-filled)"]["psnr_mean"] + 3
    text = out.read_text()
    assert "### R = 15" in text and "best CNN" in text and "Command: `mrstudio bench cine --quick" in text
    import shutil

    assert "- unrolled vs CS: PSNR" in text and "vs the best CNN" in text
    if shutil.which("bart"):  # the peer on the same k-space, as bench perf
        assert "BART pics (l1-ESPIRiT)" in methods and "- CS vs BART pics: PSNR" in text
    assert (tmp_path / "bench-cine-r15.png").stat().st_size > 1000


def test_recon_movie(tmp_path):
    import imageio.v3 as iio

    out = tmp_path / "cmp.gif"
    run("recon", "--size", "32", "--frames", "6", "--coils", "2", "--method", "zero-filled", "--accel", "3",
        "--movie", str(out))
    gif = iio.imread(out)
    assert gif.shape[0] == 6 and gif.shape[2] == 3 * 32 + 2 * 4  # reference | result | error
    p = run("recon", "--size", "32", "--frames", "6", "--coils", "2", "--method", "zero-filled", "--accel", "3",
            "--movie", str(out), check=False)
    assert p.returncode == 2 and "exists" in p.stderr


def test_train_on_a_folder_of_cmrxrecon_files(tmp_path):
    """End to end: real-format training data (CMRxRecon .mat v7.3), split by file, model + card written."""
    import h5py

    from mrstudio.core.phantom import make_phantom

    data = tmp_path / "data"
    data.mkdir()
    for seed in range(3):
        k = make_phantom(size=32, frames=8, coils=2, seed=seed).kspace  # (C, T, Ny, Nx)
        k = k.transpose(1, 0, 2, 3)[:, None]  # h5py view of MATLAB (kx, ky, sc, sz, t): (t, sz, sc, ky, kx)
        comp = np.empty(k.shape, dtype=[("real", "<f4"), ("imag", "<f4")])
        comp["real"], comp["imag"] = k.real, k.imag
        with h5py.File(data / f"P{seed:03d}_cine_sax.mat", "w", userblock_size=512) as f:
            f.create_dataset("kspace_full", data=comp)
    out = tmp_path / "m.pt"
    run("train", "cine", "--data", str(data), "--loss", "l2", "--accel", "4", "--steps", "3", "--batch", "2",
        "--base", "4", "--depth", "2", "--crop", "0", "--val-every", "2", "--run-dir", str(tmp_path / "run"),
        "--out", str(out), "--device", "cpu")
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["training_data"]["kind"] == "files" and card["unet"]["frames"] == 8 and card["steps"] == 3
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    assert len(split["train"]) == 2 and not set(split["train"]) & set(split["val"] + split["test"])
    p = run("recon", "--size", "32", "--frames", "8", "--coils", "2", "--method", "cnn", "--model", str(out),
            "--accel", "4", "--json")
    assert np.isfinite(json.loads(p.stdout)["psnr"])


def test_bench_ct_quick(tmp_path):
    out = tmp_path / "ct.md"
    p = run("bench", "ct", "--quick", "--device", "cpu", "--out", str(out), "--json")
    res = json.loads(p.stdout)
    anatomy = {(r["factor"], r["method"]) for r in res["anatomy"]["rows"]}
    assert {(3, "linear"), (6, "cubic"), (3, "throughplane (interp-throughplane)")} <= anatomy
    rows = {r["method"]: r for r in res["ct"]["rows"]}
    assert {"linear", "cubic"} <= set(rows) and rows["linear"]["psnr_mean"] > 15
    text = out.read_text()
    assert "Real anatomy" in text and "Large gap" in text and "Command: `mrstudio bench ct --quick" in text
    assert (tmp_path / "bench-ct.png").stat().st_size > 1000 and (tmp_path / "bench-interp-anatomy.png").exists()
    large = res["ct"]["large"]
    assert {r["method"] for r in large["rows"]} == set(rows)
    cost = {r["method"]: r for r in large["cost"]}
    assert cost["linear"]["slices_out"] == 3 * cost["linear"]["slices_in"] - 2
    assert all(r["peak_mib"] > 0 and r["seconds"] > 0 for r in cost.values())
    assert "² slices" in text and "peak (MiB)" in text


def test_bench_gui_quick(tmp_path):
    out = tmp_path / "gui.md"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run([sys.executable, "-m", "mrstudio", "bench", "gui", "--quick", "--out", str(out), "--json"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert {r["mode"] for r in res["scrub"]} == {"image", "error"} and all(r["fps"] > 0 for r in res["scrub"])
    assert all(r["paints_per_step"] >= r["panels"] for r in res["scrub"])  # every step repainted every panel
    assert res["live"]["strokes"] and res["startup"][0]["window"] > 0
    text = out.read_text()
    assert "live" in text.lower() and "start-up" in text.lower()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS needs Linux /proc")
def test_peak_memory_sees_a_transient_allocation():
    from mrstudio.bench.machine import peak_memory

    with peak_memory("cpu") as mem:
        a = np.ones(64 * 2**20, np.uint8)  # 64 MiB, touched, freed before the block ends
        del a
    assert 56 < mem["added_mib"] < 200 and mem["peak_mib"] >= mem["added_mib"]
