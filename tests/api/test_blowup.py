"""The training lab reports a finite blow-up over REST and in its live frames."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from deepscope.app import create_app
from deepscope.protocol import TrainFrameData, TrainResponse
from deepscope.settings import Settings

ORIGIN = {"origin": "http://testserver"}
TRAIN_FRAME = TypeAdapter(TrainFrameData)
GD_10 = {"optimizer": {"optimizer": "gd", "lr": 10}, "steps": 200}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(Settings(allowed_hosts=["testserver"]))
    with TestClient(app) as c:
        yield c


def test_rest_training_reports_the_blow_up(client: TestClient) -> None:
    r = client.post("/api/train", json=GD_10)
    assert r.status_code == 200
    body = TrainResponse.model_validate(r.json())
    assert body.status == "finished"  # it ran to the end …
    assert body.warning is not None  # … and says what went wrong
    assert body.warning["units"] == "saturated" and body.warning["unit_layer"] == 2
    assert body.warning["message"].startswith("the loss blew up at step")
    healthy = client.post("/api/train", json={"steps": 200})
    assert TrainResponse.model_validate(healthy.json()).warning is None


def test_live_frames_carry_the_warning_from_the_step_it_was_caught(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        json.loads(ws.receive_text())  # hello
        ws.send_text(json.dumps({"type": "configure", "lab": "train", "config": GD_10}))
        frames = []
        for n in (0, 5, 60):  # the configure's frame, then two steps
            if n:
                ws.send_text(json.dumps({"type": "step", "n": n}))
            while True:
                m = json.loads(ws.receive_text())
                if m["type"] == "frame":
                    frames.append(TRAIN_FRAME.validate_python(m["data"]))
                    break
        start, early, late = frames
        assert start["step"] == 0 and "warning" not in start
        assert early["step"] == 5 and "warning" not in early
        assert late["step"] == 65 and 10 <= late["warning"]["step"] <= 65
