"""The WebSocket protocol in-process (TestClient): every message type, errors, pacing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from deepscope import i18n
from deepscope.protocol import (
    DescendFrameData,
    ErrorMessage,
    Frame,
    Hello,
    LayersFrameData,
    Status,
    TrainFrameData,
)

from .helpers import ORIGIN, app_client, recv, send, until

# Each lab's frame data, read through the protocol's own shapes.
LAYERS_FRAME = TypeAdapter(LayersFrameData)
DESCEND_FRAME = TypeAdapter(DescendFrameData)
TRAIN_FRAME = TypeAdapter(TrainFrameData)
SMALL_LAYERS = {"depth": 3, "width": 40, "batch": 50, "input_dim": 20}
RACE = {
    "surface": "rosenbrock",
    "steps": 40,
    "runs": [{"optimizer": "adam", "lr": 0.05}, {"optimizer": "gd", "lr": 0.1}],
}


def _client(**settings: Any) -> Iterator[TestClient]:
    yield from app_client(**{"max_sessions": 3, "drag_settle_s": 0.2, **settings})


@pytest.fixture
def client() -> Iterator[TestClient]:
    yield from _client()


@pytest.fixture
def inline_client() -> Iterator[TestClient]:
    """The engine on threads of this process, where a test can inject a fault."""
    yield from _client(compute_processes=0)


def test_hello_then_layers_frame(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        hello = Hello.model_validate(recv(ws))
        assert hello.limits.max_message_bytes == 65536
        send(ws, type="configure", lab="layers", config=SMALL_LAYERS)
        frame = Frame.model_validate(recv(ws))
        assert frame.lab == "layers" and frame.seq == 1 and frame.config_seq == 1
        data = LAYERS_FRAME.validate_python(frame.data)
        assert len(data["layers"]) == 3
        assert len(data["edges"]["activation"]) == 51  # counts on known edges
        counts = data["layers"][0]["hist"]["activation"]["counts"]
        assert counts is not None and len(counts) == 50
        # the variance-law note: English, and its key for the page to word it
        theory = data["theory_text"]
        assert theory["key"].startswith("layers.theory.")
        assert data["theory_note"] == i18n.text(theory["key"], **theory["vars"])


LECTURE_BATCH = {**SMALL_LAYERS, "batch": 800}  # large enough for a coarse frame first


def test_a_layers_configure_is_answered_coarse_first_then_complete(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        send(ws, type="configure", lab="layers", config=LECTURE_BATCH)
        first = Frame.model_validate(recv(ws))
        second = Frame.model_validate(recv(ws))
        coarse = LAYERS_FRAME.validate_python(first.data)
        complete = LAYERS_FRAME.validate_python(second.data)
        assert (coarse["detail"], coarse["samples"], coarse["batch"]) == ("coarse", 100, 800)
        assert (complete["detail"], complete["samples"]) == ("complete", 800)
        assert first.config_seq == second.config_seq == 1 and second.seq == first.seq + 1
        assert all(row["dead_units"] is None for row in coarse["layers"])  # complete only
        assert all(row["dead_units"] is not None for row in complete["layers"])
        # A small batch is cheap anyway: one complete frame.
        send(ws, type="configure", lab="layers", config=SMALL_LAYERS)
        only = LAYERS_FRAME.validate_python(recv(ws)["data"])
        assert (only["detail"], only["samples"]) == ("complete", 50)


def test_while_dragging_only_coarse_frames_until_the_slider_rests(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        for scale in (0.02, 0.03, 0.04):
            send(
                ws,
                type="configure",
                lab="layers",
                config={**LECTURE_BATCH, "scale": scale},
                options={"drag": True},
            )
        frames = [Frame.model_validate(until(ws, "frame"))]
        while frames[-1].data["detail"] != "complete":
            frames.append(Frame.model_validate(until(ws, "frame")))
        details = [(f.config_seq, f.data["detail"]) for f in frames]
        # Every frame before the last is coarse; the complete one is the resting slider's.
        assert all(d == "coarse" for _, d in details[:-1]) and details[-1] == (3, "complete")
        assert frames[-1].data == frames[-1].data | {"detail": "complete"}


def test_a_newer_configure_abandons_the_older_one(
    inline_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = inline_client
    import threading

    from deepscope.engine import layers_lab

    slow_once = threading.Event()
    forward = layers_lab.forward

    def slow_forward(*args: Any, **kwargs: Any) -> Any:
        if not slow_once.is_set():  # the first forward pass takes long enough for
            slow_once.set()  # the second configure to arrive during it
            threading.Event().wait(0.5)
        return forward(*args, **kwargs)

    monkeypatch.setattr(layers_lab, "forward", slow_forward)
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        for scale in (1.0, 0.5):
            send(ws, type="configure", lab="layers", config={**LECTURE_BATCH, "scale": scale})
        frames = []
        while not frames or frames[-1].data["detail"] != "complete":
            frames.append(Frame.model_validate(until(ws, "frame")))
        seen = [(f.config_seq, f.data["detail"]) for f in frames]
        # Nothing of the first configuration reached the client; the second is whole.
        assert seen == [(2, "coarse"), (2, "complete")]
        health = client.get("/healthz").json()["layers_cache"]
        assert health["abandoned"] >= 1


def test_a_dragged_thumbs_coarse_frame_in_flight_is_finished_and_shown(
    inline_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thumb that moves faster than a coarse frame computes still sees frames: the
    coarse one in flight is shown, then the newest configuration's (not abandoned as a
    complete one would be)."""
    client = inline_client
    import threading

    from deepscope.engine import layers_lab

    slow_once = threading.Event()
    forward = layers_lab.forward

    def slow_forward(*args: Any, **kwargs: Any) -> Any:
        if not slow_once.is_set():  # the first coarse pass takes long enough for the
            slow_once.set()  # thumb's next position to arrive during it
            threading.Event().wait(0.5)
        return forward(*args, **kwargs)

    monkeypatch.setattr(layers_lab, "forward", slow_forward)
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        for scale in (1.0, 0.5):
            config = {**LECTURE_BATCH, "scale": scale}
            send(ws, type="configure", lab="layers", config=config, options={"drag": True})
        frames = []
        while not frames or frames[-1].data["detail"] != "complete":
            frames.append(Frame.model_validate(until(ws, "frame")))
        seen = [(f.config_seq, f.data["detail"]) for f in frames]
        assert seen == [(1, "coarse"), (2, "coarse"), (2, "complete")]
        assert frames[0].data["layers"] != frames[1].data["layers"]  # (scale 1.0, then 0.5)


