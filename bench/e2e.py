"""End to end: a configure over a real WebSocket until its frame arrives, and the
browser's slider → redraw latency (Playwright + Debian's Chromium)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from .common import Row
from .live import CHROMIUM, LiveServer, live_server
from .live import CHROMIUM_FLAGS as FLAGS


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def ws_latency(
    server: LiveServer, message: dict[str, Any], n: int, mutate: str
) -> list[float]:
    from websockets.asyncio.client import connect

    times = []
    async with connect(server.ws_url, origin=server.origin, compression=None) as ws:  # type: ignore[arg-type]
        await ws.recv()
        for i in range(n + 2):
            config = json.loads(json.dumps(message))
            target = config["config"]
            target[mutate] = target[mutate] * (1 + 0.001 * (i % 7)) if mutate != "seed" else i
            t0 = time.perf_counter()
            await ws.send(json.dumps(config))
            while True:
                m = json.loads(await ws.recv())
                if m["type"] == "frame":
                    break
            if i >= 2:  # after a warm-up
                times.append((time.perf_counter() - t0) * 1e3)
    return times


async def ws_preview_latency(server: LiveServer, n: int) -> tuple[list[float], list[float]]:
    """Configure → coarse frame and → complete frame (every layers configure is both)."""
    from websockets.asyncio.client import connect

    partial, complete = [], []
    async with connect(server.ws_url, origin=server.origin, compression=None) as ws:  # type: ignore[arg-type]
        await ws.recv()
        for i in range(n + 2):
            message = {
                "type": "configure",
                "lab": "layers",
                "config": {"scale": 0.01 * (1 + 0.001 * (i % 7)), "histograms": ["activation"]},
            }
            t0 = time.perf_counter()
            await ws.send(json.dumps(message))
            while True:
                m = json.loads(await ws.recv())
                if m["type"] != "frame":
                    continue
                ms = (time.perf_counter() - t0) * 1e3
                coarse = m["data"]["detail"] == "coarse"
                if i >= 2:
                    (partial if coarse else complete).append(ms)
                if not coarse:
                    break
    return partial, complete


def browser_latency(server: LiveServer, n: int, shots: Path | None) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{server.url}/?lab=layers")
        page.wait_for_function("() => window.deepscope && window.deepscope.labs.layers.frame")
        page.wait_for_function("() => document.querySelectorAll('.plot[data-drawn]').length >= 4")
        slider = page.get_by_label("Init scale (× the scheme's std)")
        slider.focus()
        count = "[...document.querySelectorAll('.plot')].map(e => Number(e.dataset.drawn || 0))"
        for i in range(n + 2):
            before = page.evaluate(f"() => {count}")
            t0 = time.perf_counter()
            page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            # every plot of the lab redrawn
            page.wait_for_function(
                f"(b) => {count}.every((v, k) => v > b[k] || b[k] === 0)",
                arg=before,
                timeout=20_000,
                polling=5,
            )
            if i >= 2:
                times.append((time.perf_counter() - t0) * 1e3)
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "layers-bench.png"), full_page=True)
        browser.close()
    return times


def rows(quick: bool = False) -> list[Row]:
    n = 3 if quick else 25
    layers = {"type": "configure", "lab": "layers", "config": {"scale": 0.01}}
    descend = {
        "type": "configure",
        "lab": "descend",
        "config": {
            "surface": "rosenbrock",
            "steps": 10,
            "runs": [{"optimizer": "adam", "lr": 0.05}],
        },
    }
    out = []
    with live_server() as server:
        lay = asyncio.run(ws_latency(server, layers, n, "scale"))
        opt = asyncio.run(ws_latency(server, descend, n, "seed"))
        partial, complete = asyncio.run(ws_preview_latency(server, n))
        out.append(
            Row(
                "WebSocket configure → frame, layers lab default (10 × 500, batch 1000)",
                f"p50 {statistics.median(lay):.0f} ms, p95 {p95(lay):.0f} ms",
                "—",
                "—",
                "—",
                None,
            )
        )
        out.append(
            Row(
                "WebSocket configure → coarse frame (1/8 of the batch) / complete frame, "
                "layers lab",
                f"p50 {statistics.median(partial):.0f} ms / {statistics.median(complete):.0f} ms",
                "—",
                "—",
                "—",
                None,
            )
        )
        out.append(
            Row(
                "WebSocket configure → frame, optimizer lab (Rosenbrock, Adam)",
                f"p50 {statistics.median(opt):.1f} ms, p95 {p95(opt):.1f} ms",
                "—",
                "—",
                "—",
                None,
            )
        )
        if Path(CHROMIUM).exists():
            redraw = browser_latency(server, n, None)
            out.append(
                Row(
                    "Browser: slider change → plots redrawn, layers lab default (Chromium)",
                    f"p50 {statistics.median(redraw):.0f} ms, p95 {p95(redraw):.0f} ms",
                    "—",
                    "—",
                    "p95 ≤ 200 ms",
                    p95(redraw) <= 200,
                )
            )
    return out
