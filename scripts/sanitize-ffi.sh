#!/usr/bin/env bash
# The C ABI under AddressSanitizer: builds crm-privacy-ffi with `-Zsanitizer=address`
# (nightly), compiles ffi/tests/c/test_ffi.c with `-fsanitize=address` against it and runs the
# C test program with leak detection. (valgrind memcheck runs the same program on every CI
# run, from ffi/tests/c_tests.rs; this is the second opinion docs/hardening.md records.)
#
#   scripts/sanitize-ffi.sh
#
# Needs a nightly toolchain and a C compiler with libasan (gcc or clang); says so and exits 1
# when one is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "asan: no nightly toolchain (rustup toolchain install nightly); NOT run"
    exit 1
fi
cc="${CC:-cc}"
target="$(rustc +nightly -vV | sed -n 's/^host: //p')"
out="target/asan"
RUSTFLAGS="-Zsanitizer=address" cargo +nightly build -p crm-privacy-ffi --lib \
    --target "$target" --target-dir "$out"
lib="$out/$target/debug"
"$cc" -std=c11 -Wall -Wextra -Werror -g -fsanitize=address -fno-omit-frame-pointer \
    -Iffi/include ffi/tests/c/test_ffi.c -o "$out/test_ffi" \
    -L"$lib" -lcrm_privacy_ffi -Wl,-rpath,"$PWD/$lib"
db_dir="$(mktemp -d)"
trap 'rm -rf "$db_dir"' EXIT
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=98" \
    "$out/test_ffi" "$db_dir/asan.db"
echo "asan: C test program passed under AddressSanitizer (leak detection on)"
