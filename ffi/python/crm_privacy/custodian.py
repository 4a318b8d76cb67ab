"""The handles of the C ABI as Python objects: :class:`Custodian`, its configuration
objects (:class:`Authenticator`, :class:`StaffDirectory`, :class:`ManualClock`) and
:class:`LookupGrant`.

Every handle is a context manager; ``close()`` frees it and is idempotent; a method called
after ``close()`` raises :class:`~crm_privacy.ApiMisuse` (``CRM_INVALID_HANDLE``) without
calling the library. Each object serializes the calls made on it with its own lock, so one
object may be shared between threads (calls on it then run one at a time).
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import (
    Any, Callable, ClassVar, Iterable, List, NamedTuple, Optional, Tuple, TypeVar, Union,
)

from . import _args, _ffi
from .codes import Category, Purpose, ResultCode, Scope
from .errors import check, misuse

__all__ = [
    "Authenticator", "StaffDirectory", "ManualClock", "LookupGrant", "Custodian",
    "SweepReport", "AuditReport", "Verdict", "AuthenticateFn", "SessionLiveFn", "new_id",
    "permits",
]

Verdict = Union[Tuple[bytes, bytes, int, int], str, None]
"""What an ``authenticate`` callable returns: ``(subject, session, authenticated_at,
expires_at)`` to accept (16-byte ids, seconds since the epoch), ``"expired"`` for a session
that has expired, ``None`` to reject."""

AuthenticateFn = Callable[[str], Verdict]
"""The host's login check: takes the credential and returns a :data:`Verdict`."""

SessionLiveFn = Callable[[bytes, bytes, int], bool]
"""The host's logout check: takes the subject and session ids (16 bytes each) and the
custodian's time (seconds since the epoch) and returns ``True`` only while that session is
live. Asked at every use of a grant issued to a session: after a logout it must return
``False`` for good (a later login gets a new session id)."""

PathArg = Union[str, "os.PathLike[str]"]
_H = TypeVar("_H", bound="_Handle")


class SweepReport(NamedTuple):
    """Result of :meth:`Custodian.sweep`."""

    checked: int
    """Records examined."""
    deleted: int
    """Records deleted because their retention period ended."""


class AuditReport(NamedTuple):
    """Result of :meth:`Custodian.verify_audit`."""

    ledger_entries: int
    """Entries of the consent and grant ledger whose hash chain verified."""
    audit_entries: int
    """Entries of the audit log whose hash chain verified."""


def permits(category: Category, purpose: Purpose) -> bool:
    """Whether the policy table allows ``category`` to be read for ``purpose``."""
    return bool(
        _ffi.fn.crm_policy_permits(_args.code(category, Category), _args.code(purpose, Purpose))
    )


GPC_ABSENT = 0
"""No Global Privacy Control signal (``CRM_GPC_ABSENT``)."""
GPC_OPT_OUT = 1
"""A Global Privacy Control opt-out (``CRM_GPC_OPT_OUT``): ``Sec-GPC: 1``."""


def gpc_signal(value: Optional[Union[str, bytes]]) -> bool:
    """Whether a request's ``Sec-GPC`` header value is a Global Privacy Control opt-out
    (clauses 3.4, 3.6): exactly ``1`` after trimming spaces and tabs. ``None`` (no header),
    ``0``, an empty value or ``"1, 1"`` (the field sent twice, joined as HTTP joins them)
    are not. Find the header case-insensitively and pass its value."""
    if value is None:
        return False
    if isinstance(value, str):
        buf, n = _args.text(value, "value")
    elif isinstance(value, (bytes, bytearray)):
        buf, n = _args.buffer(bytes(value))
    else:
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, "value must be str, bytes or None")
    out = ctypes.c_uint32(0)
    check(_ffi.fn.crm_gpc_signal(buf, n, ctypes.byref(out)))
    return out.value == GPC_OPT_OUT


