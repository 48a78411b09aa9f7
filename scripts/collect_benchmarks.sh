#!/usr/bin/env bash
# Gather the benchmark reports in docs/bench-*.md (each written by `mrstudio bench ... --out`, with
# its machine and command) into docs/benchmarks.md, unchanged.
set -euo pipefail
cd "$(dirname "$0")/../docs"
{
  echo "# MR Studio benchmarks"
  echo
  echo "Each section below is the unedited report of one \`mrstudio bench\` run: its first lines give the"
  echo "command and the machine. Regenerate with \`make bench\` (CPU) or run the commands on a GPU machine."
  echo "Shipped-model training: see \`models/*.json\` (model cards) and \`docs/training/\`."
  for f in bench-cine-anatomy.md bench-cine.md bench-perf-anatomy.md bench-perf.md bench-infer-cpu.md bench-infer-h200.md bench-interp.md bench-batch.md bench-gui.md bench-gui-loaded.md cs-experiments.md ct-training.md interp-anatomy-training.md; do
    [ -f "$f" ] || continue
    echo
    cat "$f"
  done
} > benchmarks.md.part
mv benchmarks.md.part benchmarks.md
echo "docs/benchmarks.md: $(grep -c '^## bench' benchmarks.md) reports"
