"""Every ``python`` block of docs/python.md runs as written (in a fresh namespace, from a
temporary directory), so the documented example cannot drift from the package."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "python.md"


def _blocks():
    return re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.S | re.M)


def test_the_page_has_an_example():
    assert _blocks(), "no python block in docs/python.md"


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_python_blocks_run(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = compile(_blocks()[index], f"docs/python.md block {index}", "exec")
    exec(code, {"__name__": "__doc_example__"})
