#!/usr/bin/env bash
# One short device check: CNN inference bench on CUDA, and CS on CUDA vs CPU on the phantom.
# Writes its figures under $OUT (default ./device-out).
set -uo pipefail
OUT=${OUT:-device-out}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
PY=${PY:-python3}
{ nvidia-smi -L; "$PY" -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)"; } 2>&1 | tee "$OUT/env.txt"
timeout 90 "$PY" -m mrstudio bench infer --device cuda --out "$OUT/bench-infer-cuda.md" --force 2>&1 | tail -3
cat "$OUT/bench-infer-cuda.md" 2>/dev/null
for dev in cuda cpu; do
  timeout 60 "$PY" -m mrstudio recon --method cs --accel 15 --device "$dev" --json 2>&1 | tail -1 | tee "$OUT/cs-$dev.json"
done
timeout 60 "$PY" -m mrstudio recon --method cnn --model cine-unet-l2-r15 --accel 15 --param dc=true --device cuda --json 2>&1 | tail -1 | tee "$OUT/cnn-dc-cuda.json"
