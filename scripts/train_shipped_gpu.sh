#!/usr/bin/env bash
# Train the nine shipped cine models at once on one GPU (each its own process; the phantom
# simulation runs on the GPU too), then time CNN inference there.
#   BUDGET  seconds of training per model (default 300)   BATCH (16)   TRAIN_CINES (512)
# Models land in models/, runs in runs/; with OUT set, tarballs of both are copied there.
set -uo pipefail
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
BUDGET=${BUDGET:-300}
BATCH=${BATCH:-16}
TRAIN_CINES=${TRAIN_CINES:-512}
mkdir -p models runs/logs
command -v nvidia-smi >/dev/null && nvidia-smi -L
"$PY" -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__, 'cuda', torch.cuda.is_available())"
for r in 15 30 60; do
  for loss in l2 l1-fourier ssim; do
    name=cine-unet-$loss-r$r
    "$PY" -m mrstudio train cine --loss "$loss" --accel "$r" --steps 200000 --time-budget "$BUDGET" \
      --batch "$BATCH" --lr 1e-3 --base 16 --depth 4 --crop 64 --train-cines "$TRAIN_CINES" --val-cines 8 \
      --test-cines 10 --val-every 500 --device "$DEVICE" --out "models/$name.pt" --run-dir "runs/$name" \
      > "runs/logs/$name.log" 2>&1 &
  done
done
wait
tail -n 2 runs/logs/*.log
"$PY" -m mrstudio bench infer --device "$DEVICE" --out runs/bench-infer-"$DEVICE".md --force && cat runs/bench-infer-"$DEVICE".md
if [ -n "${OUT:-}" ]; then
  for r in 15 30 60; do tar cf "$OUT/models-r$r.tar" models/cine-unet-*-r$r.*; done
  tar czf "$OUT/runs.tgz" --exclude='*.pt' runs
fi
