"""Classes in one process (TestClient): the teacher leads, students follow or explore."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from starlette.testclient import WebSocketTestSession

from deepscope.protocol import (
    CLASS_CODE_ALPHABET,
    CLASS_CODE_LENGTH,
    ClassCreated,
    ClassHandins,
    ClassState,
    ClassViewOut,
    DescendFrameData,
)
from deepscope.settings import Settings

from .helpers import ORIGIN, app_client, recv, send, until, until_text

SMALL_LAYERS = {"depth": 3, "width": 40, "batch": 50, "input_dim": 20}
RACE = {
    "surface": "rosenbrock",
    "steps": 60,
    "runs": [{"optimizer": "adam", "lr": 0.05}, {"optimizer": "gd", "lr": 0.001}],
}
VIEW = {"v": 1, "lab": "layers", "config": SMALL_LAYERS, "view": {"quantity": "activation"}}


def _client(**settings: Any) -> Iterator[TestClient]:
    yield from app_client(**{"max_sessions": 8, "compute_processes": 0, **settings})


@pytest.fixture
def client() -> Iterator[TestClient]:
    yield from _client()


def create(ws: WebSocketTestSession) -> ClassCreated:
    until(ws, "hello")
    send(ws, type="class_create")
    return ClassCreated.model_validate(until(ws, "class_created"))


def join(ws: WebSocketTestSession, code: str) -> None:
    until(ws, "hello")
    send(ws, type="class_join", code=code)
    joined = until(ws, "class_joined")
    assert (joined["code"], joined["mode"]) == (code.upper(), "follow")


def test_create_gives_a_code_a_key_join_addresses_and_a_qr(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as teacher:
        made = create(teacher)
    assert len(made.code) == CLASS_CODE_LENGTH
    assert set(made.code) <= set(CLASS_CODE_ALPHABET)
    assert len(made.teacher_key) >= 24 and made.teacher_key not in made.join_urls[0]
    assert made.join_urls == [f"http://testserver/?class={made.code}"]
    assert made.qr_svg.startswith("<svg") and "viewBox" in made.qr_svg


def _svg_matrix(svg: str, size: int, border: int = 4) -> list[list[bool]]:
    """The modules segno's path draws: ``M x y`` moves, ``h n`` dark runs, ``m dx dy``."""
    import re

    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg) or re.search(
        r' d="(M[^"]+)"[^>]*class="qrline"', svg
    )
    assert path is not None, svg[:200]
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.group(1)):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                grid[int(y - 0.5) - border][int(x) + i - border] = True
            x += float(a)
    return grid


def test_the_qr_code_is_the_join_address() -> None:
    import segno

    from deepscope.sessions.classroom import qr_svg

    url = "http://192.168.1.20:8000/?class=AC34DE"
    # the library's own matrix, read back from the SVG's rows of dark runs (the browser
    # test decodes the picture the page draws)
    svg = qr_svg(url)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "viewBox" in svg
    matrix = [[bool(v) for v in row] for row in segno.make(url, error="m").matrix]
    assert _svg_matrix(svg, len(matrix)) == matrix
    assert qr_svg(url) != qr_svg(url.replace("AC34DE", "AC34DF"))


def test_followers_get_the_teachers_very_frames(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as teacher,
        client.websocket_connect("/ws", headers=ORIGIN) as student,
    ):
        made = create(teacher)
        join(student, made.code.lower())  # the code is typed any case
        send(teacher, type="class_view", state=VIEW)
        view = ClassViewOut.model_validate(until(student, "class_view"))
        assert view.state == VIEW and view.handin is None
        send(teacher, type="configure", lab="layers", config=SMALL_LAYERS)
        mine = until_text(teacher, "frame")
        theirs = until_text(student, "frame")
        assert theirs == mine  # one computation, one encoding, the same string
        state = ClassState.model_validate(until(teacher, "class_state", followers=1))
        assert state.explorers == 0 and state.teacher_present


