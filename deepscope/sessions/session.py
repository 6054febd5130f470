"""One WebSocket session: a receive task, a compute task and a send task.

* The receive task reads messages, enforces the size and rate limits, parses and
  validates them (an ``error`` frame for anything bad; the connection stays
  usable) and records what the client wants: the latest configuration (a slider
  storm is coalesced: only the newest is computed), play/pause, steps, reset.
* The compute task turns wishes into frames, and paces streaming labs to their frame
  rate: a streaming lab's run lives in a frame worker process (``workers``), the
  layers lab's pictures come from ``layers_service``; the event loop never runs NumPy.
* The send task writes the newest frame (a one-slot mailbox: a slow reader gets
  the latest picture, never a growing queue) after any status or error messages,
  and drops a client that has not read anything for ``stalled_reader_s``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from .. import __version__
from ..engine.text import Text
from ..protocol import (
    MAX_UPLOAD_MESSAGE_BYTES,
    ClassCreate,
    ClassExplore,
    ClassFollow,
    ClassHandin,
    ClassJoin,
    ClassResume,
    ClassShow,
    ClassSide,
    ClassTask,
    ClassView,
    ClientMessage,
    ConfigureDescend,
    ConfigureLayers,
    ConfigureTrain,
    DatasetInfo,
    DatasetUpload,
    Hello,
    LabName,
    LayersRequest,
    Limits,
    Pause,
    Play,
    Problem,
    Reset,
    Status,
    StepMessage,
    error_message,
    frame_message,
)
from ..settings import Settings
from . import labs, problems
from .classroom import ClassError, ClassHub, Seat
from .compute import ComputePool
from .labs import InputError
from .layers_service import Detail, Job, Picture, plan
from .ratelimit import TokenBucket
from .runners import LayersRunner
from .uploads import UploadStore
from .workers import Framed, FrameWorker, Refused

log = logging.getLogger("deepscope.session")

CLIENT_MESSAGE: TypeAdapter[Any] = TypeAdapter(ClientMessage)
CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008
CLOSE_RESTART = 1012
MAX_PENDING_STEPS = 100_000
# A dataset message carries a whole file: it may be larger than the other messages.
UPLOAD_MESSAGE = re.compile(r'\s*\{\s*"type"\s*:\s*"dataset"')
_ids = itertools.count(1)
# The process's frame clock: a playing session's frames fall on its ticks (multiples of
# the frame period from here), so every session playing at one rate asks its frame worker
# at the same instants, the requests go in one round trip, and the races among them are
# stepped as one array program (``workers.FrameHandler``). Unaligned, a class's 25
# students a worker asked about half a race frame a round trip (their phases spread);
# aligned, about 24 (a replay of a class of 100, 2026-12-02).
_CLOCK = time.monotonic()


def on_tick(at: float, period: float) -> float:
    """The tick of the frame clock nearest to ``at`` (ticks every ``period`` seconds)."""
    return _CLOCK + round((at - _CLOCK) / period) * period


Configure = ConfigureLayers | ConfigureDescend | ConfigureTrain
ClassMessage = (
    ClassCreate
    | ClassJoin
    | ClassResume
    | ClassFollow
    | ClassExplore
    | ClassHandin
    | ClassShow
    | ClassTask
    | ClassView
)
LabMessage = Configure | Play | Pause | StepMessage | Reset


@dataclass(eq=False)
class Live:
    """The lab a session shows (a streaming lab's run itself lives in a frame worker)."""

    lab: LabName
    streaming: bool


class Transport(Protocol):
    """What a session needs from a WebSocket."""

    async def receive(self) -> str | None: ...  # None: the client went away

    async def send(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class Mailbox:
    """Messages in order, except that consecutive frames collapse to the newest one.

    A slow reader therefore always gets the latest picture, and never a status
    before the frame it follows. Frames have a slot each per side (a class's follower
    receives the teacher's compare mode side B too): a side's frame replaces only its own.
    """

    def __init__(self) -> None:
        # Bounded: a flood of bad messages from a client that does not read cannot
        # grow it (the oldest go first; the rate limit keeps this rare).
        self.control: deque[str] = deque(maxlen=256)
        self.frames: dict[str, str] = {}  # side → its newest frame, in arrival order
        self._ready = asyncio.Event()

    def put_control(self, text: str) -> None:
        if self.frames:  # keep the order: the frames go first
            self.control.extend(self.frames.values())
            self.frames.clear()
        self.control.append(text)
        self._ready.set()

    def put_frame(self, text: str, side: str = "a") -> None:
        self.frames.pop(side, None)  # (its place in the order is the newest's)
        self.frames[side] = text
        self._ready.set()

    async def get(self) -> str:
        while True:
            if self.control:
                return self.control.popleft()
            if self.frames:
                side = next(iter(self.frames))
                return self.frames.pop(side)
            self._ready.clear()
            await self._ready.wait()


# A message's loc starts with its type tag, then (configure) its lab tag.
MESSAGE_TAGS = (
    frozenset(
        {
            "configure",
            "play",
            "pause",
            "step",
            "reset",
            "dataset",
            "class_create",
            "class_join",
            "class_resume",
            "class_follow",
            "class_explore",
            "class_handin",
            "class_show",
            "class_task",
            "class_view",
        }
    ),
    frozenset({"layers", "descend", "train"}),
)


def message_problems(err: ValidationError) -> list[Problem]:
    """A message's validation errors, their fields without the tags pydantic puts in loc."""
    return problems.problems(err.errors(), MESSAGE_TAGS, whole="message")


class Session:
    def __init__(
        self,
        transport: Transport,
        settings: Settings,
        pool: ComputePool,
        max_sessions: int,
        uploads: UploadStore | None = None,
        classes: ClassHub | None = None,
        address: str = "local",
        base_url: str = "http://127.0.0.1:8000",
    ) -> None:
        self.id = f"s{next(_ids)}"
        self.classes = classes
        self.address = address  # the client's (class join attempts are throttled by it)
        self.base_url = base_url  # the address the client used (a class's join address)
        self.seat: Seat | None = None
        self.uploads = uploads if uploads is not None else UploadStore()
        self.transport = transport
        self.settings = settings
        self.pool = pool
        self.max_sessions = max_sessions
        self.mailbox = Mailbox()
        self.bucket = TokenBucket(settings.rate_limit_per_s, settings.rate_limit_burst)
        self.wake = asyncio.Event()
        self.closed = asyncio.Event()
        # What the client wants (written by the receiver, read by the compute task):
        self.pending: Configure | None = None
        self.config_seq = 0
        self.current: Configure | None = None
        self.current_seq = 0
        self.runner: Live | None = None
        self.worker: FrameWorker | None = None  # where this session's streaming runs live
        self.playing = False
        self.pending_steps = 0
        self.reset_requested = False
        self.frame_seq = 0
        self.last_step = 0
        self.started = time.monotonic()
        self.last_picture: Picture | None = None
        self.dragged_at = -math.inf  # a dragged thumb's last configure (time.monotonic)

    # --- lifecycle ----------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until the client leaves or the session is closed."""
        hello = Hello(
            version=__version__,
            session=self.id,
            worker=os.getpid(),
            limits=Limits(
                max_message_bytes=self.settings.max_message_bytes,
                rate_limit_per_s=self.settings.rate_limit_per_s,
                rate_limit_burst=self.settings.rate_limit_burst,
                max_fps=self.settings.max_fps,
                max_sessions=self.max_sessions,
            ),
        )
        self.mailbox.put_control(hello.model_dump_json())
        tasks = [
            asyncio.create_task(self._receive(), name=f"{self.id}-receive"),
            asyncio.create_task(self._compute(), name=f"{self.id}-compute"),
            asyncio.create_task(self._send(), name=f"{self.id}-send"),
            asyncio.create_task(self.closed.wait(), name=f"{self.id}-closed"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            self.uploads.drop(self.id)  # a session's uploads end with it (even if cancelled)
            if self.classes is not None:
                self.classes.leave(self)  # (before any await: a cancelled task may not get further)
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.worker is not None:
                self.pool.frames.leave(self.worker, self.id)
                self.worker = None

    async def close(self, code: int, reason: str) -> None:
        """Close the connection once (from any task, or at shutdown)."""
        if self.closed.is_set():
            return
        self.closed.set()
        try:
            await self.transport.close(code, reason)
        except Exception:  # the socket may already be gone
            log.debug("close of %s failed", self.id, exc_info=True)

    # --- receive ----------------------------------------------------------------

    async def _receive(self) -> None:
        limit = self.settings.max_message_bytes
        throttled_at = 0.0
        while True:
            text = await self.transport.receive()
            if text is None:
                return
            allowed = MAX_UPLOAD_MESSAGE_BYTES if UPLOAD_MESSAGE.match(text[:64]) else limit
            if len(text) > allowed or len(text.encode("utf-8")) > allowed:
                await self.close(CLOSE_TOO_BIG, f"message over {allowed} bytes")
                return
            wait = self.bucket.wait_time()
            if wait > 0:
                # Over the rate limit: stop reading for a while (the client's sends
                # back up in its socket); tell it once a second.
                now = time.monotonic()
                if now - throttled_at > 1.0:
                    throttled_at = now
                    self._error("rate_limited", "too many messages: slowing down")
                await asyncio.sleep(wait)
            self.bucket.take()
            later = self._handle(text)
            if isinstance(later, DatasetUpload):  # parsed before any later message: in order
                await self._upload(later)
            elif later is not None:
                await self._class(later)

    async def _upload(self, message: DatasetUpload) -> None:
        try:
            table = await self.pool.run(labs.parse_upload, message)
        except InputError as err:
            self._error("invalid", str(err), [err.problem()])
            return
        self.uploads.put(self.id, table)
        info = DatasetInfo(**labs.dataset_response(table).model_dump())
        self.mailbox.put_control(info.model_dump_json())

    def _handle(self, text: str) -> DatasetUpload | ClassMessage | None:
        try:
            message = CLIENT_MESSAGE.validate_json(text)
        except ValidationError as err:
            if any(e.get("type") == "json_invalid" for e in err.errors()):
                found = [Problem(field="message", code="json_invalid", message="not valid JSON")]
                self._error("bad_json", "the message is not valid JSON", found)
            else:
                found = message_problems(err)
                self._error("invalid", problems.describe(found), found)
            return None
        if isinstance(message, DatasetUpload | ClassMessage):
            return message
        if self.following and isinstance(message, LabMessage):
            self._error(
                "not_teacher",
                "you follow the teacher: choose 'Explore on my own' to change the lab",
            )
            return None
        if isinstance(message, ConfigureLayers | ConfigureDescend | ConfigureTrain):
            self.pending = message
            self.config_seq += 1
        elif isinstance(message, Play):
            if self.config_seq == 0 and self.current is None:  # (a configure computing counts)
                self._error("no_lab", "configure a lab before play")
                return None
            self.playing = True
            self.pending_steps = 0
        elif isinstance(message, Pause):
            self.playing = False
            self.pending_steps = 0
            self._status("paused", "paused")
        elif isinstance(message, StepMessage):
            if self.config_seq == 0 and self.current is None:  # (a copied run counts too)
                self._error("no_lab", "configure a lab before step")
                return None
            self.playing = False
            self.pending_steps = min(self.pending_steps + message.n, MAX_PENDING_STEPS)
        elif isinstance(message, Reset):
            self.reset_requested = True
            self.playing = False
            self.pending_steps = 0
        self.wake.set()
        return None

    # --- classes ----------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self.seat is not None and self.seat.mode == "follow"

    @property
    def teaching(self) -> bool:
        return self.seat is not None and self.seat.mode == "teacher"

    def deliver(self, text: str, frame: bool, side: ClassSide = "a") -> None:
        """A class's message for this client (a frame: the newest of its side wins)."""
        if frame:
            self.mailbox.put_frame(text, side)
        else:
            self.mailbox.put_control(text)

    def seated(self, seat: Seat | None) -> None:
        self.seat = seat
        if seat is not None and seat.mode == "follow":
            # Its own lab stands still: the teacher's frames come instead.
            self.playing = False
            self.pending_steps = 0
            self.pending = None
            self.wake.set()

    async def fork_from(self, other: object) -> bool:
        """This session's lab becomes a copy of ``other``'s (a session of this process)
        where it stands: a streaming run copied in its frame worker, at its step."""
        if not isinstance(other, Session) or other.current is None or other.runner is None:
            return False
        self.playing, self.pending_steps, self.pending = False, 0, None
        if not other.runner.streaming:  # the layers lab: its picture is the state
            self.current, self.runner = other.current, Live(other.runner.lab, False)
            self.current_seq, self.last_picture = self.config_seq, other.last_picture
            return True
        source = other.worker
        if source is None:
            return False
        if self.worker is not None and self.worker is not source:
            self.pool.frames.leave(self.worker, self.id)
            self.worker = None
        if self.worker is None:
            self.worker = self.pool.frames.join(source)
        reply = await source.ask("fork", self.id, other.id)
        if reply is not True:
            log.info("session %s: could not copy %s's run: %s", self.id, other.id, reply)
            return False
        self.current, self.runner = other.current, Live(other.runner.lab, True)
        self.current_seq, self.last_step = self.config_seq, other.last_step
        self._status("paused", "your own copy", self.last_step)
        return True

    async def _class(self, message: ClassMessage) -> None:
        hub = self.classes
        if hub is None:
            self._error("no_class", "this server has no classes")
            return
        try:
            if isinstance(message, ClassCreate):
                await hub.create(self, self.base_url)
            elif isinstance(message, ClassJoin):
                await hub.join(self, message.code)
            elif isinstance(message, ClassResume):
                await hub.resume(
                    self, message.code, message.teacher_key, self.base_url, message.side
                )
            elif isinstance(message, ClassFollow):
                await hub.follow(self)
            elif isinstance(message, ClassExplore):
                await hub.explore(self)
            elif isinstance(message, ClassHandin):
                await hub.handin(self, message)
            elif isinstance(message, ClassShow):
                await hub.show(self, message.handin)
            elif isinstance(message, ClassTask):
                await hub.task(self, message)
            else:
                await hub.view(self, message.state)
        except ClassError as err:
            self.mailbox.put_control(err.wire())
        except Exception:
            log.exception("session %s: %s failed", self.id, message.type)
            self._error("internal", "the class could not do that; try again")

    # --- compute ----------------------------------------------------------------

    async def _compute(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.pending is not None or self.reset_requested:
                await self._configure()
                continue
            runner = self.runner
            if runner is None or not runner.streaming:
                self.pending_steps = 0
                continue
            if self.playing:
                self._status("running", "playing")
                await self._play(runner)
            elif self.pending_steps:
                n, self.pending_steps = self.pending_steps, 0
                if await self._advance(runner, n, views=True):
                    self._status("paused", f"stepped {n}", self.last_step)

    async def _configure(self) -> None:
        message = self.pending or self.current
        self.pending = None
        self.reset_requested = False
        if message is None:
            return
        seq = self.config_seq
        if isinstance(message, ConfigureLayers):
            await self._configure_layers(message, seq)
            return
        try:  # an uploaded dataset is looked up here, where the session's uploads live
            table = (
                labs.train_table(message.config, lambda i: self.uploads.get(self.id, i))
                if isinstance(message, ConfigureTrain)
                else None
            )
        except ValueError as err:  # (InputError too: it names the field)
            self._refuse(err)
            return
        if self.worker is None:
            self.worker = self.pool.frames.place()
        reply = await self.worker.ask("start", self.id, message, table)
        if isinstance(reply, Refused):  # (an InputError names the field)
            self._refuse(reply.error())
            return
        if not isinstance(reply, Framed):
            log.warning("session %s: configure failed: %s", self.id, reply)
            self._error("internal", "the lab failed to start; try other settings")
            return
        runner = Live(message.lab, streaming=True)
        self.current, self.runner, self.current_seq = message, runner, seq
        self._framed(runner.lab, reply, seq, restart=True)
        if runner.streaming:
            if self.playing:
                self.wake.set()  # keep playing the new configuration
            else:
                self._status("paused", "ready")

    # --- the layers lab: coarse first, computed once for the whole server ----------

    async def _configure_layers(self, message: ConfigureLayers, seq: int) -> None:
        """The coarse frame (when the batch is large), then the complete one.

        While a slider is dragged (``options.drag``) the complete frame waits until
        no newer configure has come for ``drag_settle_s``. A newer configure (or a
        reset) abandons whatever this one still waits for — except a dragged thumb's
        coarse frame in flight: it costs an eighth of the complete one and is what the
        student sees move, so it is finished and shown (a thumb that moves faster than
        a coarse frame computes would otherwise show nothing until it stops); the
        newest configuration is computed next.
        """
        try:
            LayersRunner(message)  # validates the sizes against the ceiling
        except ValueError as err:  # (InputError too: it names the field)
            self._refuse(err)
            return
        self.current, self.runner, self.current_seq = message, Live("layers", False), seq
        req = message.config
        # A slider at rest: its complete picture is asked for at once, beside the coarse
        # one (which goes first: complete work pauses between layers while coarse runs),
        # so that it does not wait for the coarse frame to start.
        ahead: Job | Picture | None = None
        # A thumb just let go: its last coarse frame is on screen already, so its release
        # goes straight to the complete picture (its coarse frame would only delay it).
        released = not message.options.drag and time.monotonic() - self.dragged_at < 1.0
        try:
            if plan(req) is not None and not released:
                if not message.options.drag:
                    ahead = self.pool.layers.request(self.id, req, "complete")
                coarse = await self._picture(req, "coarse", finish=message.options.drag)
                if coarse is None:
                    return
                if coarse is not self.last_picture:  # (already on screen after a drag)
                    self._post_picture(coarse, seq)
                if self._superseded():
                    return
                if message.options.drag and not await self._rests(self.settings.drag_settle_s):
                    return
            got, ahead = ahead, None  # (from here on _picture releases it)
            complete = await self._picture(req, "complete", got)
            if complete is not None:
                self._post_picture(complete, seq)
        except ValueError as err:
            self._refuse(err)
        except Exception:
            log.exception("session %s: layers picture failed", self.id)
            self._error("internal", "the lab failed to start; try other settings")
        finally:
            if isinstance(ahead, Job) and not ahead.future.done():
                self.pool.layers.release(self.id, ahead)
            if message.options.drag:  # (when its work ended: a cold start may be slow)
                self.dragged_at = time.monotonic()

    def _refuse(self, err: ValueError) -> None:
        """A configuration the lab cannot run: an error naming the field, when known."""
        if isinstance(err, InputError):  # (a stream option's field is named as it is)
            prefix = "" if err.field.startswith("options.") else "config."
            self._error("invalid", f"{prefix}{err}", [err.problem(prefix)])
        else:
            self._error("invalid", str(err))

    def _superseded(self) -> bool:
        return self.pending is not None or self.reset_requested

    async def _picture(
        self,
        req: LayersRequest,
        detail: Detail,
        got: Job | Picture | None = None,
        finish: bool = False,
    ) -> Picture | None:
        """The shared picture, or None once a newer configure or a reset makes it unwanted
        (``got``: asked for already; ``finish``: the picture anyway when its work has
        started and the newer configure is a dragged thumb's too). A job it stops waiting
        for is released."""
        service = self.pool.layers
        if got is None:
            got = service.request(self.id, req, detail)
        if isinstance(got, Picture):
            return got
        job = got
        try:
            while not self._superseded():
                woken = asyncio.ensure_future(self.wake.wait())
                either: set[asyncio.Future[Any]] = {job.future, woken}
                done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if job.future in done:
                    return job.future.result()
                if not self._superseded():
                    self.wake.clear()  # play, pause or step: nothing for this lab
            # (finished only for the thumb's next position: its release wants the complete
            # picture of where it stopped as soon as it can be had)
            after = self.pending
            if finish and job.running and isinstance(after, ConfigureLayers) and after.options.drag:
                return await job.future
            return None
        finally:
            if not job.future.done():
                service.release(self.id, job)

    async def _rests(self, seconds: float) -> bool:
        """True once no configure or reset has come for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and not self._superseded():
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=left)
            except TimeoutError:
                break
            if not self._superseded():
                self.wake.clear()
        return not self._superseded()

    def _post_picture(self, picture: Picture, config_seq: int) -> None:
        self.last_picture = picture
        self._post_frame(
            "layers", 0, picture.compute_ms, config_seq, picture.data_json, restart=True
        )

    def _interrupted(self, runner: Live) -> bool:
        return (
            self.pending is not None
            or self.reset_requested
            or not self.playing
            or self.runner is not runner
        )

    async def _play(self, runner: Live) -> None:
        assert self.current is not None
        period = 1.0 / min(self.current.options.fps, self.settings.max_fps)
        next_at = time.monotonic()
        while not self._interrupted(runner):
            if not await self._advance(runner, self.current.options.steps_per_frame):
                return
            next_at = on_tick(max(next_at + period, time.monotonic() - period), period)
            # Wait for the next frame's time; any message wakes us to look at it.
            while (delay := next_at - time.monotonic()) > 0:
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=delay)
                except TimeoutError:
                    break
                self.wake.clear()
                if self._interrupted(runner):
                    self.wake.set()  # let the compute loop handle it
                    return

    async def _advance(self, runner: Live, n: int, views: bool = False) -> bool:
        """Advance and post a frame; False if the run ended or failed. ``views``: the
        frame carries every view (a step the student asked for)."""
        assert self.worker is not None
        reply = await self.worker.ask("advance", self.id, n, views)
        if self.runner is not runner:  # reconfigured meanwhile: stale
            return False
        if not isinstance(reply, Framed):
            log.warning("session %s: step failed: %s", self.id, reply)
            self.playing = False
            self._error("internal", "the lab failed while running; it is paused")
            self._status("paused", "error")
            return False
        self._framed(runner.lab, reply, self.current_seq)
        if reply.ended is not None:
            self.playing = False
            self._status(reply.ended, reply.reason, reply.step, reply.reason_text)
            return False
        return True

    # --- output -------------------------------------------------------------------

    def _framed(self, lab: LabName, framed: Framed, config_seq: int, restart: bool = False) -> None:
        self.pool.frames.account(lab, framed)
        self._post_frame(lab, framed.step, framed.compute_ms, config_seq, framed.data_json, restart)

    def _post_frame(
        self,
        lab: LabName,
        step: int,
        ms: float,
        config_seq: int,
        data_json: str,
        restart: bool = False,
    ) -> None:
        """``restart``: the first frame of a picture (a late follower needs none before)."""
        self.frame_seq += 1
        self.last_step = step
        text = frame_message(lab, self.frame_seq, config_seq, step, round(ms, 2), data_json)
        self.mailbox.put_frame(text)
        if self.teaching and self.classes is not None:  # the same string to every follower
            self.classes.teacher_message(self, text, frame=True, restart=restart)

    def _status(
        self, state: str, reason: str, step: int | None = None, text: Text | None = None
    ) -> None:
        lab = self.runner.lab if self.runner is not None else None
        status = Status.model_validate(
            {
                "state": state,
                "reason": reason,
                "reason_text": None if text is None else {"key": text.key, "vars": text.vars},
                "lab": lab,
                "step": step or 0,
            }
        )
        wire = status.model_dump_json()
        self.mailbox.put_control(wire)
        if self.teaching and self.classes is not None:
            self.classes.teacher_message(self, wire, frame=False, restart=False)

    def _error(self, code: str, message: str, found: list[Problem] | None = None) -> None:
        self.mailbox.put_control(error_message(code, message, found))

    # --- send -------------------------------------------------------------------

    async def _send(self) -> None:
        timeout = self.settings.stalled_reader_s
        while True:
            text = await self.mailbox.get()
            try:
                await asyncio.wait_for(self.transport.send(text), timeout=timeout)
            except TimeoutError:
                await self.close(CLOSE_POLICY, f"the client read nothing for {timeout:g} s")
                return
