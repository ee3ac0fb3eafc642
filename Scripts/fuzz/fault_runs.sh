#!/usr/bin/env bash
# Repeated fault runs (docs/robustness.md): RunControlTests.randomFaultsLoseNothing once per seed,
# each run killing (SIGKILL) or interrupting (SIGINT) a 6-image diffusion batch at 4 random moments,
# then checking that every output is complete or absent and that the resumed batch equals an
# uninterrupted one, pixel for pixel.
#   bash Scripts/fuzz/fault_runs.sh [RUNS] [FIRST_SEED]     (default 10 runs from seed 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-10}
FIRST=${2:-1}
swift build -c release --build-tests -Xswiftc -enable-testing >/dev/null
failed=0
for seed in $(seq "$FIRST" $((FIRST + RUNS - 1))); do
  if LDM_EDIT_FAULT_SEED=$seed swift test -c release --skip-build --disable-xctest --filter randomFaultsLoseNothing >/tmp/ldm-fault-$seed.log 2>&1; then
    echo "seed $seed: ok"
  else
    echo "seed $seed: FAILED (log: /tmp/ldm-fault-$seed.log)"
    failed=$((failed + 1))
  fi
done
echo "$RUNS runs, $failed failed"
[ "$failed" -eq 0 ]
