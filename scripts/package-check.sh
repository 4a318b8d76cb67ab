#!/usr/bin/env bash
# Packages every published crate of the workspace as crates.io would receive it, in
# dependency order (crm-privacy → crm-privacy-sqlite, crm-privacy-postgres →
# crm-privacy-ffi), and verifies that each .crate builds on its own.
#
# Why `cargo package --workspace` and not `cargo publish --dry-run -p X` per crate: a dry run
# of a dependent resolves its workspace dependencies from crates.io, where an unpublished
# version does not exist yet, so every dependent fails until the one before it is really
# published. `cargo package --workspace` (stable since cargo 1.90) puts the crates it has
# just packaged into a temporary local registry overlaid on crates.io, so each dependent
# resolves and builds against the packaged — not the path — version of its dependencies,
# exactly as after publishing in that order (cargo PR rust-lang/cargo#13947).
#
# Usage: scripts/package-check.sh [--no-verify] [--allow-dirty]   (arguments go to
# `cargo package`; CI runs it with none, on a clean checkout)
# Needs network access to the crates.io index (dependencies resolve from it).
set -euo pipefail
cd "$(dirname "$0")/.."

# Every published crate needs these (crates.io refuses a manifest without description or
# license; a crate without its README and licenses is incomplete on crates.io/docs.rs).
for dir in . stores/sqlite stores/postgres ffi; do
    for f in README.md LICENSE-APACHE LICENSE-MIT; do
        [[ -s "$dir/$f" ]] || { echo "package-check: $dir/$f is missing" >&2; exit 1; }
    done
    for key in description license readme keywords categories; do
        grep -Eq "^$key(\.workspace)? *=" "$dir/Cargo.toml" \
            || { echo "package-check: $dir/Cargo.toml has no $key" >&2; exit 1; }
    done
done
if grep -rn "example\.invalid" Cargo.toml stores/*/Cargo.toml ffi/Cargo.toml; then
    echo "package-check: placeholder URL in a manifest" >&2
    exit 1
fi

# cargo extracts a crate of a local registry once per (registry path, name, version) and
# reuses that extraction on later runs (it trusts a version never changes, as on crates.io).
# The overlay registry above lives at the same path on every run from the same checkout, so
# a second run would build the *previous* run's sources of our crates (seen: a new error
# variant "not found" while verifying crm-privacy-ffi). Drop our own crates' extractions
# from every registry but crates.io first.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
for src in "$cargo_home"/registry/src/*/; do
    case "$(basename "$src")" in index.crates.io-*) continue ;; esac
    rm -rf "$src"crm-privacy-[0-9]* "$src"crm-privacy-sqlite-* "$src"crm-privacy-postgres-* \
        "$src"crm-privacy-ffi-*
done

# Package (and, unless --no-verify, build each package from its .crate) in dependency order.
cargo package --workspace --locked "$@"

echo "package-check: every crate packages$([[ " $* " == *" --no-verify "* ]] || echo ' and builds from its .crate')"
