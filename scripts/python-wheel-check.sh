#!/usr/bin/env bash
# Builds the Python wheel of the C ABI (ffi/python), installs it in a fresh virtualenv and
# runs the pytest suite against the *installed* package, from a directory outside the source
# tree. Fails loudly on any step. Also checks that the wheel is platform-tagged and carries
# the library, that the build left nothing git would see, and that `cargo package` of
# crm-privacy-ffi still lists no packaging leftovers.
#
#   scripts/python-wheel-check.sh
#
# Environment: PYTHON (default python3); SETUPTOOLS_RUST_CARGO_PROFILE (default: release,
# what ships). About 1.5-2 minutes with a warm target/release, 12 from a cold one.
# Needs network access to PyPI for the build requirements and pytest (pip caches them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=${PYTHON:-python3}

fail() { printf 'python-wheel-check: FAILED: %s\n' "$*" >&2; exit 1; }
say() { printf '\n--> %s\n' "$*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crm-wheel.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

git_state() { git -C "$root" status --porcelain --untracked-files=all; }
before=$(git_state)

say "build the wheel (pip wheel ./ffi/python, isolated build env)"
# setuptools builds in ffi/python/build (ignored by git) and packs whatever it finds there:
# start from an empty one so a file of an earlier build cannot slip into the wheel.
rm -rf ffi/python/build ffi/python/crm_privacy.egg-info
"$py" -m venv "$tmp/build-venv" || fail "cannot create a virtualenv with $py (Debian: apt-get install python3-venv)"
"$tmp/build-venv/bin/python" -m pip install -q --upgrade pip || fail "cannot upgrade pip"
"$tmp/build-venv/bin/python" -m pip wheel --no-deps -w "$tmp/dist" ./ffi/python \
    || fail "the wheel did not build"

shopt -s nullglob
wheels=("$tmp"/dist/crm_privacy-*.whl)
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel, found ${#wheels[@]}"
wheel=${wheels[0]}
echo "built $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"

say "the wheel is platform-tagged and carries the library and py.typed"
case "$(basename "$wheel")" in
    *-none-any.whl) fail "the wheel is not platform-tagged: $(basename "$wheel")" ;;
    *-py3-none-*.whl) ;;
    *) fail "unexpected wheel tag: $(basename "$wheel")" ;;
esac
contents=$("$py" -m zipfile -l "$wheel") || fail "cannot list the wheel"
natives=$(grep -c 'crm_privacy/_native' <<<"$contents" || true)
[ "$natives" -eq 1 ] || fail "expected one library in the wheel, found $natives"
grep -Eq 'crm_privacy/_native\.(so|dylib|dll) ' <<<"$contents" || fail "no library in the wheel"
grep -q 'crm_privacy/py.typed ' <<<"$contents" || fail "no py.typed in the wheel"

say "the build left nothing git would see"
after=$(git_state)
if [ "$before" != "$after" ]; then
    diff <(echo "$before") <(echo "$after") >&2 || true
    fail "building the wheel changed what git sees (cover the leftovers in .gitignore)"
fi

say "cargo package -p crm-privacy-ffi lists no packaging leftovers"
listing=$(cargo package -p crm-privacy-ffi --list --allow-dirty --quiet) \
    || fail "cargo package -p crm-privacy-ffi --list failed"
if grep -E '(^|/)(build|dist)/|\.egg-info|_native\.|\.whl$|__pycache__' <<<"$listing"; then
    fail "cargo package would ship the files above"
fi

say "install the wheel in a fresh virtualenv"
"$py" -m venv "$tmp/venv" || fail "cannot create a virtualenv with $py (Debian: apt-get install python3-venv)"
"$tmp/venv/bin/python" -m pip install -q "$wheel" "pytest>=7" "mypy>=1" || fail "the wheel did not install"

say "run the tests against the installed package, outside the source tree"
mkdir "$tmp/run"
(
    cd "$tmp/run"
    unset CRM_PRIVACY_LIB
    export PYTHONDONTWRITEBYTECODE=1
    # Makes tests/test_installed.py assert that the package and library come from the venv.
    export CRM_PRIVACY_WHEEL_CHECK="$tmp/venv"
    "$tmp/venv/bin/python" -c 'import crm_privacy, sys; print("imported", crm_privacy.__file__, "with", crm_privacy.library_path().name)'
    "$tmp/venv/bin/python" -m pytest -p no:cacheprovider -q "$root/ffi/python/tests"
) || fail "pytest failed against the installed wheel"

say "the installed package type-checks for a user (py.typed, mypy --strict)"
cat >"$tmp/run/user.py" <<'PY'
import crm_privacy as crm


def first_read(c: crm.Custodian, subject: bytes, record: bytes) -> str:
    token: str = c.grant(subject, crm.Purpose.NOTIFICATION, "mailer")
    try:
        return c.read(token, crm.Purpose.NOTIFICATION, record)
    except crm.PolicyRefusal as e:
        code: int = e.code
        return str(code)
PY
(cd "$tmp/run" && "$tmp/venv/bin/python" -m mypy --strict --no-incremental user.py) \
    || fail "mypy --strict does not accept a typed use of the installed package"

say "python wheel check passed"
