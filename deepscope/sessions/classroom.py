"""Classes: a teacher leads, every student's page follows; one computation for all.

A class is a code (short, from an unambiguous alphabet), a secret teacher key and a
set of seats — one per connection in it: the teacher's, and each student's, who
*follows* (mirrors the teacher's page and receives the teacher's frames) or
*explores* (their own session, started from the teacher's state; they may hand it
in). The teacher drives the class with the ordinary lab messages on its own
connection: its session computes each frame once, and the very string it sends
its own page is put in every follower's one-slot mailbox (``Member.deliver``) —
no computation and no encoding per follower. Messages since the teacher's last
configuration are kept (``ClassStore.log``) so a student who joins late sees the
whole picture (a race's path from its start, a training run's data points).

The class's shared facts live in a ``ClassStore``: this process's memory, or Redis
when classes span server processes (``--redis``); then the teacher's process
publishes each message once on the class's channel and every process with members
delivers it to its own followers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..protocol import (
    CLASS_CODE_ALPHABET,
    CLASS_CODE_LENGTH,
    ClassCreated,
    ClassEnded,
    ClassHandin,
    ClassHandins,
    ClassJoined,
    ClassMode,
    ClassSide,
    ClassState,
    ClassTask,
    ClassViewOut,
    Handin,
    TaskCount,
    error_message,
    side_message,
)
from ..settings import Settings
from .classstore import ClassStore, MemoryStore
from .ratelimit import TokenBucket

log = logging.getLogger("deepscope.classes")

COUNTS_SETTLE_S = 0.25  # a join storm is counted once it settles
MAX_ADDRESSES = 4096  # join throttles kept (the least recently used go first)


class Member(Protocol):
    """What a class needs from a session."""

    id: str
    address: str  # the client's address (join attempts are throttled per address)

    def deliver(self, text: str, frame: bool, side: ClassSide = "a") -> None:
        """Queue a message: a frame (the newest of its side wins) or a control (in order)."""
        ...

    def seated(self, seat: Seat | None) -> None:
        """The member's place changed (None: out of any class)."""
        ...

    async def fork_from(self, other: Member) -> bool:
        """Make this member's lab a copy of ``other``'s, where it stands (False: not here,
        or nothing to copy; the member's page then configures its own from the start)."""
        ...


@dataclass(eq=False)
class Seat:
    code: str
    mode: ClassMode
    member: Member
    digest: str = ""  # the teacher's: the key's digest it proved
    # The teacher's: "b" for the second session of its page in compare mode (side B).
    side: ClassSide = "a"
    # While a (re)joining member is sent what it missed: live messages wait here.
    catching_up: list[tuple[str, bool, ClassSide]] | None = None

    def deliver(self, text: str, frame: bool, side: ClassSide = "a") -> None:
        if self.catching_up is not None:
            self.catching_up.append((text, frame, side))
        else:
            self.member.deliver(text, frame, side)


@dataclass(eq=False)
class LocalClass:
    """This process's part of a class: its seats here and its pending work."""

    code: str
    seats: set[Seat] = field(default_factory=set)
    teacher: Seat | None = None
    teacher_b: Seat | None = None  # the teacher page's compare mode side B
    # (kind, text, is a frame, side): the teacher's messages for the store and channel
    outbox: asyncio.Queue[tuple[str, str, bool, ClassSide]] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None
    counting: asyncio.Task[None] | None = None
    ending: asyncio.Task[None] | None = None
    publish_count: bool = False  # the pending recount publishes this process's members
    lesson_step: tuple[str, int] | None = None  # the teacher's, as its last view said
    forgetting: set[asyncio.Task[None]] = field(default_factory=set)

    def followers(self) -> list[Seat]:
        return [s for s in self.seats if s.mode == "follow"]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def normalize(code: str) -> str:
    """What the student typed as a code: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.upper() if ch not in " -_\t")


def new_code() -> str:
    return "".join(secrets.choice(CLASS_CODE_ALPHABET) for _ in range(CLASS_CODE_LENGTH))


def qr_svg(url: str) -> str:
    """A QR code of ``url`` as a standalone SVG element sized by its viewBox (segno
    draws it; with its namespace, so that a page can parse it as SVG)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", xmldecl=False, svgns=True, omitsize=True, nl=False, border=4, light="#fff"
    )
    return out.getvalue().decode("utf-8")


