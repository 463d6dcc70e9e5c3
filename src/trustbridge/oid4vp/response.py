"""The wallet's Authorization Response at the Response URI (``response_mode=direct_post``).

OpenID4VP 1.0 section 8.2: the body is ``application/x-www-form-urlencoded``
with ``vp_token`` (a JSON object keyed by DCQL credential query id), ``state``,
or, for Presentation Exchange requests (pre-final drafts), ``vp_token`` plus
``presentation_submission``. An Authorization Error Response carries
``error`` / ``error_description`` instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

MAX_FIELDS = 16


class WalletResponseError(Exception):
    """A response the verifier refuses; answered to the wallet as an OAuth error.

    ``error`` is the OAuth/OpenID4VP error code sent to the wallet, ``code`` the
    stable dotted TrustBridge code recorded on the session for the HR system.
    """

    def __init__(self, code: str, description: str, *, error: str = "invalid_request",
                 status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.error = error
        self.status = status

    def to_wallet(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class WalletResponse:
    """The parsed form fields (values still untrusted)."""

    state: str | None
    vp_token: Any | None
    presentation_submission: dict[str, Any] | None
    error: str | None
    error_description: str | None


def _maybe_json(value: str) -> Any:
    """``vp_token`` is a JSON object (1.0), a JWT/SD-JWT string, or a JSON VP/array (PE)."""
    stripped = value.strip()
    if stripped[:1] in ("{", "[", '"'):
        try:
            return json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            raise WalletResponseError("oid4vp.vp_token_malformed",
                                      "vp_token is not valid JSON") from exc
    return stripped


def parse_wallet_response(body: bytes, content_type: str) -> WalletResponse:
    """Form fields -> ``WalletResponse``; duplicated or missing fields are refused."""
    if content_type != "application/x-www-form-urlencoded":
        raise WalletResponseError(
            "oid4vp.response_content_type",
            "the Authorization Response must be application/x-www-form-urlencoded",
        )
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                          max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise WalletResponseError("oid4vp.response_malformed",
                                  f"unreadable form body: {exc}") from exc
    fields: dict[str, str] = {}
    for k, v in pairs:
        if k in fields:
            raise WalletResponseError("oid4vp.response_malformed", f"parameter {k!r} repeated")
        fields[k] = v
    submission: dict[str, Any] | None = None
    if fields.get("presentation_submission"):
        parsed = _maybe_json(fields["presentation_submission"])
        if not isinstance(parsed, dict):
            raise WalletResponseError("oid4vp.submission_malformed",
                                      "presentation_submission must be a JSON object")
        submission = parsed
    vp_token = _maybe_json(fields["vp_token"]) if fields.get("vp_token") else None
    return WalletResponse(
        state=fields.get("state") or None,
        vp_token=vp_token,
        presentation_submission=submission,
        error=fields.get("error") or None,
        error_description=fields.get("error_description") or None,
    )


__all__ = ["WalletResponse", "WalletResponseError", "parse_wallet_response"]
