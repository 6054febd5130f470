"""Own data over the WebSocket: a dataset message, a training run on it, errors naming
the row and column that leave the session's lab running, per-session bounds, and the
uploads ending with their session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from starlette.testclient import WebSocketTestSession

from deepscope import protocol
from deepscope.app import create_app
from deepscope.protocol import DatasetInfo, ErrorMessage, TrainFrameData
from deepscope.sessions.uploads import UploadStore
from deepscope.settings import Settings

ORIGIN = {"origin": "http://testserver"}
ROWS = [(x / 5 - 4, ((x * 13) % 17) / 4 - 2) for x in range(40)]
CSV = "a,b,label\n" + "\n".join(f"{x},{y},{'in' if x * x + y * y < 4 else 'out'}" for x, y in ROWS)


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(
        Settings(
            allowed_hosts=["testserver"], max_fps=60, rate_limit_burst=400, prewarm_presets=False
        )
    )
    with TestClient(app) as c:
        yield c


def recv(ws: WebSocketTestSession) -> dict[str, Any]:
    return dict(json.loads(ws.receive_text()))


def until(ws: WebSocketTestSession, kinds: set[str]) -> dict[str, Any]:
    for _ in range(200):
        m = recv(ws)
        if m["type"] in kinds:
            return m
    raise AssertionError(f"none of {kinds}")


def send(ws: WebSocketTestSession, **message: Any) -> None:
    ws.send_text(json.dumps(message))


def train(ws: WebSocketTestSession, table_id: str, **params: str) -> None:
    config = {
        "dataset": "uploaded",
        "dataset_params": {"id": table_id, **params},
        "hidden": [4],
        "steps": 50,
    }
    send(ws, type="configure", lab="train", config=config, options={"boundary": 10})


def test_upload_then_train_draws_the_boundary_over_the_data(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, {"hello"})
        send(ws, type="dataset", csv=CSV)
        info = DatasetInfo.model_validate(until(ws, {"dataset"}))
        assert info.rows == 40 and info.labels == ["in", "out"]
        assert info.columns == ["a", "b", "label"]
        train(ws, info.id)
        frame = until(ws, {"frame", "error"})
        assert frame["type"] == "frame", frame
        data = TypeAdapter(TrainFrameData).validate_python(frame["data"])
        assert "boundary" in data
        (x0, x1), (y0, y1) = data["data"]["domain"]
        (bx0, bx1), (by0, by1) = info.bounds
        assert x0 < bx0 and x1 > bx1 and y0 < by0 and y1 > by1  # fitted, with a margin
        assert x1 - x0 < 1.3 * (bx1 - bx0)
        assert len(data["data"]["X_train"]) + len(data["data"]["X_test"]) == 40
        send(ws, type="step", n=5)
        assert until(ws, {"frame"})["step"] == 5


def test_a_bad_upload_names_row_and_column_and_keeps_the_run(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, {"hello"})
        send(ws, type="dataset", csv=CSV)
        info = until(ws, {"dataset"})
        train(ws, info["id"])
        until(ws, {"frame"})
        send(ws, type="dataset", csv="x,y,label\n0,0,0\n1,1,1\n2,oops,1\n3,3,0\n")
        err = ErrorMessage.model_validate(until(ws, {"error"}))
        assert err.message == "csv: row 4, column 2: y is 'oops', not a number"
        assert err.field == "csv" and err.problems[0].params == {
            "name": "y",
            "value": "oops",
            "row": 4,
            "column": 2,
        }
        send(ws, type="step", n=3)  # the run goes on
        assert until(ws, {"frame"})["step"] == 3


def test_a_large_file_fits_in_one_dataset_message(client: TestClient) -> None:
    rows = "\n".join(f"{i * 0.001:.6f},{(i * 37 % 1000) * 0.001:.6f},{i % 2}" for i in range(5000))
    assert len(rows) > 65536  # over the other messages' limit
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, {"hello"})
        send(ws, type="dataset", csv=rows)
        assert until(ws, {"dataset", "error"})["rows"] == 5000


def test_an_unknown_id_is_refused_naming_the_field(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, {"hello"})
        train(ws, "0123456789abcdef")
        err = until(ws, {"error"})
        assert err["field"] == "config.dataset_params.id"
        assert err["problems"][0]["code"] == "dataset_unknown"


def test_uploads_are_the_sessions_own(client: TestClient) -> None:
    """Another session, and the REST API, do not see a session's upload."""
    with (
        client.websocket_connect("/ws", headers=ORIGIN) as a,
        client.websocket_connect("/ws", headers=ORIGIN) as b,
    ):
        until(a, {"hello"})
        until(b, {"hello"})
        send(a, type="dataset", csv=CSV)
        table_id = until(a, {"dataset"})["id"]
        train(b, table_id)
        assert until(b, {"error"})["problems"][0]["code"] == "dataset_unknown"
        r = client.post(
            "/api/train",
            json={"dataset": "uploaded", "dataset_params": {"id": table_id}, "steps": 1},
        )
        assert r.status_code == 422


def test_uploads_end_with_their_session(client: TestClient) -> None:
    store: UploadStore = client.app.state.uploads  # type: ignore[attr-defined]
    before = store.count()
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, {"hello"})
        for k in range(protocol.MAX_SESSION_UPLOADS + 2):
            send(ws, type="dataset", csv=CSV + f"\n{k + 10},0,in")
            until(ws, {"dataset"})
        assert store.count() == before + protocol.MAX_SESSION_UPLOADS  # bounded per session
    for _ in range(100):
        if store.count() == before:
            break
        client.get("/healthz")  # let the server finish closing the session
    assert store.count() == before, "the session's uploads outlived it"


def test_the_store_forgets_after_its_time() -> None:
    now = [0.0]
    store = UploadStore(per_session=2, rest=2, ttl_s=10, clock=lambda: now[0])
    from deepscope.engine.owndata import parse_csv

    table = parse_csv(CSV)
    store.put("s1", table)
    now[0] = 9.0
    assert store.get("s1", table.id) is table  # a use keeps it
    now[0] = 18.0
    assert store.get("s1", table.id) is table
    now[0] = 29.0
    assert store.get("s1", table.id) is None and store.count() == 0


def test_only_a_dataset_message_may_be_larger_and_only_up_to_its_bound(
    client: TestClient,
) -> None:
    from starlette.websockets import WebSocketDisconnect

    pad = "y" * 100_000  # over the other messages' 64 KiB, under a dataset's bound
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, {"hello"})
        send(ws, type="configure", lab="layers", config={}, pad=pad)
        with pytest.raises(WebSocketDisconnect) as closed:
            recv(ws)
        assert closed.value.code == 1009
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, {"hello"})
        send(ws, type="dataset", csv="x" * (protocol.MAX_UPLOAD_MESSAGE_BYTES + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            recv(ws)
        assert closed.value.code == 1009
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, {"hello"})
        send(ws, type="dataset", csv="0,0,0\n" * 70_000)  # 420 000 bytes: a named refusal
        err = until(ws, {"error"})
        assert err["problems"][0]["code"] == "upload_bytes"
