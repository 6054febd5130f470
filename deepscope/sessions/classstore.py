"""Where a class's shared state lives: this process's memory, or Redis.

A class's facts — its teacher key's digest, whether the teacher is present, the
teacher's page state, the messages since the teacher's last configuration (so a
late joiner sees the whole picture), the members counted by each server process,
the hand-ins — are kept by a store, and a class's messages reach the other server
processes through the store's ``publish``. ``MemoryStore`` holds one process's
classes (the default: every member of a class is then in this process, so
publishing reaches no one). ``RedisStore`` keeps them in Redis and publishes on a
Redis channel per class, so that with ``--workers N`` or several hosts the teacher
and the students of one class may land in different processes.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..protocol import ClassSide as Side

log = logging.getLogger("deepscope.classes")

# A class's messages to another process: (origin, kind, payload).
Deliver = Callable[[str, str, str, str], Awaitable[None]]  # (code, origin, kind, payload)

MAX_LOG_BYTES = 8 * 2**20  # what a late joiner is sent at most (the oldest frames go first)
KEY_TTL_S = 24 * 3600  # a class's keys in Redis vanish a day after the last write


@dataclass
class ClassFacts:
    digest: str  # sha256 of the teacher key (hex)
    created: float
    teacher_present: bool = True
    view: str | None = None
    # Per side: "a" the teacher's page, "b" its compare mode's second session.
    logs: dict[str, list[str]] = field(default_factory=dict)
    log_bytes: dict[str, int] = field(default_factory=dict)
    members: dict[str, tuple[int, int]] = field(default_factory=dict)  # origin → (f, e)
    handins: list[str] = field(default_factory=list)
    handin_seq: int = 0
    tasks: dict[str, set[str]] = field(default_factory=dict)  # "lesson:step" → members done


class ClassStore(Protocol):
    origin: str  # this process, as other processes see it

    async def start(self, deliver: Deliver) -> None: ...

    async def close(self) -> None: ...

    async def create(self, code: str, digest: str) -> bool:
        """False when the code is taken."""
        ...

    async def digest(self, code: str) -> str | None:
        """None: no such class."""
        ...

    async def set_teacher_present(self, code: str, present: bool) -> None: ...

    async def teacher_present(self, code: str) -> bool: ...

    async def set_view(self, code: str, view: str) -> None: ...

    async def view(self, code: str) -> str | None: ...

    # The log of a side of the teacher's page ("a"; "b": compare mode's second session).
    async def log_restart(self, code: str, text: str, side: Side = "a") -> None:
        """The log is this message alone (a new configuration's first frame)."""
        ...

    async def log_append(self, code: str, text: str, side: Side = "a") -> None: ...

    async def log_clear(self, code: str, side: Side) -> None:
        """The side is gone (compare mode closed): a late joiner gets nothing of it."""
        ...

    async def log(self, code: str, side: Side = "a") -> list[str]: ...

    async def set_members(self, code: str, followers: int, explorers: int) -> None:
        """This process's members of the class."""
        ...

    async def members(self, code: str) -> tuple[int, int]:
        """Followers and explorers in every process."""
        ...

    async def add_handin(self, code: str, make: Callable[[int], str], keep: int) -> int:
        """Stores ``make(id)`` under a new id; keeps the newest ``keep``."""
        ...

    async def handins(self, code: str) -> list[str]: ...

    async def set_task(self, code: str, task: str, member: str, done: bool) -> None:
        """Member ``member`` (of this process) has done (or undone) the task ``task``."""
        ...

    async def forget_member(self, code: str, member: str) -> None:
        """A member left: its tasks no longer count."""
        ...

    async def tasks_done(self, code: str, task: str) -> int:
        """How many members (in every process) have done ``task``."""
        ...

    async def end(self, code: str) -> None: ...

    async def publish(self, code: str, kind: str, payload: str) -> None: ...

    async def watch(self, code: str) -> None:
        """Receive the class's messages from other processes (this process has members)."""
        ...

    async def unwatch(self, code: str) -> None: ...


class MemoryStore:
    """Every class in this process's memory (one server process)."""

    def __init__(self) -> None:
        self.origin = f"p{uuid.uuid4().hex[:8]}"
        self.classes: dict[str, ClassFacts] = {}

    async def start(self, deliver: Deliver) -> None:
        return None

    async def close(self) -> None:
        self.classes.clear()

    async def create(self, code: str, digest: str) -> bool:
        if code in self.classes:
            return False
        self.classes[code] = ClassFacts(digest, time.time())
        return True

    async def digest(self, code: str) -> str | None:
        facts = self.classes.get(code)
        return None if facts is None else facts.digest

    async def set_teacher_present(self, code: str, present: bool) -> None:
        if (facts := self.classes.get(code)) is not None:
            facts.teacher_present = present

    async def teacher_present(self, code: str) -> bool:
        facts = self.classes.get(code)
        return facts is not None and facts.teacher_present

    async def set_view(self, code: str, view: str) -> None:
        if (facts := self.classes.get(code)) is not None:
            facts.view = view

    async def view(self, code: str) -> str | None:
        facts = self.classes.get(code)
        return None if facts is None else facts.view

    async def log_restart(self, code: str, text: str, side: Side = "a") -> None:
        if (facts := self.classes.get(code)) is not None:
            facts.logs[side], facts.log_bytes[side] = [text], len(text)

    async def log_append(self, code: str, text: str, side: Side = "a") -> None:
        if (facts := self.classes.get(code)) is None:
            return
        log = facts.logs.setdefault(side, [])
        log.append(text)
        facts.log_bytes[side] = facts.log_bytes.get(side, 0) + len(text)
        while facts.log_bytes[side] > MAX_LOG_BYTES and len(log) > 2:
            facts.log_bytes[side] -= len(log.pop(1))  # the first frame carries the data

    async def log_clear(self, code: str, side: Side) -> None:
        if (facts := self.classes.get(code)) is not None:
            facts.logs.pop(side, None)
            facts.log_bytes.pop(side, None)

    async def log(self, code: str, side: Side = "a") -> list[str]:
        facts = self.classes.get(code)
        return [] if facts is None else list(facts.logs.get(side, []))

    async def set_members(self, code: str, followers: int, explorers: int) -> None:
        if (facts := self.classes.get(code)) is not None:
            facts.members[self.origin] = (followers, explorers)

    async def members(self, code: str) -> tuple[int, int]:
        facts = self.classes.get(code)
        if facts is None:
            return 0, 0
        counts = list(facts.members.values())
        return sum(f for f, _ in counts), sum(e for _, e in counts)

    async def add_handin(self, code: str, make: Callable[[int], str], keep: int) -> int:
        facts = self.classes[code]
        facts.handin_seq += 1
        facts.handins = [*facts.handins, make(facts.handin_seq)][-keep:]
        return facts.handin_seq

    async def handins(self, code: str) -> list[str]:
        facts = self.classes.get(code)
        return [] if facts is None else list(facts.handins)

    async def set_task(self, code: str, task: str, member: str, done: bool) -> None:
        facts = self.classes.get(code)
        if facts is None:
            return
        members = facts.tasks.setdefault(task, set())
        if done:
            members.add(member)
        else:
            members.discard(member)

    async def forget_member(self, code: str, member: str) -> None:
        facts = self.classes.get(code)
        for members in facts.tasks.values() if facts is not None else ():
            members.discard(member)

    async def tasks_done(self, code: str, task: str) -> int:
        facts = self.classes.get(code)
        return 0 if facts is None else len(facts.tasks.get(task, ()))

    async def end(self, code: str) -> None:
        self.classes.pop(code, None)

    async def publish(self, code: str, kind: str, payload: str) -> None:
        return None  # every member is in this process

    async def watch(self, code: str) -> None:
        return None

    async def unwatch(self, code: str) -> None:
        return None


class RedisStore:
    """Classes in Redis; their messages on the Redis channel ``deepscope:class:CODE``.

    A message on the channel is ``origin \\n kind \\n payload`` — the payload (a frame's
    JSON, as the teacher's process encoded it) is passed on untouched.
    """

    PREFIX = "deepscope:class:"

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis  # (only a server with --redis needs it)

        self.origin = f"p{uuid.uuid4().hex[:8]}"
        self.url = url
        self.redis: Any = aioredis.from_url(url, decode_responses=True)
        self.pubsub: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.deliver: Deliver | None = None
        self.watched: set[str] = set()

    def _key(self, code: str, part: str) -> str:
        return f"{self.PREFIX}{code}:{part}"

    async def start(self, deliver: Deliver) -> None:
        self.deliver = deliver
        await self.redis.ping()  # a wrong --redis fails at start-up, plainly
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
        if self.pubsub is not None:
            await self.pubsub.aclose()
        await self.redis.aclose()

    async def _touch(self, code: str, *parts: str) -> None:
        pipe = self.redis.pipeline()
        for part in parts:
            pipe.expire(self._key(code, part), KEY_TTL_S)
        await pipe.execute()

    async def create(self, code: str, digest: str) -> bool:
        meta = self._key(code, "meta")
        made = await self.redis.hsetnx(meta, "digest", digest)
        if not made:
            return False
        await self.redis.hset(meta, mapping={"created": time.time(), "teacher": 1})
        await self._touch(code, "meta")
        return True

    async def digest(self, code: str) -> str | None:
        value = await self.redis.hget(self._key(code, "meta"), "digest")
        return None if value is None else str(value)

    async def set_teacher_present(self, code: str, present: bool) -> None:
        await self.redis.hset(self._key(code, "meta"), "teacher", int(present))

    async def teacher_present(self, code: str) -> bool:
        return bool(await self.redis.hget(self._key(code, "meta"), "teacher") == "1")

    async def set_view(self, code: str, view: str) -> None:
        await self.redis.set(self._key(code, "view"), view, ex=KEY_TTL_S)

    async def view(self, code: str) -> str | None:
        value = await self.redis.get(self._key(code, "view"))
        return None if value is None else str(value)

    @staticmethod
    def _log_parts(side: Side) -> tuple[str, str]:
        return ("log", "log_bytes") if side == "a" else (f"log_{side}", f"log_{side}_bytes")

    async def log_restart(self, code: str, text: str, side: Side = "a") -> None:
        log, size = self._log_parts(side)
        key = self._key(code, log)
        pipe = self.redis.pipeline()
        pipe.delete(key)
        pipe.rpush(key, text)
        pipe.expire(key, KEY_TTL_S)
        pipe.set(self._key(code, size), len(text), ex=KEY_TTL_S)
        await pipe.execute()

    async def log_append(self, code: str, text: str, side: Side = "a") -> None:
        log, size = self._log_parts(side)
        key = self._key(code, log)
        pipe = self.redis.pipeline()
        pipe.rpush(key, text)
        pipe.incrby(self._key(code, size), len(text))
        _, total = await pipe.execute()
        if int(total) > MAX_LOG_BYTES:  # rare: drop the oldest frames after the first
            dropped = 0
            while int(total) - dropped > MAX_LOG_BYTES and await self.redis.llen(key) > 2:
                second = await self.redis.lindex(key, 1)
                await self.redis.lrem(key, 1, second)
                dropped += len(second or "")
            await self.redis.decrby(self._key(code, size), dropped)

    async def log_clear(self, code: str, side: Side) -> None:
        await self.redis.delete(*(self._key(code, p) for p in self._log_parts(side)))

    async def log(self, code: str, side: Side = "a") -> list[str]:
        key = self._key(code, self._log_parts(side)[0])
        return [str(x) for x in await self.redis.lrange(key, 0, -1)]

    async def set_members(self, code: str, followers: int, explorers: int) -> None:
        key = self._key(code, "members")
        if followers or explorers:
            await self.redis.hset(key, self.origin, f"{followers},{explorers}")
            await self._touch(code, "members")
        else:
            await self.redis.hdel(key, self.origin)

    async def members(self, code: str) -> tuple[int, int]:
        followers = explorers = 0
        for value in (await self.redis.hgetall(self._key(code, "members"))).values():
            f, e = str(value).split(",")
            followers, explorers = followers + int(f), explorers + int(e)
        return followers, explorers

    async def add_handin(self, code: str, make: Callable[[int], str], keep: int) -> int:
        n = int(await self.redis.incr(self._key(code, "handin_seq")))
        key = self._key(code, "handins")
        pipe = self.redis.pipeline()
        pipe.rpush(key, make(n))
        pipe.ltrim(key, -keep, -1)
        await pipe.execute()
        await self._touch(code, "handins", "handin_seq")
        return n

    async def handins(self, code: str) -> list[str]:
        return [str(x) for x in await self.redis.lrange(self._key(code, "handins"), 0, -1)]

    # The tasks done: one hash, a field "lesson:step\norigin/member" per member and task.
    async def set_task(self, code: str, task: str, member: str, done: bool) -> None:
        key, name = self._key(code, "tasks"), f"{task}\n{self.origin}/{member}"
        if done:
            await self.redis.hset(key, name, "1")
            await self._touch(code, "tasks")
        else:
            await self.redis.hdel(key, name)

    async def forget_member(self, code: str, member: str) -> None:
        key, who = self._key(code, "tasks"), f"\n{self.origin}/{member}"
        gone = [str(n) for n in await self.redis.hkeys(key) if str(n).endswith(who)]
        if gone:
            await self.redis.hdel(key, *gone)

    async def tasks_done(self, code: str, task: str) -> int:
        names = await self.redis.hkeys(self._key(code, "tasks"))
        return sum(1 for n in names if str(n).startswith(f"{task}\n"))

    async def end(self, code: str) -> None:
        parts = ("meta", "view", "members", "handins", "handin_seq", "tasks")
        logs = (*self._log_parts("a"), *self._log_parts("b"))
        await self.redis.delete(*(self._key(code, p) for p in (*parts, *logs)))

    async def publish(self, code: str, kind: str, payload: str) -> None:
        await self.redis.publish(self.PREFIX + code, f"{self.origin}\n{kind}\n{payload}")

    async def watch(self, code: str) -> None:
        if code in self.watched:
            return
        self.watched.add(code)
        await self.pubsub.subscribe(self.PREFIX + code)
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self._read(), name="class-redis-reader")

    async def unwatch(self, code: str) -> None:
        if code in self.watched:
            self.watched.discard(code)
            await self.pubsub.unsubscribe(self.PREFIX + code)

    async def _read(self) -> None:
        assert self.deliver is not None
        while self.watched:
            try:
                message = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: say so, and try again
                log.warning("reading the classes' Redis channel failed", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel, data = str(message["channel"]), str(message["data"])
            origin, kind, payload = data.split("\n", 2)
            if origin == self.origin:
                continue
            try:
                await self.deliver(channel[len(self.PREFIX) :], origin, kind, payload)
            except Exception:
                log.exception("a class message from %s failed", origin)