def test_a_student_cannot_drive_the_class(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as teacher,
        client.websocket_connect("/ws", headers=ORIGIN) as student,
    ):
        made = create(teacher)
        join(student, made.code)
        send(teacher, type="configure", lab="layers", config=SMALL_LAYERS)
        first = json.loads(until_text(student, "frame"))
        for message in (
            {"type": "configure", "lab": "layers", "config": {**SMALL_LAYERS, "depth": 5}},
            {"type": "class_view", "state": {"lab": "train"}},
            {"type": "class_show", "handin": 1},
            {"type": "play"},
        ):
            send(student, **message)
            err = until(student, "error")
            assert err["code"] == "not_teacher", message
        # the class did not move: the teacher's next picture is still 3 layers deep
        send(teacher, type="configure", lab="layers", config={**SMALL_LAYERS, "width": 30})
        frame = json.loads(until_text(student, "frame"))
        assert len(frame["data"]["layers"]) == len(first["data"]["layers"]) == 3


def test_a_forged_key_is_refused_the_right_one_resumes(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as teacher:
        made = create(teacher)
        with client.websocket_connect("/ws", headers=ORIGIN) as other:
            until(other, "hello")
            send(other, type="class_resume", code=made.code, teacher_key="x" + made.teacher_key)
            assert until(other, "error")["code"] == "not_teacher"
            send(other, type="class_view", state=VIEW)  # still not the teacher
            assert until(other, "error")["code"] == "not_teacher"
            send(other, type="class_resume", code=made.code, teacher_key=made.teacher_key)
            again = ClassCreated.model_validate(until(other, "class_created"))
            assert again.code == made.code
            # the first screen (the projector, say) follows the teacher's new seat
            assert until(teacher, "class_joined")["mode"] == "follow"
            send(other, type="class_view", state=VIEW)
            assert until(teacher, "class_view")["state"] == VIEW


def test_code_guessing_is_throttled() -> None:
    for c in _client(class_join_per_min=6):  # a burst of 3, then one each 10 s
        with c.websocket_connect("/ws", headers=ORIGIN) as guesser:
            until(guesser, "hello")
            codes = []
            for guess in ("AAAAAA", "CCCCCC", "DDDDDD", "EEEEEE"):
                send(guesser, type="class_join", code=guess)
                codes.append(until(guesser, "error")["code"])
            assert codes == ["no_class", "no_class", "no_class", "rate_limited"]


def test_the_class_ends_after_the_teacher_left() -> None:
    for c in _client(class_linger_s=1.0):
        with c.websocket_connect("/ws", headers=ORIGIN) as student:
            with c.websocket_connect("/ws", headers=ORIGIN) as teacher:
                made = create(teacher)
                join(student, made.code)
            state = until(student, "class_state", teacher_present=False)
            assert state["followers"] == 1
            ended = until(student, "class_ended")
            assert ended["why"] == "teacher_left" and ended["code"] == made.code
            send(student, type="class_join", code=made.code)
            assert until(student, "error")["code"] == "no_class"
            # the page is its own again: its configure is its own
            send(student, type="configure", lab="layers", config=SMALL_LAYERS)
            assert until(student, "frame")["lab"] == "layers"


def test_the_teacher_may_come_back_before_the_class_ends() -> None:
    for c in _client(class_linger_s=60):
        with c.websocket_connect("/ws", headers=ORIGIN) as student:
            with c.websocket_connect("/ws", headers=ORIGIN) as teacher:
                made = create(teacher)
                join(student, made.code)
            until(student, "class_state", teacher_present=False)
            with c.websocket_connect("/ws", headers=ORIGIN) as back:
                until(back, "hello")
                send(back, type="class_resume", code=made.code, teacher_key=made.teacher_key)
                until(back, "class_created")
                until(student, "class_state", teacher_present=True)
                send(back, type="configure", lab="layers", config=SMALL_LAYERS)
                assert until(student, "frame")["lab"] == "layers"


def test_explore_hand_in_and_show(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as teacher,
        client.websocket_connect("/ws", headers=ORIGIN) as student,
    ):
        made = create(teacher)
        join(student, made.code)
        send(student, type="class_handin", note="too early", state=VIEW)
        assert until(student, "error")["field"] == "type"  # following: nothing to hand in
        send(student, type="class_explore")
        assert until(student, "class_joined")["mode"] == "explore"
        until(teacher, "class_state", explorers=1, followers=0)
        # exploring: the student's configure is its own
        send(student, type="configure", lab="layers", config={**SMALL_LAYERS, "depth": 4})
        assert len(until(student, "frame")["data"]["layers"]) == 4
        mine = {**VIEW, "config": {**SMALL_LAYERS, "depth": 4}}
        send(student, type="class_handin", name="Ada", note="lr 0.3 oscillates", state=mine)
        handins = ClassHandins.model_validate(until(teacher, "class_handins"))
        (got,) = handins.handins
        assert (got.name, got.note, got.lab, got.state) == (
            "Ada",
            "lr 0.3 oscillates",
            "layers",
            mine,
        )
        send(teacher, type="class_show", handin=got.id)
        shown = ClassViewOut.model_validate(until(teacher, "class_view"))
        assert shown.handin == got.id and shown.state == mine
        send(teacher, type="class_show", handin=got.id + 7)
        assert until(teacher, "error")["field"] == "handin"
        send(student, type="class_follow")
        assert until(student, "class_joined")["mode"] == "follow"
        until(teacher, "class_state", explorers=0, followers=1)


def test_a_late_joiner_gets_the_race_from_its_start(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as teacher:
        made = create(teacher)
        send(teacher, type="configure", lab="descend", config=RACE, options={"steps_per_frame": 5})
        until(teacher, "frame")
        send(teacher, type="step", n=5)
        until(teacher, "status", reason="stepped 5")
        send(teacher, type="step", n=5)
        until(teacher, "status", reason="stepped 5")
        with client.websocket_connect("/ws", headers=ORIGIN) as late:
            join(late, made.code)
            rows = 0
            while rows < 11:
                frame = until(late, "frame")
                data = TypeAdapter(DescendFrameData).validate_python(frame["data"])
                assert data["first_row"] == rows  # from the start, each row once
                rows += len(data["runs"][0]["points"])
            assert rows == 11
            # and live from there on
            send(teacher, type="step", n=5)
            assert until(late, "frame")["data"]["first_row"] == 11


def test_the_class_has_a_member_cap() -> None:
    for c in _client(class_max_members=1):
        with (
            c.websocket_connect("/ws", headers=ORIGIN) as teacher,
            c.websocket_connect("/ws", headers=ORIGIN) as one,
            c.websocket_connect("/ws", headers=ORIGIN) as two,
        ):
            made = create(teacher)
            join(one, made.code)
            until(teacher, "class_state", followers=1)
            until(two, "hello")
            send(two, type="class_join", code=made.code)
            assert until(two, "error")["code"] == "class_full"


def test_a_dead_follower_costs_the_others_nothing(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as teacher,
        client.websocket_connect("/ws", headers=ORIGIN) as stays,
    ):
        made = create(teacher)
        join(stays, made.code)
        with client.websocket_connect("/ws", headers=ORIGIN) as leaves:
            join(leaves, made.code)
            until(teacher, "class_state", followers=2)
        until(teacher, "class_state", followers=1)
        send(teacher, type="configure", lab="layers", config=SMALL_LAYERS)
        assert until(stays, "frame")["lab"] == "layers"
        assert len(client.app.state.classes.seats) == 2  # (teacher, stays): the dead one is gone


def _completed(ws: WebSocketTestSession, **match: Any) -> dict[str, Any]:
    """The next class_state whose ``completed`` matches."""
    for _ in range(300):
        m = recv(ws)
        done = m.get("completed") if m["type"] == "class_state" else None
        if done is not None and all(done.get(k) == v for k, v in match.items()):
            return dict(done)
    raise AssertionError(f"no class_state with completed {match}")


def test_the_teacher_sees_how_many_students_did_the_current_lesson_task(
    client: TestClient,
) -> None:
    lesson_view = {**VIEW, "lesson": "initialisation", "step": 1}
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as teacher,
        client.websocket_connect("/ws", headers=ORIGIN) as ada,
        client.websocket_connect("/ws", headers=ORIGIN) as bo,
    ):
        made = create(teacher)
        join(ada, made.code)
        join(bo, made.code)
        send(teacher, type="class_view", state=lesson_view)
        assert ClassViewOut.model_validate(until(ada, "class_view")).state == lesson_view
        assert _completed(teacher, done=0, all=2) == {
            "lesson": "initialisation",
            "step": 1,
            "done": 0,
            "all": 2,
        }
        send(teacher, type="class_task", lesson="initialisation", step=1)
        assert until(teacher, "error")["code"] == "invalid"  # the teacher is no student
        send(ada, type="class_task", lesson="Initialisation!", step=1)
        assert until(ada, "error")["field"] == "lesson"
        send(ada, type="class_explore")
        until(ada, "class_joined", mode="explore")
        send(ada, type="class_task", lesson="initialisation", step=1, done=True)
        send(ada, type="class_task", lesson="initialisation", step=1, done=True)  # (once)
        _completed(teacher, step=1, done=1, all=2)
        send(ada, type="class_task", lesson="initialisation", step=0, done=True)  # another step
        # the teacher moves on: the next step's count, then back to this one's
        send(teacher, type="class_view", state={**lesson_view, "step": 2})
        _completed(teacher, step=2, done=0)
        send(teacher, type="class_view", state={**lesson_view, "step": 0})
        _completed(teacher, step=0, done=1)
        send(teacher, type="class_view", state=lesson_view)
        _completed(teacher, step=1, done=1)
        send(ada, type="class_task", lesson="initialisation", step=1, done=False)
        _completed(teacher, step=1, done=0)
        send(ada, type="class_task", lesson="initialisation", step=1, done=True)
        _completed(teacher, step=1, done=1)
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as teacher,
        client.websocket_connect("/ws", headers=ORIGIN) as ada,
    ):
        made = create(teacher)
        join(ada, made.code)
        send(teacher, type="class_view", state=VIEW)  # no lesson open: no count
        state = ClassState.model_validate(until(teacher, "class_state", followers=1))
        assert state.completed is None
        send(ada, type="class_explore")
        until(ada, "class_joined", mode="explore")
        send(teacher, type="class_view", state=lesson_view)
        send(ada, type="class_task", lesson="initialisation", step=1)
        _completed(teacher, done=1, all=1)
        ada.close()  # a student who leaves no longer counts
        _completed(teacher, done=0, all=0)


