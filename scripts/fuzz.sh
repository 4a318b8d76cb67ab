#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer + AddressSanitizer, nightly toolchain).
#
#   scripts/fuzz.sh smoke [SECONDS]   every target for SECONDS (default 10) each; used by .ci/run
#   scripts/fuzz.sh long  [RUNS]      every target for RUNS executions (default 10 000 000);
#                                     docs/hardening.md records the last long run
#   scripts/fuzz.sh list              the targets
#
# Installs cargo-fuzz when it is missing. Without a nightly toolchain it says so and exits 0
# in smoke mode (CI machines without nightly still pass), 1 in long mode.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-smoke}"
targets=(email phone ip field_decode token chain events_json envelope ffi)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: no nightly toolchain (rustup toolchain install nightly); fuzz targets NOT run"
    [ "$mode" = smoke ] && exit 0 || exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    if ! cargo install --locked cargo-fuzz >/dev/null 2>&1; then
        echo "fuzz: cargo-fuzz could not be installed; fuzz targets NOT run"
        [ "$mode" = smoke ] && exit 0 || exit 1
    fi
fi

case "$mode" in
list)
    printf '%s\n' "${targets[@]}"
    ;;
smoke)
    secs="${2:-10}"
    cargo +nightly fuzz build
    for t in "${targets[@]}"; do
        # -runs bounds the work as well as the time on a slow machine.
        out=$(cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -print_final_stats=1 2>&1) || {
            echo "$out" | tail -n 40
            echo "fuzz: target $t FAILED"
            exit 1
        }
        runs=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p' | tail -n 1)
        echo "fuzz: $t ok (${runs:-?} runs in ${secs}s)"
    done
    ;;
long)
    runs="${2:-10000000}"
    cargo +nightly fuzz build
    mkdir -p fuzz/logs
    for t in "${targets[@]}"; do
        start=$(date +%s)
        cargo +nightly fuzz run "$t" -- -runs="$runs" -print_final_stats=1 >"fuzz/logs/$t.log" 2>&1 || {
            tail -n 40 "fuzz/logs/$t.log"
            echo "fuzz: target $t FAILED (log: fuzz/logs/$t.log)"
            exit 1
        }
        secs=$(( $(date +%s) - start ))
        done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz/logs/$t.log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]*' "fuzz/logs/$t.log" | tail -n 1)
        echo "fuzz: $t ok: ${done_runs:-?} runs in ${secs}s, ${cov:-cov: ?}"
    done
    ;;
*)
    echo "usage: $0 smoke [SECONDS] | long [RUNS] | list" >&2
    exit 2
    ;;
esac
