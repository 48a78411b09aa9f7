#!/usr/bin/env bash
# Train the nine shipped cine models: cine-unet-{l2,l1-fourier,ssim}-r{15,30,60}.
# l2 at R = 15 is trained from scratch; the other losses at R = 15 start from it, and each
# loss at R = 30 / 60 starts from the same loss at the R below (curriculum over R).
# Runs land in runs/, weights and model cards in models/. Resumable: re-run to continue.
set -euo pipefail
MRSTUDIO=${MRSTUDIO:-.venv/bin/mrstudio}
FIRST=${FIRST_STEPS:-3000}
STEPS=${STEPS:-1200}
common=(--batch 4 --base 16 --depth 4 --crop 64 --train-cines 96 --val-cines 8 --test-cines 10 --val-every 200)
"$MRSTUDIO" train cine --loss l2 --accel 15 --steps "$FIRST" "${common[@]}" --out models/cine-unet-l2-r15.pt
for loss in l1-fourier ssim; do
  "$MRSTUDIO" train cine --loss "$loss" --accel 15 --steps "$STEPS" --lr 5e-4 "${common[@]}" \
    --init models/cine-unet-l2-r15.pt --out "models/cine-unet-$loss-r15.pt"
done
for r in 30 60; do
  prev=$([ "$r" = 30 ] && echo 15 || echo 30)
  for loss in l2 l1-fourier ssim; do
    "$MRSTUDIO" train cine --loss "$loss" --accel "$r" --steps "$STEPS" --lr 5e-4 "${common[@]}" \
      --init "models/cine-unet-$loss-r$prev.pt" --out "models/cine-unet-$loss-r$r.pt"
  done
done
