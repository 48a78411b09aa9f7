#!/usr/bin/env bash
# Fine-tune the paper's U-Nets on real anatomy mixed with the phantom (train cine --data anatomy), from the
# shipped weights, on the CPU, time-budgeted and resumable (runs/unet-mix-LOSS-rR).
#   scripts/train_unets_anatomy_cpu.sh                 # all nine, BUDGET seconds each (default 720)
#   LOSSES="l2" ACCELS="15" scripts/train_unets_anatomy_cpu.sh
#   INSTALL=1 scripts/train_unets_anatomy_cpu.sh       # copy finished runs into models/ (card kept, sha256 new)
# A first run (l2, R 15, 720 s, 1424 steps) raised the anatomy validation score from 16.39 dB / 0.616 (the
# phantom-trained model) to 21.69 dB / 0.717 (naive 14.49 / 0.356).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${THREADS:-2} MKL_NUM_THREADS=${THREADS:-2}
MR=${MR:-.venv/bin/mrstudio}
PY=${PY:-.venv/bin/python}
for loss in ${LOSSES:-l2 l1-fourier ssim}; do
  for r in ${ACCELS:-15 30 60}; do
    run=runs/unet-mix-$loss-r$r
    if [[ -n "${INSTALL:-}" ]]; then
      "$PY" scripts/install_model.py "$run/cine-unet-$loss-r$r-mix.pt" "models/cine-unet-$loss-r$r.pt"
      continue
    fi
    mkdir -p "$run"
    "$MR" train cine --data anatomy --loss "$loss" --accel "$r" --init "cine-unet-$loss-r$r" --batch 8 --lr 3e-4 \
      --steps 100000 --time-budget "${BUDGET:-720}" --val-every 100 --anatomy-cines 32 --train-cines 32 \
      --val-cines 4 --device cpu --run-dir "$run" --out "$run/cine-unet-$loss-r$r-mix.pt"
  done
done
