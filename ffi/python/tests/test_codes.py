"""The Python enums and error blocks equal the constants of the committed C header (which
cbindgen generates from the Rust constants, themselves checked against the Rust tables)."""

import re
from pathlib import Path

import crm_privacy as crm

HEADER = Path(__file__).resolve().parents[2] / "include" / "crm_privacy.h"


def _defines(prefix):
    text = HEADER.read_text()
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"#define " + prefix + r"(\w+) (\d+)", text)}


def test_enums_equal_the_header():
    for enum, prefix in ((crm.Category, "CRM_CATEGORY_"), (crm.Purpose, "CRM_PURPOSE_"),
                         (crm.Scope, "CRM_SCOPE_")):
        header = _defines(prefix)
        assert header, prefix
        assert {m.name: m.value for m in enum} == header, prefix


def test_every_result_code_has_a_message_and_a_block():
    text = HEADER.read_text()
    codes = {m.group(1): int(m.group(2)) for m in re.finditer(r"  (CRM_\w+) = (\d+),", text)}
    assert codes["CRM_OK"] == 0 and codes["CRM_INTERNAL"] == 9002
    for name, code in codes.items():
        assert crm.result_message(code) != "unknown result code", name
        if code:
            assert code // 1000 in (1, 2, 3, 4, 5, 6, 9), name