def test_a_thumbs_release_goes_straight_to_the_complete_picture(client: TestClient) -> None:
    """Let go after a drag: the last coarse frame is on screen, so the release's answer is
    the complete picture alone (a coarse one first would only delay it); a configure
    that follows no drag is answered coarse first, as always."""
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        config = {**LECTURE_BATCH, "scale": 0.03}
        send(ws, type="configure", lab="layers", config=config, options={"drag": True})
        assert until(ws, "frame")["data"]["detail"] == "coarse"
        send(ws, type="configure", lab="layers", config={**config, "scale": 0.04})
        frames = []
        while not frames or frames[-1]["data"]["detail"] != "complete":
            frames.append(until(ws, "frame"))
        assert [(f["config_seq"], f["data"]["detail"]) for f in frames] == [(2, "complete")]
        time.sleep(1.1)  # (no drag for a while: not a release)
        send(ws, type="configure", lab="layers", config={**config, "scale": 0.05})
        first = until(ws, "frame")
        assert (first["config_seq"], first["data"]["detail"]) == (3, "coarse")


def test_identical_configures_from_several_sessions_are_computed_once(
    client: TestClient,
) -> None:
    config = {**LECTURE_BATCH, "seed": 11}
    sockets = [client.websocket_connect("/ws", headers=ORIGIN) for _ in range(3)]
    opened = [ws.__enter__() for ws in sockets]
    try:
        for ws in opened:
            recv(ws)
            send(ws, type="configure", lab="layers", config=config)
        datas = []
        for ws in opened:
            until(ws, "frame")
            datas.append(until(ws, "frame")["data"])
        assert datas[0] == datas[1] == datas[2] and datas[0]["detail"] == "complete"
        work = client.get("/healthz").json()["layers_cache"]
        assert work["computed"] == 2  # one coarse and one complete picture for all three
        assert work["hits"] + work["joins"] == 4
    finally:
        for ws in sockets:
            ws.__exit__(None, None, None)


