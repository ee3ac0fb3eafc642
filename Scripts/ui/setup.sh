#!/usr/bin/env bash
# Installs what the page's browser test needs: Debian's chromium and chromium-driver, and a venv with Selenium
# and Pillow (Scripts/ui/requirements.txt) at $UI_VENV (default /tmp/ui-venv, outside the repository).
#   bash Scripts/ui/setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${UI_VENV:-/tmp/ui-venv}"

# Debian's chromium, chromium-driver and python3-venv are among the project's packages (install-deps.sh).
bash Scripts/setup/install-deps.sh

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q -r Scripts/ui/requirements.txt