def test_a_slow_follower_gets_the_newest_frame_never_a_queue() -> None:
    """The hub puts the teacher's frames in the follower's one-slot mailbox."""
    import asyncio

    from deepscope.sessions.classroom import ClassHub, Seat
    from deepscope.sessions.session import Mailbox

    class Reader:
        def __init__(self, name: str) -> None:
            self.id, self.address, self.mailbox = name, "10.0.0.7", Mailbox()

        def deliver(self, text: str, frame: bool, side: str = "a") -> None:
            if frame:
                self.mailbox.put_frame(text, side)
            else:
                self.mailbox.put_control(text)

        def seated(self, seat: Seat | None) -> None:
            pass

    async def scenario() -> None:
        hub = ClassHub(Settings(prewarm_presets=False))
        await hub.start()
        teacher, slow = Reader("t"), Reader("s")
        await hub.create(teacher, "http://h")
        code = hub.seats["t"].code
        await hub.join(slow, code)
        queued = len(slow.mailbox.control)  # class_joined (and the view, the log: none yet)
        for k in range(500):
            frame = f'{{"type":"frame","seq":{k}}}'
            hub.teacher_message(teacher, frame, frame=True, restart=True)
        assert slow.mailbox.frames == {"a": '{"type":"frame","seq":499}'}
        assert len(slow.mailbox.control) == queued  # no queue of frames
        # Compare mode's side B has a slot of its own: its frames never replace side A's.
        created = json.loads(teacher.mailbox.control[0])
        side_b = Reader("t-b")
        await hub.resume(side_b, code, created["teacher_key"], "http://h", "b")
        for k in range(300):
            hub.teacher_message(side_b, f'{{"type":"frame","seq":{k}}}', frame=True, restart=True)
        assert slow.mailbox.frames == {
            "a": '{"type":"frame","seq":499}',
            "b": '{"type":"class_side","side":"b","message":{"type":"frame","seq":299}}',
        }
        assert len(slow.mailbox.control) == queued
        await hub.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("lab", "config"),
    [("descend", RACE), ("train", {"dataset": "xor", "hidden": [4], "steps": 200})],
)
def test_an_explorer_goes_on_from_the_teachers_step(
    client: TestClient, lab: str, config: dict[str, Any]
) -> None:
    """Explore copies the teacher's run where it stands; the teacher's run goes on alone."""
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as teacher,
        client.websocket_connect("/ws", headers=ORIGIN) as student,
    ):
        made = create(teacher)
        join(student, made.code)
        send(teacher, type="configure", lab=lab, config=config, options={"steps_per_frame": 5})
        until(teacher, "status", reason="ready")
        send(teacher, type="step", n=10)
        until(teacher, "status", reason="stepped 10")
        until(student, "status", reason="stepped 10")
        send(student, type="class_explore")
        seen = []  # the copy's status ("paused" at the teacher's step), then class_joined
        while not seen or seen[-1]["type"] != "class_joined":
            seen.append(recv(student))
        assert seen[-1]["mode"] == "explore" and seen[-1]["forked"] is True
        (status,) = [m for m in seen if m["type"] == "status"]
        assert (status["state"], status["step"]) == ("paused", 10)
        send(student, type="step", n=5)
        frame = until(student, "frame")
        assert frame["step"] == 15  # on from the teacher's step 10, not from 0
        if lab == "descend":
            assert frame["data"]["first_row"] == 11
        # the teacher's run did not move with the student's
        send(teacher, type="step", n=1)
        assert until(teacher, "frame")["step"] == 11


