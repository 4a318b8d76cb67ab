"""The Python enums and error classes equal the constants of the committed C header (which
cbindgen generates from the Rust constants, themselves checked against the Rust tables)."""

import re
from pathlib import Path

import pytest

import crm_privacy as crm

HEADER = Path(__file__).resolve().parents[2] / "include" / "crm_privacy.h"


def _defines(prefix):
    text = HEADER.read_text()
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"#define " + prefix + r"(\w+) (\d+)", text)}


def _result_codes():
    body = re.search(r"enum crm_result\b[^{]*\{(.*?)\}", HEADER.read_text(), re.S)
    assert body, "no crm_result enum in the header"
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^\s*(CRM_\w+) = (\d+),", body.group(1), re.M)}


def test_enums_equal_the_header():
    for enum, prefix in ((crm.Category, "CRM_CATEGORY_"), (crm.Purpose, "CRM_PURPOSE_"),
                         (crm.Scope, "CRM_SCOPE_")):
        header = _defines(prefix)
        assert header, prefix
        assert {m.name: m.value for m in enum} == header, prefix


def test_result_codes_equal_the_header():
    header = _result_codes()
    assert header["CRM_OK"] == 0 and header["CRM_INTERNAL"] == 9002
    assert {m.name: m.value for m in crm.ResultCode} == header


BLOCKS = {1: crm.ApiMisuse, 2: crm.InvalidData, 3: crm.PolicyRefusal, 4: crm.TokenRejected,
          5: crm.StorageError, 6: crm.AuthenticationError, 9: crm.InternalError}


@pytest.mark.parametrize("code", [c for c in crm.ResultCode if c != crm.ResultCode.CRM_OK],
                         ids=lambda c: c.name)
def test_every_result_code_has_a_message_and_its_block_class(code):
    assert crm.result_message(code) != "unknown result code"
    err = crm.errors.error_for(int(code))
    assert type(err) is BLOCKS[int(code) // 1000]
    assert isinstance(err, crm.CrmError)
    assert err.code == code and err.result is code
    assert code.name in str(err) and str(int(code)) in str(err)
    assert crm.result_message(code) in str(err)


def test_block_classes_are_distinct_and_share_the_base():
    assert len(set(BLOCKS.values())) == len(BLOCKS)
    for cls in BLOCKS.values():
        assert issubclass(cls, crm.CrmError) and issubclass(cls, Exception)


def test_an_unknown_code_keeps_its_block_or_is_internal():
    err = crm.errors.error_for(3999)
    assert type(err) is crm.PolicyRefusal and err.result is None and err.code == 3999
    assert type(crm.errors.error_for(7001)) is crm.InternalError
    assert crm.result_message(424242) == "unknown result code"
    assert crm.result_message(-1) == "unknown result code"
