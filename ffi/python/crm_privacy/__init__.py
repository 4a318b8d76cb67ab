"""Python binding of the crm-privacy C ABI (ctypes; no Rust knowledge needed).

The shared library is found through the ``CRM_PRIVACY_LIB`` environment variable, or in the
workspace's ``target/debug`` or ``target/release`` directory. Every result code other than
``CRM_OK`` raises a subclass of :class:`CrmError`; messages never contain personal data.

Trust boundary: the code that builds the :class:`Custodian` (with its
:class:`Authenticator` or ``authenticate`` callback, :class:`StaffDirectory` and, in tests,
:class:`ManualClock`) is the composition root. Give the rest of the program the custodian
only: sessions come from the authenticator, NDAs from the staff directory, time from the
clock, and every grant from the custodian.
"""

from __future__ import annotations

import ctypes
import enum
import os
from pathlib import Path

__all__ = [
    "Category", "Purpose", "Scope", "CrmError", "ApiMisuse", "InvalidData", "PolicyRefusal",
    "TokenRejected", "StorageError", "AuthenticationError", "InternalError", "Custodian",
    "Authenticator", "StaffDirectory", "ManualClock", "LookupGrant", "new_id", "permits",
    "result_message",
]


class Purpose(enum.IntEnum):
    """Built-in purposes (``CRM_PURPOSE_*`` in the header; checked by the tests)."""
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
    """Built-in data categories (``CRM_CATEGORY_*`` in the header; checked by the tests)."""
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


class Scope(enum.IntEnum):
    """Consent scopes (``CRM_SCOPE_*`` in the header; checked by the tests). Policy-version
    acknowledgments go through :meth:`Custodian.acknowledge_policy`."""
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
    POLICY_VERSION = 100


class CrmError(Exception):
    """A call into crm-privacy failed. ``code`` is the C result code."""

    def __init__(self, code: int):
        self.code = code
        super().__init__(f"{result_message(code)} (code {code})")


class ApiMisuse(CrmError):
    """1xxx: NULL, bad UTF-8, bad length, freed or wrong handle, short buffer, bad code."""


class InvalidData(CrmError):
    """2xxx: a value was rejected by validation or is too large."""


class PolicyRefusal(CrmError):
    """3xxx: the policy refused (purpose, visibility, consent, restriction, NDA, session...)."""


class TokenRejected(CrmError):
    """4xxx: a grant token is malformed, forged, foreign, for another purpose or expired."""


class StorageError(CrmError):
    """5xxx: storage, key or configuration failure."""


class AuthenticationError(CrmError):
    """6xxx: the credential was not accepted."""


class InternalError(CrmError):
    """9xxx: a panic was caught at the boundary, or an error unknown to this version."""


_BLOCKS = {1: ApiMisuse, 2: InvalidData, 3: PolicyRefusal, 4: TokenRejected, 5: StorageError,
           6: AuthenticationError}
_BUFFER_TOO_SMALL = 1003


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
_vp = ctypes.c_void_p
_vpp = ctypes.POINTER(ctypes.c_void_p)
_u8 = ctypes.c_uint8
_u32 = ctypes.c_uint32
_i64 = ctypes.c_int64
_u64p = ctypes.POINTER(ctypes.c_uint64)


class _SessionClaims(ctypes.Structure):
    _fields_ = [("subject", ctypes.c_uint8 * 16), ("session", ctypes.c_uint8 * 16),
                ("authenticated_at_unix", ctypes.c_int64), ("expires_at_unix", ctypes.c_int64)]


_AUTH_CB = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, _u8p, ctypes.c_size_t,
                            ctypes.POINTER(_SessionClaims))
AUTH_ACCEPTED, AUTH_REJECTED, AUTH_EXPIRED = 0, 1, 2


def _sig(name, args, res=ctypes.c_uint32):
    f = getattr(_lib, name)
    f.argtypes = args
    f.restype = res
    return f