def new_id() -> bytes:
    """A fresh random 16-byte id (for the host's session, staff and request ids)."""
    out = (ctypes.c_uint8 * _args.ID_LEN)()
    check(_ffi.fn.crm_subject_new(out, _args.ID_LEN))
    return bytes(out)


def _new_handle(make: Callable[..., int], *args: Any) -> ctypes.c_void_p:
    handle = ctypes.c_void_p()
    check(make(*args, ctypes.byref(handle)))
    return handle


def _call_out(f: Callable[..., int], *args: Any) -> bytes:
    """Calls ``f(*args, buf, cap, &len)``, growing the buffer while it is too small."""
    cap = 256
    while True:
        out = (ctypes.c_uint8 * cap)()
        n = ctypes.c_size_t(0)
        code = f(*args, out, cap, ctypes.byref(n))
        if code == ResultCode.CRM_BUFFER_TOO_SMALL and n.value > cap:
            cap = n.value
            continue
        check(code)
        return bytes(out[: n.value])


def _id_out(f: Callable[..., int], *args: Any) -> bytes:
    out = (ctypes.c_uint8 * _args.ID_LEN)()
    check(f(*args, out, _args.ID_LEN))
    return bytes(out)


class _CallLock:
    """A handle's lock: serializes calls from several threads, and refuses a call made
    on the same thread while one is running (the ``authenticate`` callable calling its
    own custodian) with :class:`~crm_privacy.ApiMisuse` instead of a deadlock or a panic
    in the library."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._lock = threading.Lock()
        self._owner: Optional[int] = None

    def __enter__(self) -> None:
        me = threading.get_ident()
        if self._owner == me:  # only this thread can have set it to its own id
            raise misuse(
                ResultCode.CRM_INVALID_ARGUMENT,
                f"the {self._kind} was called again while a call on it was running "
                "(from inside its authenticate callable?)",
            )
        self._lock.acquire()
        self._owner = me

    def __exit__(self, *exc: object) -> None:
        self._owner = None
        self._lock.release()


class _Handle:
    """An owned C handle: freed once by :meth:`close`, by ``with``, or on collection."""

    _free: ClassVar[str] = ""

    def __init__(self, handle: ctypes.c_void_p) -> None:
        self._lock = _CallLock(type(self).__name__)
        self._handle: Optional[ctypes.c_void_p] = handle

    def _live(self) -> ctypes.c_void_p:
        """The handle (call with the lock held), or ApiMisuse if closed."""
        if not self._handle:
            raise misuse(
                ResultCode.CRM_INVALID_HANDLE, f"the {type(self).__name__} has been closed"
            )
        return self._handle

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return not self._handle

    def close(self) -> None:
        """Frees the handle. Calling it again does nothing."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ failed before the handle existed
            return
        with lock:
            handle, self._handle = self._handle, None
            if handle:
                getattr(_ffi.fn, self._free)(handle)

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the module may be gone
            pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'closed' if self.closed else 'open'}>"


class Authenticator(_Handle):
    """In-memory authenticator: the host's login registers sessions under credentials.

    Belongs to the composition root: whoever holds it can log any subject in.
    """

    _free = "crm_authenticator_free"

    def __init__(self) -> None:
        super().__init__(_new_handle(_ffi.fn.crm_authenticator_new))

    def insert(
        self, credential: str, subject: bytes, session: bytes, authenticated_at: int,
        expires_at: int,
    ) -> None:
        """Registers a session of ``subject`` under ``credential`` (times in seconds since
        the epoch)."""
        c, n = _args.text(credential, "credential")
        s, ss = _args.ident(subject, "subject"), _args.ident(session, "session")
        at = _args.seconds(authenticated_at, "authenticated_at")
        until = _args.seconds(expires_at, "expires_at")
        with self._lock:
            check(_ffi.fn.crm_authenticator_insert(self._live(), c, n, s, ss, at, until))

    def remove(self, credential: str) -> None:
        """Logs the session of ``credential`` out."""
        c, n = _args.text(credential, "credential")
        with self._lock:
            check(_ffi.fn.crm_authenticator_remove(self._live(), c, n))


