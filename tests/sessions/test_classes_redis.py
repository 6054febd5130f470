"""A class across two server processes sharing a real Redis: teacher on one, students on
the other (as with --workers N, or several hosts behind a proxy)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.live import LiveServer, free_port, live_server

LAYERS = {"depth": 3, "width": 40, "batch": 50, "input_dim": 20}
RACE = {
    "surface": "rosenbrock",
    "steps": 60,
    "runs": [{"optimizer": "adam", "lr": 0.05}, {"optimizer": "gd", "lr": 0.001}],
}
ENV = {
    "DEEPSCOPE_PREWARM_PRESETS": "false",
    "DEEPSCOPE_CLASS_LINGER_S": "3",
    "DEEPSCOPE_CLASS_JOIN_PER_MIN": "600",  # (every client here comes from 127.0.0.1)
}


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """Debian's redis-server on a free loopback port, nothing kept on disk."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is missing: `make test` installs it (apt-get install redis-server)"
        )
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    tmp = tmp_path_factory.mktemp("redis")
    with (
        redis_server(tmp) as url,
        live_server("--redis", url, env=ENV, tmp=tmp) as a,
        live_server("--redis", url, env=ENV, tmp=tmp) as b,
    ):
        yield a, b


async def _open(server: LiveServer) -> ClientConnection:
    ws = await connect(server.ws_url, origin=server.origin, open_timeout=10)  # type: ignore[arg-type]
    await _until(ws, "hello")
    return ws


async def _until(ws: ClientConnection, kind: str, **match: Any) -> dict[str, Any]:
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
        if m["type"] == kind and all(m.get(k) == v for k, v in match.items()):
            return dict(m)


async def _text(ws: ClientConnection, kind: str) -> str:
    while True:
        text = str(await asyncio.wait_for(ws.recv(), timeout=20))
        if json.loads(text)["type"] == kind:
            return text


async def _send(ws: ClientConnection, **message: Any) -> None:
    await ws.send(json.dumps(message))


