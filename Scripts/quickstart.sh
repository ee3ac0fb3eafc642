#!/usr/bin/env bash
# README command 1: install what is missing, build in release, and run a real edit on a sample.
#   bash Scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup/install-deps.sh
swift build -c release
mkdir -p out
.build/release/ldm-edit upscale Samples/lowres/chelsea.png -o out/chelsea_x4.png
echo "Wrote out/chelsea_x4.png (4x upscale of Samples/lowres/chelsea.png)."
