"""didkit 0.3.3 for the JWS-based Linked Data proofs (Ed25519Signature2018, JsonWebSignature2020).

didkit resolves ``did:key``/``did:jwk`` itself, offline; for any other method it
would fetch over its own HTTP client, past our SSRF-safe fetcher, so callers
only hand it proofs whose verification method is ``did:key``/``did:jwk``. It
knows its own built-in context set and refuses unknown ones, but callers check
contexts against our bundled allow-list first anyway.

didkit's async functions are pyo3 futures completed from a tokio thread; if the
event loop closes in the same tick the future resolves, the interpreter can
crash at exit, so every call yields to the loop once after it completes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any, cast

import didkit

LOCAL_METHODS = ("did:key:", "did:jwk:")
# the package's stub declares DIDKitException as an instance; at runtime it is the class
DIDKIT_ERROR = cast(type[Exception], didkit.DIDKitException)
DIDKIT_PROOF_TYPES = ("Ed25519Signature2018", "JsonWebSignature2020")


class DidkitError(Exception):
    """didkit rejected the document; ``code`` is a stable dotted string."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def _errors_of(result: str) -> list[str]:
    try:
        parsed = json.loads(result)
    except ValueError:
        return [f"didkit answered something that is not JSON: {result[:80]!r}"]
    if not isinstance(parsed, dict):
        return ["didkit answered something that is not an object"]
    errors = parsed.get("errors") or []
    checks = parsed.get("checks") or []
    if not errors and "proof" not in checks:
        return ["didkit found no applicable proof"]
    return [str(e) for e in errors]


def _code_for(errors: list[str]) -> str:
    text = " ".join(errors).lower()
    if "unknown context" in text or ("context" in text and "loading" in text):
        return "context.unknown"
    if "no applicable proof" in text:
        return "proof.not_applicable"
    return "signature.invalid"


async def _settle() -> None:
    await asyncio.sleep(0)


async def verify_with_didkit(document: Mapping[str, Any], *, presentation: bool,
                             proof_purpose: str, challenge: str | None = None,
                             domain: str | None = None) -> None:
    """Raise ``DidkitError`` unless didkit verifies the document's proof."""
    options: dict[str, Any] = {"proofPurpose": proof_purpose}
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain
    fn = didkit.verify_presentation if presentation else didkit.verify_credential
    try:
        result = await fn(json.dumps(document), json.dumps(options))
    except (DIDKIT_ERROR, ValueError) as exc:  # ValueError: its JSON-LD parser refused input
        await _settle()
        raise DidkitError(f"didkit rejected the document: {exc}",
                          code="signature.invalid") from exc
    await _settle()
    errors = _errors_of(str(result))
    if errors:
        raise DidkitError("; ".join(errors)[:300], code=_code_for(errors))


__all__ = ["DIDKIT_PROOF_TYPES", "LOCAL_METHODS", "DidkitError", "verify_with_didkit"]
