"""Checks and conversions of Python arguments into C arguments.

Every failure is an :class:`~crm_privacy.ApiMisuse` with a fixed message: a rejected value
is never echoed (``str.encode`` errors, for instance, would quote the offending character).
"""

from __future__ import annotations

import ctypes
import enum
from typing import Iterable, Optional, Tuple, Type, Union

from .codes import ResultCode
from .errors import misuse

Bytes = Union[bytes, bytearray, memoryview]
"""Bytes-like arguments (ids, keys)."""

ID_LEN = 16
"""Length of every id (``CRM_ID_LEN``)."""

_I64 = (-(2**63), 2**63 - 1)


def buffer(data: bytes) -> Tuple["ctypes.Array[ctypes.c_uint8]", int]:
    """A C copy of ``data`` and its length (a 1-byte buffer for empty data: never NULL)."""
    return (ctypes.c_uint8 * max(len(data), 1)).from_buffer_copy(data or b"\0"), len(data)


def text(value: object, what: str) -> Tuple["ctypes.Array[ctypes.c_uint8]", int]:
    """A ``str`` argument as UTF-8 bytes and length."""
    if not isinstance(value, str):
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"{what} must be a str")
    try:
        raw: Optional[bytes] = value.encode("utf-8")
    except UnicodeEncodeError:
        raw = None
    if raw is None:
        # Raised outside the handler: the UnicodeEncodeError, which holds the whole string,
        # must not stay reachable as __context__.
        raise misuse(ResultCode.CRM_INVALID_UTF8, f"{what} is not encodable as UTF-8")
    return buffer(raw)


def raw_bytes(value: object, what: str) -> Tuple["ctypes.Array[ctypes.c_uint8]", int]:
    """A bytes-like argument (keys)."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"{what} must be bytes")
    return buffer(bytes(value))


def wipe(buf: "ctypes.Array[ctypes.c_uint8]") -> None:
    """Overwrites a C copy of a secret once the call has returned."""
    ctypes.memset(buf, 0, ctypes.sizeof(buf))


def ident(value: object, what: str) -> "ctypes.Array[ctypes.c_uint8]":
    """A 16-byte id."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"{what} must be a 16-byte id (bytes)")
    raw = bytes(value)
    if len(raw) != ID_LEN:
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"{what} must be {ID_LEN} bytes long")
    return buffer(raw)[0]


def code(value: object, kind: Type[enum.IntEnum], bits: int = 8) -> int:
    """A category, purpose or scope code: a member of ``kind`` or an ``int`` that fits the C
    type (the library refuses codes it does not know with ``CRM_INVALID_ARGUMENT``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"expected a {kind.__name__}")
    if not 0 <= int(value) < 2**bits:
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"{kind.__name__} code out of range")
    return int(value)


def codes(values: Iterable[object], kind: Type[enum.IntEnum]) -> bytes:
    """A list of one-byte codes."""
    if isinstance(values, (str, bytes)):
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"expected a list of {kind.__name__}")
    return bytes(code(v, kind) for v in values)


def unsigned(value: object, what: str, bits: int = 32) -> int:
    """An unsigned integer argument."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"{what} must be an int in 0..2^{bits}")
    return value


def seconds(value: object, what: str) -> int:
    """A time in seconds (since the Unix epoch, or a duration) that fits an ``int64_t``."""
    if isinstance(value, bool) or not isinstance(value, int) or not _I64[0] <= value <= _I64[1]:
        raise misuse(ResultCode.CRM_INVALID_ARGUMENT, f"{what} must be an int of seconds")
    return value
