"""Worker processes: the labs' NumPy work runs beside the server's process, on every core.

A session's streaming lab (optimizer race, training run) and the layers lab's pictures
are small array programs wrapped in a lot of Python; in one process they all queue for
one interpreter lock with the event loop that paces and sends every frame (profiled
under a class of 100: threads waiting for the lock to hand a frame back to the loop
were a sixth of the server's time, and the server never used more than one core).
Here each kind of work has its own processes:

* **frame workers** hold the streaming labs' runners. A session is placed on the
  least loaded one when it first configures and stays there (its run's state lives
  there). Requests from every session on a worker go as **one message per round
  trip**: whatever sessions asked while the previous batch was computed is the next
  batch (so under load a batch holds many sessions' frames, and the cost of the pipe
  is shared by them). The worker encodes each frame to JSON itself.
* **layers workers** compute the layers lab's pictures for ``layers_service``: one
  process per scheduler thread; shared flags let the scheduler abandon a picture
  between two layers and make complete work pause while coarse work runs.

``processes=0`` runs the same handlers on threads of the server's own process (for a
test that injects a fault into the engine, which a child process would not see).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..engine.text import Text
from ..protocol import LabName
from .encode import dumps
from .labs import InputError

if TYPE_CHECKING:
    from .runners import DescendRunner, Output, Runner

log = logging.getLogger("deepscope.workers")
_T = TypeVar("_T")

_SPAWN = mp.get_context("spawn")  # a fresh interpreter: no inherited threads or locks
# A worker's BLAS runs on one thread: the workers are one a core already, and BLAS threads
# of several processes on the same cores spin against each other (measured under a class
# of 30 on the layers lab, 2 cores: a coarse frame took 124 ms with OpenBLAS's 2 threads a
# worker, 46 ms with 1; move → first frame p95 1.9 s → 0.1 s).
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_environ_lock = threading.Lock()


# --- what crosses the pipe ----------------------------------------------------------------


@dataclass(frozen=True)
class Framed:
    """One frame, computed and encoded in a worker."""

    step: int
    data_json: str
    ended: str | None
    reason: str
    compute_ms: float  # wall time of the work
    cpu_ms: float  # the worker's CPU time for it
    reason_text: Text | None = None  # the reason by key, when the page shows it
    # Stepped together with other sessions' runs as one array program: how many sessions
    # (1: alone; the program's time is shared out equally among them), and on one frame
    # of each such program the rows (runs) it stepped (0 on the others).
    together: int = 1
    program_rows: int = 0


@dataclass(frozen=True)
class Refused:
    """A configuration the lab cannot run (``InputError`` when ``field`` is set)."""

    message: str
    name: str | None = None  # the field
    code: str = "invalid_input"
    params: dict[str, float | str] | None = None

    @classmethod
    def of(cls, err: ValueError) -> Refused:
        """What crosses the pipe for ``err`` (an ``InputError`` keeps its field and code)."""
        if isinstance(err, InputError):
            return cls(err.message, err.field, err.code, err.params)
        return cls(str(err))

    def error(self) -> ValueError:
        if self.name is None:
            return ValueError(self.message)
        return InputError(self.name, self.message, self.code, **(self.params or {}))


class LabError(RuntimeError):
    """The lab raised (logged where it happened) or its worker died."""


# --- the frame workers' side ---------------------------------------------------------------


class FrameHandler:
    """The runners of the sessions placed on one frame worker, and what they are asked."""

    def __init__(self) -> None:
        from ..engine.race import Stacks

        self.runners: dict[str, Runner] = {}
        self.stacks = Stacks()  # the stacked races of the last round trips, for reuse

    def handle(self, batch: list[tuple[Any, ...]]) -> list[tuple[int, Any]]:
        """Requests in order: ("start", sid, token, message, table) | ("advance", sid,
        token, n, views) | ("fork", sid, token, source) | ("drop", sid). ``table``: the
        uploaded dataset a training configuration names (looked up by the session), else
        None. ``fork``: sid's run becomes a copy of source's, where it stands (a class's
        explorer goes on from the teacher's step). Replies (token, Framed | Refused |
        LabError; ``fork``: True).

        The advances wait until the end of the batch (or a request about the same session)
        and are then stepped by ``_advances``: optimizer races that can share are stepped
        together, as one array program."""
        replies: list[tuple[int, Any]] = []
        advances: list[tuple[str, int, int, bool]] = []  # (sid, token, n, views)
        for request in batch:
            op, sid = request[0], request[1]
            if op == "advance":
                advances.append((sid, request[2], request[3], request[4]))
                continue
            if advances and (
                sid in (a[0] for a in advances)
                or (op == "fork" and request[3] in (a[0] for a in advances))
            ):
                replies += self._advances(advances)  # (in order, for this session)
                advances = []
            if op == "drop":
                self.runners.pop(sid, None)
                continue
            token = request[2]
            if op == "fork":
                replies.append((token, self._fork(sid, request[3])))
                continue
            replies.append((token, self._framed(sid, "start", partial(self._start, request))))
        replies += self._advances(advances)
        self.stacks.round_done()
        return replies

    def _start(self, request: tuple[Any, ...]) -> Output:
        from .runners import make_runner

        runner = make_runner(request[3], _found(request[4]))
        out = runner.start()
        self.runners[request[1]] = runner  # (a configuration that fails keeps the run before)
        return out

    def _fork(self, sid: str, source_sid: str) -> Any:
        source = self.runners.get(source_sid)
        if source is None:
            return LabError("the run to copy is gone")
        try:
            self.runners[sid] = copy_keeping_views(source)
        except Exception:
            log.exception("session %s: copying %s's run failed", sid, source_sid)
            return LabError("the run could not be copied")
        return True

    def _advances(self, advances: list[tuple[str, int, int, bool]]) -> list[tuple[int, Any]]:
        """Every advance of a batch: the optimizer races that share a key (the same surface,
        the same parts of the rule, the same number of steps: ``DescendRunner.share_key``)
        stepped together, everything else alone."""
        from .runners import DescendRunner

        replies: list[tuple[int, Any]] = []
        groups: dict[Any, list[tuple[str, int, DescendRunner]]] = {}
        for sid, token, n, views in advances:
            runner = self.runners.get(sid)
            key = runner.share_key(n) if isinstance(runner, DescendRunner) else None
            if key is None:
                work = partial(self._advance, sid, n, views)
                replies.append((token, self._framed(sid, "advance", work)))
            else:
                assert isinstance(runner, DescendRunner)
                groups.setdefault(key, []).append((sid, token, runner))
        for (_, steps), members in groups.items():
            if len(members) == 1:  # (steps: what its advance of n takes)
                sid, token, runner = members[0]
                replies.append(
                    (token, self._framed(sid, "advance", partial(runner.advance, steps)))
                )
            else:
                replies += self._together(members, steps)
        return replies

    def _advance(self, sid: str, n: int, views: bool) -> Output:
        found = self.runners.get(sid)
        if found is None:
            raise LabError("the run is gone (its worker restarted)")
        return found.advance(n, views)

    def _together(
        self, members: list[tuple[str, int, DescendRunner]], n: int
    ) -> list[tuple[int, Any]]:
        """Several sessions' races of one share key as one array program; each gets its own
        frame, and an equal share of the time."""
        from .runners import DescendRunner

        wall, cpu = time.perf_counter(), time.process_time()
        try:
            outs, stacked = DescendRunner.advance_together([m[2] for m in members], n, self.stacks)
            encoded = [dumps(out.data) for out in outs]
        except Exception:
            log.exception("sessions %s: stepping together failed", ", ".join(m[0] for m in members))
            return [(token, LabError("the lab failed")) for _, token, _ in members]
        share = len(members)
        wall_ms = (time.perf_counter() - wall) * 1e3 / share
        cpu_ms = (time.process_time() - cpu) * 1e3 / share
        # (one share key: all in one stack, or — too few for a new stack — each alone)
        rows = sum(m[2].race.K for m in members) if stacked[0] > 1 else 0
        return [
            (
                token,
                Framed(
                    out.step,
                    data_json,
                    out.ended,
                    out.reason,
                    round(wall_ms, 2),
                    cpu_ms,
                    out.reason_text,
                    together=together,
                    program_rows=rows if i == 0 else 0,
                ),
            )
            for i, ((_, token, _), out, data_json, together) in enumerate(
                zip(members, outs, encoded, stacked, strict=True)
            )
        ]

    def _framed(self, sid: str, op: str, work: Callable[[], Output]) -> Any:
        """``work``'s output encoded as a Framed (with its time), or what it refused."""
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            out = work()
            data_json = dumps(out.data)
        except ValueError as err:  # (InputError too)
            return Refused.of(err)
        except LabError as err:
            return err
        except Exception:
            log.exception("session %s: %s failed", sid, op)
            return LabError("the lab failed")
        return Framed(
            out.step,
            data_json,
            out.ended,
            out.reason,
            round((time.perf_counter() - wall) * 1e3, 2),
            (time.process_time() - cpu) * 1e3,
            out.reason_text,
        )