def test_descend_play_pause_step_reset(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        send(ws, type="configure", lab="descend", config=RACE, options={"steps_per_frame": 5})
        first = Frame.model_validate(recv(ws))
        data = DESCEND_FRAME.validate_python(first.data)
        assert data["surface"]["name"] == "rosenbrock"
        assert [r["points"] for r in data["runs"]] == [[[-1.5, 2.0]], [[-1.5, 2.0]]]
        assert Status.model_validate(recv(ws)).state == "paused"
        send(ws, type="step", n=3)
        stepped = Frame.model_validate(recv(ws))
        assert stepped.step == 3
        assert len(DESCEND_FRAME.validate_python(stepped.data)["runs"][0]["points"]) == 3
        assert until(ws, "status")["reason"] == "stepped 3"
        send(ws, type="play")
        assert until(ws, "status")["state"] == "running"
        finished = until(ws, "status", state="finished")
        assert finished["step"] == 40
        send(ws, type="reset")
        again = Frame.model_validate(until(ws, "frame"))
        assert again.step == 0
        send(ws, type="play")
        until(ws, "status", state="running")
        send(ws, type="pause")
        paused = until(ws, "status", state="paused")
        assert paused["reason"] == "paused"


def test_train_stream_and_divergence(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        send(
            ws,
            type="configure",
            lab="train",
            config={"steps": 60, "n_samples": 60, "hidden": [4]},
            options={"steps_per_frame": 20, "boundary": 10, "histogram_bins": 12},
        )
        first = TRAIN_FRAME.validate_python(until(ws, "frame")["data"])
        assert len(first["data"]["X_train"]) == 30
        assert len(first["boundary"]) == 10
        send(ws, type="play")
        done = until(ws, "status", state="finished")
        assert done["step"] == 60
        send(
            ws,
            type="configure",
            lab="train",
            config={
                "activation": "linear",
                "scale": 3,
                "steps": 500,
                "optimizer": {"optimizer": "gd", "lr": 5},
            },
            options={"steps_per_frame": 5},
        )
        until(ws, "frame")
        send(ws, type="play")
        diverged = until(ws, "status", state="diverged")
        assert "learning rate" in diverged["reason"]
        # the page words it by key: the English above is that key's text
        said = diverged["reason_text"]
        assert said["key"].startswith("train.diverged.") and said["vars"]["lr"] == "5"
        assert diverged["reason"] == i18n.text(said["key"], **said["vars"])


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        ("{not json", "bad_json", ""),
        ('{"type": "configure", "lab": "layers", "config": {"scale": NaN}}', "invalid", "scale"),
        (
            '{"type": "configure", "lab": "layers", "config": {"scale": Infinity}}',
            "invalid",
            "scale",
        ),
        ('{"type": "teleport"}', "invalid", "teleport"),
        ('{"type": "configure", "lab": "chemistry"}', "invalid", "chemistry"),
        (
            '{"type": "configure", "lab": "layers", "config": {"depth": 51}}',
            "invalid",
            "config.depth",
        ),
        (
            '{"type": "configure", "lab": "descend", "config": {"runs": []}}',
            "invalid",
            "config.runs",
        ),
        ('{"type": "step", "n": 0}', "invalid", "n"),
        ("[1, 2, 3]", "invalid", "message"),
        ('"play"', "invalid", "message"),
        ('{"type": "play"}', "no_lab", ""),
        (
            '{"type": "configure", "lab": "descend", "config": {"surface": {"expr": "x.y"}, '
            '"runs": [{"optimizer": "gd"}]}}',
            "invalid",
            "surface.expr",
        ),
    ],
)
def test_bad_messages_get_an_error_and_the_connection_stays_usable(
    client: TestClient, text: str, code: str, field: str
) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        ws.send_text(text)
        err = ErrorMessage.model_validate(until(ws, "error"))
        assert err.code == code
        assert field in err.message
        send(ws, type="configure", lab="layers", config=SMALL_LAYERS)
        assert until(ws, "frame")["lab"] == "layers"


