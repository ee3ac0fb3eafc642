#!/usr/bin/env bash
# README command 1: install what is missing, build in release, and run a real edit of each kind on a
# sample with the bundled models (Models/), printing the time each took.
#   bash Scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup/install-deps.sh
swift build -c release --product ldm-edit
mkdir -p out
bin=.build/release/ldm-edit
run() {  # label, command...
  local label=$1; shift
  local start=$SECONDS
  "$@"
  echo "$label: $((SECONDS - start)) s"
}
if [ -f Models/ldm-edit-sr.safetensors ]; then
  run "upscale (bundled diffusion model, default sampler and steps)" \
    "$bin" upscale Samples/lowres/chelsea.png -o out/chelsea_x4.png --seed 1 --overwrite
else
  echo "Models/ldm-edit-sr.safetensors is not there: upscaling with the classical Lanczos resampler instead."
  run "upscale (Lanczos)" "$bin" upscale Samples/lowres/chelsea.png -o out/chelsea_x4.png --overwrite
fi
echo "Wrote out/chelsea_x4.png (4x upscale of Samples/lowres/chelsea.png)."
if [ -f Models/ldm-edit-inpaint.safetensors ]; then
  run "inpaint (bundled diffusion model, default sampler and steps, 8 candidates blended)" \
    "$bin" inpaint Samples/chelsea.png --mask Masks/chelsea_mask.png -o out/chelsea_inpainted.png --seed 1 --overwrite
  echo "Wrote out/chelsea_inpainted.png (Samples/chelsea.png with the region of Masks/chelsea_mask.png repainted)."
else
  echo "Models/ldm-edit-inpaint.safetensors is not there (docs/models.md): inpainting needs --model."
fi
