"""core.jsonlite against the standard library's json: the same values and the same verdicts, for any input."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.core import jsonlite

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300)
@given(JSON)
def test_dumps_is_jsons_compact_form(value: object) -> None:
    assert jsonlite.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert jsonlite.dumps(value, ensure_ascii=True) == json.dumps(value, separators=(",", ":"), allow_nan=False)


@settings(max_examples=300)
@given(JSON, st.sampled_from(["", " ", "\n", " \t\r\n "]))
def test_loads_reads_what_json_writes(value: object, pad: str) -> None:
    text = pad + json.dumps(value, indent=1 if isinstance(value, dict) else None) + pad
    assert jsonlite.loads(text) == json.loads(text)
    assert jsonlite.loads(text.encode()) == json.loads(text.encode())


@settings(max_examples=500)
@given(st.text(max_size=40) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_loads_accepts_and_refuses_exactly_what_json_does(text: str) -> None:
    try:
        want: object = json.loads(text)
    except ValueError:
        want = ValueError
    except RecursionError:
        return
    try:
        got: object = jsonlite.loads(text)
    except ValueError:
        got = ValueError
    if isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert got == want


def test_constants_errors_and_nan_on_output() -> None:
    assert jsonlite.loads("[NaN]", parse_constant=lambda name: name) == ["NaN"]
    with pytest.raises(ValueError, match="Extra data"):
        jsonlite.loads('{"a": 1} x')
    with pytest.raises(ValueError, match="Expecting value"):
        jsonlite.loads("   ")
    with pytest.raises(ValueError):
        jsonlite.dumps({"x": float("nan")})
    with pytest.raises(TypeError):
        jsonlite.dumps({"x": object()})
    with pytest.raises(RecursionError):
        jsonlite.loads("[" * 100_000 + "]" * 100_000)
    assert jsonlite.loads(b"\xef\xbb\xbf[1]") == [1]  # a UTF-8 BOM, as json.loads(bytes) accepts


def test_a_malformed_document_is_a_value_error_in_a_process_without_json() -> None:
    """_json raises through json.decoder's error type, which a hot-path process has not loaded."""
    import subprocess
    import sys

    from tests.helpers import REPO

    code = (
        "import sys\nfrom ecc_hooks.core import jsonlite\nassert 'json.decoder' not in sys.modules\n"
        "for bad in ('{\"a\": \"unterminated', '[1,]', '{\"a\" 1}'):\n"
        "    try:\n        jsonlite.loads(bad)\n    except ValueError:\n        pass\n"
        "    else:\n        raise SystemExit('accepted ' + bad)\nprint('ok')"
    )
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