def test_oversized_message_closes_1009(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        ws.send_text(json.dumps({"type": "configure", "pad": "x" * 70_000}))
        message = ws.receive()
        assert message["type"] == "websocket.close" and message["code"] == 1009


def test_foreign_origin_is_refused(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    for origin in ("http://evil.example", "http://testserver.evil.example", "null"):
        with (
            pytest.raises(WebSocketDisconnect) as info,
            client.websocket_connect("/ws", headers={"origin": origin}) as ws,
        ):
            ws.receive_text()
        assert info.value.code == 1008


def test_session_cap_closes_1013_with_a_reason(client: TestClient) -> None:
    opened = [client.websocket_connect("/ws", headers=ORIGIN) for _ in range(3)]
    sockets = [o.__enter__() for o in opened]
    try:
        for ws in sockets:
            recv(ws)
        with client.websocket_connect("/ws", headers=ORIGIN) as extra:
            message = extra.receive()
            assert message["type"] == "websocket.close" and message["code"] == 1013
            assert "class full" in message["reason"]
    finally:
        for o in opened:
            o.__exit__(None, None, None)


def test_slider_storm_ends_in_the_last_configuration(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        for i in range(300):
            send(
                ws,
                type="configure",
                lab="layers",
                config={**SMALL_LAYERS, "scale": 0.01 + i * 0.001},
            )
        for _ in range(400):
            frame = until(ws, "frame")
            if frame["config_seq"] == 300:
                break
        assert frame["config_seq"] == 300
        assert frame["seq"] < 300  # coalesced: far fewer frames than configures


def test_a_failing_lab_reports_to_its_own_client_only(
    inline_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = inline_client
    from deepscope.sessions import runners

    def boom(*_: object) -> None:
        raise RuntimeError("injected")

    with client.websocket_connect("/ws", headers=ORIGIN) as healthy:
        recv(healthy)
        with client.websocket_connect("/ws", headers=ORIGIN) as victim:
            recv(victim)
            monkeypatch.setattr(runners.LayersRunner, "data", staticmethod(boom))
            send(victim, type="configure", lab="layers", config=SMALL_LAYERS)
            err = until(victim, "error")
            assert err["code"] == "internal" and "injected" not in err["message"]
            monkeypatch.undo()
            send(victim, type="configure", lab="layers", config=SMALL_LAYERS)
            assert until(victim, "frame")["lab"] == "layers"
        send(healthy, type="configure", lab="layers", config=SMALL_LAYERS)
        assert until(healthy, "frame")["seq"] == 1


def test_a_configure_storm_is_coalesced_before_it_reaches_the_frame_workers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 learning-rate moves while a race plays: the last one is what streams, and far
    fewer than 300 runs were started in the frame workers (the batch every session shares
    never sees the storm). The starts are counted, not every request: the frames asked
    for meanwhile grow with the machine's load, the starts do not."""
    import asyncio
    import threading
    import time

    from deepscope.sessions.workers import FrameWorker

    starts = []
    ask = FrameWorker.ask
    storm = threading.Event()  # the storm has begun: the next start waits for the gate
    gate = threading.Event()  # every configure of the storm has been sent

    def counted(self: FrameWorker, *request: Any) -> Any:
        if request[0] != "start":
            return ask(self, *request)
        starts.append(request[1])
        if not storm.is_set() or gate.is_set():
            return ask(self, *request)

        async def held() -> Any:  # (a start that takes as long as the storm lasts)
            await asyncio.get_running_loop().run_in_executor(None, gate.wait)
            return await ask(self, *request)

        return asyncio.ensure_future(held())

    monkeypatch.setattr(FrameWorker, "ask", counted)
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        send(ws, type="configure", lab="descend", config=RACE, options={"fps": 60})
        send(ws, type="play")
        until(ws, "frame")
        before = len(starts)
        storm.set()
        for i in range(300):
            runs = [{"optimizer": "adam", "lr": 0.01 + i * 1e-4}]
            send(ws, type="configure", lab="descend", config={**RACE, "runs": runs})
        time.sleep(0.5)  # (for the server to read them: not a measurement)
        gate.set()
        for _ in range(2000):
            frame = until(ws, "frame")
            if frame["config_seq"] == 301:
                break
        assert frame["config_seq"] == 301
        asked = len(starts) - before
        # The first configure's start, held while the other 299 came, then the newest:
        # (a third only if the server had not read all of them when the gate opened)
        assert 2 <= asked <= 3, asked


def test_sessions_playing_at_one_rate_ask_on_the_same_ticks_and_step_as_one() -> None:
    """Three students racing on one frame worker at the same frame rate: their frames fall
    on the process's frame clock, so their requests share round trips and their races are
    stepped as one array program (``/healthz`` ``frames.together``)."""
    from deepscope.sessions.session import on_tick

    period, zero = 1 / 20, on_tick(0.0, 1 / 20)
    for t in (5.0, 5.013, 5.049, 7.3):
        for p in (period, 2 * period):  # (20 and 10 frames/s: the same clock)
            tick = on_tick(t, p)
            assert abs(tick - t) <= p / 2 + 1e-9  # the nearest tick …
            assert (tick - zero) / period == pytest.approx(round((tick - zero) / period))

    race = {**RACE, "steps": 400}
    for c in _client(compute_processes=1):
        with (
            c.websocket_connect("/ws", headers=ORIGIN) as a,
            c.websocket_connect("/ws", headers=ORIGIN) as b,
            c.websocket_connect("/ws", headers=ORIGIN) as d,
        ):
            students = (a, b, d)
            for i, ws in enumerate(students):
                recv(ws)
                runs = [{"optimizer": "adam", "lr": 0.01 * (i + 1)}, {"optimizer": "gd"}]
                config = {**race, "runs": runs}
                send(ws, type="configure", lab="descend", config=config, options={"fps": 20})
                until(ws, "frame")
            for ws in students:  # (each starting a third of a frame after the other)
                send(ws, type="play")
                time.sleep(period / 3)
            for _ in range(30):
                for ws in students:
                    until(ws, "frame")
            together = c.get("/healthz").json()["frames"]["together"]
        assert together["programs"] > 0 and together["rows"] >= 6 * together["programs"]
        assert together["frames"] >= 3 * together["programs"]
