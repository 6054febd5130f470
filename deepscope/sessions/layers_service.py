"""Layers-lab pictures for the whole server: computed once, coarse first, scheduled fairly.

A layers-lab frame is a pure function of (configuration, detail), so

* a **cache** (least recently used out, bounded in bytes) keyed by the canonical
  configuration serves an identical request from any session, already encoded
  (a hit costs no NumPy and no JSON);
* identical requests **in flight** are computed once and every waiter gets the
  result (*single flight*);
* a **scheduler** runs the work on its own threads, each handing it to its own worker
  process (``workers.LayersWorkers``: the pictures' Python does not hold up the server's
  event loop, and the cores are all used): coarse work before complete
  work before background pre-warming; coarse work goes to the session served least
  recently (round-robin), complete work to the oldest request (the student whose
  slider rested longest), and a session has at most one request queued per priority
  (a newer one replaces it, at the back), so one session's burst never delays
  another session's frames. Processes are not prioritized by the operating
  system, so complete work *yields*: between two layers it pauses while any coarse
  work is queued or running (the cores then go to the coarse frames; measured under
  a class's load, a coarse frame took 6× its quiet time with complete work beside it).
* work nobody waits for any more is dropped from the queue, or abandoned between
  two layers if it is already running.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from ..engine import layers_lab
from ..protocol import LayersRequest
from .workers import LayersJob, LayersWorkers

log = logging.getLogger("deepscope.layers")

Detail = Literal["coarse", "complete"]
COARSE, COMPLETE, PREWARM = 0, 1, 2  # priorities, most urgent first
PREWARM_OWNER = "prewarm"


@dataclass(frozen=True)
class Picture:
    """One computed frame's data, encoded once, shared by every session that asks."""

    data_json: str
    detail: Detail
    samples: int
    compute_ms: float

    @property
    def nbytes(self) -> int:
        return len(self.data_json) + 200  # the text and the entry's bookkeeping


def canonical(req: LayersRequest) -> str:
    """The configuration as one string: equal requests (defaults filled in) are equal."""
    return req.model_dump_json()


def plan(req: LayersRequest) -> int | None:
    """Rows of the coarse frame for this configuration, or None (batch small: no coarse)."""
    return layers_lab.coarse_rows(req.batch)


@dataclass(eq=False)
class Job:
    key: str
    req: LayersRequest
    detail: Detail
    priority: int
    owner: str  # the session whose turn the job takes in the round-robin
    future: asyncio.Future[Picture]
    waiters: set[str] = field(default_factory=set)
    keep: bool = False  # pre-warming: computed even if nobody waits
    abandon: threading.Event = field(default_factory=threading.Event)
    flag: Any = None  # the worker's shared abandon flag, while it runs
    running: bool = False
    asked: int = 0  # when it was asked for (complete work: the oldest request first)


@dataclass
class Counts:
    hits: int = 0
    misses: int = 0
    joins: int = 0  # requests that joined identical work already in flight
    computed: int = 0
    abandoned: int = 0


