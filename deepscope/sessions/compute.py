"""Bounded thread pools for NumPy work, shared by REST requests and sessions.

NumPy releases the GIL in its heavy loops, so running labs here keeps the event
loop free to pace frames. Two pools: *heavy* work (a whole REST run: up to
seconds) and *light* work (one streaming frame: a few ms), so a burst of requests
never stalls the frames of the optimizer and training labs; the live layers lab's
pictures have their own scheduler (``layers_service``). The bounds keep a burst of
requests from taking every core and all the memory at once.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from .layers_service import LayersService

P = ParamSpec("P")
T = TypeVar("T")


class ComputePool:
    def __init__(
        self, threads: int, light_threads: int = 2, layers_cache_bytes: int = 64 * 2**20
    ) -> None:
        self.threads = threads
        self._heavy = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="compute")
        self._light = ThreadPoolExecutor(max_workers=light_threads, thread_name_prefix="frames")
        # The live layers lab's pictures: cached, computed once, scheduled fairly.
        self.layers = LayersService(threads, layers_cache_bytes)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run heavy ``fn`` on a compute thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._heavy, functools.partial(fn, *args, **kwargs))

    async def run_light(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a short ``fn`` (one streaming frame) on the frame threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._light, functools.partial(fn, *args, **kwargs))

    def shutdown(self) -> None:
        self._heavy.shutdown(wait=False, cancel_futures=True)
        self._light.shutdown(wait=False, cancel_futures=True)
        self.layers.shutdown()
