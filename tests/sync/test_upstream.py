"""Import from an upstream EBSI TIR v5 API (here: another TrustBridge node serving the same
shapes): paginated, every accreditation verified, incremental, with a summary."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.conftest import ClientFactory
from tests.sync.support import Actor, Hierarchy, accredited, base_url, push, revoke_issuer, status
from trustbridge.registry.changelog import LogEntry

TIR = "/trusted-issuers-registry/v5"


async def test_upstream_import_is_verified_incremental_and_mirrorable(
        make_client: ClientFactory) -> None:
    h = Hierarchy()
    upstream = await make_client(**h.settings())
    assert (await push(upstream, h.bootstrap()))[0] == 200
    providers = [Actor() for _ in range(7)]
    assert (await push(upstream, h.es.batch([h.ti(p) for p in providers])))[0] == 200
    node = await make_client(**h.settings(sync_page_size=3))  # several TIR pages
    component = node.server.app["services"].components["sync"]
    ticks: list[tuple[int, int | None]] = []
    component.allow(base_url(upstream))  # as the CLI does for --from
    summary = (await component.import_upstream(base_url(upstream) + TIR,
                                               progress=lambda d, t: ticks.append((d, t))))
    data = summary.to_json()
    assert data["issuers_seen"] == 10 and data["added"] == 10, data
    assert data["refused"] == [] and ticks[-1] == (10, 10)
    for p in providers:
        assert await accredited(node, p.did)
    page = await (await node.get("/v1/registry/log")).json()
    assert {LogEntry.from_json(e).origin["upstream"] for e in page["entries"]} == {
        base_url(upstream) + TIR}

    again = (await component.import_upstream(base_url(upstream) + TIR)).to_json()
    assert again["added"] == 0 and again["unchanged"] == 10, again
    assert (await status(node))["log"]["seq"] == 10  # nothing new was written

    # A node mirroring the importer re-verifies each upstream accreditation on its own.
    follower = await make_client(**h.settings(sync_mirror_peers=[base_url(node)]))
    pulled = await follower.server.app["services"].components["sync"].mirror_all()
    assert pulled[0].status == "applied", pulled[0].to_json()
    assert await accredited(follower, providers[0].did)


async def test_upstream_refusals_are_reported_not_stored(make_client: ClientFactory) -> None:
    h = Hierarchy()
    upstream = await make_client(**h.settings())
    assert (await push(upstream, h.bootstrap()))[0] == 200
    assert (await push(upstream, h.es.batch([h.ti(Actor())])))[0] == 200
    other_root = Hierarchy()  # a node that trusts another root: nothing upstream verifies
    node = await make_client(**other_root.settings(sync_upstream_url=base_url(upstream) + TIR))
    summary = (await node.server.app["services"].components["sync"].import_upstream(
        base_url(upstream) + TIR)).to_json()
    assert summary["added"] == 0 and len(summary["refused"]) == 4, summary
    assert {r["code"] for r in summary["refused"]} <= {"chain.untrusted_anchor",
                                                      "issuer.not_registered",
                                                      "chain.granter_not_accredited"}
    assert (await status(node))["log"]["seq"] == 0
    # The upstream revokes the Spanish TAO: a fresh import takes the revocation and refuses
    # the TIs below it.
    assert (await push(upstream, h.eu.batch([revoke_issuer(h.tao_es)])))[0] == 200
    fresh = await make_client(**h.settings(sync_upstream_url=base_url(upstream) + TIR))
    summary = (await fresh.server.app["services"].components["sync"].import_upstream(
        base_url(upstream) + TIR)).to_json()
    assert summary["revoked"] == 1 and summary["added"] == 2, summary
    assert [r["code"] for r in summary["refused"]] == ["accreditation.revoked"], summary


async def _cli(tmp: Path, h: Hierarchy, *args: str) -> tuple[int, str, str]:
    env = dict(os.environ, TRUSTBRIDGE_DATA_DIR=str(tmp), TRUSTBRIDGE_ENVIRONMENT="test",
               TRUSTBRIDGE_SEED_REGISTRY="false",
               TRUSTBRIDGE_TRUST_ANCHORS=json.dumps([h.root.did]),
               TRUSTBRIDGE_SYNC_REGISTRIES=json.dumps({h.eu.did: ["EU"], h.es.did: ["ES"]}))
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    script = Path(sys.executable).parent / "trustbridge"  # feature commands need the entry point
    proc = await asyncio.create_subprocess_exec(
        str(script), "registry", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def test_cli_mirror_and_sync(make_client: ClientFactory, tmp_path: Path) -> None:
    h = Hierarchy()
    upstream = await make_client(**h.settings())
    assert (await push(upstream, h.bootstrap()))[0] == 200
    code, out, err = await _cli(tmp_path / "m", h, "mirror", "--from", base_url(upstream),
                                "--json")
    assert code == 0, err
    assert json.loads(out)["to"] == 3
    code, out, err = await _cli(tmp_path / "m", h, "mirror", "--from", base_url(upstream))
    assert code == 0 and out.startswith("up_to_date"), (out, err)
    code, out, err = await _cli(tmp_path / "s", h, "sync", "--from",
                                base_url(upstream) + TIR)
    assert code == 0, err
    assert "3 added" in out and "0 refused" in out, out
    code, out, err = await _cli(tmp_path / "x", h, "sync", "--from",
                                "http://127.0.0.1:9/nothing")
    assert code == 2 and "sync failed" in err, (out, err)
