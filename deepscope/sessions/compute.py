"""Where NumPy work runs, for REST requests and sessions.

* REST runs (up to seconds each) on a bounded thread pool: NumPy releases the GIL in
  its heavy loops, and the bound keeps a burst of requests from taking every core and
  all the memory at once.
* The streaming labs' frames on the frame worker processes (``workers.FrameWorkers``).
* The live layers lab's pictures through their own scheduler (``layers_service``),
  computed in its worker processes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from .layers_service import LayersService
from .workers import FrameWorkers

P = ParamSpec("P")
T = TypeVar("T")


class ComputePool:
    def __init__(
        self,
        threads: int,
        processes: int = 2,
        layers_cache_bytes: int = 64 * 2**20,
        layers_workers: int | None = None,
    ) -> None:
        """``processes``: frame worker processes (0: frames and layers pictures are
        computed on threads of this process); ``layers_workers``: layers-lab picture
        workers (default: ``threads``)."""
        self.threads = threads
        self._heavy = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="compute")
        self.frames = FrameWorkers(processes)
        # The live layers lab's pictures: cached, computed once, scheduled fairly.
        self.layers = LayersService(layers_workers or threads, layers_cache_bytes, processes > 0)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run heavy ``fn`` on a compute thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._heavy, functools.partial(fn, *args, **kwargs))

    async def start(self) -> None:
        """Start the worker processes (in the background of the server's start-up)."""
        await asyncio.gather(
            asyncio.to_thread(self.frames.start), asyncio.to_thread(self.layers.workers.start)
        )

    def shutdown(self) -> None:
        self._heavy.shutdown(wait=False, cancel_futures=True)
        self.frames.shutdown()
        self.layers.shutdown()