def _lesson_step(state: dict[str, Any]) -> tuple[str, int] | None:
    """The lesson and step of a page state (None: no lesson open)."""
    lesson, step = state.get("lesson"), state.get("step")
    if not isinstance(lesson, str) or not lesson or not isinstance(step, int):
        return None
    return lesson, step


class ClassError(Exception):
    """A class message refused: ``code`` is the error's code on the wire."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def wire(self) -> str:
        return error_message(self.code, self.message, field=self.field)


class ClassHub:
    """Every class this server process takes part in."""

    def __init__(self, settings: Settings, store: ClassStore | None = None) -> None:
        self.settings = settings
        self.store: ClassStore = store if store is not None else MemoryStore()
        self.local: dict[str, LocalClass] = {}
        self.seats: dict[str, Seat] = {}  # member id → its seat
        self.throttles: OrderedDict[str, TokenBucket] = OrderedDict()
        self.fanout_ns = 0  # time spent putting the teacher's messages in followers' mailboxes
        self.fanout_deliveries = 0

    async def start(self) -> None:
        await self.store.start(self._remote)

    async def close(self) -> None:
        for local in list(self.local.values()):
            for task in (local.writer, local.counting, local.ending):
                if task is not None:
                    task.cancel()
        await self.store.close()

    def seat_of(self, member: Member) -> Seat | None:
        return self.seats.get(member.id)

    # --- throttles and checks --------------------------------------------------------

    def _throttle(self, member: Member) -> None:
        per_min = self.settings.class_join_per_min
        bucket = self.throttles.get(member.address)
        if bucket is None:
            bucket = TokenBucket(per_min / 60.0, max(1, round(per_min / 2)))
            self.throttles[member.address] = bucket
            while len(self.throttles) > MAX_ADDRESSES:
                self.throttles.popitem(last=False)
        self.throttles.move_to_end(member.address)
        if bucket.wait_time() > 0:
            raise ClassError(
                "rate_limited",
                f"too many class attempts from this address: wait {bucket.wait_time():.0f} s",
                "code",
            )
        bucket.take()

    async def _teacher(self, member: Member) -> Seat:
        """The member's seat if it is its class's teacher, its key still the class's."""
        seat = self.seat_of(member)
        if seat is None or seat.mode != "teacher":
            raise ClassError("not_teacher", "only the class's teacher can do that")
        found = await self.store.digest(seat.code)
        if found is None or not hmac.compare_digest(found, seat.digest):
            raise ClassError("not_teacher", "this class has ended or its key changed")
        return seat

    def _local(self, code: str) -> LocalClass:
        local = self.local.get(code)
        if local is None:
            local = self.local[code] = LocalClass(code)
        return local

    # --- what members ask --------------------------------------------------------------

    async def create(self, member: Member, base_url: str) -> None:
        if self.settings.workers > 1 and isinstance(self.store, MemoryStore):
            raise ClassError(
                "invalid",
                "classes need --redis when the server runs --workers > 1 (the teacher and "
                "the students may land in different processes)",
            )
        self._throttle(member)
        self.leave(member)
        key = secrets.token_urlsafe(24)
        for _ in range(20):
            code = new_code()
            if await self.store.create(code, digest(key)):
                break
        else:  # pragma: no cover - 22⁶ codes
            raise ClassError("internal", "no free class code: try again")
        origins = self.settings.lan_origins or [base_url]
        urls = [f"{o.rstrip('/')}/?class={code}" for o in origins]
        seat = Seat(code, "teacher", member, digest=digest(key))
        self._sit(seat)
        local = self._local(code)
        local.teacher = seat
        await self.store.watch(code)  # (the counts and hand-ins of other processes)
        created = ClassCreated(code=code, teacher_key=key, join_urls=urls, qr_svg=qr_svg(urls[0]))
        member.deliver(created.model_dump_json(), False)
        log.info("class %s created by %s", code, member.id)
        self._count(code)

    async def resume(
        self, member: Member, code: str, key: str, base_url: str, side: ClassSide = "a"
    ) -> None:
        self._throttle(member)
        code = normalize(code)
        found = await self.store.digest(code)
        if found is None or not hmac.compare_digest(found, digest(key)):
            raise ClassError("not_teacher", "no class with this code and teacher key", "code")
        self.leave(member)
        local = self._local(code)
        if side == "b":  # the teacher page's compare mode: its second session
            if local.teacher_b is not None:
                self._unseat_b(local)
            seat = Seat(code, "teacher", member, digest=found, side="b")
            self._sit(seat)
            local.teacher_b = seat
            await self.store.watch(code)
            member.deliver(ClassJoined(code=code, mode="teacher").model_dump_json(), False)
            return
        if local.teacher is not None:  # the teacher's other screen follows from now on
            self._demote(local.teacher)
        await self.store.publish(code, "teacher", "")
        await self.store.set_teacher_present(code, True)
        seat = Seat(code, "teacher", member, digest=found)
        self._sit(seat)
        local.teacher = seat
        await self.store.watch(code)
        if local.ending is not None:
            local.ending.cancel()
            local.ending = None
        origins = self.settings.lan_origins or [base_url]
        urls = [f"{o.rstrip('/')}/?class={code}" for o in origins]
        created = ClassCreated(code=code, teacher_key=key, join_urls=urls, qr_svg=qr_svg(urls[0]))
        member.deliver(created.model_dump_json(), False)
        await self._send_handins(code)
        self._count(code, publish=True)

    async def join(self, member: Member, code: str) -> None:
        self._throttle(member)
        code = normalize(code)
        if await self.store.digest(code) is None:
            raise ClassError("no_class", f"no class has the code {code!r}", "code")
        seat = self.seat_of(member)
        if seat is not None and seat.code == code and seat.mode != "teacher":
            await self.follow(member)
            return
        followers, explorers = await self.store.members(code)
        if followers + explorers >= self.settings.class_max_members:
            raise ClassError(
                "class_full", f"the class is full ({self.settings.class_max_members} students)"
            )
        self.leave(member)
        seat = Seat(code, "follow", member)
        await self._catch_up(seat, lambda: self._sit(seat))
        self._count(code)

    async def follow(self, member: Member) -> None:
        seat = self.seat_of(member)
        if seat is None or seat.mode == "teacher":
            raise ClassError("no_class", "join a class first (its code)", "code")
        if seat.mode == "follow":
            return
        seat.mode = "follow"
        member.seated(seat)
        await self._catch_up(seat, lambda: None)
        self._count(seat.code)

    async def explore(self, member: Member) -> None:
        seat = self.seat_of(member)
        if seat is None or seat.mode == "teacher":
            raise ClassError("no_class", "join a class first (its code)", "code")
        seat.mode = "explore"
        seat.catching_up = None
        member.seated(seat)
        # From the teacher's current state: the run itself, at its step, when the teacher
        # is in this process (else the page starts the teacher's configuration afresh).
        local = self.local.get(seat.code)
        teacher = local.teacher.member if local is not None and local.teacher else None
        forked = teacher is not None and await member.fork_from(teacher)
        joined = ClassJoined(code=seat.code, mode="explore", forked=forked)
        member.deliver(joined.model_dump_json(), False)
        self._count(seat.code)

    async def handin(self, member: Member, message: ClassHandin) -> None:
        seat = self.seat_of(member)
        if seat is None or seat.mode != "explore":
            raise ClassError("invalid", "hand in while exploring on your own", "type")
        lab = message.state.get("lab")

        def make(n: int) -> str:
            return Handin(
                id=n,
                name=message.name.strip(),
                note=message.note.strip(),
                lab=lab if isinstance(lab, str) else "",
                at=round(time.time(), 3),
                state=message.state,
            ).model_dump_json()

        await self.store.add_handin(seat.code, make, self.settings.class_max_handins)
        await self.store.publish(seat.code, "handins", "")
        await self._send_handins(seat.code)

    async def task(self, member: Member, message: ClassTask) -> None:
        """A student did (or undid) a lesson step's task: the counts go out again."""
        seat = self.seat_of(member)
        if seat is None or seat.mode == "teacher":
            raise ClassError("invalid", "only a student in a class reports a task done", "type")
        key = f"{message.lesson}:{message.step}"
        await self.store.set_task(seat.code, key, member.id, message.done)
        self._count(seat.code)

    async def show(self, member: Member, handin: int) -> None:
        seat = await self._teacher(member)
        for text in await self.store.handins(seat.code):
            found = Handin.model_validate_json(text)
            if found.id == handin:
                out = ClassViewOut(code=seat.code, state=found.state, handin=found.id)
                member.deliver(out.model_dump_json(), False)
                return
        raise ClassError("invalid", f"no hand-in {handin} in this class", "handin")

    async def view(self, member: Member, state: dict[str, Any]) -> None:
        seat = await self._teacher(member)
        text = ClassViewOut(code=seat.code, state=state).model_dump_json()
        await self.store.set_view(seat.code, text)
        local = self._local(seat.code)
        now = _lesson_step(state)
        if now != local.lesson_step:  # a new step: its count goes out with the counts
            local.lesson_step = now
            self._count(seat.code)
        self._fan_out(seat.code, text, frame=False)
        self._local(seat.code).outbox.put_nowait(("view", text, False, "a"))
        self._write(seat.code)

    def leave(self, member: Member) -> None:
        """The member leaves its class (a teacher's class ends ``class_linger_s`` later).

        Synchronous: a session calls it while it is being cancelled, where it cannot wait."""
        seat = self.seats.pop(member.id, None)
        if seat is None:
            return
        local = self._local(seat.code)
        local.seats.discard(seat)
        member.seated(None)
        if local.teacher_b is seat:  # compare mode closed: side B is gone for late joiners
            local.teacher_b = None
            local.outbox.put_nowait(("clear", "", False, "b"))
            self._write(seat.code)
            return
        if local.teacher is seat:
            local.teacher = None
            local.ending = asyncio.create_task(self._teacher_left(seat.code))
        if seat.mode == "teacher":
            self._count(seat.code, publish=True)
            return
        # A student's tasks no longer count (a reload joins anew): forgotten, then counted.
        task = asyncio.create_task(self._forget(seat.code, member.id))
        local.forgetting.add(task)
        task.add_done_callback(local.forgetting.discard)

    async def _forget(self, code: str, member: str) -> None:
        try:
            await self.store.forget_member(code, member)
        except Exception:
            log.warning("class %s: forgetting a member's tasks failed", code, exc_info=True)
        self._count(code, publish=True)

    async def _teacher_left(self, code: str) -> None:
        await self.store.set_teacher_present(code, False)
        await self._end_later(code, self.settings.class_linger_s)

    # --- the teacher's messages, to every follower -------------------------------------

    def teacher_message(self, member: Member, text: str, frame: bool, restart: bool) -> None:
        """A message the teacher's session sent its own page, for the followers too (side
        B's wrapped once as ``class_side``).

        ``restart``: the first message of a new picture (a configuration's first frame, a
        layers picture): a late joiner needs nothing before it (of that side)."""
        seat = self.seats.get(member.id)
        if seat is None or seat.mode != "teacher":
            return
        side = seat.side
        if side != "a":
            text = side_message(text, side)
        self._fan_out(seat.code, text, frame, side)
        kind = "restart" if restart else "append"
        self._local(seat.code).outbox.put_nowait((kind, text, frame, side))
        self._write(seat.code)

    def _fan_out(self, code: str, text: str, frame: bool, side: ClassSide = "a") -> None:
        local = self.local.get(code)
        if local is None:
            return
        started = time.perf_counter_ns()
        n = 0
        for seat in local.seats:
            if seat.mode == "follow":
                seat.deliver(text, frame, side)
                n += 1
        self.fanout_ns += time.perf_counter_ns() - started
        self.fanout_deliveries += n

    def _write(self, code: str) -> None:
        local = self._local(code)
        if local.writer is None or local.writer.done():
            local.writer = asyncio.create_task(self._writer(local), name=f"class-{code}-writer")

    async def _writer(self, local: LocalClass) -> None:
        """The teacher's messages into the store and onto the channel, in order."""
        code = local.code
        while not local.outbox.empty():
            kind, text, frame, side = local.outbox.get_nowait()
            try:
                if kind == "view":
                    await self.store.publish(code, "view", text)
                    continue
                if kind == "clear":
                    await self.store.log_clear(code, side)
                    continue
                if kind == "restart":
                    await self.store.log_restart(code, text, side)
                else:
                    await self.store.log_append(code, text, side)
                channel = ("frame" if frame else "control") + ("" if side == "a" else f"_{side}")
                await self.store.publish(code, channel, text)
            except Exception:
                log.warning("class %s: the store refused a message", code, exc_info=True)

    # --- catching up, counting, ending -------------------------------------------------

    def _sit(self, seat: Seat) -> None:
        self.seats[seat.member.id] = seat
        self._local(seat.code).seats.add(seat)
        seat.member.seated(seat)

    def _demote(self, seat: Seat) -> None:
        """A teacher's seat whose teacher opened the class elsewhere: it follows now (and
        its page's side B, if it compares, leaves: the new screen brings its own)."""
        seat.mode, seat.digest = "follow", ""
        local = self._local(seat.code)
        if local.teacher is seat:
            local.teacher = None
        if local.teacher_b is not None:
            self._unseat_b(local)
        seat.member.seated(seat)
        seat.member.deliver(ClassJoined(code=seat.code, mode="follow").model_dump_json(), False)

    def _unseat_b(self, local: LocalClass) -> None:
        """The teacher page's side B is no longer the class's (a newer one, a new teacher)."""
        seat, local.teacher_b = local.teacher_b, None
        if seat is None:
            return
        self.seats.pop(seat.member.id, None)
        local.seats.discard(seat)
        seat.member.seated(None)
        local.outbox.put_nowait(("clear", "", False, "b"))
        self._write(local.code)

    async def _catch_up(self, seat: Seat, sit: Callable[[], None]) -> None:
        """``class_joined``, the teacher's page state and every message since its last
        configuration, then the live ones (held back meanwhile, never twice)."""
        seat.catching_up = []
        sit()
        await self.store.watch(seat.code)
        member = seat.member
        member.deliver(ClassJoined(code=seat.code, mode="follow").model_dump_json(), False)
        view = await self.store.view(seat.code)
        if view is not None:
            member.deliver(view, False)
        past = await self.store.log(seat.code)
        past_b = await self.store.log(seat.code, "b")  # (compare mode's side B, wrapped)
        for text in (*past, *past_b):
            member.deliver(text, False)  # in order: a race's frames add up
        held, seat.catching_up = seat.catching_up, None
        seen = {*past, *past_b}
        for text, frame, side in held or []:
            if text not in seen:
                member.deliver(text, frame, side)

    def _count(self, code: str, publish: bool = True) -> None:
        local = self._local(code)
        # A count to publish is never lost to a pending one that only reads (another
        # process's change): the recount publishes if any request since it began asked to.
        local.publish_count = local.publish_count or publish
        if local.counting is None or local.counting.done():
            local.counting = asyncio.create_task(self._recount(local))

    async def _recount(self, local: LocalClass) -> None:
        await asyncio.sleep(COUNTS_SETTLE_S)
        code = local.code
        publish, local.publish_count = local.publish_count, False
        try:
            if publish:
                followers = sum(1 for s in local.seats if s.mode == "follow")
                explorers = sum(1 for s in local.seats if s.mode == "explore")
                await self.store.set_members(code, followers, explorers)
                await self.store.publish(code, "state", "")
            await self._send_state(code)
        except Exception:
            log.warning("class %s: counting failed", code, exc_info=True)
        if not local.seats and local.teacher is None and local.ending is None:
            self.local.pop(code, None)
            await self.store.unwatch(code)

    async def _send_state(self, code: str) -> None:
        local = self.local.get(code)
        if local is None or not local.seats:
            return
        followers, explorers = await self.store.members(code)
        present = await self.store.teacher_present(code)
        completed = None
        view = await self.store.view(code)
        step = _lesson_step(ClassViewOut.model_validate_json(view).state) if view else None
        if step is not None:
            done = await self.store.tasks_done(code, f"{step[0]}:{step[1]}")
            completed = TaskCount(
                lesson=step[0], step=step[1], done=done, all=followers + explorers
            )
        text = ClassState(
            code=code,
            followers=followers,
            explorers=explorers,
            teacher_present=present,
            completed=completed,
        ).model_dump_json()
        for seat in local.seats:
            seat.member.deliver(text, False)

    async def _send_handins(self, code: str) -> None:
        local = self.local.get(code)
        if local is None or local.teacher is None:
            return
        found = [Handin.model_validate_json(t) for t in await self.store.handins(code)]
        out = ClassHandins(code=code, handins=found)
        local.teacher.member.deliver(out.model_dump_json(), False)

    async def _end_later(self, code: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if await self.store.teacher_present(code):
            return  # the teacher came back (perhaps to another process)
        await self.end(code, "teacher_left", "the teacher left and did not come back")

    async def end(self, code: str, why: str, reason: str) -> None:
        """The class is over: every member's page goes back to its own session."""
        text = ClassEnded.model_validate({"code": code, "why": why, "reason": reason})
        await self.store.publish(code, "ended", text.model_dump_json())
        await self.store.end(code)
        self._ended(code, text.model_dump_json())
        log.info("class %s ended: %s", code, reason)

    def _ended(self, code: str, text: str) -> None:
        local = self.local.pop(code, None)
        if local is None:
            return
        for seat in list(local.seats):
            self.seats.pop(seat.member.id, None)
            seat.member.seated(None)
            seat.member.deliver(text, False)
        for task in (local.writer, local.counting, local.ending):
            if task is not None and task is not asyncio.current_task():
                task.cancel()

    # --- messages from the other processes ---------------------------------------------

    async def _remote(self, code: str, origin: str, kind: str, payload: str) -> None:
        local = self.local.get(code)
        if local is None:
            return
        if kind in ("frame", "frame_b"):
            self._fan_out(code, payload, frame=True, side="b" if kind == "frame_b" else "a")
        elif kind in ("control", "control_b", "view"):
            self._fan_out(code, payload, frame=False)
        elif kind == "state":
            self._count(code, publish=False)
        elif kind == "handins":
            await self._send_handins(code)
        elif kind == "teacher":  # the teacher (re)opened the class in another process
            if local.teacher is not None:
                self._demote(local.teacher)
            if local.ending is not None:
                local.ending.cancel()
                local.ending = None
        elif kind == "ended":
            self._ended(code, payload)

    # --- for /healthz -----------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        per = self.fanout_ns / self.fanout_deliveries / 1e6 if self.fanout_deliveries else 0.0
        return {
            "classes": len(self.local),
            "members": len(self.seats),
            "store": type(self.store).__name__,
            "fanout_deliveries": self.fanout_deliveries,
            "fanout_ms_per_delivery": round(per, 5),
        }
