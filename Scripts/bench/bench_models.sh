#!/usr/bin/env bash
# Whole-model benchmark: ldm-edit and PyTorch/diffusers side by side, same machine, same threads.
#   PYTHON=/tmp/torch-venv/bin/python bash Scripts/bench/bench_models.sh [THREADS] [REPEAT] [CASES...]
# A wrapper of `ldm-edit bench --torch PYTHON`: each case runs ours in-process, then
# Scripts/bench/bench_torch.py in a fresh process; median seconds, GFLOP/s (FLOPs counted by torch),
# peak RSS and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-$(nproc)}
REPEAT=${2:-3}
shift 2 2>/dev/null || shift $#
swift build -c release --product ldm-edit >/dev/null
exec .build/release/ldm-edit bench "$@" --threads "$THREADS" --repeat "$REPEAT" --torch "${PYTHON:-python3}"
