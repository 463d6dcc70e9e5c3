"""Demo credentials for the UI tests: the shipped demo learner's VP/VC and a tampered copy."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.conftest import FIXTURES, ClientFactory

DEMO_DIR = FIXTURES / "demo"
DEMO = json.loads((DEMO_DIR / "demo.json").read_text())
SCHEMAS = FIXTURES / "ebsi" / "schemas"


def demo_jwt(name: str) -> str:
    return (DEMO_DIR / name).read_text().strip()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tampered_vc() -> str:
    """The demo EV safety VC with the learner's name changed after signing."""
    header, payload, sig = demo_jwt("ev-safety-vc.jwt").split(".")
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    subject = claims["vc"]["credentialSubject"]
    subject["givenName"], subject["familyName"] = "Mallory", "Forger"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{sig}"


def vp_form() -> dict[str, str]:
    """Form fields under which the demo VP verifies (its nonce, audience and time)."""
    return {"input": demo_jwt("ev-safety-vp.jwt"), "nonce": DEMO["vp_nonce"],
            "audience": DEMO["vp_audience"], "at": DEMO["vp_verify_at"]}


async def demo_client(make_client: ClientFactory) -> Any:
    """The app with the bundled EBSI schemas (no network) and the shipped demo registry."""
    return await make_client(schema_store_dir=SCHEMAS, schema_fetch_remote=False)
