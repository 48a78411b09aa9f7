#!/usr/bin/env bash
# Train the shipped CT interpolators on the CPU (2 cores were enough to get a first model):
# the paper's HRINet-MSE and MR Studio's residual variant, BUDGET seconds each.
set -euo pipefail
BUDGET=${BUDGET:-720}
MR=${MR:-.venv/bin/mrstudio}
for v in hrinet-res hrinet; do
  name=ct-$v-mse-256
  [ "$v" = hrinet ] && name=ct-hrinet-mse-256
  lr=1e-4; [ "$v" = hrinet-res ] && lr=3e-4
  "$MR" train ct --variant "$v" --loss mse --size 256 --crop 128 --base 16 --batch 4 --steps 100000 --lr "$lr" \
    --time-budget "$BUDGET" --val-every 200 --train-volumes 24 --device "${DEVICE:-cpu}" --no-resume \
    --run-dir "runs/$name" --out "models/$name.pt"
done
