"""Simulated students: asyncio WebSocket clients that open a lab, play it and move a
slider every few seconds, measuring what they see. Used by bench/load.py and by
tests/reliability."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import psutil

from .live import LiveServer

LABS: dict[str, dict[str, Any]] = {
    "descend": {
        "surface": "rosenbrock",
        "steps": 100_000,
        "runs": [
            {"optimizer": "gd", "lr": 0.001},
            {"optimizer": "adam", "lr": 0.05},
            {"optimizer": "momentum", "lr": 0.001},
        ],
    },
    "train": {
        "dataset": "circle",
        "hidden": [8, 8],
        "steps": 100_000,
        "optimizer": {"optimizer": "adam", "lr": 0.03},
    },
    "layers": {"depth": 10, "width": 500, "batch": 1000, "histograms": ["activation"]},
}


@dataclass
class Student:
    lab: str
    gaps: list[float] = field(default_factory=list)  # seconds between frames while playing
    latencies: list[float] = field(default_factory=list)  # configure → its first frame
    frames: int = 0
    bytes: int = 0
    unexpected: list[str] = field(default_factory=list)
    hello: bool = False
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def _nudge(lab: str, config: dict[str, Any], i: int) -> dict[str, Any]:
    """A slider move: a new learning rate or init scale."""
    c = json.loads(json.dumps(config))
    if lab == "descend":
        c["runs"][1]["lr"] = 0.01 + 0.01 * (i % 5)
    elif lab == "train":
        c["optimizer"]["lr"] = 0.01 + 0.01 * (i % 5)
    else:
        c["scale"] = 0.01 * (1 + i % 5)
    return c


async def student(
    server: LiveServer,
    lab: str,
    seconds: float,
    every: float,
    fps: float,
    started: asyncio.Event,
) -> Student:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    me = Student(lab)
    try:
        async with connect(
            server.ws_url,
            origin=server.origin,
            compression=None,  # type: ignore[arg-type]
            open_timeout=60,
            ping_interval=None,
        ) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            me.hello = hello.get("type") == "hello"
            await started.wait()
            begin = time.monotonic()
            sent = 0
            sent_at: dict[int, float] = {}
            configs = LABS[lab]

            async def configure(i: int) -> None:
                nonlocal sent
                sent += 1
                sent_at[sent] = time.monotonic()
                await ws.send(
                    json.dumps(
                        {
                            "type": "configure",
                            "lab": lab,
                            "config": _nudge(lab, configs, i),
                            "options": {"fps": fps, "steps_per_frame": 2},
                        }
                    )
                )
                if lab != "layers":
                    await ws.send(json.dumps({"type": "play"}))

            await configure(0)
            next_move = begin + every
            last_frame: float | None = None
            moves = 1
            end = begin + seconds
            while (now := time.monotonic()) < end:
                timeout = max(0.01, min(next_move, end) - now)
                try:
                    text = await asyncio.wait_for(ws.recv(), timeout=timeout)
                except TimeoutError:
                    text = None
                now = time.monotonic()
                if text is not None:
                    me.bytes += len(text)
                    m = json.loads(text)
                    if m["type"] == "frame":
                        me.frames += 1
                        seq = m["config_seq"]
                        if seq in sent_at:
                            me.latencies.append(now - sent_at.pop(seq))
                            last_frame = None  # a new run: gaps restart
                        if last_frame is not None and lab != "layers":
                            me.gaps.append(now - last_frame)
                        last_frame = now
                if now >= next_move:
                    await configure(moves)
                    moves += 1
                    next_move += every
            me.seconds = time.monotonic() - begin
            await ws.close()
    except ConnectionClosed as err:
        code = err.rcvd.code if err.rcvd else None
        me.unexpected.append(f"closed {code}")
    except Exception as err:
        me.unexpected.append(f"{type(err).__name__}: {err}")
    return me


@dataclass
class Report:
    students: list[Student]
    rss_mb: list[float]
    loop_lag: dict[str, float]
    seconds: float
    fps: float

    def p(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def unexpected(self) -> list[str]:
        return [u for s in self.students for u in s.unexpected]

    def summary(self) -> dict[str, Any]:
        streaming = [s for s in self.students if s.lab != "layers"]
        per_client_p95 = [self.p(s.gaps, 0.95) for s in streaming if s.gaps]
        latencies = [x for s in self.students for x in s.latencies]
        rates = [s.fps for s in streaming]
        return {
            "students": len(self.students),
            "labs": {lab: sum(1 for s in self.students if s.lab == lab) for lab in LABS},
            "hello": sum(1 for s in self.students if s.hello),
            "frame_gap_p95_ms_median_client": round(statistics.median(per_client_p95) * 1e3, 1)
            if per_client_p95
            else None,
            "frame_gap_p95_ms_worst_client": round(max(per_client_p95) * 1e3, 1)
            if per_client_p95
            else None,
            "control_to_frame_p95_ms": round(self.p(latencies, 0.95) * 1e3, 1)
            if latencies
            else None,
            "control_to_frame_p95_ms_by_lab": {
                lab: round(
                    self.p([x for s in self.students if s.lab == lab for x in s.latencies], 0.95)
                    * 1e3,
                    1,
                )
                for lab in LABS
                if any(s.lab == lab and s.latencies for s in self.students)
            },
            "fps_target": self.fps,
            "fps_median": round(statistics.median(rates), 2) if rates else None,
            "fps_lowest": round(min(rates), 2) if rates else None,
            "loop_lag": self.loop_lag,
            "rss_mb_start_max": [round(self.rss_mb[0], 1), round(max(self.rss_mb), 1)]
            if self.rss_mb
            else None,
            "bytes_per_s_per_client": round(
                statistics.median([s.bytes / s.seconds for s in self.students if s.seconds])
                if any(s.seconds for s in self.students)
                else 0
            ),
            "unexpected_closes": len(self.unexpected),
        }


def health(server: LiveServer) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as r:
        return dict(json.loads(r.read()))


async def run_class(
    server: LiveServer,
    n: int,
    seconds: float,
    every: float = 2.0,
    fps: float = 10.0,
    mix: tuple[str, ...] = ("descend", "train", "layers", "descend", "train"),
) -> Report:
    """n students at once on a mix of labs, each moving a slider every ``every`` seconds."""
    proc = psutil.Process(server.process.pid)
    started = asyncio.Event()
    tasks = [
        asyncio.create_task(student(server, mix[i % len(mix)], seconds, every, fps, started))
        for i in range(n)
    ]
    await asyncio.sleep(min(5.0, 0.5 + 0.03 * n))
    started.set()
    rss: list[float] = []

    async def sample() -> None:
        while True:
            rss.append(proc.memory_info().rss / 2**20)
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    students = await asyncio.gather(*tasks)
    sampler.cancel()
    lag = await asyncio.to_thread(health, server)
    return Report(students, rss, lag["loop_lag"], seconds, fps)
