"""Python binding of the crm-privacy C ABI (ctypes; no Rust knowledge needed).

The shared library is found through the ``CRM_PRIVACY_LIB`` environment variable, or in the
workspace's ``target/debug`` or ``target/release`` directory. Every result code other than
``CRM_OK`` raises a subclass of :class:`CrmError`; messages never contain personal data.
"""

from __future__ import annotations

import ctypes
import enum
import os
from pathlib import Path

__all__ = [
    "Category", "Purpose", "CrmError", "ApiMisuse", "InvalidData", "PolicyRefusal",
    "TokenRejected", "StorageError", "InternalError", "Issuer", "new_subject", "permits",
    "result_message",
]


class Purpose(enum.IntEnum):
    """Built-in purposes (``crm_privacy::PurposeId`` codes)."""
    NOTIFICATION = 1
    IDENTITY_VERIFICATION = 2
    SUPPORT_CONTACT = 3
    AUTHENTICATION = 4
    CONFERENCE_CREATION = 5
    ANALYTICS = 6
    TROUBLESHOOTING = 7
    PREFERENCES = 8
    OWNER_ACCESS = 9
    TEAM_COLLABORATION = 10
    ACCOUNT_MANAGEMENT = 11
    CUSTOMER_MANAGEMENT = 12
    CHAT_SHARING = 13
    LEGAL_COMPLIANCE = 14


class Category(enum.IntEnum):
    """Built-in data categories (``crm_privacy::Category`` codes)."""
    PERSON_NAME = 1
    EMAIL = 2
    PHONE = 3
    COLLEAGUE_CONTACT = 4
    CUSTOMER_RECORD = 5
    IP_ADDRESS = 6
    DEVICE_INFO = 7
    GOOGLE_ACCOUNT_ID = 8
    FACEBOOK_ACCOUNT_ID = 9
    ZOOM_ACCOUNT_ID = 10
    ZOOM_ACCESS_TOKEN = 11
    DEVICE_CONTACT = 12
    COOKIE_PREFERENCE = 13


class CrmError(Exception):
    """A call into crm-privacy failed. ``code`` is the C result code."""

    def __init__(self, code: int):
        self.code = code
        super().__init__(f"{result_message(code)} (code {code})")


class ApiMisuse(CrmError):
    """1xxx: NULL, bad UTF-8, bad length, freed handle, short buffer."""


class InvalidData(CrmError):
    """2xxx: a value was rejected by validation."""


class PolicyRefusal(CrmError):
    """3xxx: the policy refused (wrong purpose, subject, expired, revoked, no consent...)."""


class TokenRejected(CrmError):
    """4xxx: a grant token is malformed, forged, for another purpose or expired."""


class StorageError(CrmError):
    """5xxx: storage or key failure."""


class InternalError(CrmError):
    """9xxx: a panic was caught at the boundary (a bug)."""


_BLOCKS = {1: ApiMisuse, 2: InvalidData, 3: PolicyRefusal, 4: TokenRejected, 5: StorageError}


def _find_library() -> Path:
    env = os.environ.get("CRM_PRIVACY_LIB")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[3]
    for profile in ("debug", "release"):
        candidate = root / "target" / profile / "libcrm_privacy_ffi.so"
        if candidate.exists():
            return candidate
    raise OSError("libcrm_privacy_ffi.so not found: build it with `cargo build -p crm-privacy-ffi` "
                  "or set CRM_PRIVACY_LIB")


_lib = ctypes.CDLL(str(_find_library()))
_u8p = ctypes.POINTER(ctypes.c_uint8)
_sz = ctypes.c_size_t
_szp = ctypes.POINTER(ctypes.c_size_t)


def _sig(name, args, res=ctypes.c_uint32):
    f = getattr(_lib, name)
    f.argtypes = args
    f.restype = res
    return f


_result_message = _sig("crm_result_message", [ctypes.c_uint32, _u8p, _sz, _szp])
_permits = _sig("crm_policy_permits", [ctypes.c_uint8, ctypes.c_uint8], ctypes.c_bool)
_subject_new = _sig("crm_subject_new", [_u8p, _sz])
_issuer_new = _sig("crm_issuer_new", [_u8p, _sz, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p)])
_issuer_free = _sig("crm_issuer_free", [ctypes.c_void_p], None)
_grant_issue = _sig("crm_grant_issue", [ctypes.c_void_p, _u8p, ctypes.c_uint8, _u8p, _sz, _u8p, _sz, _szp])
_grant_check = _sig("crm_grant_check", [ctypes.c_void_p, _u8p, _sz, ctypes.c_uint8, ctypes.c_uint8, _u8p])
_grant_revoke = _sig("crm_grant_revoke", [ctypes.c_void_p, _u8p, _sz, ctypes.c_uint8])


def _buf(data: bytes):
    return (ctypes.c_uint8 * max(len(data), 1)).from_buffer_copy(data or b"\0"), len(data)


def _check(code: int) -> None:
    if code != 0:
        raise _BLOCKS.get(code // 1000, InternalError)(code)


def _call_out(fn, *args) -> bytes:
    """Calls ``fn(*args, buf, cap, &len)``, growing the buffer when it is too small."""
    cap = 256
    while True:
        out = (ctypes.c_uint8 * cap)()
        n = ctypes.c_size_t(0)
        code = fn(*args, out, cap, ctypes.byref(n))
        if code == 1003 and n.value > cap:
            cap = n.value
            continue
        _check(code)
        return bytes(out[: n.value])


def result_message(code: int) -> str:
    """The library's message for a result code."""
    out = (ctypes.c_uint8 * 256)()
    n = ctypes.c_size_t(0)
    if _result_message(code, out, 256, ctypes.byref(n)) != 0:
        return "unknown result code"
    return bytes(out[: n.value]).decode()


def permits(category: Category, purpose: Purpose) -> bool:
    """Whether the policy table allows ``category`` to be read for ``purpose``."""
    return bool(_permits(int(category), int(purpose)))


def new_subject() -> bytes:
    """A fresh random subject id (16 bytes)."""
    out = (ctypes.c_uint8 * 16)()
    _check(_subject_new(out, 16))
    return bytes(out)


class Issuer:
    """Issues, checks and revokes signed grant tokens."""

    _handle = ctypes.c_void_p()

    def __init__(self, secret: bytes, key_id: int = 1, ttl_secs: int = 300):
        handle = ctypes.c_void_p()
        data, n = _buf(secret)
        _check(_issuer_new(data, n, key_id, ttl_secs, ctypes.byref(handle)))
        self._handle = handle

    def close(self) -> None:
        """Frees the issuer (idempotent)."""
        if self._handle:
            _issuer_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def issue(self, subject: bytes, purpose: Purpose, component: str) -> str:
        """Issues a grant for a service purpose; returns its signed token."""
        s, _ = _buf(subject)
        c, cn = _buf(component.encode())
        return _call_out(_grant_issue, self._handle, s, int(purpose), c, cn).decode()

    def check(self, token: str, purpose: Purpose, category: Category, subject: bytes) -> None:
        """Raises unless ``token`` opens ``category`` data of ``subject`` for ``purpose`` now."""
        t, tn = _buf(token.encode())
        s, _ = _buf(subject)
        _check(_grant_check(self._handle, t, tn, int(purpose), int(category), s))

    def revoke(self, token: str, purpose: Purpose) -> None:
        """Revokes the grant inside ``token``."""
        t, tn = _buf(token.encode())
        _check(_grant_revoke(self._handle, t, tn, int(purpose)))
