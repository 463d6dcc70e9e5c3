"""Strict base64url (RFC 7515 §2): one encoding per byte string, a documented error otherwise."""

from __future__ import annotations

import pytest

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
