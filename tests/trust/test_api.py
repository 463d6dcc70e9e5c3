"""Over a real 127.0.0.1 socket: the verifier's issuer-trust check asks the trust service
(allow-list, LoTE), ``GET /v1/trust/decision`` and the TRQP v2 queries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import FIXTURES, ClientFactory
from tests.verify.support import OWN, load

VC = load(OWN / "vectors" / "vc-valid-eddsa.json")
HS = VC["issuer_did"]
ONLY_TRUST = {"check_status": False, "check_schema": False, "require_accredited_issuer": True}
NOTIFIED = "http://uri.etsi.org/19602/Svcstatus/notified"
WITHDRAWN = "http://uri.etsi.org/19602/Svcstatus/withdrawn"


def fresh_lote() -> dict[str, Any]:
    """The fixture LoTE, re-dated so it is fresh now."""
    doc: dict[str, Any] = json.loads((FIXTURES / "trust" / "lote-pub-eaa.json").read_text())
    info = doc["LoTE"]["ListAndSchemeInformation"]
    now = datetime.now(UTC)
    info["ListIssueDateTime"] = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    info["NextUpdate"] = (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return doc


def lote_file(tmp_path: Path, *, withdrawn_from: str) -> Path:
    """The fresh fixture LoTE with HS withdrawn from the given date."""
    doc = fresh_lote()
    svc = doc["LoTE"]["TrustedEntitiesList"][0]["TrustedEntityServices"][0]
    svc["ServiceInformation"].update(ServiceStatus=WITHDRAWN, StatusStartingTime=withdrawn_from)
    svc["ServiceHistory"] = [{"ServiceStatus": NOTIFIED,
                              "StatusStartingTime": "2020-01-01T00:00:00Z"}]
    (tmp_path / "lote.json").write_text(json.dumps(doc))
    conf = tmp_path / "sources.json"
    conf.write_text(json.dumps({"lote": [{"name": "lote", "location": "lote.json"}]}))
    return conf


async def verify(client: TestClient[Any, Any]) -> dict[str, Any]:
    resp = await client.post("/v1/verify", json={"credential": VC["input"],
                                                 "at": VC["verify_at"], "policy": ONLY_TRUST})
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


def issuer_check(report: dict[str, Any]) -> dict[str, Any]:
    checks = report["credentials"][0]["checks"]
    found: dict[str, Any] = next(c for c in checks if c["check"] == "issuer_trust")
    return found


async def test_issuer_only_on_allowlist_verifies_with_evidence(make_client: ClientFactory
                                                               ) -> None:
    plain = issuer_check(await verify(await make_client()))
    assert (plain["status"], plain["code"]) == ("failed", "issuer.not_registered")
    client = await make_client(trust_allowlist={HS: ["VerifiableCredential"]})
    report = await verify(client)
    assert report["verdict"] == "valid", report
    check = issuer_check(report)
    assert check["status"] == "passed"
    sources = {e["source"]: e for e in check["details"]["evidence"]}
    assert sources["allowlist"]["status"] == "trusted"
    assert sources["ebsi"]["code"] == "issuer.not_registered"  # every source's evidence kept


async def test_deny_list_vetoes(make_client: ClientFactory) -> None:
    client = await make_client(trust_allowlist={HS: ["*"]}, trust_denylist=[HS])
    check = issuer_check(await verify(client))
    assert (check["status"], check["code"]) == ("failed", "trust.allowlist.denied")


async def test_lote_withdrawn_before_issuance_is_not_trusted(make_client: ClientFactory,
                                                             tmp_path: Path) -> None:
    conf = lote_file(tmp_path, withdrawn_from="2024-06-01T00:00:00Z")
    report = await verify(await make_client(trust_sources_file=conf))
    check = issuer_check(report)
    assert report["verdict"] == "invalid"
    assert (check["status"], check["code"]) == ("failed", "trust.lote.withdrawn")


async def test_lote_withdrawn_after_issuance_valid_but_reported(make_client: ClientFactory,
                                                                tmp_path: Path) -> None:
    conf = lote_file(tmp_path, withdrawn_from="2025-06-01T00:00:00Z")
    report = await verify(await make_client(trust_sources_file=conf))
    assert report["verdict"] == "valid", report
    check = issuer_check(report)
    assert check["details"]["since_then"]["status"] == "not_trusted"
    assert check["details"]["since_then"]["code"] == "trust.lote.withdrawn"
    assert check["details"]["issuer_name"] == "Hochschule Teststadt"


async def test_decision_endpoint(make_client: ClientFactory) -> None:
    client = await make_client(trust_allowlist={HS: ["*"]}, trust_policy="ebsi | allowlist")
    resp = await client.get("/v1/trust/decision", params={"issuer": HS, "type": "X"})
    assert resp.status == 200
    body = await resp.json()
    assert (body["trusted"], body["status"], body["policy"]) == (
        True, "trusted", "(ebsi | allowlist)")
    assert {e["source"] for e in body["evidence"]} == {"ebsi", "allowlist"}
    missing = await client.get("/v1/trust/decision")
    assert missing.status == 400 and (await missing.json())["code"] == "trust.issuer_required"
    bad_at = await client.get("/v1/trust/decision", params={"issuer": HS, "at": "yesterday"})
    assert bad_at.status == 400


async def test_trqp_authorization_and_recognition(make_client: ClientFactory) -> None:
    client = await make_client(trust_allowlist={HS: ["VerifiableDiploma"]})
    query = {"entity_id": HS, "authority_id": "did:web:trustbridge.example",
             "action": "issue", "resource": "VerifiableDiploma",
             "context": {"time": "2025-06-19T11:30:00Z"}}
    resp = await client.post("/trqp/authorization", json=query)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    for key in ("entity_id", "authority_id", "action", "resource"):
        assert body[key] == query[key]
    assert body["authorized"] is True
    assert body["time_requested"].startswith("2025-06-19T11:30:00")
    assert "time_evaluated" in body and body["message"]
    other = await client.post("/trqp/authorization", json={**query, "resource": "Passport"})
    assert (await other.json())["authorized"] is False
    unsupported = await client.post("/trqp/authorization", json={**query, "action": "govern"})
    assert unsupported.status == 400
    assert (await unsupported.json())["code"] == "trqp.action_unsupported"
    malformed = await client.post("/trqp/authorization", json={"entity_id": HS})
    assert malformed.status == 400
    app = client.app
    assert app is not None
    anchors = sorted(app["services"].components["registry"].anchors)
    assert anchors, "the seeded registry declares a trust anchor"
    rec = await client.post("/trqp/recognition", json={**query, "entity_id": anchors[0],
                                                       "action": "recognize",
                                                       "resource": "ebsi"})
    assert (await rec.json())["recognized"] is True
    rec = await client.post("/trqp/recognition", json={**query, "action": "recognize"})
    assert (await rec.json())["recognized"] is False


async def test_remote_trqp_registry_as_a_source(make_client: ClientFactory,
                                                tmp_path: Path) -> None:
    remote = await make_client(trust_allowlist={HS: ["VerifiableDiploma"]})
    conf = tmp_path / "sources.json"
    conf.write_text(json.dumps({"trqp": [{"name": "remote", "authority_id": "did:web:eco.example",
                                          "url": str(remote.make_url("/trqp"))}]}))
    node = await make_client(trust_sources_file=conf, did_web_allow_private=True,
                             trust_policy="remote")
    resp = await node.get("/v1/trust/decision", params={"issuer": HS,
                                                        "type": "VerifiableDiploma"})
    body = await resp.json()
    assert body["status"] == "trusted", body
    remote_answer = next(e for e in body["evidence"] if e["source"] == "remote")
    assert remote_answer["code"] == "trust.trqp.authorized"
    assert remote_answer["evidence"]["answers"][0]["authorized"] is True
    no = await node.get("/v1/trust/decision", params={"issuer": HS, "type": "Passport"})
    assert (await no.json())["code"] == "trust.trqp.not_authorized"
    await remote.close()  # the remote registry goes away: unavailable, never trusted
    gone = await node.get("/v1/trust/decision", params={"issuer": HS,
                                                       "type": "VerifiableDiploma"})
    assert ((await gone.json())["status"], (await gone.json())["code"]) == (
        "unknown", "trust.trqp.unavailable")
