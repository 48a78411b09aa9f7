#!/usr/bin/env bash
# Resume the paper-configuration HRINet-MSE run (runs/ct-hrinet-mse-256, made by train_ct_cpu.sh and
# train_ct_more_cpu.sh) for BUDGET more seconds of CPU time (default 6300), then ship its best step:
#   scripts/train_ct_long_cpu.sh && cp runs/ct-hrinet-mse-256/ct-hrinet-mse-256.{pt,json} models/
# Nothing else should run on the machine meanwhile: two PyTorch processes on 2 cores slow each other ~5×.
set -euo pipefail
MR=${MR:-.venv/bin/mrstudio}
"$MR" train ct --variant hrinet --loss mse --size 256 --crop 128 --base 16 --batch 4 --steps 20000 --lr 1e-4 \
  --time-budget "${BUDGET:-6300}" --val-every 200 --train-volumes 24 --device "${DEVICE:-cpu}" \
  --run-dir runs/ct-hrinet-mse-256 --out runs/ct-hrinet-mse-256/ct-hrinet-mse-256.pt
