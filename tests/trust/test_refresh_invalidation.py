"""A published list that changes on refresh moves the result-cache epoch: a cached ``valid``
does not outlive the issuer's removal from the list (over a real 127.0.0.1 socket)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import ClientFactory
from tests.trust.test_api import HS, fresh_lote, issuer_check, verify
from trustbridge.trust.service import TrustService, trust_of
from trustbridge.trust.sources.lote import LoteSource


def write_lote(path: Path, *, with_issuer: bool) -> None:
    """The fresh fixture LoTE; HS's entry dropped unless ``with_issuer``."""
    doc = fresh_lote()
    entities = doc["LoTE"]["TrustedEntitiesList"]
    listed = [e for e in entities if HS in json.dumps(e)]
    assert listed, "the fixture lists HS"
    if not with_issuer:
        doc["LoTE"]["TrustedEntitiesList"] = [e for e in entities if e not in listed]
    path.write_text(json.dumps(doc))


def sources_file(tmp_path: Path) -> Path:
    write_lote(tmp_path / "lote.json", with_issuer=True)
    conf = tmp_path / "sources.json"
    conf.write_text(json.dumps({"lote": [{"name": "lote", "location": "lote.json"}]}))
    return conf


async def test_list_refresh_removing_the_issuer_is_not_served_from_cache(
        make_client: ClientFactory, tmp_path: Path) -> None:
    conf = sources_file(tmp_path)
    client = await make_client(trust_sources_file=conf)
    services = client.server.app["services"]
    first = await verify(client)
    assert (first["verdict"], first["cached"]) == ("valid", False), first
    again = await verify(client)
    assert (again["verdict"], again["cached"]) == ("valid", True)

    # A refresh that reads the same bytes changes nothing: still served from the cache.
    later = datetime.now(UTC) + timedelta(hours=2)  # past the hourly re-read
    services.clock = lambda: later
    await trust_of(services).refresh()
    same = await verify(client)
    assert (same["verdict"], same["cached"]) == ("valid", True)

    # The publisher drops the issuer; the next scheduled refresh picks it up.
    write_lote(tmp_path / "lote.json", with_issuer=False)
    much_later = later + timedelta(hours=2)
    services.clock = lambda: much_later
    await trust_of(services).refresh()
    after = await verify(client)
    assert after["cached"] is False
    assert after["verdict"] == "invalid", after
    check = issuer_check(after)
    assert check["status"] == "failed"
    lote = next(e for e in check["details"]["evidence"] if e["source"] == "lote")
    assert lote["code"] == "trust.lote.not_listed"


async def test_epoch_moves_with_list_content_only(tmp_path: Path) -> None:
    path = tmp_path / "lote.json"
    write_lote(path, with_issuer=True)
    now = [datetime.now(UTC)]
    source = LoteSource("lote", str(path), clock=lambda: now[0])
    announced: list[int] = []

    async def announce() -> None:
        announced.append(1)

    trust = TrustService([source], clock=lambda: now[0], announce=announce)
    before_load = await trust.epoch()
    await trust.refresh()
    loaded = await trust.epoch()
    assert loaded != before_load and announced == []  # a first load is not a change
    assert isinstance(loaded, str) and loaded.startswith("0+")

    path.write_text(path.read_text())  # same bytes
    now[0] += timedelta(hours=2)
    await trust.refresh()
    assert await trust.epoch() == loaded and announced == []

    write_lote(path, with_issuer=False)
    now[0] += timedelta(hours=2)
    await trust.refresh()
    assert await trust.epoch() != loaded
    assert announced == [1]  # announced once, not on every epoch read
    await trust.epoch()
    assert announced == [1]


async def test_without_published_lists_the_epoch_is_the_registry_epoch() -> None:
    trust = TrustService([], clock=lambda: datetime.now(UTC))
    assert await trust.epoch() == 0
