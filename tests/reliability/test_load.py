"""A class at once: everybody gets in, frames keep coming, nobody is dropped."""

from __future__ import annotations

import asyncio
import json
import statistics

import pytest

from bench.students import Report, run_class
from tests.live import LiveServer
from tests.reliability.conftest import open_ws

# How fast all this happens depends on the machine: `make bench` (bench/reliability.py)
# runs these scenarios and reports the event-loop lag, the frame rates, the slowest
# answer and the frame gaps against their targets. These tests check what must hold on
# any machine.


def _nobody_starves(report: Report) -> None:
    """Every streaming student gets frames, at least a quarter of the median student's
    (the CPU saturates; everybody slows down evenly)."""
    counts = sorted(st.frames for st in report.students if st.lab != "layers")
    assert counts and counts[0] > 0
    assert counts[0] >= 0.25 * statistics.median(counts), counts


def test_a_mixed_class_for_a_while(server: LiveServer) -> None:
    """30 students (optimizer, training and layers labs), sliders every 2 s, for 10 s."""
    report = asyncio.run(run_class(server, 30, 10.0, every=2.0, fps=10.0))
    assert report.summary()["hello"] == 30
    assert report.unexpected == []
    assert all(st.frames > 0 for st in report.students)
    _nobody_starves(report)
    # every layers student's slider was answered with a frame of its configuration
    assert all(st.latencies for st in report.students if st.lab == "layers")


def test_a_hundred_connections_at_once_all_get_hello(server: LiveServer) -> None:
    async def go() -> None:
        async def one() -> str:
            ws = await open_ws(server)
            try:
                return str(json.loads(await asyncio.wait_for(ws.recv(), 20))["type"])
            finally:
                await ws.close()

        tasks = []
        for _ in range(100):  # spread over ~1.5 s
            tasks.append(asyncio.create_task(one()))
            await asyncio.sleep(0.015)
        hellos = await asyncio.gather(*tasks)
        assert hellos == ["hello"] * 100

    asyncio.run(go())


@pytest.mark.parametrize("lab", ["descend", "train"])
def test_every_player_keeps_streaming(server: LiveServer, lab: str) -> None:
    async def go() -> None:
        report = await run_class(server, 10, 4.0, every=10.0, fps=10.0, mix=(lab,))
        assert report.unexpected == []
        _nobody_starves(report)
        # ten equal players share the server evenly: nobody below half the median
        counts = [st.frames for st in report.students]
        assert min(counts) >= 0.5 * statistics.median(counts), counts

    asyncio.run(go())
