"""Every store has its own identity, and cached facts are keyed on it: two registries (two
databases) sharing one Redis never serve each other's cached answers or reports, even at
the same epoch number."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import FIXTURES, ROOT, ClientFactory
from trustbridge.registry.service import registry_of
from trustbridge.registry.store import RegistryStore
from trustbridge.store import Database, open_database

DEMO = json.loads((FIXTURES / "demo" / "demo.json").read_text())
PROVIDER = DEMO["navarra_provider"]  # the demo VP's credential issuer, a TI in es.json


async def test_identity_is_created_once_and_kept(db: Database, database_url: str) -> None:
    store = RegistryStore(db)
    identity = await store.identity()
    assert len(identity) >= 16
    async with store.transaction() as writer:
        await writer.put_issuer("did:example:one")
    assert await store.identity() == identity
    assert await RegistryStore(db).identity() == identity  # read back, not made up per object
    await db.migrate()  # migrating again creates nothing
    assert await RegistryStore(db).identity() == identity
    reopened = await open_database(database_url)
    try:
        assert await RegistryStore(reopened).identity() == identity
    finally:
        await reopened.close()


async def test_two_databases_have_different_identities(tmp_path: Path) -> None:
    dbs = [await open_database(f"sqlite:///{tmp_path / f'{n}.sqlite3'}") for n in "ab"]
    try:
        ids = {await RegistryStore(d).identity() for d in dbs}
        epochs = {await RegistryStore(d).epoch() for d in dbs}
    finally:
        for d in dbs:
            await d.close()
    assert len(ids) == 2 and epochs == {0}


def _seed_without_provider(tmp_path: Path) -> Path:
    """The demo trust lists, the VP's issuer left out of es.json (same number of files, so
    the registry reaches the same epoch number as one seeded with all of them)."""
    seed = tmp_path / "seed-without-provider"
    seed.mkdir()
    for path in (ROOT / "registry").glob("*.json"):
        shutil.copy(path, seed / path.name)
    es = json.loads((seed / "es.json").read_text())
    es["issuers"] = [i for i in es["issuers"] if i["did"] != PROVIDER]
    (seed / "es.json").write_text(json.dumps(es))
    return seed


async def _verify(client: TestClient[Any, Any]) -> dict[str, Any]:
    resp = await client.post("/v1/verify", json={
        "presentation": (FIXTURES / "demo" / "ev-safety-vp.jwt").read_text().strip(),
        "nonce": DEMO["vp_nonce"], "audience": DEMO["vp_audience"],
        "at": DEMO["vp_verify_at"]})
    body: dict[str, Any] = await resp.json()
    assert resp.status == 200, body
    return body


def _trust_code(report: dict[str, Any]) -> str:
    check = next(c for c in report["credentials"][0]["checks"] if c["check"] == "issuer_trust")
    return str(check["code"])


@pytest.mark.redis
async def test_two_registries_on_one_redis_do_not_share_cached_reports(
        make_client: ClientFactory, redis_url: str, tmp_path: Path) -> None:
    common = {"redis_url": redis_url, "schema_store_dir": FIXTURES / "ebsi" / "schemas",
              "schema_fetch_remote": False}
    accredits = await make_client(**common)
    refuses = await make_client(**common, registry_seed_dir=_seed_without_provider(tmp_path))
    stores = [registry_of(c.server.app["services"]).store for c in (accredits, refuses)]
    # The collision this guards against: same epoch number, same request, one Redis.
    assert await stores[0].epoch() == await stores[1].epoch()
    assert await stores[0].identity() != await stores[1].identity()

    first = await _verify(accredits)
    assert (first["verdict"], first["cached"]) == ("valid", False), first
    other = await _verify(refuses)
    assert other["verdict"] != "valid" and other["cached"] is False, other
    assert _trust_code(other) != _trust_code(first)
    # Again, now that both reports are cached: each registry still gets its own.
    assert (await _verify(accredits))["verdict"] == "valid"
    again = await _verify(refuses)
    assert again["verdict"] == other["verdict"] and _trust_code(again) == _trust_code(other)
    assert (await _verify(accredits))["cached"] is True


@pytest.mark.redis
async def test_two_registries_on_one_redis_do_not_share_cached_answers(
        make_client: ClientFactory, redis_url: str, tmp_path: Path) -> None:
    """``GET /v1/registry/accreditation`` caches its answers in Redis too."""
    accredits = await make_client(redis_url=redis_url)
    refuses = await make_client(redis_url=redis_url,
                                registry_seed_dir=_seed_without_provider(tmp_path))
    query = {"issuer": PROVIDER, "type": "EVHighVoltageSafetyCredential",
             "schema": DEMO["schema"], "at": "2025-06-02T10:00:00Z"}
    for _ in range(2):
        for client, expected in ((accredits, True), (refuses, False)):
            resp = await client.get("/v1/registry/accreditation", params=query)
            body = await resp.json()
            assert body.get("accredited") is expected, body


@pytest.mark.redis
async def test_nodes_configured_differently_do_not_share_cached_reports(
        make_client: ClientFactory, redis_url: str, tmp_path: Path) -> None:
    """One registry (one database), one Redis, but the second node vetoes the VP's issuer
    (``trust_denylist``): its answer must not come from the first node's cached report."""
    common = {"redis_url": redis_url, "database_url": f"sqlite:///{tmp_path / 'one.sqlite3'}",
              "schema_store_dir": FIXTURES / "ebsi" / "schemas", "schema_fetch_remote": False}
    trusting = await make_client(**common)
    vetoing = await make_client(**common, trust_denylist=[PROVIDER])
    first = await _verify(trusting)
    assert (first["verdict"], first["cached"]) == ("valid", False), first
    for _ in range(2):
        vetoed = await _verify(vetoing)
        assert vetoed["verdict"] != "valid", vetoed
        assert _trust_code(vetoed) != _trust_code(first)
    assert (await _verify(trusting))["cached"] is True  # the same configuration still shares


