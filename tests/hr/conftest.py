from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.hr.support import HttpsServer, https_server


@pytest.fixture
async def list_server(tmp_path: Path) -> AsyncIterator[HttpsServer]:
    async for server in https_server(tmp_path):
        yield server
