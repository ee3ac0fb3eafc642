#!/usr/bin/env bash
# Installs what the page's browser test needs: Debian's chromium and chromium-driver, and a venv with Selenium
# and Pillow (Scripts/ui/requirements.txt) at $UI_VENV (default /tmp/ui-venv, outside the repository).
#   bash Scripts/ui/setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${UI_VENV:-/tmp/ui-venv}"

missing=()
for p in chromium chromium-driver python3-venv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q -r Scripts/ui/requirements.txt
