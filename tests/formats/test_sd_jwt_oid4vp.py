"""OpenID4VP end to end with an SD-JWT VC + KB-JWT: an HR system asks (DCQL ``dc+sd-jwt``),
a wallet answers over direct_post on 127.0.0.1, the verifier runs the SD-JWT VC format.

Uses the OpenID4VP flow helpers of tests/oid4vp (request object fetched and its signature
checked as a wallet would); the SD-JWT VC is issued by a did:jwk issuer so the running
app needs no network. The KB-JWT's ``aud`` is the verifier's ``client_id`` and its
``nonce`` the request's (OpenID4VP 1.0 B.3.6).
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.formats.test_sd_jwt import (
    BASE_CLAIMS,
    HOLDER_JWK,
    did_jwk,
    issue,
    new_jwk,
    present,
)
from tests.oid4vp.test_flow import Client, create, fetch_request, post_response, status

VCT = "https://credentials.example.com/identity_credential"


def _credential() -> tuple[str, list[str]]:
    issuer = new_jwk()
    did = did_jwk(issuer)
    return issue(BASE_CLAIMS | {"iss": did, "vct": VCT},
                 {"given_name": "Erika", "family_name": "Mustermann", "birthdate": "1964-08-12"},
                 jwk=issuer, header={"alg": "ES256", "typ": "dc+sd-jwt", "kid": did + "#0"})


async def _ask(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
    created = await create(client, types=None, dcql_query={"credentials": [{
        "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
        "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}]}]})
    return created, await fetch_request(client, created)


def _fields(request: dict[str, Any], token: str) -> dict[str, str]:
    return {"state": request["state"], "vp_token": json.dumps({"pid": [token]})}


async def test_sd_jwt_vc_with_key_binding_end_to_end(client: Client) -> None:
    created, request = await _ask(client)
    jwt, disclosures = _credential()
    token = present(jwt, disclosures[:2], holder=HOLDER_JWK, nonce=request["nonce"],
                    aud=request["client_id"], iat=int(time.time()))
    code, _ = await post_response(client, request, _fields(request, token))
    view = await status(client, created)
    problems = [c for c in (view.get("report") or {}).get("checks", [])
                if c["status"] not in ("passed", "skipped")]
    assert view["status"] == "verified", (view.get("error"), problems)
    assert view["verdict"] == "valid"
    assert code == 200


async def test_sd_jwt_vc_key_binding_for_another_nonce(client: Client) -> None:
    """The flow's binding check refuses it before verification (their code, 400)."""
    created, request = await _ask(client)
    jwt, disclosures = _credential()
    token = present(jwt, disclosures[:2], holder=HOLDER_JWK, nonce="someone-elses-nonce",
                    aud=request["client_id"], iat=int(time.time()))
    code, answer = await post_response(client, request, _fields(request, token))
    assert (code, answer["code"]) == (400, "nonce.mismatch")
    assert (await status(client, created))["status"] == "failed"


async def test_sd_jwt_vc_without_key_binding_is_refused(client: Client) -> None:
    _created, request = await _ask(client)
    jwt, disclosures = _credential()
    code, answer = await post_response(client, request,
                                       _fields(request, present(jwt, disclosures, holder=None)))
    assert (code, answer["code"]) == (400, "nonce.mismatch")  # no KB-JWT, so no nonce


async def test_sd_jwt_vc_key_binding_signed_by_another_key(client: Client) -> None:
    created, request = await _ask(client)
    jwt, disclosures = _credential()
    token = present(jwt, disclosures[:2], holder=new_jwk(), nonce=request["nonce"],
                    aud=request["client_id"], iat=int(time.time()))
    await post_response(client, request, _fields(request, token))
    view = await status(client, created)
    assert (view["status"], view["verdict"]) == ("failed", "invalid")
    codes = {c["code"] for c in view["report"]["checks"]}
    assert "sd_jwt.kb_signature_invalid" in codes