_result_message = _sig("crm_result_message", [_u32, _u8p, _sz, _szp])
_permits = _sig("crm_policy_permits", [_u8, _u8], ctypes.c_bool)
_subject_new = _sig("crm_subject_new", [_u8p, _sz])
_auth_new = _sig("crm_authenticator_new", [_vpp])
_auth_insert = _sig("crm_authenticator_insert", [_vp, _u8p, _sz, _u8p, _u8p, _i64, _i64])
_auth_remove = _sig("crm_authenticator_remove", [_vp, _u8p, _sz])
_auth_free = _sig("crm_authenticator_free", [_vp], None)
_staff_new = _sig("crm_staff_directory_new", [_vpp])
_staff_file = _sig("crm_staff_directory_file", [_vp, _u8p, _u8p, _sz, _i64, _i64])
_staff_remove = _sig("crm_staff_directory_remove", [_vp, _u8p])
_staff_free = _sig("crm_staff_directory_free", [_vp], None)
_clock_new = _sig("crm_clock_new_manual", [_i64, _vpp])
_clock_set = _sig("crm_clock_set", [_vp, _i64])
_clock_advance = _sig("crm_clock_advance", [_vp, _i64])
_clock_free = _sig("crm_clock_free", [_vp], None)
_cfg_new = _sig("crm_custodian_config_new", [_vpp])
_cfg_auth = _sig("crm_custodian_config_set_authenticator", [_vp, _vp])
_cfg_cb = _sig("crm_custodian_config_set_authenticate_callback", [_vp, _AUTH_CB, _vp])
_cfg_staff = _sig("crm_custodian_config_set_staff_directory", [_vp, _vp])
_cfg_clock = _sig("crm_custodian_config_set_clock", [_vp, _vp])
_cfg_ttl = _sig("crm_custodian_config_set_grant_ttl", [_vp, _u32])
_cfg_free = _sig("crm_custodian_config_free", [_vp], None)
_c_open = _sig("crm_custodian_open", [_u8p, _sz, _u8p, _sz, _u8p, _sz, _u8p, _sz, _vp, _vpp])
_c_free = _sig("crm_custodian_free", [_vp], None)
_c_register = _sig("crm_subject_register", [_vp, _u8p, _sz])
_c_store = _sig("crm_field_store", [_vp, _u8p, _u8, _u8p, _sz, _u8p, _sz])
_c_read = _sig("crm_field_read", [_vp, _u8p, _sz, _u8, _u8p, _u8p, _sz, _szp])
_c_rectify = _sig("crm_field_rectify", [_vp, _u8p, _sz, _u8p, _u8, _u8p, _sz])
_c_give = _sig("crm_consent_give", [_vp, _u8p, _sz, _u32])
_c_ack = _sig("crm_policy_acknowledge", [_vp, _u8p, _sz, _u32])
_c_withdraw = _sig("crm_consent_withdraw", [_vp, _u8p, _u32])
_c_grant = _sig("crm_custodian_grant", [_vp, _u8p, _u8, _u8p, _sz, _u8p, _sz, _szp])
_c_grant_session = _sig("crm_grant_for_session", [_vp, _u8p, _sz, _u8, _u8p, _sz, _szp])
_c_owner = _sig("crm_grant_owner", [_vp, _u8p, _sz, _u8p, _sz, _szp])
_c_conf = _sig("crm_grant_conference", [_vp, _u8p, _sz, _u8p, _sz, _szp])
_c_staff = _sig("crm_grant_staff", [_vp, _u8p, _u8, _u8p, _u8p, _sz, _szp])
_c_lawful_record = _sig("crm_lawful_request_record",
                        [_vp, _u8p, _u8p, _sz, _u8p, _sz, _u8p, _sz, _u8p, _sz])
