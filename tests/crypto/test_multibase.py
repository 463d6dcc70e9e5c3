"""Multibase/multicodec decoding, and property tests that hostile input only ever yields
``InputError`` from the parsers."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustbridge.crypto.jws import parse_compact_jws
from trustbridge.crypto.multibase import (
    add_multicodec,
    decode_multibase,
    encode_multibase_b58,
    read_multicodec,
)
from trustbridge.errors import InputError


def test_round_trip() -> None:
    data = add_multicodec(0xEB51, b"{}")
    assert data[:3] == b"\xd1\xd6\x03"
    assert read_multicodec(decode_multibase(encode_multibase_b58(data))) == (0xEB51, b"{}")
    assert read_multicodec(b"\xed\x01abc") == (0xED, b"abc")
    assert decode_multibase("uAQID") == b"\x01\x02\x03"


@pytest.mark.parametrize("value", ["", "z", "z0OIl", "m AAA", "uAQ==", "fabc", "z\u0661\u0662",
                                   "z 6Mk"])
def test_bad_multibase(value: str) -> None:
    with pytest.raises(InputError) as info:
        decode_multibase(value)
    assert info.value.code == "multibase.invalid"


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xff" * 10, b"\xed\x00"])
def test_bad_varint(data: bytes) -> None:
    with pytest.raises(InputError):
        read_multicodec(data)


@given(st.text(max_size=200))
def test_decode_multibase_only_raises_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        decode_multibase(text)


@given(st.text(alphabet="eyJhbGciOiJFUzI1NiJ9.AQ_-=+/ \x00\u00e9", max_size=120))
def test_parse_compact_jws_only_raises_input_error(token: str) -> None:
    with contextlib.suppress(InputError):
        parse_compact_jws(token)


@given(st.binary(max_size=64), st.binary(max_size=64), st.binary(max_size=64))
def test_parse_compact_jws_on_encoded_garbage(h: bytes, p: bytes, s: bytes) -> None:
    from trustbridge.crypto.base64url import b64url_encode

    with contextlib.suppress(InputError):
        parse_compact_jws(".".join(b64url_encode(x) for x in (h, p, s)))


@given(st.binary(max_size=20))
def test_read_multicodec_only_raises_input_error(data: bytes) -> None:
    with contextlib.suppress(InputError):
        read_multicodec(data)
