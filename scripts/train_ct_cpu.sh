#!/usr/bin/env bash
# Train the shipped CT interpolators on the CPU: MR Studio's HRINet-skip (residual, every encoder
# level mixed) and the paper's HRINet-MSE, BUDGET seconds of training each (after data generation).
set -euo pipefail
BUDGET=${BUDGET:-720}
MR=${MR:-.venv/bin/mrstudio}
for v in ${VARIANTS:-hrinet-skip hrinet}; do
  name=ct-$v-mse-256
  lr=1e-4; case $v in hrinet-res|hrinet-skip) lr=3e-4;; esac
  "$MR" train ct --variant "$v" --loss mse --size 256 --crop 128 --base 16 --batch 4 --steps 100000 --lr "$lr" \
    --time-budget "$BUDGET" --val-every 200 --train-volumes 24 --device "${DEVICE:-cpu}" --no-resume \
    --run-dir "runs/$name" --out "models/$name.pt"
done