_c_lawful = _sig("crm_grant_lawful", [_vp, _u8p, _u8p, _u8p, _sz, _u8p, _sz, _szp])
_c_revoke = _sig("crm_grant_revoke", [_vp, _u8p, _sz, _u8])
_c_lookup = _sig("crm_grant_lookup", [_vp, _u8, _u8p, _sz, _vpp])
_c_lookup_free = _sig("crm_lookup_grant_free", [_vp], None)
_c_find_email = _sig("crm_find_by_email", [_vp, _vp, _u8p, _sz, _u8p, _sz, _szp])
_c_find_phone = _sig("crm_find_by_phone", [_vp, _vp, _u8p, _sz, _u8p, _sz, _szp])
_c_sharing = _sig("crm_sharing_set", [_vp, _u8p, _sz, _u8p, _sz, _u8p, _sz])
_c_restrict = _sig("crm_restrict", [_vp, _u8p])
_c_lift = _sig("crm_lift_restriction", [_vp, _u8p])
_c_erase = _sig("crm_erase", [_vp, _u8p, _u64p])
_c_sweep = _sig("crm_retention_sweep", [_vp, _u64p, _u64p])
_c_export = _sig("crm_export_json", [_vp, _u8p, _sz, _u8p, _sz, _szp])
_c_verify = _sig("crm_audit_verify", [_vp, _u64p, _u64p])


def _buf(data: bytes):
    return (ctypes.c_uint8 * max(len(data), 1)).from_buffer_copy(data or b"\0"), len(data)


def _s(text: str):
    """A string argument: (pointer, length)."""
    return _buf(text.encode())


def _id(b: bytes):
    if len(b) != 16:
        raise ValueError("ids are 16 bytes")
    return _buf(b)[0]


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
        if code == _BUFFER_TOO_SMALL and n.value > cap:
            cap = n.value
            continue
        _check(code)
        return bytes(out[: n.value])


def _new_handle(fn, *args) -> ctypes.c_void_p:
    handle = ctypes.c_void_p()
    _check(fn(*args, ctypes.byref(handle)))
    return handle


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


def new_id() -> bytes:
    """A fresh random 16-byte id (for session, staff and request ids of the host)."""
    out = (ctypes.c_uint8 * 16)()
    _check(_subject_new(out, 16))
    return bytes(out)