def copy_keeping_views(obj: _T) -> _T:
    """A deep copy in which arrays that share memory in ``obj`` share it in the copy too.

    ``copy.deepcopy`` copies a NumPy view on its own, as a new array: a race's coordinate
    columns (the surface program's inputs) would no longer be views of its copied points,
    nor a network's W and b views of its copied parameter vector — the copy would compute
    its gradients from the numbers frozen at the copy, and a class's explorer would see
    another run than the teacher's. Here each view is made again over its base's copy
    (same offset, shape and strides); read-only arrays (an unused state's broadcast
    zeros) are shared, not copied.
    """
    memo: dict[int, Any] = {}
    groups: dict[int, tuple[np.ndarray, list[np.ndarray]]] = {}
    for a in _arrays(obj):
        if not a.flags.writeable:
            memo[id(a)] = a
            continue
        root = a
        while isinstance(root.base, np.ndarray):
            root = root.base
        if root is not a:
            groups.setdefault(id(root), (root, []))[1].append(a)
    for root, views in groups.values():
        if not root.flags.c_contiguous or root.dtype.hasobject:
            continue  # (never in a lab's state: deepcopy copies these views on their own)
        copied = memo.get(id(root))
        if copied is None:
            copied = memo[id(root)] = root.copy()
        start = root.__array_interface__["data"][0]
        for v in views:
            offset = v.__array_interface__["data"][0] - start
            memo[id(v)] = np.ndarray(v.shape, v.dtype, copied, offset, v.strides)
    return copy.deepcopy(obj, memo)


