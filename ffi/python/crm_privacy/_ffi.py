"""Finds and loads the C ABI library and declares the signature of every function used.

The library is ``_native.so`` (``.dylib`` on macOS, ``.dll`` on Windows) inside this
package, put there by the wheel build. ``CRM_PRIVACY_LIB`` overrides it with a path, for
development against a library built by ``cargo build -p crm-privacy-ffi``.

To wrap a new C function: add its signature to ``_SIGNATURES`` and call it as
``_ffi.fn.<name>``. A function missing from the loaded library (an older build) raises
:class:`~crm_privacy.InternalError` when called, not at import.
"""

from __future__ import annotations

import ctypes
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ENV_VAR = "CRM_PRIVACY_LIB"
"""Environment variable naming a library file to load instead of the packaged one."""

_NAMES = ("_native.so", "_native.dylib", "_native.dll")


def _packaged() -> Optional[Path]:
    root = resources.files(__package__ or "crm_privacy")
    for name in _NAMES:
        candidate = root / name
        if candidate.is_file():
            return Path(str(candidate))
    return None


def library_path() -> Path:
    """The library file this package loads (or would load).

    Raises:
        ImportError: ``CRM_PRIVACY_LIB`` names no file, or the packaged library is missing.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        path = Path(override)
        if not path.is_file():
            raise ImportError(
                f"crm_privacy: {ENV_VAR} is set to {override!r}, which is not a file; "
                "build the library with `cargo build -p crm-privacy-ffi` and point "
                f"{ENV_VAR} at target/debug/libcrm_privacy_ffi.so, or unset it to use the "
                "library inside the installed package"
            )
        return path
    packaged = _packaged()
    if packaged is None:
        raise ImportError(
            "crm_privacy: the compiled library (crm_privacy/_native.so, .dylib or .dll) is "
            f"missing from {Path(__file__).parent}; install the wheel "
            "(`pip install ./ffi/python` builds it), or in a source checkout run "
            f"`cargo build -p crm-privacy-ffi` and set {ENV_VAR} to the built "
            "libcrm_privacy_ffi file"
        )
    return packaged


def _load() -> ctypes.CDLL:
    path = library_path()
    try:
        return ctypes.CDLL(str(path))
    except OSError as e:
        raise ImportError(
            f"crm_privacy: cannot load the compiled library {path} ({e}); it may be built "
            f"for another platform than this Python ({sys.platform})"
        ) from e


LIB = _load()
"""The loaded library."""

u8 = ctypes.c_uint8
u32 = ctypes.c_uint32
i64 = ctypes.c_int64
sz = ctypes.c_size_t
u8p = ctypes.POINTER(ctypes.c_uint8)
szp = ctypes.POINTER(ctypes.c_size_t)
u64p = ctypes.POINTER(ctypes.c_uint64)
u32p = ctypes.POINTER(ctypes.c_uint32)
vp = ctypes.c_void_p
vpp = ctypes.POINTER(ctypes.c_void_p)
res = ctypes.c_uint32


class SessionClaims(ctypes.Structure):
    """``crm_session_claims``: what the authenticate callback fills in."""

    _fields_ = [
        ("subject", ctypes.c_uint8 * 16),
        ("session", ctypes.c_uint8 * 16),
        ("authenticated_at_unix", ctypes.c_int64),
        ("expires_at_unix", ctypes.c_int64),
    ]


AUTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_uint32, ctypes.c_void_p, u8p, ctypes.c_size_t, ctypes.POINTER(SessionClaims)
)
"""``crm_authenticate_callback``."""

AUTH_ACCEPTED, AUTH_REJECTED, AUTH_EXPIRED = 0, 1, 2
"""``CRM_AUTH_*`` verdicts of the authenticate callback."""

SESSION_LIVE_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, u8p, u8p, ctypes.c_int64)
"""``crm_session_live_callback``."""

SESSION_IS_LIVE, SESSION_HAS_ENDED = 0, 1
"""``CRM_SESSION_IS_LIVE`` / ``CRM_SESSION_HAS_ENDED``: verdicts of the session-live callback."""

# name: (argument types, result type). Keep in the header's order of declaration.
_SIGNATURES: Dict[str, Tuple[List[Any], Any]] = {
    "crm_consent_give": ([vp, u8p, sz, u32], res),
    "crm_policy_acknowledge": ([vp, u8p, sz, u32], res),
    "crm_consent_withdraw": ([vp, u8p, u32], res),
    "crm_custodian_open": ([u8p, sz, u8p, sz, u8p, sz, u8p, sz, vp, vpp], res),
    "crm_custodian_free": ([vp], None),
    "crm_subject_register": ([vp, u8p, sz], res),
    "crm_restrict": ([vp, u8p], res),
    "crm_lift_restriction": ([vp, u8p], res),
    "crm_erase": ([vp, u8p, u64p], res),
    "crm_retention_sweep": ([vp, u64p, u64p], res),
    "crm_audit_verify": ([vp, u64p, u64p], res),
    "crm_field_store": ([vp, u8p, u8, u8p, sz, u8p, sz], res),
    "crm_field_read": ([vp, u8p, sz, u8, u8p, u8p, sz, szp], res),
    "crm_field_rectify": ([vp, u8p, sz, u8p, u8, u8p, sz], res),
    "crm_export_json": ([vp, u8p, sz, u8p, sz, szp], res),
    "crm_policy_permits": ([u8, u8], ctypes.c_bool),
    "crm_subject_new": ([u8p, sz], res),
    "crm_sharing_set": ([vp, u8p, sz, u8p, sz, u8p, sz], res),
    "crm_result_message": ([u32, u8p, sz, szp], res),
    "crm_gpc_signal": ([u8p, sz, u32p], res),
    "crm_gpc_apply": ([vp, u8p, sz, u32, u8p, sz, u32p], res),
    "crm_custodian_grant": ([vp, u8p, u8, u8p, sz, u8p, sz, szp], res),
    "crm_grant_for_session": ([vp, u8p, sz, u8, u8p, sz, szp], res),
    "crm_grant_owner": ([vp, u8p, sz, u8p, sz, szp], res),
    "crm_grant_conference": ([vp, u8p, sz, u8p, sz, szp], res),
    "crm_grant_staff": ([vp, u8p, u8, u8p, u8p, sz, szp], res),
    "crm_lawful_request_record": ([vp, u8p, u8p, sz, u8p, sz, u8p, sz, u8p, sz], res),
    "crm_grant_lawful": ([vp, u8p, u8p, u8p, sz, u8p, sz, szp], res),
    "crm_grant_revoke": ([vp, u8p, sz, u8], res),
    "crm_grant_lookup": ([vp, u8, u8p, sz, vpp], res),
    "crm_lookup_grant_free": ([vp], None),
    "crm_find_by_email": ([vp, vp, u8p, sz, u8p, sz, szp], res),
    "crm_find_by_phone": ([vp, vp, u8p, sz, u8p, sz, szp], res),
    "crm_authenticator_new": ([vpp], res),
    "crm_authenticator_insert": ([vp, u8p, sz, u8p, u8p, i64, i64], res),
    "crm_authenticator_remove": ([vp, u8p, sz], res),
    "crm_authenticator_free": ([vp], None),
    "crm_staff_directory_new": ([vpp], res),
    "crm_staff_directory_file": ([vp, u8p, u8p, sz, i64, i64], res),
    "crm_staff_directory_remove": ([vp, u8p], res),
    "crm_staff_directory_free": ([vp], None),
    "crm_clock_new_manual": ([i64, vpp], res),
    "crm_clock_set": ([vp, i64], res),
    "crm_clock_advance": ([vp, i64], res),
    "crm_clock_free": ([vp], None),
    "crm_custodian_config_new": ([vpp], res),
    "crm_custodian_config_set_authenticator": ([vp, vp], res),
    "crm_custodian_config_set_authenticate_callback": (
        [vp, AUTH_CALLBACK, SESSION_LIVE_CALLBACK, vp], res),
    "crm_custodian_config_set_staff_directory": ([vp, vp], res),
    "crm_custodian_config_set_clock": ([vp, vp], res),
    "crm_custodian_config_set_grant_ttl": ([vp, u32], res),
    "crm_custodian_config_free": ([vp], None),
}


class _Functions:
    """The declared functions of the library, as attributes."""

    def __init__(self) -> None:
        for name, (args, result) in _SIGNATURES.items():
            f = getattr(LIB, name, None)
            if f is None:
                continue
            f.argtypes = args
            f.restype = result
            setattr(self, name, f)

    def __getattr__(self, name: str) -> Any:
        # Only reached for a name that was not set: declared but absent, or undeclared.
        from .errors import InternalError

        raise InternalError(9002, f"{name} is not in the loaded library (an older build?)")


fn: Any = _Functions()
"""Every declared function present in the library, as ``fn.crm_...``."""

result_message = fn.crm_result_message
