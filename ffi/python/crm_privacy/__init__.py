"""Python binding of the crm-privacy C ABI: purpose-bound, consent-gated, retention-aware
access to personal data through one :class:`Custodian`.

The compiled library ships inside the package (``crm_privacy/_native.so``);
``CRM_PRIVACY_LIB`` overrides it with a path, for development. Every result code other
than ``CRM_OK`` raises a subclass of :class:`CrmError`, one per block of codes; messages and
``repr``\\ s never contain personal data.

Trust boundary: the code that opens the :class:`Custodian` (with its
:class:`Authenticator` or ``authenticate`` and ``session_live`` callables, :class:`StaffDirectory` and, in tests,
:class:`ManualClock`) is the composition root. Give the rest of the program the custodian
only: sessions come from the authenticator, NDAs from the staff directory, time from the
clock, and every grant from the custodian.

Guide and reference: ``docs/python.md`` in the repository.
"""

from __future__ import annotations

from ._ffi import ENV_VAR, library_path
from .codes import Category, Purpose, ResultCode, Scope
from .custodian import (
    AuditReport,
    AuthenticateFn,
    SessionLiveFn,
    Authenticator,
    Custodian,
    LookupGrant,
    ManualClock,
    StaffDirectory,
    SweepReport,
    Verdict,
    gpc_signal,
    new_id,
    permits,
)
from .errors import (
    ApiMisuse,
    AuthenticationError,
    CrmError,
    InternalError,
    InvalidData,
    PolicyRefusal,
    StorageError,
    TokenRejected,
    result_message,
)

__version__ = "0.1.0"
"""Version of this package (equal to the ``crm-privacy-ffi`` crate's)."""

__all__ = [
    "Category", "Purpose", "Scope", "ResultCode",
    "CrmError", "ApiMisuse", "InvalidData", "PolicyRefusal", "TokenRejected", "StorageError",
    "AuthenticationError", "InternalError", "result_message",
    "Custodian", "Authenticator", "StaffDirectory", "ManualClock", "LookupGrant",
    "SweepReport", "AuditReport", "Verdict", "AuthenticateFn", "SessionLiveFn", "new_id",
    "permits",
    "gpc_signal",
    "ENV_VAR", "library_path",
]
