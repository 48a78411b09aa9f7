#!/usr/bin/env bash
# Re-train the SSIM-loss models starting from the l2 model of the same R (SSIM from scratch
# can settle on a wrong intensity scale: SSIM is nearly blind to a global gain).
set -uo pipefail
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
PY=${PY:-python3}; DEVICE=${DEVICE:-cuda}; BUDGET=${BUDGET:-200}; BATCH=${BATCH:-16}; TRAIN_CINES=${TRAIN_CINES:-512}
mkdir -p runs/logs
for r in 15 30 60; do
  name=cine-unet-ssim-r$r
  rm -rf "runs/$name"
  "$PY" -m mrstudio train cine --loss ssim --accel "$r" --steps 200000 --time-budget "$BUDGET" --batch "$BATCH" \
    --lr 5e-4 --base 16 --depth 4 --crop 64 --train-cines "$TRAIN_CINES" --val-cines 8 --test-cines 10 \
    --val-every 500 --device "$DEVICE" --init "models/cine-unet-l2-r$r.pt" --out "models/$name.pt" \
    --run-dir "runs/$name" > "runs/logs/$name.log" 2>&1 &
done
wait
tail -n 1 runs/logs/cine-unet-ssim-*.log
[ -n "${OUT:-}" ] && tar cf "$OUT/models-ssim.tar" models/cine-unet-ssim-* && tar czf "$OUT/runs-ssim.tgz" --exclude='*.pt' runs