def _arrays(obj: Any) -> list[np.ndarray]:
    """Every NumPy array reachable from ``obj`` through attributes, slots and containers."""
    found: list[np.ndarray] = []
    seen: set[int] = set()
    stack = [obj]
    while stack:
        x = stack.pop()
        if id(x) in seen or isinstance(x, str | bytes | int | float | complex | type | None):
            continue
        seen.add(id(x))
        if isinstance(x, np.ndarray):
            found.append(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list | tuple | set | frozenset):
            stack.extend(x)
        else:
            stack.extend(getattr(x, "__dict__", {}).values())
            for cls in type(x).__mro__:
                slots = getattr(cls, "__slots__", ())
                for name in (slots,) if isinstance(slots, str) else slots:
                    if hasattr(x, name):
                        stack.append(getattr(x, name))
    return found


def _found(table: Any) -> Callable[[str], Any] | None:
    """The lookup of a start request's uploaded dataset (the session found it already)."""
    return None if table is None else (lambda _id: table)


def _serve_frames(conn: Connection) -> None:  # pragma: no cover - runs in the child
    handler = FrameHandler()
    _serve(conn, handler.handle)


def _serve(conn: Connection, handle: Callable[[Any], Any]) -> None:  # pragma: no cover
    from ..runtime import tune_allocator

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tune_allocator()  # (as the server's process: freed arrays kept for reuse, no page faults)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        conn.send(handle(request))


# --- the layers workers' side ---------------------------------------------------------------


@dataclass(frozen=True)
class LayersJob:
    config_json: str  # a LayersRequest
    samples: int | None  # rows of the coarse frame; None: the complete one
    pauses: bool  # complete work: wait between layers while coarse work runs


class BlasThreads:
    """A layers worker's BLAS threads, set between two layers: every core while its
    complete picture is the only one computing (one student: the complete frame in
    160 ms, not 250), one thread while others compute beside it (several workers' BLAS
    threads on the same cores spin against each other) and for a coarse picture (its
    products of 1/8 of the batch gain ~7 % from a second thread, which takes the core
    the student's browser draws the frames on while a thumb is dragged)."""

    def __init__(self, running: Any) -> None:
        from threadpoolctl import ThreadpoolController

        self.running = running  # pictures computing now, in every layers worker
        blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        self.lib = blas[0] if blas else None
        self.cores = os.cpu_count() or 1
        self.now = 0
        self.coarse = False  # the picture computing now is a coarse one

    def adjust(self) -> None:
        want = self.cores if self.running.value <= 1 and not self.coarse else 1
        if self.lib is not None and want != self.now:
            self.lib.set_num_threads(want)
            self.now = want


