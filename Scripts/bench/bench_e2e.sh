#!/usr/bin/env bash
# End-to-end benchmark: `ldm-edit` with its default settings against the reference recipes with
# theirs (Scripts/bench/bench_e2e.py), full-size architectures with random weights, same machine, same
# threads, one after the other.
#   PYTHON=/tmp/torch-venv/bin/python [LDM_EDIT=path/to/ldm-edit] bash Scripts/bench/bench_e2e.sh MODELS [THREADS] [TASKS...]
# MODELS: the folder of `make_parity_fixtures.py MODELS --full` (sr/ and inp/ diffusers folders).
# Tasks: upscale (Samples/lowres/astronaut.png, 128x128 → 512x512; diffusers: 100 DDIM steps)
#        inpaint (Samples/astronaut.png + Masks/astronaut_mask.png, 512x512; inpaint.py: 50 DDIM steps).
# Seconds exclude model loading on both sides (ours: the per-image time of --report).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODELS=${1:?usage: bench_e2e.sh MODELS [THREADS] [TASKS...]}
THREADS=${2:-$(nproc)}
shift 2 2>/dev/null || shift $#
TASKS=${*:-upscale inpaint}
PY=${PYTHON:-python3}
# LDM_EDIT: an already built binary to measure (e.g. one built with -enable-testing, which a plain build here would
# rebuild from scratch); by default the release build, brought up to date.
if [ -n "${LDM_EDIT:-}" ]; then BIN=$LDM_EDIT; else swift build -c release --product ldm-edit >/dev/null; BIN=.build/release/ldm-edit; fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; threads $THREADS; $(date -u +%F)"
printf "%-8s %22s %9s %9s %22s %9s %9s %11s\n" task "ours (sampler, steps)" "s" "RSS GB" "torch (steps)" "s" "RSS GB" "torch/ours"
for task in $TASKS; do
  if [ "$task" = upscale ]; then
    inputs=(Samples/lowres/astronaut.png); model=$MODELS/sr; extra=()
  else
    inputs=(Samples/astronaut.png); model=$MODELS/inp; extra=(--mask Masks/astronaut_mask.png)
  fi
  "$BIN" "$task" "${inputs[@]}" "${extra[@]}" --model "$model" --threads "$THREADS" --seed 1 \
    -o "$TMP/$task.png" --report "$TMP/$task.json" --progress none -q
  # The sampler and steps our defaults chose, from the output's provenance ("sampler: ddim, 50 steps, eta 0.0").
  sampling=$("$BIN" info "$TMP/$task.png" | sed -n 's/^ *sampler: \([^,]*\), \([0-9]*\) steps.*/\1, \2/p')
  ours=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); i=r['images'][0]; print(i['seconds'], i['peak_rss_bytes']/1e9)" "$TMP/$task.json")
  if [ "$task" = upscale ]; then
    theirs=$("$PY" Scripts/bench/bench_e2e.py upscale "$MODELS" "${inputs[0]}" --threads "$THREADS")
  else
    theirs=$("$PY" Scripts/bench/bench_e2e.py inpaint "$MODELS" "${inputs[0]}" Masks/astronaut_mask.png --threads "$THREADS")
  fi
  python3 - "$task" "$ours" "$theirs" "$sampling" <<'PY'
import sys
task, (os_, orss), t = sys.argv[1], map(float, sys.argv[2].split()), sys.argv[3].split("\t")
ts, trss, steps = float(t[1]), float(t[2]), t[4]
print(f"{task:8} {sys.argv[4] + ' (default)':>22} {os_:9.1f} {orss:9.2f} {'ddim, ' + steps:>22} {ts:9.1f} {trss:9.2f} {ts / os_:11.2f}")
PY
done