class StaffDirectory(_Handle):
    """In-memory staff directory: the NDAs on file (clause 8.1).

    Belongs to the composition root: whoever holds it can file NDAs.
    """

    _free = "crm_staff_directory_free"

    def __init__(self) -> None:
        super().__init__(_new_handle(_ffi.fn.crm_staff_directory_new))

    def file(self, staff: bytes, document_ref: str, signed_at: int, expires_at: int = 0) -> None:
        """Files an NDA of ``staff`` (``expires_at`` 0: no end)."""
        s = _args.ident(staff, "staff")
        d, n = _args.text(document_ref, "document_ref")
        at = _args.seconds(signed_at, "signed_at")
        until = _args.seconds(expires_at, "expires_at")
        with self._lock:
            check(_ffi.fn.crm_staff_directory_file(self._live(), s, d, n, at, until))

    def remove(self, staff: bytes) -> None:
        """Removes the NDA of ``staff``: the member's grants stop at once."""
        s = _args.ident(staff, "staff")
        with self._lock:
            check(_ffi.fn.crm_staff_directory_remove(self._live(), s))


class ManualClock(_Handle):
    """A clock that moves only when told to (tests; composition root only)."""

    _free = "crm_clock_free"

    def __init__(self, start: int) -> None:
        """A clock at ``start`` seconds since the epoch."""
        super().__init__(_new_handle(_ffi.fn.crm_clock_new_manual, _args.seconds(start, "start")))

    def set(self, at: int) -> None:
        """Sets the time to ``at`` seconds since the epoch."""
        t = _args.seconds(at, "at")
        with self._lock:
            check(_ffi.fn.crm_clock_set(self._live(), t))

    def advance(self, seconds: int) -> None:
        """Moves the time forward by ``seconds``."""
        t = _args.seconds(seconds, "seconds")
        with self._lock:
            check(_ffi.fn.crm_clock_advance(self._live(), t))


class LookupGrant(_Handle):
    """A grant to find subjects by email or phone for one purpose; made by
    :meth:`Custodian.grant_lookup`. Every lookup is audited."""

    _free = "crm_lookup_grant_free"

    def __init__(self, custodian: "Custodian", handle: ctypes.c_void_p) -> None:
        super().__init__(handle)
        self._custodian = custodian

    def _find(self, f: Callable[..., int], value: str, what: str) -> List[bytes]:
        v, n = _args.text(value, what)
        with self._custodian._lock, self._lock:
            raw = _call_out(f, self._custodian._live(), self._live(), v, n)
        return [raw[i : i + _args.ID_LEN] for i in range(0, len(raw), _args.ID_LEN)]

    def find_by_email(self, email: str) -> List[bytes]:
        """Ids of the subjects whose stored email equals ``email``."""
        return self._find(_ffi.fn.crm_find_by_email, email, "email")

    def find_by_phone(self, phone: str) -> List[bytes]:
        """Ids of the subjects whose stored phone equals ``phone`` (E.164)."""
        return self._find(_ffi.fn.crm_find_by_phone, phone, "phone")


class _Config(_Handle):
    _free = "crm_custodian_config_free"


