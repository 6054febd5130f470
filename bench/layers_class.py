"""A class on the layers lab at the lecture's size (10 × 500, batch 1000), on one server.

* 30 students each move the init scale every 2 s on their own (every move a new
  configuration), with 10 optimizer and 10 training students streaming alongside at
  10 frames/s; at the end each layers student stops and waits for its complete frame.
* 30 students apply the same (uncached) configuration within one second.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from .common import Row
from .e2e import p95
from .live import LiveServer, live_server
from .students import LABS, health

LECTURE = {"depth": 10, "width": 500, "batch": 1000, "histograms": ["activation"]}


@dataclass
class Mover:
    first: list[float] = field(default_factory=list)  # move → first frame of it (coarse), s
    complete_in_time: int = 0  # moves whose complete frame came before the next move
    moves: int = 0
    rest: float | None = None  # the last move, then stopping → its complete frame, s
    coarse_ms: list[float] = field(default_factory=list)  # server compute of a coarse frame
    unexpected: list[str] = field(default_factory=list)


async def _connect(server: LiveServer) -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(
        server.ws_url, origin=server.origin, compression=None, open_timeout=60, ping_interval=None
    )  # type: ignore[arg-type]
    await asyncio.wait_for(ws.recv(), timeout=60)
    return ws


async def mover(server: LiveServer, k: int, seconds: float, every: float) -> Mover:
    me = Mover()
    ws = await _connect(server)
    sent: dict[int, float] = {}
    seq = 0

    async def move() -> None:
        nonlocal seq
        seq += 1
        me.moves += 1
        scale = 0.01 * (1.05 + 0.37 * k + 0.013 * seq)  # never the same twice, in the class
        sent[seq] = time.monotonic()
        msg = {"type": "configure", "lab": "layers", "config": {**LECTURE, "scale": scale}}
        await ws.send(json.dumps(msg))

    try:
        await asyncio.sleep(random.uniform(0, every))  # students do not move in step
        end = time.monotonic() + seconds
        await move()
        next_move = time.monotonic() + every
        seen_first: set[int] = set()
        resting = False
        while True:
            now = time.monotonic()
            if not resting and now >= end:
                resting = True
                await move()  # the last move: now the student stops and looks
                rest_seq, rest_at = seq, time.monotonic()
            timeout = 10.0 if resting else max(0.01, next_move - now)
            try:
                m = json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))
            except TimeoutError:
                if resting:
                    me.unexpected.append("no complete frame within 10 s of resting")
                    break
                m = None
            now = time.monotonic()
            if m is not None and m["type"] == "frame":
                s = m["config_seq"]
                if s not in seen_first and s in sent:
                    seen_first.add(s)
                    me.first.append(now - sent[s])
                    if m["data"]["detail"] == "coarse":
                        me.coarse_ms.append(m["compute_ms"])
                if m["data"]["detail"] == "complete":
                    if resting and s == rest_seq:
                        me.rest = now - rest_at
                        break
                    if s == seq:
                        me.complete_in_time += 1
            if not resting and now >= next_move:
                await move()
                next_move += every
    except Exception as err:
        me.unexpected.append(f"{type(err).__name__}: {err}")
    finally:
        await ws.close()
    return me


async def streamer(server: LiveServer, lab: str, seconds: float, fps: float) -> float:
    """A student playing the optimizer or training lab: frames per second received."""
    ws = await _connect(server)
    await ws.send(
        json.dumps({"type": "configure", "lab": lab, "config": LABS[lab], "options": {"fps": fps}})
    )
    await ws.send(json.dumps({"type": "play"}))
    frames, begin = 0, time.monotonic()
    end = begin + seconds
    while (now := time.monotonic()) < end:
        try:
            m = json.loads(await asyncio.wait_for(ws.recv(), timeout=end - now))
        except TimeoutError:
            break
        frames += m["type"] == "frame"
    await ws.close()
    return frames / (time.monotonic() - begin)


async def independent(server: LiveServer, n: int, streaming: int, seconds: float) -> dict[str, Any]:
    movers = [mover(server, k, seconds, 2.0) for k in range(n)]
    streams = [
        streamer(server, "descend" if i % 2 == 0 else "train", seconds, 10.0)
        for i in range(streaming)
    ]
    results = await asyncio.gather(*movers, *streams)
    ms: list[Mover] = [r for r in results if isinstance(r, Mover)]
    fps = [r for r in results if isinstance(r, float)]
    firsts = [x for m in ms for x in m.first]
    rests = [m.rest for m in ms if m.rest is not None]
    return {
        "first_p95": p95(firsts),
        "first_p50": statistics.median(firsts),
        "complete_in_time": sum(m.complete_in_time for m in ms),
        "moves": sum(m.moves for m in ms),
        "rest_max": max(rests) if rests else float("inf"),
        "rest_p95": p95(rests) if rests else float("inf"),
        "rested": len(rests),
        "coarse_ms": statistics.median([x for m in ms for x in m.coarse_ms] or [0.0]),
        "fps_median": statistics.median(fps) if fps else 0.0,
        "fps_lowest": min(fps) if fps else 0.0,
        "unexpected": [u for m in ms for u in m.unexpected],
    }


async def same_preset(server: LiveServer, n: int) -> dict[str, Any]:
    """n students apply one configuration (not cached yet) within one second."""
    config = {**LECTURE, "scale": 0.0123, "seed": 2026}
    before = health(server)["layers_cache"]
    sockets = [await _connect(server) for _ in range(n)]

    async def one(ws: Any) -> float:
        await asyncio.sleep(random.uniform(0, 1.0))
        t0 = time.monotonic()
        await ws.send(json.dumps({"type": "configure", "lab": "layers", "config": config}))
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            if m["type"] == "frame" and m["data"]["detail"] == "complete":
                return time.monotonic() - t0

    times = await asyncio.gather(*(one(ws) for ws in sockets))
    for ws in sockets:
        await ws.close()
    after = health(server)["layers_cache"]
    return {
        "max": max(times),
        "p95": p95(list(times)),
        "computed": after["computed"] - before["computed"],
        "shared": (after["hits"] + after["joins"]) - (before["hits"] + before["joins"]),
    }


def rows(quick: bool = False) -> list[Row]:
    n, streaming, seconds = (4, 2, 4.0) if quick else (30, 20, 30.0)
    env = {"DEEPSCOPE_MAX_SESSIONS": str(n + streaming + 10)}
    with live_server(env=env) as server:
        server.settle()
        ind = asyncio.run(independent(server, n, streaming, seconds))
        same = asyncio.run(same_preset(server, n))
    return [
        Row(
            f"Layers lab, {n} students each moving the init scale every 2 s "
            f"(+ {streaming} streaming): move → first frame",
            f"p50 {ind['first_p50'] * 1e3:.0f} ms, p95 {ind['first_p95'] * 1e3:.0f} ms; "
            f"{ind['complete_in_time']} of {ind['moves']} moves complete before the next; "
            f"a coarse frame's compute p50 {ind['coarse_ms']:.0f} ms",
            "—",
            "—",
            "p95 ≤ 1 s",
            ind["first_p95"] <= 1.0 and not ind["unexpected"],
        ),
        Row(
            "… a student who stops moving: its complete frame",
            f"p95 {ind['rest_p95']:.2f} s, worst {ind['rest_max']:.2f} s ({ind['rested']} of {n})",
            "—",
            "—",
            "≤ 3 s",
            ind["rest_max"] <= 3.0 and ind["rested"] == n,
        ),
        Row(
            "… the optimizer / training students alongside (10 frames/s asked)",
            f"median {ind['fps_median']:.1f}, lowest {ind['fps_lowest']:.1f} frames/s",
            "—",
            "—",
            "≥ 8 frames/s",
            ind["fps_lowest"] >= 8.0,
        ),
        Row(
            f"Layers lab, {n} students apply the same configuration within 1 s",
            f"{same['computed']} computations (coarse + complete), {same['shared']} shared; "
            f"complete frame p95 {same['p95']:.2f} s, worst {same['max']:.2f} s",
            "—",
            "—",
            "one computation, all ≤ 1 s",
            same["computed"] <= 2 and same["max"] <= 1.0,
        ),
    ]
