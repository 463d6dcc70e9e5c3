"""Shared fixtures: throwaway Redis and PostgreSQL, stores, caches and a live app client.

Tests needing services skip when they are missing, unless
``TRUSTBRIDGE_REQUIRE_SERVICES=1`` (CI), where a missing service is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from trustbridge.api import create_app
from trustbridge.cache import Cache
from trustbridge.cache.memory import MemoryCache
from trustbridge.cache.redis import RedisCache
from trustbridge.config import Settings
from trustbridge.services import Services, build_services
from trustbridge.store import Database, open_database

REQUIRE_SERVICES = os.environ.get("TRUSTBRIDGE_REQUIRE_SERVICES") == "1"
PG_ADMIN = os.environ.get("TRUSTBRIDGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def unavailable(reason: str) -> None:
    """Skip, or fail in CI where every service must be exercised."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private redis-server on a free port for this test session."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        unavailable("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def _pg_admin() -> str:
    try:
        out = subprocess.run(
            ["psql", PG_ADMIN, "-tAc", "select 1"], capture_output=True, text=True, timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"psql unavailable: {exc}")
    if out.returncode != 0 or out.stdout.strip() != "1":
        unavailable(f"PostgreSQL not reachable at {PG_ADMIN}: {out.stderr.strip()}")
    return PG_ADMIN


@pytest.fixture
def postgres_url(_pg_admin: str) -> Iterator[str]:
    """A throwaway database, dropped after the test."""
    name = f"tb_test_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", _pg_admin, "-qc", f"CREATE DATABASE {name}"], check=True,
                   capture_output=True)
    base = _pg_admin.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    subprocess.run(["psql", _pg_admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                   check=False, capture_output=True)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tb.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await open_database(database_url)
    yield database
    await database.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        c: Cache = MemoryCache(max_entries=1000)
    else:
        url = request.getfixturevalue("redis_url")
        c = RedisCache.from_url(url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    yield c
    await c.close()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for an isolated app: own data dir, seeded registry from the repo."""
    values: dict[str, Any] = {
        "environment": "test",
        "data_dir": tmp_path,
        "registry_seed_dir": ROOT / "registry",
    }
    values.update(overrides)
    return Settings(**values)


ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[ClientFactory]:
    """Start the real app on a real 127.0.0.1 socket with the given settings overrides."""
    clients: list[TestClient[Any, Any]] = []

    async def factory(**overrides: Any) -> TestClient[Any, Any]:
        settings = make_settings(tmp_path / f"node{len(clients)}", **overrides)
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings),
                                                             host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> TestClient[Any, Any]:
    """The app on the embedded default (SQLite + in-process cache)."""
    return await make_client()


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    svc = await build_services(make_settings(tmp_path))
    yield svc
    await svc.close()
