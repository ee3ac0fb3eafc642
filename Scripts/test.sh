#!/usr/bin/env bash
# README command 2: the full test suite, built optimised (numeric code is slow unoptimised).
#   bash Scripts/test.sh [extra swift test arguments, e.g. --filter ResamplerTests]
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup/install-deps.sh
# -enable-testing keeps @testable imports working in a release build; XCTest is not used.
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build --disable-xctest "$@"