class Custodian(_Handle):
    """A custodian on a SQLite file (keys kept in ``<path>.keys``): the only authority.

    Open it with ``with Custodian.open(path, kek, index_key, token_key, ...) as c:`` (or the
    constructor, which takes the same arguments). The code that opens it is the composition
    root; give the rest of the program the custodian only.

    Args:
        path: the SQLite database file.
        kek: key-encryption key, exactly 32 bytes from the host's secret manager.
        index_key: key of the blind indexes used by lookups, at least 32 bytes.
        token_key: key that signs grant tokens, at least 32 bytes: the deployment's
            authority (another key's tokens never read here).
        authenticator: the only source of sessions, or
        authenticate: a callable taking the credential and returning a :data:`Verdict`. An
            exception raised by it, or a malformed verdict, rejects the credential.
        session_live: required with ``authenticate``: a :data:`SessionLiveFn`. Anything but
            ``True`` (an exception included) ends the session's grants.
        staff_directory: the only source of NDAs.
        clock: replaces the system clock (tests).
        grant_ttl: lifetime of grants in seconds (the library's default otherwise).

    Raises:
        ApiMisuse: a key is missing, too short or not bytes, or an argument has a wrong type.
        StorageError: the store or its key file cannot be opened.
    """

    _free = "crm_custodian_free"

    def __init__(
        self, path: PathArg, kek: bytes, index_key: bytes, token_key: bytes, *,
        authenticator: Optional[Authenticator] = None,
        authenticate: Optional[AuthenticateFn] = None,
        session_live: Optional[SessionLiveFn] = None,
        staff_directory: Optional[StaffDirectory] = None,
        clock: Optional[ManualClock] = None,
        grant_ttl: Optional[int] = None,
    ) -> None:
        self._callback: Any = None
        self._live_callback: Any = None
        p, pn = _args.text(os.fspath(path) if isinstance(path, os.PathLike) else path, "path")
        keys = [_args.raw_bytes(k, name) for k, name in
                ((kek, "kek"), (index_key, "index_key"), (token_key, "token_key"))]
        try:
            with _Config(_new_handle(_ffi.fn.crm_custodian_config_new)) as cfg:
                h = cfg._live()
                if authenticator is not None:
                    with authenticator._lock:
                        check(_ffi.fn.crm_custodian_config_set_authenticator(
                            h, authenticator._live()))
                if authenticate is not None or session_live is not None:
                    if not callable(authenticate) or not callable(session_live):
                        raise misuse(ResultCode.CRM_INVALID_ARGUMENT,
                                     "authenticate and session_live must both be callable")
                    self._callback = _ffi.AUTH_CALLBACK(_trampoline(authenticate))
                    self._live_callback = _ffi.SESSION_LIVE_CALLBACK(
                        _live_trampoline(session_live))
                    check(_ffi.fn.crm_custodian_config_set_authenticate_callback(
                        h, self._callback, self._live_callback, None))
                if staff_directory is not None:
                    with staff_directory._lock:
                        check(_ffi.fn.crm_custodian_config_set_staff_directory(
                            h, staff_directory._live()))
                if clock is not None:
                    with clock._lock:
                        check(_ffi.fn.crm_custodian_config_set_clock(h, clock._live()))
                if grant_ttl is not None:
                    ttl = _args.unsigned(grant_ttl, "grant_ttl")
                    check(_ffi.fn.crm_custodian_config_set_grant_ttl(h, ttl))
                (k, kn), (i, inn), (t, tn) = keys
                handle = _new_handle(_ffi.fn.crm_custodian_open, p, pn, k, kn, i, inn, t, tn, h)
        finally:
            for buf, _ in keys:
                _args.wipe(buf)
        super().__init__(handle)

    @classmethod
    def open(
        cls, path: PathArg, kek: bytes, index_key: bytes, token_key: bytes, *,
        authenticator: Optional[Authenticator] = None,
        authenticate: Optional[AuthenticateFn] = None,
        session_live: Optional[SessionLiveFn] = None,
        staff_directory: Optional[StaffDirectory] = None,
        clock: Optional[ManualClock] = None,
        grant_ttl: Optional[int] = None,
    ) -> "Custodian":
        """Opens a custodian (same arguments as the constructor); use it with ``with``."""
        return cls(path, kek, index_key, token_key, authenticator=authenticator,
                   authenticate=authenticate, session_live=session_live,
                   staff_directory=staff_directory, clock=clock, grant_ttl=grant_ttl)

    # -- subjects and data -----------------------------------------------------------------

    def register_subject(self) -> bytes:
        """Registers a new subject; returns its 16-byte id."""
        with self._lock:
            return _id_out(_ffi.fn.crm_subject_register, self._live())

    def store(self, subject: bytes, category: Category, value: str) -> bytes:
        """Validates, seals and stores ``value`` (JSON text for compound categories); returns
        the record id."""
        s = _args.ident(subject, "subject")
        c = _args.code(category, Category)
        v, vn = _args.text(value, "value")
        with self._lock:
            return _id_out(_ffi.fn.crm_field_store, self._live(), s, c, v, vn)

    def read(self, token: str, purpose: Purpose, record: bytes) -> str:
        """Reads a record with a grant token issued for ``purpose``."""
        t, tn = _args.text(token, "token")
        p = _args.code(purpose, Purpose)
        r = _args.ident(record, "record")
        with self._lock:
            return _call_out(_ffi.fn.crm_field_read, self._live(), t, tn, p, r).decode()

    def rectify(self, owner_token: str, record: bytes, category: Category, value: str) -> None:
        """Rectifies a record (person name, email, phone, IP address) with an owner token."""
        t, tn = _args.text(owner_token, "owner_token")
        r = _args.ident(record, "record")
        c = _args.code(category, Category)
        v, vn = _args.text(value, "value")
        with self._lock:
            check(_ffi.fn.crm_field_rectify(self._live(), t, tn, r, c, v, vn))

    def export_json(self, owner_token: str) -> str:
        """Everything held about the owner token's subject, as JSON text."""
        t, tn = _args.text(owner_token, "owner_token")
        with self._lock:
            return _call_out(_ffi.fn.crm_export_json, self._live(), t, tn).decode()

    def set_sharing(
        self, owner_token: str, colleagues: Iterable[Category] = (),
        external_chat: Iterable[Category] = (),
    ) -> None:
        """What colleagues and chat participants may see; replaces the earlier choice.
        Nothing is visible by default (clause 5)."""
        t, tn = _args.text(owner_token, "owner_token")
        a, an = _args.buffer(_args.codes(colleagues, Category))
        b, bn = _args.buffer(_args.codes(external_chat, Category))
        with self._lock:
            check(_ffi.fn.crm_sharing_set(self._live(), t, tn, a, an, b, bn))

    # -- consent -------------------------------------------------------------------------

    def give_consent(self, credential: str, scope: Scope) -> None:
        """Records consent of the subject of the session ``credential`` (only the subject's
        own session can give it)."""
        c, n = _args.text(credential, "credential")
        sc = _args.code(scope, Scope, bits=32)
        with self._lock:
            check(_ffi.fn.crm_consent_give(self._live(), c, n, sc))

    def acknowledge_policy(self, credential: str, version: int) -> None:
        """Records that the subject of ``credential`` acknowledged policy ``version``."""
        c, n = _args.text(credential, "credential")
        v = _args.unsigned(version, "version")
        with self._lock:
            check(_ffi.fn.crm_policy_acknowledge(self._live(), c, n, v))

    def apply_gpc(
        self, credential: str, opt_out: bool, reference: Optional[str] = None
    ) -> int:
        """Applies a Global Privacy Control signal in the session of ``credential``: every
        covered consent scope (cookies, consent-based analytics; derived from the scope
        tables) is withdrawn or recorded as refused in the ledger, with ``Sec-GPC: 1 at
        <instant>`` and ``reference`` (a request id: 1–64 of ``A-Z a-z 0-9 _ -``) as
        evidence. Returns how many scopes were recorded (0 when nothing changed: no signal,
        or opted out before). Idempotent. See ``docs/gpc.md`` for what GPC does not cover."""
        c, n = _args.text(credential, "credential")
        if reference is None:
            r, rn = None, 0
        else:
            r, rn = _args.text(reference, "reference")
        out = ctypes.c_uint32(0)
        signal = GPC_OPT_OUT if opt_out else GPC_ABSENT
        with self._lock:
            check(
                _ffi.fn.crm_gpc_apply(self._live(), c, n, signal, r, rn, ctypes.byref(out))
            )
        return out.value

    def withdraw_consent(self, subject: bytes, scope: Scope) -> None:
        """Withdraws consent; grants issued under it stop at once. Withdrawing a consent that
        is not in force raises :class:`PolicyRefusal` (``CRM_CONSENT_NOT_IN_FORCE``) and
        changes nothing."""
        s = _args.ident(subject, "subject")
        sc = _args.code(scope, Scope, bits=32)
        with self._lock:
            check(_ffi.fn.crm_consent_withdraw(self._live(), s, sc))

    # -- grants --------------------------------------------------------------------------

    def grant(self, subject: bytes, purpose: Purpose, component: str) -> str:
        """A signed grant token for a service purpose, for the host's ``component``.

        The component name is kept in clear in the token and the audit log: a name that
        reads as personal data (an email address, an international phone number, an IP
        address) raises :class:`InvalidData`.
        """
        s = _args.ident(subject, "subject")
        p = _args.code(purpose, Purpose)
        c, cn = _args.text(component, "component")
        with self._lock:
            return _call_out(_ffi.fn.crm_custodian_grant, self._live(), s, p, c, cn).decode()

    def grant_for_session(self, credential: str, purpose: Purpose) -> str:
        """A service-purpose token for the session of ``credential``; ends with it."""
        c, n = _args.text(credential, "credential")
        p = _args.code(purpose, Purpose)
        with self._lock:
            return _call_out(_ffi.fn.crm_grant_for_session, self._live(), c, n, p).decode()

    def grant_owner(self, credential: str) -> str:
        """An owner-access token for the session of ``credential``; ends with it."""
        c, n = _args.text(credential, "credential")
        with self._lock:
            return _call_out(_ffi.fn.crm_grant_owner, self._live(), c, n).decode()

    def grant_conference(self, credential: str) -> str:
        """A conference-creation token for a request the subject makes now (clause 3.7)."""
        c, n = _args.text(credential, "credential")
        with self._lock:
            return _call_out(_ffi.fn.crm_grant_conference, self._live(), c, n).decode()

    def grant_staff(self, subject: bytes, purpose: Purpose, staff: bytes) -> str:
        """A token for a staff member with an NDA in force in the staff directory."""
        s = _args.ident(subject, "subject")
        p = _args.code(purpose, Purpose)
        m = _args.ident(staff, "staff")
        with self._lock:
            return _call_out(_ffi.fn.crm_grant_staff, self._live(), s, p, m).decode()

    def record_lawful_request(
        self, subject: bytes, authority: str, legal_basis: str, reference: str
    ) -> bytes:
        """Records a lawful request about ``subject`` (clause 7.2); returns its 16-byte id."""
        s = _args.ident(subject, "subject")
        a, an = _args.text(authority, "authority")
        b, bn = _args.text(legal_basis, "legal_basis")
        r, rn = _args.text(reference, "reference")
        with self._lock:
            return _id_out(_ffi.fn.crm_lawful_request_record, self._live(), s, a, an, b, bn,
                           r, rn)

    def grant_lawful(self, subject: bytes, request: bytes, component: str) -> str:
        """A legal-compliance token on a recorded lawful request."""
        s = _args.ident(subject, "subject")
        q = _args.ident(request, "request")
        c, cn = _args.text(component, "component")
        with self._lock:
            return _call_out(_ffi.fn.crm_grant_lawful, self._live(), s, q, c, cn).decode()

    def revoke(self, token: str, purpose: Purpose) -> None:
        """Revokes the token's grant in the custodian's ledger: it reads nothing from now on."""
        t, tn = _args.text(token, "token")
        p = _args.code(purpose, Purpose)
        with self._lock:
            check(_ffi.fn.crm_grant_revoke(self._live(), t, tn, p))

    def grant_lookup(self, purpose: Purpose, component: str) -> LookupGrant:
        """A :class:`LookupGrant` (find subjects by email or phone) for ``purpose``."""
        p = _args.code(purpose, Purpose)
        c, cn = _args.text(component, "component")
        with self._lock:
            handle = _new_handle(_ffi.fn.crm_grant_lookup, self._live(), p, c, cn)
        return LookupGrant(self, handle)

    # -- rights and maintenance ----------------------------------------------------------

    def restrict(self, subject: bytes) -> None:
        """Restricts processing for ``subject``: its grants stop at once."""
        s = _args.ident(subject, "subject")
        with self._lock:
            check(_ffi.fn.crm_restrict(self._live(), s))

    def lift_restriction(self, subject: bytes) -> None:
        """Lifts a restriction."""
        s = _args.ident(subject, "subject")
        with self._lock:
            check(_ffi.fn.crm_lift_restriction(self._live(), s))

    def erase(self, subject: bytes) -> int:
        """Erases ``subject``; returns how many records were deleted.

        Erasing again returns 0. An id that was never registered raises the error of
        ``CRM_NOT_FOUND`` (a ``StorageError``) and nothing is recorded.
        """
        s = _args.ident(subject, "subject")
        n = ctypes.c_uint64(0)
        with self._lock:
            check(_ffi.fn.crm_erase(self._live(), s, ctypes.byref(n)))
        return n.value

    def sweep(self) -> SweepReport:
        """Runs the retention sweep."""
        a, b = ctypes.c_uint64(0), ctypes.c_uint64(0)
        with self._lock:
            check(_ffi.fn.crm_retention_sweep(self._live(), ctypes.byref(a), ctypes.byref(b)))
        return SweepReport(a.value, b.value)

    def verify_audit(self) -> AuditReport:
        """Verifies the hash chains of the ledger and the audit log."""
        a, b = ctypes.c_uint64(0), ctypes.c_uint64(0)
        with self._lock:
            check(_ffi.fn.crm_audit_verify(self._live(), ctypes.byref(a), ctypes.byref(b)))
        return AuditReport(a.value, b.value)


