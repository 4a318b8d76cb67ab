"""The two build overrides pyproject.toml cannot express (see the comment there).

* The wheel is tagged ``py3-none-<platform>``: the library is native code for one platform,
  but it does not use the Python C API, so one wheel serves every Python 3 (CPython or PyPy)
  on that platform.
* The library is named ``_native`` plus the platform's shared-library suffix, not the
  interpreter's extension-module suffix (``.cpython-311-x86_64-linux-gnu.so``), since no
  interpreter imports it as a module: ctypes loads it by path.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_ext import build_ext

NATIVE = "crm_privacy._native"


def _shared_suffix() -> str:
    if sys.platform == "win32":
        return ".dll"
    if sys.platform == "darwin":
        return ".dylib"
    return ".so"


class PlatformWheel(bdist_wheel):
    """Tags the wheel for the platform only (py3-none-<platform>)."""

    def get_tag(self) -> tuple[str, str, str]:
        _python, _abi, plat = super().get_tag()
        return "py3", "none", plat


class NativeLibrary(build_ext):
    """Names the C ABI library with the platform's shared-library suffix."""

    def get_ext_filename(self, fullname: str) -> str:
        # Called with the full dotted name or, from get_ext_fullpath, with its last part.
        if fullname in (NATIVE, NATIVE.rsplit(".", 1)[-1]):
            return fullname.replace(".", "/") + _shared_suffix()
        return super().get_ext_filename(fullname)


# The library is built from the workspace around this directory; an sdist does not carry it.
if not (Path(__file__).resolve().parent.parent / "Cargo.toml").is_file():
    sys.exit(
        "crm-privacy: build from a checkout of the repository (pip install ./ffi/python or "
        "python -m build --wheel ffi/python): the Rust crate ffi/Cargo.toml is not here, "
        "and source distributions are not supported"
    )

setup(cmdclass={"bdist_wheel": PlatformWheel, "build_ext": NativeLibrary})