def _until_texts(ws: WebSocketTestSession, kind: str) -> list[str]:
    """Every message's raw text up to and including the next one of this type."""
    out = []
    for _ in range(300):
        out.append(ws.receive_text())
        if json.loads(out[-1])["type"] == kind:
            return out
    raise AssertionError(f"no {kind}")


def test_compare_mode_side_b_reaches_the_followers_as_its_own_side(client: TestClient) -> None:
    """The teacher page's second session (compare mode) resumes as side B: its frames go
    to every follower once, wrapped as ``class_side`` — a late joiner gets both sides'
    pictures, and none of side B's once compare mode has closed."""
    wide = {**SMALL_LAYERS, "scale": 2.5}
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as teacher,
        client.websocket_connect("/ws", headers=ORIGIN) as student,
    ):
        made = create(teacher)
        join(student, made.code)
        with client.websocket_connect("/ws", headers=ORIGIN) as side_b:
            until(side_b, "hello")
            send(side_b, type="class_resume", code=made.code, teacher_key="forged", side="b")
            assert until(side_b, "error")["code"] == "not_teacher"
            key = made.teacher_key
            send(side_b, type="class_resume", code=made.code, teacher_key=key, side="b")
            assert until(side_b, "class_joined") == {
                "type": "class_joined",
                "code": made.code,
                "mode": "teacher",
                "forked": False,
            }
            send(teacher, type="configure", lab="layers", config=SMALL_LAYERS)
            mine = until_text(teacher, "frame")
            send(side_b, type="configure", lab="layers", config=wide)
            theirs_b = until_text(side_b, "frame")
            got = _until_texts(student, "class_side")
            assert mine in got  # side A: the very string, as before
            assert got[-1] == '{"type":"class_side","side":"b","message":' + theirs_b + "}"
            assert json.loads(theirs_b)["data"] != json.loads(mine)["data"]
            # The teacher is still the teacher (side B demoted no one) and counts one follower.
            until(teacher, "class_state", followers=1)
            with client.websocket_connect("/ws", headers=ORIGIN) as late:
                join(late, made.code)
                caught = _until_texts(late, "class_side")
                assert (
                    mine in caught
                    and json.loads(caught[-1])["message"]["data"] == (json.loads(theirs_b)["data"])
                )
        # Compare mode closed (side B's connection gone): a later joiner gets side A only.
        store = client.app.state.classes.store  # type: ignore[attr-defined]
        for _ in range(500):  # (the hub sees the connection end on its own thread)
            if "b" not in store.classes[made.code].logs:
                break
            time.sleep(0.02)
        assert "b" not in store.classes[made.code].logs
        with client.websocket_connect("/ws", headers=ORIGIN) as later:
            join(later, made.code)
            send(teacher, type="class_view", state=VIEW)
            seen = [json.loads(t)["type"] for t in _until_texts(later, "class_view")]
            assert "frame" in seen and "class_side" not in seen
