"""The layering contracts of docs/architecture.md, enforced."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    p = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_import_mrstudio_is_light():
    code = "import sys, mrstudio, mrstudio.core.masks, mrstudio.recon; print([m for m in ('torch','PySide6') if m in sys.modules])"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "[]", p.stdout + p.stderr


def test_ruff_clean():
    exe = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    p = subprocess.run([exe, "check", "--output-format", "concise", "mrstudio", "tests"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_layers_contract_covers_every_subpackage():
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in cfg if c["type"] == "layers")["layers"]
    named = {m.strip() for layer in layers for m in layer.split("|")}
    packages = {f"mrstudio.{p.name}" for p in (ROOT / "mrstudio").iterdir() if (p / "__init__.py").is_file()}
    assert packages | {"mrstudio.cli"} == named, named ^ (packages | {"mrstudio.cli"})