def test_the_teacher_on_one_process_leads_students_on_another(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = servers

    async def scenario() -> None:
        teacher = await _open(a)
        await _send(teacher, type="class_create")
        made = await _until(teacher, "class_created")
        code = made["code"]
        students = [await _open(b) for _ in range(3)]
        for s in students:
            await _send(s, type="class_join", code=code)
            assert (await _until(s, "class_joined"))["mode"] == "follow"
        # the counts add up over both processes
        await _until(teacher, "class_state", followers=3)
        # one computation on the teacher's process, the same string on the other's
        await _send(teacher, type="class_view", state={"lab": "layers", "config": LAYERS})
        for s in students:
            assert (await _until(s, "class_view"))["state"]["config"] == LAYERS
        await _send(teacher, type="configure", lab="layers", config=LAYERS)
        mine = await _text(teacher, "frame")
        for s in students:
            assert await _text(s, "frame") == mine
        # compare mode's side B (a second session of the teacher's page, on A): its
        # frames reach B's followers as class_side, and a late joiner gets them too
        side_b = await _open(a)
        key = made["teacher_key"]
        await _send(side_b, type="class_resume", code=code, teacher_key=key, side="b")
        assert (await _until(side_b, "class_joined"))["mode"] == "teacher"
        await _send(side_b, type="configure", lab="layers", config={**LAYERS, "scale": 2.0})
        theirs = await _text(side_b, "frame")
        wrapped = '{"type":"class_side","side":"b","message":' + theirs + "}"
        for s in students:
            assert await _text(s, "class_side") == wrapped
        late_b = await _open(b)
        await _send(late_b, type="class_join", code=code)
        assert await _text(late_b, "frame") == mine
        assert await _text(late_b, "class_side") == wrapped
        await side_b.close()
        await late_b.close()
        # a student on the other process cannot drive the class
        await _send(students[0], type="configure", lab="layers", config={**LAYERS, "depth": 5})
        assert (await _until(students[0], "error"))["code"] == "not_teacher"
        await _send(students[0], type="class_resume", code=code, teacher_key="forged-key-123")
        assert (await _until(students[0], "error"))["code"] == "not_teacher"
        # explore and hand in on B: the teacher on A sees it and shows it
        await _send(students[1], type="class_explore")
        await _until(students[1], "class_joined", mode="explore")
        await _until(teacher, "class_state", followers=2, explorers=1)
        state = {"v": 1, "lab": "descend", "config": RACE}
        await _send(students[1], type="class_handin", name="Lin", note="momentum", state=state)
        handins = (await _until(teacher, "class_handins"))["handins"]
        assert [(h["name"], h["lab"]) for h in handins] == [("Lin", "descend")]
        await _send(teacher, type="class_show", handin=handins[0]["id"])
        assert (await _until(teacher, "class_view"))["state"] == state
        # a streaming lab: a late joiner on B gets the race from its first row
        await _send(teacher, type="configure", lab="descend", config=RACE)
        await _until(teacher, "status", reason="ready")
        await _send(teacher, type="step", n=5)
        await _until(teacher, "status", reason="stepped 5")
        late = await _open(b)
        await _send(late, type="class_join", code=code)
        rows = 0
        while rows < 6:
            data = (await _until(late, "frame"))["data"]
            if data.get("first_row") is None:
                continue  # (the layers picture before the race)
            assert data["first_row"] == rows
            rows += len(data["runs"][0]["points"])
        # the teacher reopens the class on B: the seat on A follows from then on
        seat_b = await _open(b)
        await _send(seat_b, type="class_resume", code=code, teacher_key=made["teacher_key"])
        await _until(seat_b, "class_created", code=code)
        assert (await _until(teacher, "class_joined"))["mode"] == "follow"
        await _send(seat_b, type="configure", lab="layers", config=LAYERS)
        mine = await _text(seat_b, "frame")
        assert await _text(teacher, "frame") == mine  # A follows B now
        # the teacher leaves: the class ends everywhere class_linger_s later
        await seat_b.close()
        ended = await _until(students[0], "class_ended")
        assert ended["why"] == "teacher_left"
        await _until(teacher, "class_ended")
        await _send(students[2], type="class_join", code=code)
        assert (await _until(students[2], "error"))["code"] == "no_class"
        for ws in (teacher, late, *students):
            await ws.close()

    asyncio.run(scenario())


def test_the_teacher_counts_the_lesson_tasks_students_did_on_another_process(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = servers

    async def completed(ws: ClientConnection, **match: Any) -> dict[str, Any]:
        while True:
            done = (await _until(ws, "class_state")).get("completed")
            if done is not None and all(done.get(k) == v for k, v in match.items()):
                return dict(done)

    async def scenario() -> None:
        teacher = await _open(a)
        await _send(teacher, type="class_create")
        code = (await _until(teacher, "class_created"))["code"]
        view = {"lab": "layers", "config": LAYERS, "lesson": "relu", "step": 0}
        await _send(teacher, type="class_view", state=view)
        students = [await _open(b) for _ in range(2)]
        for s in students:
            await _send(s, type="class_join", code=code)
            await _until(s, "class_joined")
            await _send(s, type="class_explore")
            await _until(s, "class_joined", mode="explore")
        await completed(teacher, lesson="relu", step=0, done=0, all=2)
        for s in students:
            await _send(s, type="class_task", lesson="relu", step=0)
        await completed(teacher, done=2, all=2)
        await _send(teacher, type="class_view", state={**view, "step": 1})
        await completed(teacher, step=1, done=0)
        await _send(teacher, type="class_view", state=view)
        await completed(teacher, step=0, done=2)
        await students[0].close()  # who left no longer counts, in any process
        await completed(teacher, step=0, done=1, all=1)
        for ws in (teacher, students[1]):
            await ws.close()

    asyncio.run(scenario())


def test_workers_without_redis_say_classes_need_it(tmp_path: Path) -> None:
    with live_server("--workers", "2", env=ENV, tmp=tmp_path) as s:

        async def scenario() -> None:
            ws = await _open(s)
            await _send(ws, type="class_create")
            err = await _until(ws, "error")
            assert err["code"] == "invalid" and "--redis" in err["message"]
            await ws.close()

        asyncio.run(scenario())
        assert "Classes need --redis" in s.output()
