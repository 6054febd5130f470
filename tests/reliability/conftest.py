"""Reliability tests run real uvicorn servers and many clients; each is bounded in time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.students import health
from tests.live import LiveServer, live_server

FAST_ENV = {
    "DEEPSCOPE_MAX_SESSIONS": "200",
    "DEEPSCOPE_PING_INTERVAL_S": "1",
    "DEEPSCOPE_PING_TIMEOUT_S": "1",
    "DEEPSCOPE_STALLED_READER_S": "2",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(env=FAST_ENV, tmp=tmp_path_factory.mktemp("reliability")) as s:
        yield s


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(env=FAST_ENV, tmp=tmp_path) as s:
        yield s


async def open_ws(server: LiveServer, **kw: Any) -> Any:
    from websockets.asyncio.client import connect

    kw.setdefault("origin", server.origin)
    return await connect(server.ws_url, compression=None, open_timeout=30, **kw)


async def until(ws: Any, kind: str, timeout: float = 20, **match: Any) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        while True:
            m = json.loads(await ws.recv())
            if m["type"] == kind and all(m.get(k) == v for k, v in match.items()):
                return dict(m)

    return await asyncio.wait_for(go(), timeout)


async def wait_for_health(server: LiveServer, check: Any, timeout: float = 10) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        h = await asyncio.to_thread(health, server)
        if check(h) or asyncio.get_running_loop().time() > deadline:
            return h
        await asyncio.sleep(0.2)
