"""A class at once: everybody gets in, frames keep coming, nobody is dropped."""

from __future__ import annotations

import asyncio
import json

import pytest

from bench.students import run_class
from tests.live import LiveServer
from tests.reliability.conftest import open_ws


def test_a_mixed_class_for_a_while(server: LiveServer) -> None:
    """30 students (optimizer, training and layers labs), sliders every 2 s, for 10 s."""
    report = asyncio.run(run_class(server, 30, 10.0, every=2.0, fps=10.0))
    s = report.summary()
    assert s["hello"] == 30
    assert report.unexpected == []
    assert s["fps_lowest"] >= 0.25 * 10  # nobody starves when the CPU saturates
    assert s["loop_lag"]["p99_ms"] < 250  # NumPy stays off the event loop
    assert all(st.frames > 0 for st in report.students)
    layers = [x for st in report.students if st.lab == "layers" for x in st.latencies]
    assert layers and max(layers) < 15  # every slider move is answered


def test_a_hundred_connections_within_two_seconds_all_get_hello(server: LiveServer) -> None:
    async def go() -> None:
        async def one() -> str:
            ws = await open_ws(server)
            try:
                return str(json.loads(await asyncio.wait_for(ws.recv(), 20))["type"])
            finally:
                await ws.close()

        started = asyncio.get_running_loop().time()
        tasks = []
        for _ in range(100):  # spread over ~1.5 s
            tasks.append(asyncio.create_task(one()))
            await asyncio.sleep(0.015)
        assert asyncio.get_running_loop().time() - started < 2
        hellos = await asyncio.gather(*tasks)
        assert hellos == ["hello"] * 100

    asyncio.run(go())


@pytest.mark.parametrize("lab", ["descend", "train"])
def test_every_player_keeps_its_frame_rate(server: LiveServer, lab: str) -> None:
    async def go() -> None:
        report = await run_class(server, 10, 4.0, every=10.0, fps=10.0, mix=(lab,))
        assert report.unexpected == []
        assert report.summary()["fps_lowest"] >= 7

    asyncio.run(go())
