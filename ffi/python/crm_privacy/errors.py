"""Exceptions: one base class, :class:`CrmError`, and one subclass per block of result codes.

A message is the library's fixed text for the code (``crm_result_message``) plus the code's
name and number, or a fixed text written by this package for a check it makes before calling
the library. It never contains an argument's value: personal data never reaches an
exception message or a ``repr``.
"""

from __future__ import annotations

import ctypes
from typing import Dict, Optional, Type

from . import _ffi
from .codes import ResultCode

__all__ = [
    "CrmError", "ApiMisuse", "InvalidData", "PolicyRefusal", "TokenRejected", "StorageError",
    "AuthenticationError", "InternalError", "result_message",
]


def result_message(code: int) -> str:
    """The library's fixed message for a result code (``"unknown result code"`` otherwise)."""
    if not isinstance(code, int) or not 0 <= code <= 0xFFFF_FFFF:
        return "unknown result code"
    out = (ctypes.c_uint8 * 256)()
    n = ctypes.c_size_t(0)
    if _ffi.result_message(code, out, 256, ctypes.byref(n)) != 0:
        return "unknown result code"
    return bytes(out[: n.value]).decode("utf-8", "replace")


class CrmError(Exception):
    """A call into crm-privacy failed.

    Attributes:
        code: the C result code (an ``int``; see :class:`~crm_privacy.ResultCode`).
        result: the code as a :class:`~crm_privacy.ResultCode`, or ``None`` for a code this
            version of the package does not know.
    """

    code: int
    result: Optional[ResultCode]

    def __init__(self, code: int, detail: Optional[str] = None) -> None:
        self.code = code
        try:
            self.result = ResultCode(code)
        except ValueError:
            self.result = None
        name = self.result.name if self.result is not None else "unknown code"
        text = detail if detail is not None else result_message(code)
        super().__init__(f"{text} ({name} = {code})")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code})"


class ApiMisuse(CrmError):
    """1xxx: a bad argument (wrong type, bad length, code out of range, not UTF-8), a closed,
    freed or wrong handle, or a key that is too short."""


class InvalidData(CrmError):
    """2xxx: a value was rejected by validation (the message names the rule, never the
    value) or is larger than the custodian stores."""


class PolicyRefusal(CrmError):
    """3xxx: the policy refused: purpose not permitted, another subject, grant expired or
    revoked, consent withdrawn or missing, restriction, erasure, NDA missing, session
    expired, not shared, no lawful request, and so on."""


class TokenRejected(CrmError):
    """4xxx: a grant token is malformed, forged, signed by an unknown or foreign key, for
    another purpose, expired, or of an unsupported version."""


class StorageError(CrmError):
    """5xxx: storage, key or configuration failure (store error, not found, corrupt,
    shredded, contended, invalid configuration, time out of range)."""


class AuthenticationError(CrmError):
    """6xxx: the authenticator did not accept the credential."""


class InternalError(CrmError):
    """9xxx, or a code outside every known block: a panic caught at the boundary, or an
    error unknown to this version. It always means the operation did not happen."""


_BLOCKS: Dict[int, Type[CrmError]] = {
    1: ApiMisuse,
    2: InvalidData,
    3: PolicyRefusal,
    4: TokenRejected,
    5: StorageError,
    6: AuthenticationError,
    9: InternalError,
}


def error_for(code: int, detail: Optional[str] = None) -> CrmError:
    """The exception for a non-zero result code (its block's class)."""
    return _BLOCKS.get(code // 1000, InternalError)(code, detail)


def check(code: int) -> None:
    """Raises the block's exception for any code other than ``CRM_OK``."""
    if code != 0:
        raise error_for(code)


def misuse(code: ResultCode, detail: str) -> ApiMisuse:
    """An :class:`ApiMisuse` for a check this package makes before calling the library.
    ``detail`` is a fixed text: never put an argument's value in it."""
    return ApiMisuse(int(code), detail)
