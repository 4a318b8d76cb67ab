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


# --------------------------------------------------------------------------------------------
# Custodian on a SQLite file

class Scope(enum.IntEnum):
    """Consent scopes (clauses 3.3–3.7 and 4)."""
    GOOGLE_LINK = 1
    FACEBOOK_LINK = 2
    ZOOM_LINK = 3
    CONTACTS_IMPORT = 4
    COOKIES = 5
    DEVICE_GOOGLE_ACCOUNT = 11
    DEVICE_CALLS = 12
    DEVICE_FILE_STORAGE = 13
    DEVICE_CAMERA = 14
    DEVICE_NETWORK = 15


_c_open = _sig("crm_custodian_open", [_u8p, _sz, _u8p, _sz, _u8p, _sz, _u8p, _sz, ctypes.POINTER(ctypes.c_void_p)])
_c_free = _sig("crm_custodian_free", [ctypes.c_void_p], None)
_c_register = _sig("crm_subject_register", [ctypes.c_void_p, _u8p, _sz])
_c_store = _sig("crm_field_store", [ctypes.c_void_p, _u8p, ctypes.c_uint8, _u8p, _sz, _u8p, _sz])
_c_give = _sig("crm_consent_give", [ctypes.c_void_p, _u8p, ctypes.c_uint8])
_c_withdraw = _sig("crm_consent_withdraw", [ctypes.c_void_p, _u8p, ctypes.c_uint8])
_c_grant = _sig("crm_custodian_grant", [ctypes.c_void_p, _u8p, ctypes.c_uint8, _u8p, _sz, _u8p, _sz, _szp])
_c_owner = _sig("crm_grant_issue_owner", [ctypes.c_void_p, _u8p, _u8p, _u8p, _sz, _szp])
_c_conf = _sig("crm_grant_issue_conference", [ctypes.c_void_p, _u8p, _u8p, _u8p, _u8p, _sz, _szp])
_c_read = _sig("crm_field_read", [ctypes.c_void_p, _u8p, _sz, ctypes.c_uint8, _u8p, _u8p, _sz, _szp])
_c_erase = _sig("crm_erase", [ctypes.c_void_p, _u8p, ctypes.POINTER(ctypes.c_uint64)])
_c_sweep = _sig("crm_retention_sweep", [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64)])
_c_export = _sig("crm_export_json", [ctypes.c_void_p, _u8p, _sz, _u8p, _sz, _szp])
_c_verify = _sig("crm_audit_verify", [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64)])


def _id(b: bytes):
    if len(b) != 16:
        raise ValueError("ids are 16 bytes")
    return _buf(b)[0]


class Custodian:
    """A custodian on a SQLite file (keys in ``<path>.keys``). Keys are bytes from the
    host's secret manager: ``kek`` exactly 32 bytes, ``index_key``/``token_key`` at least 32."""

    _handle = ctypes.c_void_p()

    def __init__(self, path: str, kek: bytes, index_key: bytes, token_key: bytes):
        handle = ctypes.c_void_p()
        p, pn = _buf(path.encode())
        k, kn = _buf(kek)
        i, inn = _buf(index_key)
        t, tn = _buf(token_key)
        _check(_c_open(p, pn, k, kn, i, inn, t, tn, ctypes.byref(handle)))
        self._handle = handle

    def close(self) -> None:
        """Closes the store (idempotent)."""
        if self._handle:
            _c_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def register_subject(self) -> bytes:
        """A new subject; returns its 16-byte id."""
        out = (ctypes.c_uint8 * 16)()
        _check(_c_register(self._handle, out, 16))
        return bytes(out)

    def store(self, subject: bytes, category: Category, value: str) -> bytes:
        """Seals and stores a value (JSON text for compound kinds); returns the record id."""
        v, vn = _buf(value.encode())
        out = (ctypes.c_uint8 * 16)()
        _check(_c_store(self._handle, _id(subject), int(category), v, vn, out, 16))
        return bytes(out)

    def give_consent(self, subject: bytes, scope: Scope) -> None:
        """Records consent."""
        _check(_c_give(self._handle, _id(subject), int(scope)))

    def withdraw_consent(self, subject: bytes, scope: Scope) -> None:
        """Withdraws consent; grants issued under it stop working at once."""
        _check(_c_withdraw(self._handle, _id(subject), int(scope)))

    def grant(self, subject: bytes, purpose: Purpose, component: str) -> str:
        """A signed grant token for a service purpose."""
        c, cn = _buf(component.encode())
        return _call_out(_c_grant, self._handle, _id(subject), int(purpose), c, cn).decode()

    def grant_owner(self, subject: bytes, session: bytes) -> str:
        """An owner-access token for the subject's own (host-authenticated) session."""
        return _call_out(_c_owner, self._handle, _id(subject), _id(session)).decode()

    def grant_conference(self, subject: bytes, session: bytes, request: bytes) -> str:
        """A conference-creation token for a request the subject just made (clause 3.7)."""
        return _call_out(_c_conf, self._handle, _id(subject), _id(session), _id(request)).decode()

    def read(self, token: str, purpose: Purpose, record: bytes) -> str:
        """Reads a record with a grant token for ``purpose``."""
        t, tn = _buf(token.encode())
        return _call_out(_c_read, self._handle, t, tn, int(purpose), _id(record)).decode()

    def export_json(self, owner_token: str) -> str:
        """Everything held about the token's subject, as JSON."""
        t, tn = _buf(owner_token.encode())
        return _call_out(_c_export, self._handle, t, tn).decode()

    def erase(self, subject: bytes) -> int:
        """Erases a subject; returns how many records were deleted."""
        n = ctypes.c_uint64(0)
        _check(_c_erase(self._handle, _id(subject), ctypes.byref(n)))
        return n.value

    def sweep(self) -> tuple:
        """Runs the retention sweep; returns (checked, deleted)."""
        a, b = ctypes.c_uint64(0), ctypes.c_uint64(0)
        _check(_c_sweep(self._handle, ctypes.byref(a), ctypes.byref(b)))
        return a.value, b.value

    def verify_audit(self) -> tuple:
        """Verifies both hash chains; returns (ledger entries, audit entries)."""
        a, b = ctypes.c_uint64(0), ctypes.c_uint64(0)
        _check(_c_verify(self._handle, ctypes.byref(a), ctypes.byref(b)))
        return a.value, b.value


__all__ += ["Scope", "Custodian"]
