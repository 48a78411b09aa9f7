#!/usr/bin/env bash
# Continue HRINet-skip and HRINet (resuming their run folders) and train the Table-2 ablations on the CPU.
#   SKIP_BUDGET seconds more for hrinet-skip (default 900), ABL_BUDGET per ablation (default 420).
set -euo pipefail
MR=${MR:-.venv/bin/mrstudio}
"$MR" train ct --variant hrinet-skip --loss mse --size 256 --crop 128 --base 16 --batch 4 --steps 100000 --lr 1e-4 \
  --time-budget "${SKIP_BUDGET:-900}" --val-every 200 --train-volumes 24 --device "${DEVICE:-cpu}" \
  --run-dir runs/ct-hrinet-skip-mse-256 --out models/ct-hrinet-skip-mse-256.pt
for v in ${ABLATIONS:-hrinet ae acai patchgan}; do
  "$MR" train ct --variant "$v" --loss mse --size 256 --crop 128 --base 16 --batch 4 --steps 100000 --lr 1e-4 \
    --time-budget "${ABL_BUDGET:-420}" --val-every 200 --train-volumes 24 --device "${DEVICE:-cpu}" \
    --run-dir "runs/ct-$v-mse-256" --out "models/ct-$v-mse-256.pt"
done
