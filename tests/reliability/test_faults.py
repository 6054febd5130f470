"""Faults: stalled, killed and churning clients, an exception, SIGTERM under load."""

from __future__ import annotations

import asyncio
import json
import signal

import psutil
import pytest
from websockets.exceptions import ConnectionClosed

from bench.students import health
from tests.live import LiveServer
from tests.reliability.conftest import open_ws, until, wait_for_health

RACE = {
    "type": "configure",
    "lab": "descend",
    "config": {
        "surface": "rosenbrock",
        "steps": 100_000,
        "runs": [{"optimizer": "adam", "lr": 0.05}],
    },
    "options": {"fps": 30},
}


def _baseline(server: LiveServer) -> dict[str, int]:
    server.settle()  # the start-up pre-warming of the presets' pictures is not measured
    proc = psutil.Process(server.process.pid)
    h = health(server)
    return {
        "fds": proc.num_fds(),
        "threads": proc.num_threads(),
        "tasks": h["tasks"],
        "sessions": h["sessions"],
        "rss": proc.memory_info().rss,
    }


def test_a_killed_client_is_freed_within_the_ping_timeout(fresh: LiveServer) -> None:
    async def go() -> None:
        before = _baseline(fresh)
        ws = await open_ws(fresh)
        await ws.recv()
        await ws.send(json.dumps(RACE))
        await until(ws, "frame")
        await ws.send(json.dumps({"type": "play"}))
        await until(ws, "frame")
        assert health(fresh)["sessions"] == 1
        ws.transport.abort()  # gone without a close frame, mid-stream
        h = await wait_for_health(fresh, lambda h: h["sessions"] == 0, timeout=8)
        assert h["sessions"] == 0
        await asyncio.sleep(0.5)
        after = _baseline(fresh)
        assert after["tasks"] <= before["tasks"] + 1
        assert after["fds"] <= before["fds"] + 1

    asyncio.run(go())


def test_a_thousand_connect_close_cycles_leak_nothing(fresh: LiveServer) -> None:
    async def go() -> None:
        # warm up (allocator, imports, the lazily started pool threads), then measure
        for _ in range(20):
            ws = await open_ws(fresh)
            await ws.recv()
            await ws.send(json.dumps(RACE))
            await until(ws, "frame")
            await ws.close()
        before = _baseline(fresh)
        for i in range(1000):
            ws = await open_ws(fresh)
            await ws.recv()
            if i % 10 == 0:  # some of them do work first
                await ws.send(json.dumps(RACE))
                await until(ws, "frame")
            await ws.close()
        h = await wait_for_health(fresh, lambda h: h["sessions"] == 0)
        after = _baseline(fresh)
        assert h["sessions"] == 0
        assert after["tasks"] <= before["tasks"] + 1
        assert after["threads"] <= before["threads"]
        assert after["fds"] <= before["fds"] + 2
        assert after["rss"] - before["rss"] < 10 * 2**20

    asyncio.run(go())


def test_a_reader_that_stops_reading_is_dropped(fresh: LiveServer) -> None:
    async def go() -> None:
        ws = await open_ws(fresh, max_queue=None)
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "type": "configure",
                    "lab": "train",
                    "config": {"steps": 20_000, "hidden": [64, 64], "n_samples": 2000},
                    "options": {"fps": 30, "boundary": 100},
                }
            )
        )
        await until(ws, "frame")
        await ws.send(json.dumps({"type": "play"}))
        ws.transport.pause_reading()
        h = await wait_for_health(fresh, lambda h: h["sessions"] == 0, timeout=15)
        assert h["sessions"] == 0  # dropped after stalled_reader_s, though never closed by us
        ws.transport.abort()

    asyncio.run(go())


def test_sigterm_under_load_closes_all_with_1012_and_exits_0(fresh: LiveServer) -> None:
    async def go() -> None:
        sockets = []
        for i in range(20):
            ws = await open_ws(fresh)
            await ws.recv()
            lab = (
                RACE
                if i % 2
                else {"type": "configure", "lab": "train", "config": {"steps": 100_000}}
            )
            await ws.send(json.dumps(lab))
            await until(ws, "frame")
            await ws.send(json.dumps({"type": "play"}))
            sockets.append(ws)
        await until(sockets[0], "frame")
        fresh.process.send_signal(signal.SIGTERM)
        codes = []
        for ws in sockets:
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    await asyncio.wait_for(ws.recv(), timeout=15)
            codes.append(info.value.rcvd.code if info.value.rcvd else None)
        assert codes == [1012] * 20

    asyncio.run(go())
    assert fresh.process.wait(timeout=20) == 0
