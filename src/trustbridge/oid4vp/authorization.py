"""The Authorization Request a wallet receives: by value, by reference, as a request object.

OpenID4VP 1.0 section 5 (parameters), 5.9 (Client Identifier Prefixes), 8.2
(``direct_post`` with ``response_uri``), RFC 9101 (JAR: ``request`` /
``request_uri``, ``typ: oauth-authz-req+jwt``). With the
``decentralized_identifier`` prefix the request object is signed with the
node's verifier key; with ``redirect_uri`` it MUST NOT be signed (5.9.3), so
it is served as an unsecured JWT (``alg: none``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from trustbridge.crypto.base64url import b64url_encode
from trustbridge.oid4vp.query import pex_formats_supported, vp_formats_supported
from trustbridge.oid4vp.session import PresentationSession
from trustbridge.oid4vp.verifier_key import VerifierKey

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
REQUEST_OBJECT_MEDIA_TYPE = "application/oauth-authz-req+jwt"
STATIC_DISCOVERY_AUD = "https://self-issued.me/v2"  # section 5.8
WALLET_SCHEME = "openid4vp://"


def client_metadata(session: PresentationSession) -> dict[str, Any]:
    """Verifier metadata passed in the request (section 5.1 ``client_metadata``)."""
    if session.query_language == "presentation_exchange":
        return {"vp_formats": pex_formats_supported()}
    return {"vp_formats_supported": vp_formats_supported()}


def request_parameters(session: PresentationSession) -> dict[str, Any]:
    """The Authorization Request parameters as JSON values (objects stay objects)."""
    params: dict[str, Any] = {
        "client_id": session.client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": session.response_uri,
        "nonce": session.nonce,
        "state": session.state,
        "client_metadata": client_metadata(session),
    }
    if session.dcql_query is not None:
        params["dcql_query"] = session.dcql_query
    if session.presentation_definition is not None:
        params["presentation_definition"] = session.presentation_definition
    return params


def request_object_claims(session: PresentationSession) -> dict[str, Any]:
    claims = request_parameters(session)
    claims["aud"] = STATIC_DISCOVERY_AUD
    claims["iat"] = int(session.created_at.timestamp())
    claims["exp"] = int(session.expires_at.timestamp())
    return claims


def request_object(session: PresentationSession, key: VerifierKey) -> str:
    """The request object JWT: signed for DID client ids, unsecured for ``redirect_uri:``."""
    payload = json.dumps(request_object_claims(session), separators=(",", ":")).encode()
    if session.signed:
        return key.sign({"typ": REQUEST_OBJECT_TYP}, payload)
    header = json.dumps({"alg": "none", "typ": REQUEST_OBJECT_TYP}, separators=(",", ":"))
    return b64url_encode(header.encode()) + "." + b64url_encode(payload) + "."


def form_encode(params: dict[str, Any]) -> dict[str, str]:
    """Objects are JSON-serialised strings in form/query encoding (section 5.1)."""
    return {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
            for k, v in params.items()}


def by_reference(session: PresentationSession) -> dict[str, str]:
    return {"client_id": session.client_id, "request_uri": session.request_uri,
            "request_uri_method": "get"}


def by_value(session: PresentationSession, key: VerifierKey) -> dict[str, str]:
    """Signed requests travel whole in ``request``; unsigned ones as plain parameters."""
    if session.signed:
        return {"client_id": session.client_id, "request": request_object(session, key)}
    return form_encode(request_parameters(session))


def deep_link(params: dict[str, str]) -> str:
    """``openid4vp://?…`` (section 13.1.2 static configuration bound to ``openid4vp:``)."""
    return WALLET_SCHEME + "?" + urlencode(params)


__all__ = [
    "REQUEST_OBJECT_MEDIA_TYPE",
    "REQUEST_OBJECT_TYP",
    "STATIC_DISCOVERY_AUD",
    "by_reference",
    "by_value",
    "client_metadata",
    "deep_link",
    "form_encode",
    "request_object",
    "request_object_claims",
    "request_parameters",
]
