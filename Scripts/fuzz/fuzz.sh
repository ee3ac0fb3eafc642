#!/usr/bin/env bash
# Bounded libFuzzer run over the ldm-fuzz harnesses (docs/fuzzing.md). Not part of .ci/run.
#   bash Scripts/fuzz/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      default: 60 s, every target
# Builds the fuzzing binary into .build/fuzz, then fuzzes each target for SECONDS_PER_TARGET from
# its committed seeds (Tests/Fuzz/corpus/<target>) and dictionary (Tests/Fuzz/dict/<target>.dict).
# Git-ignored output under .fuzz/: corpus/<target>/ (inputs libFuzzer found interesting, reused by
# the next run), artifacts/<target>/ (crash-*, timeout-*, oom-* inputs), logs/<target>.log.
# After a crash the target is restarted for the rest of its time, so one bug does not hide others.
# Exit status: 0 when no target crashed, 1 otherwise. LDM_FUZZ_RSS_MB caps the process's memory
# (default 2048), LDM_FUZZ_MALLOC_MB any single allocation (default 256: inputs are at most 64 KB and
# images at most 1 Mpixel, so a bigger request is a parser trusting a size field).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${1:-60}
shift || true
ALL=(safetensors zip unpickler torch config png jpeg tiff)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi
for target in "${TARGETS[@]}"; do
    [[ " ${ALL[*]} " == *" $target "* ]] || { echo "unknown target $target (targets: ${ALL[*]})" >&2; exit 2; }
done
RSS_MB=${LDM_FUZZ_RSS_MB:-2048}
MALLOC_MB=${LDM_FUZZ_MALLOC_MB:-256}

# Swift code gets libFuzzer's coverage and ASan from -sanitize; the C wrappers in CImageCodecs get
# them from -fsanitize (the system libpng/libjpeg/libtiff are not instrumented). -DLDM_FUZZING swaps
# the replay driver's @main for LLVMFuzzerTestOneInput; libFuzzer supplies main.
swift build -c release --product ldm-fuzz --build-path .build/fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DLDM_FUZZING \
    -Xcc -fsanitize=fuzzer-no-link,address
BIN=.build/fuzz/release/ldm-fuzz

mkdir -p .fuzz/logs
printf '%-12s %8s %10s %8s %6s %8s %8s\n' target seconds execs exec/s cov features crashes > .fuzz/summary.txt
failed=0
for target in "${TARGETS[@]}"; do
    mkdir -p ".fuzz/corpus/$target" ".fuzz/artifacts/$target"
    log=".fuzz/logs/$target.log"
    : > "$log"
    execs=0 crashes=0 start=$(date +%s)
    while :; do
        left=$(( SECONDS_PER_TARGET - ($(date +%s) - start) ))
        [ "$left" -gt 0 ] || break
        set +e
        LDM_FUZZ_TARGET=$target "$BIN" ".fuzz/corpus/$target" "Tests/Fuzz/corpus/$target" \
            -dict="Tests/Fuzz/dict/$target.dict" -max_total_time="$left" -rss_limit_mb="$RSS_MB" \
            -malloc_limit_mb="$MALLOC_MB" -timeout=10 -max_len=65536 -print_final_stats=1 \
            -artifact_prefix=".fuzz/artifacts/$target/" >> "$log" 2>&1
        status=$?
        set -e
        run_execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
        execs=$(( execs + ${run_execs:-0} ))
        sed -i 's/stat::number_of_executed_units/counted::number_of_executed_units/' "$log"
        [ "$status" -eq 0 ] && break
        crashes=$(( crashes + 1 ))
        echo "=== $target: run ended with status $status (see $log) ===" >> "$log"
        [ "$crashes" -ge 20 ] && break   # a crash on nearly every input: stop and fix it first
    done
    elapsed=$(( $(date +%s) - start ))
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
    printf '%-12s %8s %10s %8s %6s %8s %8s\n' "$target" "$elapsed" "$execs" $(( execs / (elapsed > 0 ? elapsed : 1) )) \
        "$(echo "$cov" | awk '{print $2}')" "$(echo "$cov" | awk '{print $4}')" "$crashes" >> .fuzz/summary.txt
    [ "$crashes" -eq 0 ] || failed=1
done
cat .fuzz/summary.txt
ls .fuzz/artifacts/*/ 2>/dev/null | grep -E 'crash-|timeout-|oom-|leak-' >/dev/null && echo "crash inputs: .fuzz/artifacts/<target>/ (replay: .build/release/ldm-fuzz <target> FILE)"
exit $failed
