#!/usr/bin/env bash
# Keeps a U-Net still in training across machines: exports the EMA weights of the state folder's current step
# (nothing is trained) as Models/training/ldm-edit-TASK.safetensors, with the usual provenance (steps, CPU-hours,
# target, switches), which run.sh continues from on a fresh machine when it has more steps than the shipped model.
# Commit the file at the end of a session whose machine will not come back (Scripts/train/README.md).
#   bash Scripts/train/keep_partial.sh inpaint|sr [--state DIR] [--pool DIR] [--python PY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
task=${1:?usage: keep_partial.sh inpaint|sr [--state DIR] [--pool DIR] [--python PY]}
shift
state=${LDM_TRAIN_STATE:-$HOME/.cache/ldm-edit-train}
pool=${LDM_POOL:-/tmp/ldm-pool}
py=${LDM_TRAIN_PYTHON:-/tmp/torch-venv/bin/python}
while [ $# -gt 0 ]; do
  case "$1" in
    --state) state=$2; shift 2 ;;
    --pool) pool=$2; shift 2 ;;
    --python) py=$2; shift 2 ;;
    *) echo "keep_partial.sh: unknown option $1" >&2; exit 64 ;;
  esac
done
case "$task" in inpaint|sr) ;; *) echo "keep_partial.sh: the task is inpaint or sr, not $task" >&2; exit 64 ;; esac
[ -f "$state/$task/state.pt" ] || { echo "keep_partial.sh: no training state at $state/$task/state.pt" >&2; exit 66; }
snapshot=$(mktemp -d)
trap 'rm -rf "$snapshot"' EXIT
cp "$state/$task/state.pt" "$snapshot/"  # a copy: the running job may rewrite its state meanwhile
cd "$here"
# --steps 1: the snapshot is past it, so the script only exports (no training, no data order consumed).
first_stage="$state/decoder/autoencoder"   # the decoder's fine-tune, once run.sh has done it (same encoder)
[ -f "$first_stage/config.json" ] || first_stage="$state/ae/autoencoder"
"$py" train_diffusion.py --task "$task" --autoencoder "$first_stage" --pool "$pool" --state "$snapshot" --steps 1 \
  --export "$snapshot/export/ldm-edit-$task" --ldm-edit "$root/.build/release/ldm-edit"
[ -f "$snapshot/export/ldm-edit-$task.safetensors" ] || { echo "keep_partial.sh: the export failed" >&2; exit 1; }
mkdir -p "$root/Models/training"
cp "$snapshot/export/ldm-edit-$task.safetensors" "$root/Models/training/ldm-edit-$task.safetensors"
echo "kept $root/Models/training/ldm-edit-$task.safetensors"