class LayersHandler:
    """Computes one layers picture; ``abandon`` and ``coarse_busy`` are shared flags;
    ``blas`` (in a worker process) sets its BLAS threads."""

    def __init__(self, abandon: Any, coarse_busy: Any, blas: BlasThreads | None = None) -> None:
        self.abandon = abandon
        self.coarse_busy = coarse_busy
        self.blas = blas

    def _between_layers(self, pauses: bool) -> bool:
        if self.blas is not None:
            self.blas.adjust()
        parent = mp.parent_process()  # (None on the server's own threads)
        while pauses and self.coarse_busy.value and not self.abandon.value:
            if parent is not None and not parent.is_alive():
                raise SystemExit("the server went away")  # nobody will clear the flag
            time.sleep(0.005)
        return bool(self.abandon.value)

    def handle(self, job: LayersJob) -> tuple[str, int, float] | None:
        """(data_json, samples, ms), or None when abandoned (a ValueError passes through
        as a Refused)."""
        from ..engine import layers_lab
        from ..protocol import LayersRequest
        from . import labs
        from .runners import LayersRunner

        started = time.perf_counter()
        if self.blas is not None:
            self.blas.coarse = job.samples is not None
            self.blas.adjust()
        try:
            req = LayersRequest.model_validate_json(job.config_json)
            result = layers_lab.run(
                labs.layers_config(req), job.samples, lambda: self._between_layers(job.pauses)
            )
        except layers_lab.Abandoned:
            return None
        data_json = dumps(LayersRunner.data(result))
        return data_json, result.samples, round((time.perf_counter() - started) * 1e3, 2)


def _serve_layers(  # pragma: no cover
    conn: Connection, abandon: Any, coarse_busy: Any, running: Any
) -> None:
    handler = LayersHandler(abandon, coarse_busy, BlasThreads(running))

    def handle(job: LayersJob) -> Any:
        try:
            return handler.handle(job)
        except ValueError as err:  # (InputError too)
            return Refused.of(err)
        except Exception:
            log.exception("layers picture failed")
            return LabError("the layers picture failed")

    _serve(conn, handle)


# --- the server's side ----------------------------------------------------------------------


class Child:
    """One worker process and its pipe; ``call`` from one thread at a time. A child that
    died is started again on the next call (the call that saw it die fails)."""

    def __init__(self, name: str, target: Callable[..., None], *args: Any) -> None:
        self.name, self.target, self.args = name, target, args
        self.process: Any = None
        self.conn: Connection | None = None

    def _start(self) -> Connection:
        mine, theirs = _SPAWN.Pipe()
        self.process = _SPAWN.Process(
            target=self.target, args=(theirs, *self.args), name=self.name, daemon=True
        )
        with _environ_lock:  # the child's environment is this process's, at its start
            saved = {k: os.environ.get(k) for k in _ONE_THREAD}
            os.environ.update(_ONE_THREAD)
            try:
                self.process.start()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        theirs.close()
        self.conn = mine
        return mine

    def start(self) -> None:
        """Start the process now (else the first call does)."""
        if self.conn is None or not self.process.is_alive():
            self._start()

    def call(self, request: Any) -> Any:
        conn = self.conn if self.conn is not None and self.process.is_alive() else self._start()
        try:
            conn.send(request)
            return conn.recv()
        except (EOFError, OSError) as err:
            self.stop()
            raise LabError(f"worker {self.name} stopped") from err

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def stop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
            self.conn = None
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


class InThread:
    """A Child's interface over a handler in this process (``processes=0``)."""

    def __init__(self, handle: Callable[[Any], Any]) -> None:
        self.handle = handle
        self.pid: int | None = None

    def start(self) -> None:
        pass

    def call(self, request: Any) -> Any:
        return self.handle(request)

    def stop(self) -> None:
        pass


@dataclass
class LabCost:
    frames: int = 0
    cpu_ms: float = 0.0
    bytes: int = 0


