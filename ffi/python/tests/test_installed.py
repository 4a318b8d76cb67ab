"""The package as a user installs it: where it is imported from, how it finds its library,
and the ImportError a broken install gives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import crm_privacy as crm

SOURCE = Path(__file__).resolve().parents[1]


def test_under_the_wheel_check_everything_comes_from_the_fresh_venv():
    venv = os.environ.get("CRM_PRIVACY_WHEEL_CHECK")
    if not venv:
        pytest.skip("set by scripts/python-wheel-check.sh only")
    package = Path(crm.__file__).resolve().parent
    assert Path(venv).resolve() in package.parents, package
    assert SOURCE not in package.parents, "imported the source tree, not the installed wheel"
    assert "CRM_PRIVACY_LIB" not in os.environ
    assert crm.library_path().resolve().parent == package
    assert crm.library_path().name.startswith("_native.")
    assert (package / "py.typed").is_file()


def _import_in_subprocess(pythonpath: Path, env_lib: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CRM_PRIVACY_LIB", "PYTHONPATH")}
    env["PYTHONPATH"] = str(pythonpath)
    if env_lib is not None:
        env["CRM_PRIVACY_LIB"] = env_lib
    return subprocess.run([sys.executable, "-c", "import crm_privacy"], cwd=pythonpath,
                          env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def package_without_library(tmp_path):
    """A copy of the imported package with no compiled library in it."""
    copy = tmp_path / "crm_privacy"
    shutil.copytree(Path(crm.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("_native.*", "__pycache__"))
    return tmp_path


def test_a_missing_library_is_a_clear_import_error(package_without_library):
    done = _import_in_subprocess(package_without_library, None)
    assert done.returncode != 0
    assert "ImportError: crm_privacy: the compiled library" in done.stderr
    assert "_native.so" in done.stderr and "CRM_PRIVACY_LIB" in done.stderr


def test_a_bad_override_is_a_clear_import_error(package_without_library, tmp_path):
    done = _import_in_subprocess(package_without_library, str(tmp_path / "no-such-lib.so"))
    assert done.returncode != 0
    assert "ImportError: crm_privacy: CRM_PRIVACY_LIB is set to" in done.stderr
    assert "not a file" in done.stderr


def test_a_file_that_is_not_a_library_is_a_clear_import_error(package_without_library,
                                                               tmp_path):
    fake = tmp_path / "fake.so"
    fake.write_bytes(b"not an ELF file")
    done = _import_in_subprocess(package_without_library, str(fake))
    assert done.returncode != 0
    assert "ImportError: crm_privacy: cannot load the compiled library" in done.stderr


def test_the_override_wins(package_without_library):
    done = _import_in_subprocess(package_without_library, str(crm.library_path()))
    assert done.returncode == 0, done.stderr