class PictureCache:
    """Pictures by key, least recently used out past ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Picture] = OrderedDict()
        self.bytes = 0

    def get(self, key: str) -> Picture | None:
        picture = self._items.get(key)
        if picture is not None:
            self._items.move_to_end(key)
        return picture

    def put(self, key: str, picture: Picture) -> None:
        if picture.nbytes > self.max_bytes or key in self._items:
            return
        self._items[key] = picture
        self.bytes += picture.nbytes
        while self.bytes > self.max_bytes:
            _, old = self._items.popitem(last=False)
            self.bytes -= old.nbytes

    def __len__(self) -> int:
        return len(self._items)


class LayersService:
    def __init__(self, threads: int, cache_bytes: int, processes: bool = True) -> None:
        self.threads = threads
        self.workers = LayersWorkers(threads, processes)
        # With two threads or more one is kept free of complete work, for coarse work,
        # and complete work pauses between layers while coarse work runs (``coarse_busy``);
        # with one thread there is no pausing (the coarse work could never start).
        self.max_complete = max(1, threads - 1)
        self.pauses = threads > 1
        self.cache = PictureCache(cache_bytes)
        self.counts = Counts()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="layers")
        self._jobs: dict[str, Job] = {}  # queued or running, by key
        self._queues: dict[int, list[Job]] = {COARSE: [], COMPLETE: [], PREWARM: []}
        self._running: set[Job] = set()
        self._served: dict[str, int] = {}  # owner -> when it was last served
        self._tick = itertools.count()
        self._closed = False

    # --- asking ---------------------------------------------------------------------

    def cached(self, req: LayersRequest, detail: Detail) -> Picture | None:
        return self.cache.get(f"{detail}:{canonical(req)}")

    def request(self, session: str, req: LayersRequest, detail: Detail) -> Job | Picture:
        """A cached picture at once, or the job that will compute it (await ``job.future``).

        The caller must ``release`` a job it stops waiting for.
        """
        key = f"{detail}:{canonical(req)}"
        picture = self.cache.get(key)
        if picture is not None:
            self.counts.hits += 1
            return picture
        priority = COARSE if detail == "coarse" else COMPLETE
        job = self._jobs.get(key)
        if job is not None:
            self.counts.joins += 1
            job.waiters.add(session)
            if not job.running and priority < job.priority:
                self._queues[job.priority].remove(job)
                job.priority, job.owner = priority, session
                self._queues[priority].append(job)
                self._dispatch()
            return job
        self.counts.misses += 1
        # A session has at most one request queued per priority: a newer one replaces it.
        for old in [j for j in self._queues[priority] if j.owner == session]:
            self.release(session, old)
        job = self._new_job(key, req, detail, priority, session)
        job.waiters.add(session)
        return job

    def release(self, session: str, job: Job) -> None:
        """``session`` no longer waits for ``job``; work nobody waits for stops."""
        job.waiters.discard(session)
        if job.waiters or job.keep or job.future.done():
            if job.owner == session and job.waiters and not job.running:
                job.owner = next(iter(job.waiters))
            return
        self._jobs.pop(job.key, None)
        self.counts.abandoned += 1
        if job.running:
            job.abandon.set()  # the worker stops after its current layer
            if job.flag is not None:
                job.flag.value = 1
        else:
            self._queues[job.priority].remove(job)
            job.future.cancel()
            self._note_coarse()  # (complete work paused for it goes on)

    def prewarm(self, requests: Iterable[LayersRequest]) -> None:
        """Compute these in the background, when nothing else waits (start-up: presets)."""
        for req in requests:
            for detail in ("coarse", "complete"):
                key = f"{detail}:{canonical(req)}"
                if (detail == "coarse" and plan(req) is None) or key in self._jobs:
                    continue
                if self.cache.get(key) is None:
                    self._new_job(key, req, detail, PREWARM, PREWARM_OWNER).keep = True

    # --- scheduling -------------------------------------------------------------------

    def _new_job(
        self, key: str, req: LayersRequest, detail: Detail, priority: int, owner: str
    ) -> Job:
        job = Job(key, req, detail, priority, owner, asyncio.get_running_loop().create_future())
        job.asked = next(self._tick)
        self._jobs[key] = job
        self._queues[priority].append(job)
        self._dispatch()
        return job

    def _next(self) -> Job | None:
        running_complete = sum(1 for j in self._running if j.priority != COARSE)
        for priority in (COARSE, COMPLETE, PREWARM):
            queue = self._queues[priority]
            if not queue:
                continue
            if priority != COARSE and running_complete >= self.max_complete:
                return None
            if priority == PREWARM and (self._running or any(self._queues[COMPLETE])):
                return None  # only when the server is otherwise idle
            if priority == COARSE:  # sessions in turn: the one served longest ago first
                job = min(queue, key=lambda j: self._served.get(j.owner, -1))
            else:
                # The oldest request first: a session holds one complete job at most, and
                # a newer configure renews it at the back. So a student whose slider has
                # rested longest is served first — before those still moving, whose
                # complete work would be superseded soon — and a flood delays only itself.
                job = min(queue, key=lambda j: j.asked)
            queue.remove(job)
            return job
        return None

    def _dispatch(self) -> None:
        if self._closed:  # (a job that finished while the server shut down)
            return
        loop = asyncio.get_running_loop()
        self._note_coarse()
        while len(self._running) < self.threads and (job := self._next()) is not None:
            job.running = True
            self._running.add(job)
            self._served[job.owner] = next(self._tick)
            done = loop.run_in_executor(self._executor, self._compute, job)
            done.add_done_callback(functools.partial(self._finished, job))
        self._note_coarse()

    def _note_coarse(self) -> None:
        busy = bool(self._queues[COARSE]) or any(j.priority == COARSE for j in self._running)
        self.workers.set_coarse_busy(busy)
        self.workers.running.value = len(self._running)

    def _finished(self, job: Job, done: asyncio.Future[Picture]) -> None:
        self._running.discard(job)
        if self._jobs.get(job.key) is job:
            del self._jobs[job.key]
        if len(self._served) > 10_000:  # sessions come and go: forget the oldest turns
            for owner in sorted(self._served, key=self._served.__getitem__)[:5_000]:
                del self._served[owner]
        if not job.future.done():
            if done.cancelled():
                job.future.cancel()
            elif (err := done.exception()) is not None:
                job.future.set_exception(err)
            else:
                picture = done.result()
                self.cache.put(job.key, picture)
                self.counts.computed += 1
                job.future.set_result(picture)
        if not job.future.cancelled():
            job.future.exception()  # retrieved: an abandoned job's error is nobody's
        self._dispatch()

    def _compute(self, job: Job) -> Picture:
        """On a scheduler thread: the frame's data, encoded, from this thread's worker."""

        def bind(flag: Any) -> None:
            job.flag = flag
            if job.abandon.is_set():  # (released before the flag was known)
                flag.value = 1

        samples = plan(job.req) if job.detail == "coarse" else None
        pauses = self.pauses and job.priority != COARSE
        got = self.workers.run(LayersJob(job.req.model_dump_json(), samples, pauses), bind)
        if got is None:
            raise layers_lab.Abandoned
        data_json, rows, ms = got
        return Picture(data_json, job.detail, rows, ms)

    # --- what it did --------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        return {
            "hits": self.counts.hits,
            "misses": self.counts.misses,
            "joins": self.counts.joins,
            "computed": self.counts.computed,
            "abandoned": self.counts.abandoned,
            "cached": len(self.cache),
            "cache_bytes": self.cache.bytes,
            "queued": sum(len(q) for q in self._queues.values()),
            "running": len(self._running),
        }

    def shutdown(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.workers.shutdown()
