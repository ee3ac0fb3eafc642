#!/usr/bin/env bash
# Kernel benchmark, ldm-edit and PyTorch side by side on this machine, same thread count.
#   bash Scripts/bench_kernels.sh [THREADS] [REPEAT]
# Needs a Python with torch: set PYTHON (default: python3), e.g. a venv outside the repository:
#   python3 -m venv /tmp/torch-venv && /tmp/torch-venv/bin/pip install torch
#   PYTHON=/tmp/torch-venv/bin/python bash Scripts/bench_kernels.sh 2
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-$(nproc)}
REPEAT=${2:-5}
swift build -c release --product ldm-bench >/dev/null
tsv=$(mktemp)
trap 'rm -f "$tsv"' EXIT
.build/release/ldm-bench --threads "$THREADS" --repeat "$REPEAT"
.build/release/ldm-bench --threads "$THREADS" --repeat "$REPEAT" --tsv > "$tsv"
echo
"${PYTHON:-python3}" Scripts/bench_torch_kernels.py --threads "$THREADS" --repeat "$REPEAT" --ours "$tsv"
