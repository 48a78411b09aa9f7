#!/usr/bin/env bash
# Fine-tune HRINet (the paper's configuration), MR Studio's HRINet-skip and the ACAI ablation on
# real anatomy (Colin 27 of mricron-data, three orientations, slabs of 1–3 mm) mixed with 20 % CT
# phantom crops, from the CT-phantom weights, on the CPU; time-budgeted and resumable
# (runs/interp-VARIANT-mse-mix). Budgets in seconds of training each, after data preparation.
#   scripts/train_interp_anatomy_cpu.sh            # all three, default budgets
#   VARIANTS="hrinet" BUDGETS="600" scripts/train_interp_anatomy_cpu.sh
# Crops of 64² (a crop of 128² cannot avoid the validation slab in sagittal/coronal sections),
# batch 16 (as many pixels per step as the CT runs' batch 4 at 128²); lr 1e-4 as the paper.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${THREADS:-2} MKL_NUM_THREADS=${THREADS:-2}
MR=${MR:-.venv/bin/mrstudio}
read -r -a variants <<< "${VARIANTS:-hrinet hrinet-skip acai}"
read -r -a budgets <<< "${BUDGETS:-1680 1680 960}"
for i in "${!variants[@]}"; do
  v=${variants[$i]}
  name=interp-$v-mse-mix
  init=ct-$v-mse-256
  "$MR" train ct --data anatomy --variant "$v" --loss mse --size 256 --crop 64 --base 16 --batch 16 \
    --steps 100000 --lr 1e-4 --time-budget "${budgets[$i]}" --val-every 200 --train-volumes 4 \
    --init "$init" --device "${DEVICE:-cpu}" --run-dir "runs/$name" --out "models/$name.pt"
done
