"""Timings under load, measured on the scenarios of ``tests/reliability``.

The tests check what must hold whatever the machine's speed (everybody gets in,
frames keep coming, nobody is dropped, nobody starves relative to the others); how
fast it happens depends on the machine, so it is reported here, against targets:
the event-loop lag while a class streams, the lowest frame rate, the slowest layers
answer, how long 100 connections take to be greeted, and the frame gap of a student
while another floods the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from .common import Row
from .live import LiveServer, live_server
from .students import LABS, run_class

ENV = {"DEEPSCOPE_MAX_SESSIONS": "200"}


async def _open(server: LiveServer) -> Any:
    from websockets.asyncio.client import connect

    return await connect(server.ws_url, origin=server.origin, compression=None, open_timeout=30)


async def _until(ws: Any, kind: str, timeout: float = 20) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        while True:
            m = json.loads(await ws.recv())
            if m["type"] == kind:
                return dict(m)

    return await asyncio.wait_for(go(), timeout)


def mixed_class(server: LiveServer, students: int, seconds: float) -> list[Row]:
    """tests/reliability/test_load.py's class: sliders every 2 s, 10 frames/s asked."""
    report = asyncio.run(run_class(server, students, seconds, every=2.0, fps=10.0))
    s = report.summary()
    lag = s["loop_lag"]
    layers = [x for st in report.students if st.lab == "layers" for x in st.latencies]
    worst = max(layers) if layers else float("inf")
    what = f"A mixed class of {students} students for {seconds:g} s"
    return [
        Row(
            f"{what}: event-loop lag (NumPy stays off the loop)",
            f"p99 {lag['p99_ms']:.0f} ms (p50 {lag['p50_ms']:.0f} ms)",
            "—",
            "—",
            "p99 < 250 ms",
            lag["p99_ms"] < 250,
        ),
        Row(
            f"{what}: lowest streaming frame rate (10 frames/s asked)",
            f"{s['fps_lowest']} frames/s (median {s['fps_median']})",
            "—",
            "—",
            "≥ 2.5 frames/s",
            s["fps_lowest"] is not None and s["fps_lowest"] >= 2.5,
        ),
        Row(
            f"{what}: slowest layers-lab slider move → its first frame",
            f"{worst:.2f} s",
            "—",
            "—",
            "< 15 s",
            worst < 15,
        ),
    ]


def players(server: LiveServer, lab: str, seconds: float) -> Row:
    """tests/reliability/test_load.py's 10 players of one streaming lab."""
    report = asyncio.run(run_class(server, 10, seconds, every=10.0, fps=10.0, mix=(lab,)))
    lowest = report.summary()["fps_lowest"]
    return Row(
        f"10 students playing the {lab} lab: lowest frame rate (10 frames/s asked)",
        f"{lowest} frames/s",
        "—",
        "—",
        "≥ 7 frames/s",
        lowest is not None and lowest >= 7,
    )


async def _hellos(server: LiveServer, n: int) -> tuple[float, float, int]:
    """n connections opened 15 ms apart: (seconds to open them all, slowest hello, hellos)."""

    async def one() -> tuple[float, str]:
        t0 = time.monotonic()
        ws = await _open(server)
        try:
            kind = json.loads(await asyncio.wait_for(ws.recv(), 20))["type"]
            return time.monotonic() - t0, str(kind)
        finally:
            await ws.close()

    started = time.monotonic()
    tasks = []
    for _ in range(n):
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(0.015)
    spread = time.monotonic() - started
    done = await asyncio.gather(*tasks)
    return spread, max(t for t, _ in done), sum(1 for _, kind in done if kind == "hello")


def connections(server: LiveServer, n: int) -> Row:
    """tests/reliability/test_load.py's burst of connections."""
    spread, slowest, hellos = asyncio.run(_hellos(server, n))
    return Row(
        f"{n} connections opened within {spread:.1f} s: every one greeted",
        f"{hellos} of {n} got hello; slowest {slowest * 1e3:.0f} ms after its connect",
        "—",
        "—",
        f"all {n}, opened within 2 s",
        hellos == n and spread < 2,
    )


async def _flood_gaps(server: LiveServer, frames: int) -> list[float]:
    """tests/reliability/test_hostile.py's flood: a calm student's gaps between frames."""
    flooder = await _open(server)
    await flooder.recv()
    await flooder.send(
        json.dumps({"type": "configure", "lab": "descend", "config": LABS["descend"]})
    )
    await _until(flooder, "frame")
    calm = await _open(server)
    await calm.recv()
    await calm.send(
        json.dumps(
            {
                "type": "configure",
                "lab": "descend",
                "config": LABS["descend"],
                "options": {"fps": 10},
            }
        )
    )
    await _until(calm, "frame")
    await calm.send(json.dumps({"type": "play"}))

    async def flood() -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            for i in range(3000):
                await flooder.send(json.dumps({"type": "step", "n": 1 + i % 3}))
        except ConnectionClosed:
            pass

    task = asyncio.create_task(flood())
    gaps = []
    last = time.monotonic()
    for _ in range(frames):
        await _until(calm, "frame", timeout=5)
        now = time.monotonic()
        gaps.append(now - last)
        last = now
    task.cancel()
    await calm.close()
    await flooder.close()
    return gaps[2:]


def flood(server: LiveServer, frames: int) -> Row:
    worst = max(asyncio.run(_flood_gaps(server, frames)))
    return Row(
        "A student streaming at 10 frames/s while another floods the server with messages: "
        "longest gap between its frames",
        f"{worst * 1e3:.0f} ms",
        "—",
        "—",
        "< 1 s",
        worst < 1.0,
    )


def rows(quick: bool = False) -> list[Row]:
    out: list[Row] = []
    with live_server(env=ENV) as server:
        out.extend(mixed_class(server, 10 if quick else 30, 3.0 if quick else 10.0))
        for lab in ("descend", "train"):
            out.append(players(server, lab, 2.0 if quick else 4.0))
        out.append(connections(server, 20 if quick else 100))
        out.append(flood(server, 10 if quick else 30))
    return out
