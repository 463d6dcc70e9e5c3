"""Fixtures for the network tests: a throwaway CA and a local HTTPS document server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.did.support import DocServer, ThrowawayCA, doc_server, make_ca


@pytest.fixture
def ca(tmp_path: Path) -> ThrowawayCA:
    return make_ca(tmp_path)


@pytest.fixture
async def server(ca: ThrowawayCA) -> AsyncIterator[DocServer]:
    async with doc_server(ca) as srv:
        yield srv
