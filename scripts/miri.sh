#!/usr/bin/env bash
# The core crate's tests under Miri (undefined-behaviour checker, nightly).
#
#   scripts/miri.sh
#
# Runs the unit tests of crm-privacy and the integration tests that do not need ring (the
# retention calculator, the policy table agreement). ring's primitives are C and assembly,
# which Miri cannot execute, so tests that hash, sign or encrypt carry
# `#[cfg_attr(miri, ignore = "...")]`; they run natively (and under valgrind and ASan through the
# C ABI, see docs/hardening.md). Property tests run 4 cases each under Miri (PROPTEST_CASES).
# Installs the miri and rust-src components when missing; says so and exits 1 when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "miri: no nightly toolchain (rustup toolchain install nightly); NOT run"
    exit 1
fi
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    rustup component add --toolchain nightly miri rust-src || {
        echo "miri: the miri component could not be installed; NOT run"
        exit 1
    }
fi
export PROPTEST_CASES="${PROPTEST_CASES:-4}"
# Isolation off: the tests read the clock (chrono::Utc::now) and the OS random source (uuid).
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
cargo +nightly miri test -p crm-privacy --lib -- --test-threads=1
cargo +nightly miri test -p crm-privacy --test retention --test policy_agreement -- --test-threads=1
echo "miri: passed"
