"""``GET /1.0/identifiers/{did}`` through the real app on a real socket (Universal Resolver)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

KEY_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
RESULT_TYPE = 'application/ld+json;profile="https://w3id.org/did-resolution"'


async def test_resolution_result(client: TestClient[Any, Any]) -> None:
    resp = await client.get(f"/1.0/identifiers/{KEY_DID}")
    assert resp.status == 200
    body = await resp.json()
    assert body["didDocument"]["id"] == KEY_DID
    assert body["didResolutionMetadata"]["contentType"] == "application/did+ld+json"
    assert "didDocumentMetadata" in body


async def test_document_only_when_asked(client: TestClient[Any, Any]) -> None:
    resp = await client.get(f"/1.0/identifiers/{KEY_DID}",
                            headers={"Accept": "application/did+json"})
    assert resp.status == 200
    assert resp.content_type == "application/did+json"
    doc = await resp.json(content_type=None)
    assert doc["id"] == KEY_DID and "@context" not in doc
    resp = await client.get(f"/1.0/identifiers/{KEY_DID}",
                            headers={"Accept": "application/did+ld+json"})
    assert (await resp.json(content_type=None))["@context"][0] == "https://www.w3.org/ns/did/v1"


async def test_result_profile(client: TestClient[Any, Any]) -> None:
    resp = await client.get(f"/1.0/identifiers/{KEY_DID}", headers={"Accept": RESULT_TYPE})
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith(RESULT_TYPE)
    assert (await resp.json(content_type=None))["didDocument"]["id"] == KEY_DID


@pytest.mark.parametrize(("did", "status", "error"), [
    ("did:key:z0OIl", 400, "invalidDid"),
    ("not-a-did", 400, "invalidDid"),
    ("did:key:z" + "6Mk" * 1_500, 400, "invalidDid"),  # > 4096 chars, < the HTTP line cap
    ("did:example:123", 501, "methodNotSupported"),
    ("did:web:10.0.0.1", 404, "notFound"),
    ("did:ebsi:zumFZq3FcAtjMdH47K8AUQP", 404, "notFound"),
])
async def test_error_statuses(client: TestClient[Any, Any], did: str, status: int,
                              error: str) -> None:
    resp = await client.get(f"/1.0/identifiers/{quote(did, safe=':')}")
    assert resp.status == status
    body = await resp.json()
    assert body["didDocument"] is None
    assert body["didResolutionMetadata"]["error"] == error


async def test_unsupported_representation(client: TestClient[Any, Any]) -> None:
    resp = await client.get(f"/1.0/identifiers/{KEY_DID}", headers={"Accept": "text/html"})
    assert resp.status == 406
    assert (await resp.json())["didResolutionMetadata"]["error"] == "representationNotSupported"


async def test_declared_in_openapi(client: TestClient[Any, Any]) -> None:
    spec = await (await client.get("/openapi.json")).json()
    op = spec["paths"]["/1.0/identifiers/{did}"]["get"]
    assert {"200", "400", "404", "406", "501", "502"} <= set(op["responses"])
