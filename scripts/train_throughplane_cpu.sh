#!/usr/bin/env bash
# Train (or resume) the through-plane slice interpolator on real MR volumes on the CPU, time-budgeted.
#   scripts/train_throughplane_cpu.sh [SECONDS] [extra train options]   (default 1500 s; resumes runs/interp-throughplane)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${THREADS:-2} MKL_NUM_THREADS=${THREADS:-2}
budget=${1:-1500}
shift || true
exec .venv/bin/python -m mrstudio train throughplane --time-budget "$budget" --steps 1000000 --batch 16 \
  --val-every 200 --run-dir runs/interp-throughplane --out models/interp-throughplane.pt --device cpu "$@"
