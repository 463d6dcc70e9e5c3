"""Strict base64url (RFC 7515 §2): one encoding per byte string, a documented error otherwise."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.base64url import b64url_decode, b64url_encode


@pytest.mark.parametrize("text", ["QQ\n", "QUI\n", "\nQQ", "QQ==", "QR", "QUJ", "Q", "QQ Q"])
def test_non_canonical_or_foreign_text_is_refused_with_the_code(text: str) -> None:
    # "QR"/"QUJ": stray low bits in the last character (the canonical forms are "QQ"/"QUI");
    # a trailing newline once slipped past the alphabet check as a raw binascii error.
    with pytest.raises(MalformedInput) as info:
        b64url_decode(text, code="jws.malformed")
    assert info.value.code == "jws.malformed"


def test_round_trip_of_every_length_mod_three() -> None:
    for data in (b"", b"A", b"AB", b"ABC", bytes(range(256))):
        assert b64url_decode(b64url_encode(data)) == data
    assert b64url_encode(b"A") == "QQ" and b64url_encode(b"AB") == "QUI"


_URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _reference(text: str) -> bytes | None:
    """RFC 4648 §5 without padding, by definition: URL alphabet only, a length that is not
    1 mod 4, and canonical (re-encoding gives the same text back)."""
    if any(c not in _URL_ALPHABET for c in text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64url_encode(data) == text else None


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_URL_ALPHABET + "+/=. \n\x00é\u212a", max_size=24))
def test_agrees_with_the_rfc_4648_definition(text: str) -> None:
    # The decoder enforces the alphabet in C (binascii strict mode after refusing +, / and
    # =); the reference checks it character by character and canonicality by re-encoding.
    expected = _reference(text)
    if expected is None:
        with pytest.raises(MalformedInput):
            b64url_decode(text)
    else:
        assert b64url_decode(text) == expected