def _trampoline(authenticate: AuthenticateFn) -> Callable[..., int]:
    """The C callback around the host's ``authenticate``: never lets an exception unwind
    into the library, and turns anything but a well-formed verdict into a rejection."""

    def callback(_userdata: Any, credential: Any, length: int, out: Any) -> int:
        try:
            verdict = authenticate(ctypes.string_at(credential, length).decode("utf-8"))
            if verdict is None:
                return _ffi.AUTH_REJECTED
            if isinstance(verdict, str):
                return _ffi.AUTH_EXPIRED if verdict == "expired" else _ffi.AUTH_REJECTED
            subject, session, at, until = verdict
            s = bytes(_args.ident(subject, "subject"))
            ss = bytes(_args.ident(session, "session"))
            at = _args.seconds(at, "authenticated_at")
            until = _args.seconds(until, "expires_at")
            ctypes.memmove(out.contents.subject, s, _args.ID_LEN)
            ctypes.memmove(out.contents.session, ss, _args.ID_LEN)
            out.contents.authenticated_at_unix = at
            out.contents.expires_at_unix = until
            return _ffi.AUTH_ACCEPTED
        except BaseException:  # never unwind into the library
            return _ffi.AUTH_REJECTED

    return callback


def _live_trampoline(session_live: SessionLiveFn) -> Callable[..., int]:
    """The C callback around the host's ``session_live``: never lets an exception unwind
    into the library; anything but ``True`` ends the session (fail closed)."""

    def callback(_userdata: Any, subject: Any, session: Any, now: int) -> int:
        try:
            live = session_live(ctypes.string_at(subject, _args.ID_LEN),
                                ctypes.string_at(session, _args.ID_LEN), int(now))
            return _ffi.SESSION_IS_LIVE if live is True else _ffi.SESSION_HAS_ENDED
        except BaseException:  # never unwind into the library
            return _ffi.SESSION_HAS_ENDED

    return callback
