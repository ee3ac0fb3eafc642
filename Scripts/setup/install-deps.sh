#!/usr/bin/env bash
# Installs the Debian packages ldm-edit builds against, if any is missing.
#   bash Scripts/setup/install-deps.sh
# Needs: Debian 12 (or newer) with apt; root or sudo. The Swift toolchain itself is not installed here.
set -euo pipefail

PACKAGES=(pkg-config libpng-dev libjpeg62-turbo-dev libtiff-dev libopenblas-dev)
# The web page's browser test (Scripts/ui/browser_test.py, run by Scripts/test.sh): headless Chromium and its
# WebDriver; Selenium and Pillow go into a venv (Scripts/ui/setup.sh).
PACKAGES+=(chromium chromium-driver python3-venv)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if ! command -v swift >/dev/null; then
  echo "error: the Swift toolchain (6.0 or newer) is not on PATH; install it from swift.org first." >&2
  exit 1
fi
