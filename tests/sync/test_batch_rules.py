"""Batch wire format and jurisdiction rules (pure)."""

from __future__ import annotations

import pytest

from tests.sync.support import Actor
from trustbridge.registry.batch import (
    BatchFormatError,
    Change,
    accredited_jurisdictions,
    check_jurisdiction,
    check_shape,
    content_digest,
    covers,
    normalise_jurisdiction,
    parse_batch_payload,
)


@pytest.mark.parametrize(("raw", "code"), [
    ("ES", "ES"), ("es", "ES"), ("ESP", "ES"), ("ES-NA", "ES"),
    ("https://publications.europa.eu/resource/authority/country/FIN", "FI"), ("EU", "EU"),
])
def test_jurisdiction_codes_normalise(raw: str, code: str) -> None:
    assert normalise_jurisdiction(raw) == code


def test_covers_and_unrestricted() -> None:
    assert covers(["ES"], ["ESP", "ES-CT"]) == []
    assert covers(["ES"], ["FI"]) == ["FI"]
    assert covers(["EU"], ["FI", "PT"]) == []


def test_accreditation_jurisdictions_from_accredited_for() -> None:
    root, ti = Actor(), Actor()
    limited = root.accredit(ti, issuer_type="TI", jurisdiction="ESP")["jwt"]
    assert accredited_jurisdictions(limited) == {"ES"}
    unlimited = root.accredit(ti, issuer_type="TI", jurisdiction=None)["jwt"]
    assert accredited_jurisdictions(unlimited) is None
    assert check_jurisdiction(0, None, ["ES"], "x") is not None
    assert check_jurisdiction(0, None, ["EU"], "x") is None
    assert check_jurisdiction(0, {"FI"}, ["EU"], "x") is None
    assert check_jurisdiction(3, {"FI"}, ["ES"], "x").index == 3  # type: ignore[union-attr]


def test_shapes_per_op() -> None:
    assert check_shape(0, Change(op="add_issuer", did="did:key:z1")) is not None
    assert check_shape(0, Change(op="revoke_attribute", did="did:key:z1")) is not None
    assert check_shape(0, Change(op="revoke_issuer", did="did:key:z1")) is None


def test_payload_validation_and_content_digest() -> None:
    payload = {"registry": "did:key:zR", "sequence": 1, "changes": [
        {"op": "revoke_issuer", "did": "did:key:z1"}]}
    assert parse_batch_payload(payload).sequence == 1
    assert content_digest(payload) == content_digest(dict(reversed(payload.items())))
    with pytest.raises(BatchFormatError):
        parse_batch_payload({**payload, "sequence": 0})
    with pytest.raises(BatchFormatError):
        parse_batch_payload({**payload, "changes": [{"op": "delete_all", "did": "did:key:z"}]})
