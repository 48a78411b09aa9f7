#!/usr/bin/env bash
# Fine-tune the paper's U-Nets on real anatomy mixed with the phantom (train cine --data anatomy), from the
# shipped weights, on the CPU, time-budgeted and resumable (runs/unet-mix-LOSS-rR).
#   scripts/train_unets_anatomy_cpu.sh                 # all nine, BUDGET seconds each (default 720)
#   LOSSES="l2" ACCELS="15" scripts/train_unets_anatomy_cpu.sh
#   INSTALL=1 scripts/train_unets_anatomy_cpu.sh       # copy finished runs into models/ (card kept, sha256 new)
#   SSIM_FROM_L2=1 LOSSES=ssim ACCELS=15 scripts/...  # start an SSIM run from the l2 run of its R, not the shipped
#                                                       # SSIM model (SSIM alone hardly constrains the image gain)
# The shipped models: R 15 600 s each (SSIM: 720 s from the l2 run), R 30 and 60 360 s each.
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
    init=cine-unet-$loss-r$r
    [[ $loss == ssim && -n "${SSIM_FROM_L2:-}" ]] && init=runs/unet-mix-l2-r$r/cine-unet-l2-r$r-mix.pt
    mkdir -p "$run"
    "$MR" train cine --data anatomy --loss "$loss" --accel "$r" --init "$init" --batch 8 --lr 3e-4 \
      --steps 100000 --time-budget "${BUDGET:-720}" --val-every 100 --anatomy-cines 32 --train-cines 32 \
      --val-cines 4 --device cpu --run-dir "$run" --out "$run/cine-unet-$loss-r$r-mix.pt"
  done
done