class FrameWorker:
    """The server's end of one frame worker: requests batched per round trip."""

    def __init__(self, index: int, in_process: bool) -> None:
        if in_process:
            self.child: Child | InThread = InThread(FrameHandler().handle)
        else:
            self.child = Child(f"deepscope-frames-{index}", _serve_frames)
        self.sessions = 0
        self._pending: list[tuple[Any, ...]] = []
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._tokens = iter(range(1, 2**62))
        self._wake = asyncio.Event()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"frames-{index}")
        self._pump: asyncio.Task[None] | None = None
        self.batches = 0
        self.requests = 0
        # frames whose runs were stepped with other sessions' as one array program, and
        # those programs (how many, and the rows they stepped)
        self.together = {"frames": 0, "programs": 0, "rows": 0}

    def ask(self, *request: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        token = next(self._tokens)
        self._waiting[token] = future
        self._pending.append((request[0], request[1], token, *request[2:]))
        self._kick()
        return future

    def tell(self, *request: Any) -> None:
        """A request without a reply (drop)."""
        self._pending.append(request)
        self._kick()

    def _kick(self) -> None:
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending, []
                self.batches += 1
                self.requests += len(batch)
                try:
                    replies = await loop.run_in_executor(self._thread, self.child.call, batch)
                except LabError as err:
                    replies = [(r[2], err) for r in batch if r[0] != "drop"]
                for token, reply in replies:
                    if isinstance(reply, Framed) and reply.together > 1:
                        self.together["frames"] += 1
                        if reply.program_rows:
                            self.together["programs"] += 1
                            self.together["rows"] += reply.program_rows
                    future = self._waiting.pop(token, None)
                    if future is not None and not future.done():
                        future.set_result(reply)

    def shutdown(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        for future in self._waiting.values():
            if not future.done():
                future.cancel()
        self._thread.shutdown(wait=False, cancel_futures=True)
        self.child.stop()


class FrameWorkers:
    """Every frame worker; sessions are placed on the one with the fewest."""

    def __init__(self, processes: int) -> None:
        self.workers = [FrameWorker(i, processes == 0) for i in range(max(1, processes))]
        self.costs: dict[str, LabCost] = {}

    def start(self) -> None:
        """Start every worker process (at the server's start-up: the first student then
        does not wait for a Python and NumPy to start)."""
        for worker in self.workers:
            worker.child.start()

    def place(self) -> FrameWorker:
        worker = min(self.workers, key=lambda w: w.sessions)
        worker.sessions += 1
        return worker

    def join(self, worker: FrameWorker) -> FrameWorker:
        """A session placed on this very worker (one that copies a run held there)."""
        worker.sessions += 1
        return worker

    def leave(self, worker: FrameWorker, sid: str) -> None:
        worker.sessions -= 1
        worker.tell("drop", sid)

    def account(self, lab: LabName, framed: Framed) -> None:
        cost = self.costs.setdefault(lab, LabCost())
        cost.frames += 1
        cost.cpu_ms += framed.cpu_ms
        cost.bytes += len(framed.data_json)

    def stats(self) -> dict[str, Any]:
        return {
            "processes": [w.child.pid for w in self.workers],
            "sessions": [w.sessions for w in self.workers],
            "batches": sum(w.batches for w in self.workers),
            "requests": sum(w.requests for w in self.workers),
            "together": {
                k: sum(w.together[k] for w in self.workers) for k in ("frames", "programs", "rows")
            },
            "per_frame": {
                lab: {
                    "frames": c.frames,
                    "cpu_ms": round(c.cpu_ms / c.frames, 3) if c.frames else None,
                    "bytes": round(c.bytes / c.frames) if c.frames else None,
                }
                for lab, c in sorted(self.costs.items())
            },
        }

    def shutdown(self) -> None:
        for worker in self.workers:
            worker.shutdown()


class LayersWorkers:
    """One layers worker per scheduler thread (a thread takes one for good on its first
    job; ``call`` runs on that thread)."""

    def __init__(self, count: int, processes: bool) -> None:
        self.coarse_busy: Any = _SPAWN.RawValue("b", 0)
        self.running: Any = _SPAWN.RawValue("i", 0)  # pictures computing now
        self._all: list[tuple[Child | InThread, Any]] = []
        for index in range(count):
            abandon = _SPAWN.RawValue("b", 0)
            if processes:
                child: Child | InThread = Child(
                    f"deepscope-layers-{index}",
                    _serve_layers,
                    abandon,
                    self.coarse_busy,
                    self.running,
                )
            else:
                child = InThread(LayersHandler(abandon, self.coarse_busy).handle)
            self._all.append((child, abandon))
        self._free = list(self._all)
        self._local = threading.local()
        self._lock = threading.Lock()

    def start(self) -> None:
        for child, _ in self._all:
            child.start()

    def _mine(self) -> tuple[Child | InThread, Any]:
        mine: tuple[Child | InThread, Any] | None = getattr(self._local, "worker", None)
        if mine is None:
            with self._lock:
                mine = self._free.pop(0)
            self._local.worker = mine
        return mine

    def run(self, job: LayersJob, bind: Callable[[Any], None]) -> tuple[str, int, float] | None:
        """On a scheduler thread: the picture, or None if abandoned meanwhile. ``bind``
        gets the worker's shared abandon flag first (setting ``flag.value = 1`` stops the
        work after its current layer)."""
        child, flag = self._mine()
        flag.value = 0
        bind(flag)
        reply = child.call(job)
        if isinstance(reply, Refused):
            raise reply.error()
        if isinstance(reply, LabError):
            raise reply
        return reply  # type: ignore[no-any-return]

    def set_coarse_busy(self, busy: bool) -> None:
        self.coarse_busy.value = 1 if busy else 0

    def shutdown(self) -> None:
        for child, _ in self._all:
            child.stop()
