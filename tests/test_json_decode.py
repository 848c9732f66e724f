"""The reader's fast JSON decoding agrees with json.loads on what it accepts and rejects."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copilot_sync._wire.messages import loads as _loads

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values, st.sampled_from(["", " ", "\n", "\r\n\t "]), st.sampled_from(["", " ", "\n"]))
def test_agrees_with_json_loads(value, before, after):
    body = (before + json.dumps(value, ensure_ascii=False) + after).encode("utf-8")
    assert _loads(body) == json.loads(body)


@pytest.mark.parametrize(
    "body", [b'{"a":1} x', b'{"a":1}{"b":2}', b"{", b"", b"\xff\xfe{}", b"nul", b'{"a":1}\n]']
)
def test_rejects_what_json_loads_rejects(body):
    with pytest.raises(ValueError):
        json.loads(body)
    with pytest.raises(ValueError):
        _loads(body)
