#!/usr/bin/env bash
# Whole-model benchmark: ldm-edit and PyTorch/diffusers side by side, same machine, same threads.
#   PYTHON=/tmp/torch-venv/bin/python bash Scripts/bench_models.sh [THREADS] [REPEAT] [CASES...]
# Each case runs in a fresh process per side (so peak RSS is that case's), ours then torch, and
# prints median seconds, GFLOP/s (FLOPs counted by torch's FlopCounterMode), peak RSS and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-$(nproc)}
REPEAT=${2:-3}
shift 2 2>/dev/null || shift $#
CASES=${*:-sr-unet-64 sr-unet-128 inp-unet-64 inp-unet-128 vq-decode-64}
PY=${PYTHON:-python3}
swift build -c release --product ldm-bench >/dev/null
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; threads $THREADS; median of $REPEAT after 1 warm-up; $(date -u +%F)"
printf "%-14s %10s %9s %9s %10s %9s %9s %11s\n" case "ours s" "GFLOP/s" "RSS GB" "torch s" "GFLOP/s" "RSS GB" "ours/torch"
for c in $CASES; do
  ours=$(.build/release/ldm-bench --model "$c" --threads "$THREADS" --repeat "$REPEAT")
  theirs=$("$PY" Scripts/bench_torch.py --model "$c" --threads "$THREADS" --repeat "$REPEAT")
  python3 - "$ours" "$theirs" <<'PY'
import sys
o = sys.argv[1].split("\t"); t = sys.argv[2].split("\t")
gflop = float(t[5])
os_, ts = float(o[2]), float(t[2])
print(f"{o[1]:14} {os_:10.3f} {gflop / os_:9.1f} {float(o[3]):9.2f} {ts:10.3f} {gflop / ts:9.1f} {float(t[3]):9.2f} {os_ / ts:11.2f}")
PY
done