class _Handle:
    """An owned C handle, freed once by :meth:`close` (idempotent) or on collection."""

    _free = None
    _handle = ctypes.c_void_p()

    def close(self) -> None:
        if self._handle:
            type(self)._free(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class Authenticator(_Handle):
    """In-memory authenticator: the host's login side registers sessions under credentials
    (composition root only)."""

    _free = staticmethod(_auth_free)

    def __init__(self):
        self._handle = _new_handle(_auth_new)

    def insert(self, credential: str, subject: bytes, session: bytes,
               authenticated_at: int, expires_at: int) -> None:
        """Registers a session (times in seconds since the epoch)."""
        c, n = _s(credential)
        _check(_auth_insert(self._handle, c, n, _id(subject), _id(session),
                            authenticated_at, expires_at))

    def remove(self, credential: str) -> None:
        """Logs a session out."""
        c, n = _s(credential)
        _check(_auth_remove(self._handle, c, n))


class StaffDirectory(_Handle):
    """In-memory staff directory: NDAs on file (clause 8.1; composition root only)."""

    _free = staticmethod(_staff_free)

    def __init__(self):
        self._handle = _new_handle(_staff_new)

    def file(self, staff: bytes, document_ref: str, signed_at: int, expires_at: int = 0) -> None:
        """Files an NDA (``expires_at`` 0: no end)."""
        d, n = _s(document_ref)
        _check(_staff_file(self._handle, _id(staff), d, n, signed_at, expires_at))

    def remove(self, staff: bytes) -> None:
        """Removes an NDA: the member's grants stop at once."""
        _check(_staff_remove(self._handle, _id(staff)))


class ManualClock(_Handle):
    """A clock that moves only when told to (tests; composition root only)."""

    _free = staticmethod(_clock_free)

    def __init__(self, start: int):
        self._handle = _new_handle(_clock_new, start)

    def set(self, at: int) -> None:
        _check(_clock_set(self._handle, at))

    def advance(self, seconds: int) -> None:
        _check(_clock_advance(self._handle, seconds))


class LookupGrant(_Handle):
    """A lookup grant for one purpose, issued by :meth:`Custodian.grant_lookup`."""

    _free = staticmethod(_c_lookup_free)

    def __init__(self, custodian: "Custodian", handle):
        self._custodian = custodian
        self._handle = handle

    def _find(self, fn, value: str) -> list:
        v, n = _s(value)
        raw = _call_out(fn, self._custodian._handle, self._handle, v, n)
        return [raw[i:i + 16] for i in range(0, len(raw), 16)]

    def find_by_email(self, email: str) -> list:
        """Ids of the subjects whose stored email equals ``email`` (audited)."""
        return self._find(_c_find_email, email)

    def find_by_phone(self, phone: str) -> list:
        """Ids of the subjects whose stored phone equals ``phone`` (E.164; audited)."""
        return self._find(_c_find_phone, phone)


class Custodian(_Handle):
    """A custodian on a SQLite file (keys in ``<path>.keys``) — the only authority.

    Keys are bytes from the host's secret manager: ``kek`` exactly 32 bytes,
    ``index_key``/``token_key`` at least 32 (the token key is the deployment's authority).
    ``authenticator`` (an :class:`Authenticator`) or ``authenticate`` (a callable taking the
    credential ``str`` and returning ``(subject, session, authenticated_at, expires_at)``,
    ``None`` to reject, or the string ``"expired"``) is the only source of sessions;
    ``staff_directory`` the only source of NDAs; ``clock`` replaces the system clock.
    """

    _free = staticmethod(_c_free)

    def __init__(self, path: str, kek: bytes, index_key: bytes, token_key: bytes, *,
                 authenticator: Authenticator | None = None, authenticate=None,
                 staff_directory: StaffDirectory | None = None,
                 clock: ManualClock | None = None, grant_ttl: int | None = None):
        cfg = _new_handle(_cfg_new)
        try:
            if authenticator is not None:
                _check(_cfg_auth(cfg, authenticator._handle))
            if authenticate is not None:
                self._callback = _AUTH_CB(self._trampoline(authenticate))
                _check(_cfg_cb(cfg, self._callback, None))
            if staff_directory is not None:
                _check(_cfg_staff(cfg, staff_directory._handle))
            if clock is not None:
                _check(_cfg_clock(cfg, clock._handle))
            if grant_ttl is not None:
                _check(_cfg_ttl(cfg, grant_ttl))
            p, pn = _s(path)
            k, kn = _buf(kek)
            i, inn = _buf(index_key)
            t, tn = _buf(token_key)
            self._handle = _new_handle(_c_open, p, pn, k, kn, i, inn, t, tn, cfg)
        finally:
            _cfg_free(cfg)

    @staticmethod
    def _trampoline(authenticate):
        def cb(_userdata, cred, n, out):
            try:
                verdict = authenticate(ctypes.string_at(cred, n).decode())
            except Exception:  # never unwind into Rust
                return AUTH_REJECTED
            if verdict is None:
                return AUTH_REJECTED
            if verdict == "expired":
                return AUTH_EXPIRED
            subject, session, at, until = verdict
            out.contents.subject[:] = list(subject)
            out.contents.session[:] = list(session)
            out.contents.authenticated_at_unix = at
            out.contents.expires_at_unix = until
            return AUTH_ACCEPTED
        return cb

    def register_subject(self) -> bytes:
        """A new subject; returns its 16-byte id."""
        out = (ctypes.c_uint8 * 16)()
        _check(_c_register(self._handle, out, 16))
        return bytes(out)

    def store(self, subject: bytes, category: Category, value: str) -> bytes:
        """Seals and stores a value (JSON text for compound kinds); returns the record id."""
        v, vn = _s(value)
        out = (ctypes.c_uint8 * 16)()
        _check(_c_store(self._handle, _id(subject), int(category), v, vn, out, 16))
        return bytes(out)

    def read(self, token: str, purpose: Purpose, record: bytes) -> str:
        """Reads a record with a grant token for ``purpose``."""
        t, tn = _s(token)
        return _call_out(_c_read, self._handle, t, tn, int(purpose), _id(record)).decode()

    def rectify(self, owner_token: str, record: bytes, category: Category, value: str) -> None:
        """Rectifies a record (person name, email, phone, IP address) with an owner token."""
        t, tn = _s(owner_token)
        v, vn = _s(value)
        _check(_c_rectify(self._handle, t, tn, _id(record), int(category), v, vn))

    def give_consent(self, credential: str, scope: Scope) -> None:
        """Records consent of the subject of the session ``credential``."""
        c, n = _s(credential)
        _check(_c_give(self._handle, c, n, int(scope)))

    def acknowledge_policy(self, credential: str, version: int) -> None:
        """Records that the subject of ``credential`` acknowledged policy ``version``."""
        c, n = _s(credential)
        _check(_c_ack(self._handle, c, n, version))

    def withdraw_consent(self, subject: bytes, scope: Scope) -> None:
        """Withdraws consent; grants issued under it stop at once. A second withdrawal raises
        :class:`PolicyRefusal` with ``CRM_NO_CONSENT`` (3009)."""
        _check(_c_withdraw(self._handle, _id(subject), int(scope)))

    def grant(self, subject: bytes, purpose: Purpose, component: str) -> str:
        """A signed grant token for a service purpose."""
        c, cn = _s(component)
        return _call_out(_c_grant, self._handle, _id(subject), int(purpose), c, cn).decode()

    def grant_for_session(self, credential: str, purpose: Purpose) -> str:
        """A service-purpose token for the session of ``credential`` (ends with it)."""
        c, n = _s(credential)
        return _call_out(_c_grant_session, self._handle, c, n, int(purpose)).decode()

    def grant_owner(self, credential: str) -> str:
        """An owner-access token for the session of ``credential`` (ends with it)."""
        c, n = _s(credential)
        return _call_out(_c_owner, self._handle, c, n).decode()

    def grant_conference(self, credential: str) -> str:
        """A conference-creation token for a request the subject makes now (clause 3.7)."""
        c, n = _s(credential)
        return _call_out(_c_conf, self._handle, c, n).decode()

    def grant_staff(self, subject: bytes, purpose: Purpose, staff: bytes) -> str:
        """A token for a staff member with an NDA in the custodian's staff directory."""
        return _call_out(_c_staff, self._handle, _id(subject), int(purpose), _id(staff)).decode()

    def record_lawful_request(self, subject: bytes, authority: str, legal_basis: str,
                              reference: str) -> bytes:
        """Records a lawful request (clause 7.2); returns its 16-byte id."""
        a, an = _s(authority)
        b, bn = _s(legal_basis)
        r, rn = _s(reference)
        out = (ctypes.c_uint8 * 16)()
        _check(_c_lawful_record(self._handle, _id(subject), a, an, b, bn, r, rn, out, 16))
        return bytes(out)

    def grant_lawful(self, subject: bytes, request: bytes, component: str) -> str:
        """A legal-compliance token on a recorded lawful request."""
        c, cn = _s(component)
        return _call_out(_c_lawful, self._handle, _id(subject), _id(request), c, cn).decode()

    def revoke(self, token: str, purpose: Purpose) -> None:
        """Revokes the token's grant in the custodian's ledger: it reads nothing from now on."""
        t, tn = _s(token)
        _check(_c_revoke(self._handle, t, tn, int(purpose)))

    def grant_lookup(self, purpose: Purpose, component: str) -> LookupGrant:
        """A lookup grant (find subjects by email or phone) for ``purpose``."""
        c, cn = _s(component)
        return LookupGrant(self, _new_handle(_c_lookup, self._handle, int(purpose), c, cn))

    def set_sharing(self, owner_token: str, colleagues=(), external_chat=()) -> None:
        """What colleagues and chat participants may see (lists of :class:`Category`);
        replaces the earlier choice. Nothing is visible by default (clause 5)."""
        t, tn = _s(owner_token)
        a, an = _buf(bytes(int(x) for x in colleagues))
        b, bn = _buf(bytes(int(x) for x in external_chat))
        _check(_c_sharing(self._handle, t, tn, a, an, b, bn))

    def export_json(self, owner_token: str) -> str:
        """Everything held about the token's subject, as JSON."""
        t, tn = _s(owner_token)
        return _call_out(_c_export, self._handle, t, tn).decode()

    def restrict(self, subject: bytes) -> None:
        """Restricts processing: grants stop at once."""
        _check(_c_restrict(self._handle, _id(subject)))

    def lift_restriction(self, subject: bytes) -> None:
        """Lifts a restriction."""
        _check(_c_lift(self._handle, _id(subject)))

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