async def test_every_epoch_bump_draws_a_new_salt(db: Database) -> None:
    store = RegistryStore(db)
    tokens = [await store.epoch_token()]
    for n in range(3):
        async with store.transaction() as writer:
            await writer.put_issuer(f"did:example:{n}")
        tokens.append(await store.epoch_token())
    assert [t.split(".")[0] for t in tokens] == ["0", "1", "2", "3"]
    assert len({t.split(".")[1] for t in tokens[1:]}) == 3
    assert await store.epoch() == 3


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup (the database is in WAL mode: copying the file is not one)."""
    with contextlib.closing(sqlite3.connect(source)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.mark.redis
async def test_a_restored_backup_never_serves_reports_of_the_lost_timeline(
        make_client: ClientFactory, redis_url: str, tmp_path: Path) -> None:
    """Restore a database from a backup, then change it: the epoch number comes round again,
    but what was cached in Redis under that number before the restore described another
    registry (here: one where the VP's issuer was still accredited)."""
    path = tmp_path / "registry.sqlite3"
    common = {"redis_url": redis_url, "database_url": f"sqlite:///{path}",
              "schema_store_dir": FIXTURES / "ebsi" / "schemas", "schema_fetch_remote": False}
    before = await make_client(**common)
    registry = registry_of(before.server.app["services"])
    backup = tmp_path / "backup.sqlite3"
    _sqlite_copy(path, backup)
    bumped = await registry.store.epoch() + 1
    # The lost timeline: an unrelated change, then the VP verified (and cached) as valid.
    async with registry.store.transaction() as writer:
        await writer.put_issuer("did:example:unrelated")
    await registry.changed(["did:example:unrelated"])
    lost = await _verify(before)
    assert (lost["verdict"], lost["cached"]) == ("valid", False), lost
    assert (await _verify(before))["cached"] is True
    await before.close()

    # The restore, and a correction applied offline before the nodes start again (as the
    # CLI does): no node announces it, so nothing flushes what Redis holds.
    _sqlite_copy(backup, path)
    restored = await open_database(f"sqlite:///{path}")
    try:
        async with RegistryStore(restored).transaction() as writer:
            await writer.revoke_issuer(PROVIDER)
        assert await RegistryStore(restored).epoch() == bumped  # the lost timeline's number
    finally:
        await restored.close()
    report = await _verify(await make_client(**common))
    assert report["cached"] is False and report["verdict"] != "valid", report
    assert _trust_code(report) != _trust_code(lost)
