"""Streaming: frames/s to one client, and a class as it really works: half the students
race optimizers on Rosenbrock, half train the default net on circle, each playing at 10
frames/s and moving the learning rate every 2 s (then the same with a fifth of them on the
layers lab at the lecture's size). The simulated students run on the same cores."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from .common import Row
from .e2e import p95
from .live import LiveServer, live_server
from .students import Report, health, run_class

RACE = {
    "surface": "rosenbrock",
    "steps": 100_000,
    "runs": [
        {"optimizer": "gd", "lr": 0.001},
        {"optimizer": "momentum", "lr": 0.001},
        {"optimizer": "adam", "lr": 0.05},
    ],
}


async def client(
    server: LiveServer, fps: float, seconds: float, gaps: list[float], start: Any
) -> int:
    from websockets.asyncio.client import connect

    frames = 0
    async with connect(
        server.ws_url, origin=server.origin, compression=None, open_timeout=30
    ) as ws:  # type: ignore[arg-type]
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "type": "configure",
                    "lab": "descend",
                    "config": RACE,
                    "options": {"fps": fps, "steps_per_frame": 2},
                }
            )
        )
        while json.loads(await ws.recv())["type"] != "frame":
            pass
        await start.wait()
        await ws.send(json.dumps({"type": "play"}))
        last = None
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                m = json.loads(await asyncio.wait_for(ws.recv(), timeout=end - time.monotonic()))
            except TimeoutError:
                break
            if m["type"] != "frame":
                continue
            now = time.monotonic()
            frames += 1
            if last is not None and frames > 3:  # skip the ramp-up
                gaps.append(now - last)
            last = now
    return frames


async def run_clients(
    server: LiveServer, n: int, fps: float, seconds: float
) -> tuple[float, float]:
    gaps: list[float] = []
    start = asyncio.Event()
    tasks = [asyncio.create_task(client(server, fps, seconds, gaps, start)) for _ in range(n)]
    await asyncio.sleep(0.5 + 0.02 * n)
    start.set()
    frames = await asyncio.gather(*tasks)
    return (p95(gaps) if gaps else float("inf")), sum(frames) / (n * seconds)


def rows(quick: bool = False) -> list[Row]:
    seconds = 2.0 if quick else 6.0
    out = []
    with live_server(env={"DEEPSCOPE_MAX_SESSIONS": "200", "DEEPSCOPE_MAX_FPS": "60"}) as server:
        _, one = asyncio.run(run_clients(server, 1, 60, seconds))
        out.append(
            Row(
                "Streaming to one client, optimizer lab (frame rate asked: 60/s)",
                f"{one:.0f} frames/s",
                "—",
                "—",
                "≥ 30 frames/s",
                one >= 30,
            )
        )
    out.extend(class_rows(quick))
    return out


MIXES = {
    "optimizer + training": ("descend", "train"),
    "with 20 % on the layers lab": ("descend", "train", "descend", "train", "layers"),
}


def class_rows(quick: bool = False) -> list[Row]:
    """The class at 20, 50 and 100 students (and 100 with the layers lab)."""
    seconds = 6.0 if quick else 30.0
    plan = (
        [(5, "optimizer + training")]
        if quick
        else [
            (20, "optimizer + training"),
            (50, "optimizer + training"),
            (100, "optimizer + training"),
            (100, "with 20 % on the layers lab"),
        ]
    )
    out = []
    for n, mix in plan:
        env = {"DEEPSCOPE_MAX_SESSIONS": str(n + 10), "DEEPSCOPE_PREWARM_PRESETS": "false"}
        with live_server(env=env) as server:
            report = asyncio.run(run_class(server, n, seconds, 2.0, 10.0, MIXES[mix]))
            frames = health(server)["frames"]
        out.append(_class_row(n, mix, report, frames["per_frame"], frames.get("together")))
    return out


def _class_row(
    n: int, mix: str, report: Report, cost: dict[str, Any], together: dict[str, int] | None
) -> Row:
    s = report.summary()
    fps, gap = s["fps_median"] or 0.0, s["frame_gap_p95_ms_median_client"] or float("inf")
    streaming = [v for lab, v in s["control_to_frame_p95_ms_by_lab"].items() if lab != "layers"]
    move = max(streaming) if streaming else float("inf")
    cpu = ", ".join(
        f"{lab} {c['cpu_ms']:.2f} ms · {c['bytes'] / 1e3:.1f} kB" for lab, c in cost.items()
    )
    races = cost.get("descend", {}).get("frames") or 0
    if together and together["programs"] and races:
        cpu += (
            f"; race frames stepped as one array program with others: "
            f"{100 * together['frames'] / races:.0f} %, "
            f"{together['frames'] / together['programs']:.1f} sessions a program"
        )
    layers = s["control_to_frame_p95_ms_by_lab"].get("layers")
    extra = f"; layers move → first frame p95 {layers:.0f} ms" if layers is not None else ""
    if mix == "optimizer + training":
        target = "≥ 9 frames/s, gap ≤ 150 ms, move ≤ 300 ms, 0 closes"
        ok = fps >= 9 and gap <= 150 and move <= 300 and s["unexpected_closes"] == 0
    else:
        target = "streaming students ≥ 8 frames/s, 0 closes"
        ok = fps >= 8 and s["unexpected_closes"] == 0
    return Row(
        f"A class of {n}, {mix} (10 frames/s asked, a slider move every 2 s)",
        f"{fps:.1f} frames/s (lowest {s['fps_lowest']:.1f}), p95 gap {gap:.0f} ms, "
        f"move → new frame p95 {move:.0f} ms, {s['unexpected_closes']} closes{extra}; "
        f"worker CPU a frame: {cpu}",
        "—",
        "—",
        target if n >= 100 else "(the 100 row is the target)",
        ok if n >= 100 else None,
    )
