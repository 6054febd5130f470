"""A sweep over the WebSocket: a descend ``configure`` with a ``sweep`` section streams
its curves as the steps advance, and obeys step, play, pause and reset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from deepscope.app import create_app
from deepscope.protocol import ErrorMessage, Frame, SweepFrameData
from deepscope.settings import Settings

from .helpers import ORIGIN, recv, send, until

CONFIG = {
    "surface": "rosenbrock",
    "steps": 60,
    "runs": [{"optimizer": "gd", "lr": 0.001}, {"optimizer": "adam", "label": "Adam"}],
}
SWEEP = {"lr_min": 1e-4, "lr_max": 1.0, "lr_count": 5}


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(
        Settings(
            allowed_hosts=["testserver"], max_fps=60, rate_limit_burst=400, prewarm_presets=False
        )
    )
    with TestClient(app) as c:
        yield c


SWEEP_FRAME = TypeAdapter(SweepFrameData)


def _sweep_frame(message: dict[str, Any]) -> tuple[Frame, SweepFrameData]:
    frame = Frame.model_validate(message)
    return frame, SWEEP_FRAME.validate_python(frame.data)


def test_a_sweep_streams_its_curves_and_obeys_step_play_pause_reset(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        send(
            ws,
            type="configure",
            lab="descend",
            config=CONFIG,
            sweep=SWEEP,
            options={"steps_per_frame": 10},
        )
        frame, first = _sweep_frame(until(ws, "frame"))
        assert frame.lab == "descend" and frame.step == 0
        assert first["surface"]["name"] == "rosenbrock"
        assert [c["label"] for c in first["optimizers"]] == ["gd", "Adam"]
        lrs = first["optimizers"][0]["lrs"]
        assert lrs[0] == 1e-4 and lrs[-1] == 1.0 and len(lrs) == 5
        # no step yet: no best learning rate, so no best path either
        assert all(c["best_lr"] is None and c["best_index"] is None for c in first["optimizers"])
        assert all(c["path"] == [] for c in first["optimizers"])
        assert until(ws, "status")["state"] == "paused"

        send(ws, type="step", n=7)
        frame, stepped = _sweep_frame(until(ws, "frame"))
        assert frame.step == 7
        adam = stepped["optimizers"][1]
        best = adam["best_index"]
        assert best is not None and adam["best_lr"] == adam["lrs"][best]
        assert adam["path_from"] == 0 and len(adam["path"]) == 8  # the best run's rows 0 … 7
        before = [c["values"] for c in stepped["optimizers"]]
        assert until(ws, "status")["reason"] == "stepped 7"

        send(ws, type="play")
        assert until(ws, "status")["state"] == "running"
        seen = []
        while True:
            message = recv(ws)
            if message["type"] == "frame":
                seen.append(_sweep_frame(message)[1])
            elif message["type"] == "status" and message["state"] == "finished":
                assert message["step"] == 60
                break
        assert seen and [c["values"] for c in seen[-1]["optimizers"]] != before  # filled in
        gd = seen[-1]["optimizers"][0]
        assert gd["status"][-1] == "diverged" and gd["values"][-1] is None
        send(ws, type="step", n=5)  # past the end: the last picture again, no error
        frame, after = _sweep_frame(until(ws, "frame"))
        assert frame.step == 60 and [c["values"] for c in after["optimizers"]] == [
            c["values"] for c in seen[-1]["optimizers"]
        ]
        assert until(ws, "status")["state"] == "finished"

        send(ws, type="reset")
        frame, again = _sweep_frame(until(ws, "frame"))
        assert frame.step == 0 and all(c["path_from"] == 0 for c in again["optimizers"])
        assert until(ws, "status")["state"] == "paused"
        send(ws, type="play")
        until(ws, "status", state="running")
        send(ws, type="pause")
        paused = until(ws, "status", state="paused")
        assert 0 <= paused["step"] <= 60


def test_a_sweep_too_large_is_refused_naming_the_field(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        runs = [{"optimizer": "adam"}] * 16
        send(
            ws,
            type="configure",
            lab="descend",
            config={**CONFIG, "steps": 1000, "runs": runs},
            sweep={"lr_count": 100},
        )
        err = ErrorMessage.model_validate(until(ws, "error"))
        assert err.code == "invalid" and err.field == "config.steps"
        assert err.problems[0].code == "sweep_work"
        send(ws, type="configure", lab="descend", config=CONFIG, sweep={"lr_min": 2, "lr_max": 1})
        err = ErrorMessage.model_validate(until(ws, "error"))
        assert err.field == "sweep.lr_min" and err.problems[0].code == "sweep_lr_order"
        send(
            ws,
            type="configure",
            lab="descend",
            config={**CONFIG, "surface": "monkey_saddle"},
            sweep=SWEEP,
        )
        err = ErrorMessage.model_validate(until(ws, "error"))
        assert err.field == "config.surface" and err.problems[0].code == "sweep_no_minimum"


def test_a_typed_surface_sweeps_the_same_way(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        recv(ws)
        config = {"surface": {"expr": "x**2 + 10*y**2"}, "steps": 50, "runs": [{"optimizer": "gd"}]}
        sweep = {"lr_min": 0.01, "lr_max": 1.0, "lr_count": 5}
        send(ws, type="configure", lab="descend", config=config, sweep=sweep)
        _, first = _sweep_frame(until(ws, "frame"))
        assert first["surface"]["formula"] == "x**2 + 10*y**2"
        send(ws, type="step", n=50)
        frame, last = _sweep_frame(until(ws, "frame"))
        assert frame.step == 50
        (gd,) = last["optimizers"]
        # L = 20: GD is stable below lr = 2/L = 0.1
        assert [s == "diverged" for s in gd["status"]] == [lr > 0.1 for lr in gd["lrs"]]
        best_lr = gd["best_lr"]
        assert best_lr is not None and best_lr < 0.1
