"""How late the event loop runs: a ticker that measures its own oversleep.

A loop blocked by a long computation (which DeepScope keeps off it) shows up as
lag; /healthz reports the recent percentiles, and the load benchmark reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

TICK_S = 0.05


class LoopMonitor:
    def __init__(self, window: int = 1200) -> None:
        self.lags: deque[float] = deque(maxlen=window)  # seconds, one per tick (~1 minute)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="loop-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.lags.append(max(0.0, time.perf_counter() - started - TICK_S))

    def percentiles(self) -> dict[str, float]:
        if not self.lags:
            return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        ordered = sorted(self.lags)

        def at(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] * 1e3, 2)

        return {"p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1e3, 2)}
