#!/usr/bin/env bash
# README command 2: the full test suite, built optimised (numeric code is slow unoptimised), then the web
# page in headless Chromium (Scripts/ui/browser_test.py; a failure there fails the run).
#   bash Scripts/test.sh [extra swift test arguments, e.g. --filter ResamplerTests: the Swift tests only]
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup/install-deps.sh
# -enable-testing keeps @testable imports working in a release build; XCTest is not used.
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build --disable-xctest "$@"
if [ "$#" -eq 0 ]; then
  # The eval scripts' statistics (stdlib only: compare.py, targets.py).
  python3 -m unittest discover -s Scripts/eval -p 'test_*.py'
  bash Scripts/ui/setup.sh
  "${UI_VENV:-/tmp/ui-venv}/bin/python" Scripts/ui/browser_test.py --binary .build/release/ldm-edit
fi
