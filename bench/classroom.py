"""A class following its teacher on the layers lab at the lecture's size (10 × 500, batch 1000).

The teacher moves the init scale once a second (every move a new configuration); every
follower records when the teacher's complete frame of each move reaches it. The server's
own CPU (its main process: the fan-out — the computing happens in worker processes) is
measured with the class and again with the teacher alone, for the same moves: the
difference per frame delivered to a follower is what one more follower costs.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from .common import Row
from .e2e import p95
from .live import LiveServer, live_server
from .students import health

LECTURE = {"depth": 10, "width": 500, "batch": 1000, "histograms": ["activation"]}
CONFIG_SEQ = re.compile(r'"config_seq":(\d+)')


@dataclass
class Follower:
    complete: dict[int, float] = field(default_factory=dict)  # move → when its complete frame came
    frames: int = 0
    unexpected: list[str] = field(default_factory=list)


async def _connect(server: LiveServer) -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(
        server.ws_url,
        origin=server.origin,
        compression=None,  # type: ignore[arg-type]
        open_timeout=60,
        ping_interval=None,
        max_size=None,
    )
    await asyncio.wait_for(ws.recv(), timeout=60)  # hello
    return ws


async def follower(server: LiveServer, code: str, stop: asyncio.Event) -> Follower:
    me = Follower()
    try:
        ws = await _connect(server)
    except Exception as err:
        me.unexpected.append(f"connect: {err}")
        return me
    try:
        await ws.send(json.dumps({"type": "class_join", "code": code}))
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            if not isinstance(text, str) or not text.startswith('{"type":"frame"'):
                if '"type":"error"' in str(text)[:20] or '"class_ended"' in str(text)[:30]:
                    me.unexpected.append(str(text)[:120])
                continue
            me.frames += 1
            if '"detail":"complete"' in text:
                found = CONFIG_SEQ.search(text, 0, 200)
                if found:
                    me.complete.setdefault(int(found.group(1)), time.monotonic())
    except Exception as err:  # a close the follower did not ask for
        me.unexpected.append(f"{type(err).__name__}: {err}")
    finally:
        await ws.close()
    return me


async def lesson(
    server: LiveServer, followers: int, seconds: float, salt: float = 0.0
) -> dict[str, Any]:
    """``salt``: a run's own init scales (no picture of another run's is in the cache)."""
    teacher = await _connect(server)
    await teacher.send(json.dumps({"type": "class_create"}))
    while True:
        m = json.loads(await asyncio.wait_for(teacher.recv(), timeout=30))
        if m["type"] == "class_created":
            code = m["code"]
            break
    stop = asyncio.Event()
    tasks = [asyncio.create_task(follower(server, code, stop)) for _ in range(followers)]
    await asyncio.sleep(2.0 + followers * 0.02)  # everyone in
    proc = psutil.Process(server.process.pid)
    cpu0, cache0 = sum(proc.cpu_times()[:2]), health(server)["layers_cache"]
    sent: dict[int, float] = {}
    teacher_done: dict[int, float] = {}

    async def read_teacher() -> None:
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(teacher.recv(), timeout=0.5)
            except TimeoutError:
                continue
            frame = isinstance(text, str) and text.startswith('{"type":"frame"')
            if frame and '"detail":"complete"' in text and (f := CONFIG_SEQ.search(text, 0, 200)):
                teacher_done.setdefault(int(f.group(1)), time.monotonic())

    reader = asyncio.create_task(read_teacher())
    moves = max(1, round(seconds))
    for k in range(1, moves + 1):
        scale = 0.01 * (1.1 + 0.0173 * k + salt)  # a new picture every time
        sent[k] = time.monotonic()
        msg = {"type": "configure", "lab": "layers", "config": {**LECTURE, "scale": scale}}
        await teacher.send(json.dumps(msg))
        await asyncio.sleep(1.0)
    await asyncio.sleep(3.0)  # the last move's complete frame
    cpu = sum(proc.cpu_times()[:2]) - cpu0
    cache = health(server)["layers_cache"]
    stats = health(server).get("classes", {})
    stop.set()
    done = await asyncio.gather(*tasks)
    reader.cancel()
    await teacher.close()
    lags = [f.complete[k] - sent[k] for f in done for k in sent if k in f.complete]
    return {
        "lags": lags,
        "expected": followers * moves,
        "received": len(lags),
        "frames": sum(f.frames for f in done),
        "unexpected": [u for f in done for u in f.unexpected],
        "cpu_s": cpu,
        "computed": cache["computed"] - cache0["computed"],
        "moves": moves,
        "teacher_lag": [teacher_done[k] - sent[k] for k in sent if k in teacher_done],
        "mailbox_ms": stats.get("fanout_ms_per_delivery", 0.0),
    }


def rows(quick: bool = False) -> list[Row]:
    followers, seconds = (5, 4.0) if quick else (100, 60.0)
    env = {
        "DEEPSCOPE_MAX_SESSIONS": str(followers + 10),
        "DEEPSCOPE_CLASS_JOIN_PER_MIN": "10000",  # (every simulated student is 127.0.0.1)
    }
    with live_server(env=env) as server:
        server.settle()
        alone = asyncio.run(lesson(server, 0, seconds / 3, salt=0.5))
        full = asyncio.run(lesson(server, followers, seconds))
    # The main process's CPU a follower's frame costs: the class's minus the teacher alone's
    # (per move), over the frames the followers received.
    extra = full["cpu_s"] - alone["cpu_s"] * full["moves"] / alone["moves"]
    per_frame_ms = 1e3 * extra / max(1, full["frames"])
    lag95 = p95(full["lags"]) if full["lags"] else float("inf")
    per_move = full["computed"] / full["moves"]
    alone_per_move = alone["computed"] / alone["moves"]
    return [
        Row(
            f"Class of {followers} following the teacher on the layers lab (10 × 500, batch "
            f"1000), a move a second for {seconds:.0f} s: move → each follower's complete frame",
            f"p50 {statistics.median(full['lags'] or [0]) * 1e3:.0f} ms, p95 {lag95 * 1e3:.0f} ms "
            f"({full['received']} of {full['expected']}; the teacher's own p95 "
            f"{p95(full['teacher_lag'] or [0]) * 1e3:.0f} ms); "
            f"{len(full['unexpected'])} unexpected closes or errors",
            "—",
            "—",
            "p95 ≤ 0.5 s, 0 closes",
            lag95 <= 0.5 and not full["unexpected"] and full["received"] == full["expected"],
        ),
        Row(
            "… pictures computed per teacher move, coarse and complete (with the class / the "
            "teacher alone; a complete one the next move made unwanted is not counted)",
            f"{per_move:.2f} / {alone_per_move:.2f}",
            "—",
            "—",
            "no more than alone: one computation",
            per_move <= alone_per_move + 0.05,
        ),
        Row(
            "… server CPU per follower per frame (fan-out: main process, class − teacher alone)",
            f"{per_frame_ms:.3f} ms ({full['frames']} frames delivered; putting one in a "
            f"mailbox {full['mailbox_ms'] * 1e3:.1f} µs)",
            "—",
            "—",
            "≤ 0.2 ms",
            per_frame_ms <= 0.2,
        ),
    ]
