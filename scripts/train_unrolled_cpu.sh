#!/usr/bin/env bash
# Train (or resume) the any-mask unrolled network on real-anatomy cines on the CPU, time-budgeted.
#   scripts/train_unrolled_cpu.sh [SECONDS]    (default 1900; resumes runs/cine-unrolled)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
exec .venv/bin/python -m mrstudio train unrolled --time-budget "${1:-1900}" --steps 100000 --batch 2 \
  --run-dir runs/cine-unrolled --out models/cine-unrolled.pt --device cpu
