#!/usr/bin/env bash
# Kernel benchmark, ldm-edit and PyTorch side by side on this machine, same thread count.
#   bash Scripts/bench/bench_kernels.sh [THREADS] [REPEAT] [ROUNDS]
# Runs ROUNDS (default 3) alternating rounds of ldm-bench and the PyTorch twin, each a median of
# REPEAT (default 5) timings, and prints per case the median over rounds and the ratio.
# Needs a Python with torch: set PYTHON (default: python3), e.g. a venv outside the repository:
#   python3 -m venv /tmp/torch-venv && /tmp/torch-venv/bin/pip install torch
#   PYTHON=/tmp/torch-venv/bin/python bash Scripts/bench/bench_kernels.sh 2
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-$(nproc)}
REPEAT=${2:-5}
ROUNDS=${3:-3}
PY=${PYTHON:-python3}
swift build -c release --product ldm-bench >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
.build/release/ldm-bench --threads "$THREADS" --repeat 1 --filter none >/dev/null || true
for r in $(seq 1 "$ROUNDS"); do
  .build/release/ldm-bench --threads "$THREADS" --repeat "$REPEAT" --tsv > "$dir/ours$r.tsv"
  "$PY" Scripts/bench/bench_torch_kernels.py --threads "$THREADS" --repeat "$REPEAT" --tsv > "$dir/torch$r.tsv"
done
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(date -u +%F)"
.build/release/ldm-bench --threads 1 --repeat 1 --filter none | head -1
"$PY" Scripts/bench/bench_torch_kernels.py --merge-ours "$dir"/ours*.tsv --merge-torch "$dir"/torch*.tsv
