"""Hostile input: fuzzed REST bodies and WebSocket messages, NaN spellings, deep
nesting, duplicate keys, wrong types, Origin/Host matrices, fragmented, oversized
and flooding messages. Never a 500, never a traceback, never a non-finite number."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus

from deepscope.app import create_app
from deepscope.sessions.session import MESSAGE_TAGS
from deepscope.settings import Settings
from tests.live import LiveServer
from tests.reliability.conftest import open_ws, until, wait_for_health

ENDPOINTS = [
    "/api/layers",
    "/api/descend",
    "/api/sweep",
    "/api/surface",
    "/api/activation",
    "/api/train",
    "/api/datasets",
]
VALID = {
    "/api/layers": {"depth": 2, "width": 10, "batch": 10, "input_dim": 4},
    "/api/descend": {"surface": "booth", "steps": 5, "runs": [{"optimizer": "adam"}]},
    "/api/sweep": {"surface": "booth", "steps": 5, "optimizers": [{"optimizer": "adam"}]},
    "/api/surface": {"surface": "booth", "resolution": 8},
    "/api/activation": {"name": "tanh", "x": [0.5]},
    "/api/train": {"n_samples": 20, "hidden": [3], "steps": 5},
    "/api/datasets": {"points": [[0, 0, "a"], [1, 1, "b"], [0, 1, "b"], [1, 0, "a"]]},
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(
        Settings(allowed_hosts=["testserver"], rate_limit_burst=100_000, rate_limit_per_s=10_000)
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _strict(text: str) -> Any:
    """Parse JSON refusing NaN / Infinity (what a strict browser-side parser does)."""

    def refuse(token: str) -> None:
        raise AssertionError(f"non-finite number {token} on the wire")

    return json.loads(text, parse_constant=refuse)


def _check_response(r: Any) -> None:
    assert r.status_code in (200, 400, 422), (r.status_code, r.text[:300])
    assert "Traceback" not in r.text and 'File "' not in r.text
    body = _strict(r.text)
    if r.status_code != 200:
        assert isinstance(body.get("error"), str) and body["error"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
FIELD_NAMES = sorted(
    {k for body in VALID.values() for k in body}
    | {
        "activation",
        "init",
        "scale",
        "bias",
        "optimizer",
        "lr",
        "surface_params",
        "expr",
        "dataset",
        "batchnorm",
        "dropout_keep",
        "widths",
        "input",
        "seed",
        "type",
        "lab",
        "config",
        "csv",
        "points",
    }
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(endpoint=st.sampled_from(ENDPOINTS), body=json_values)
def test_random_json_bodies(client: TestClient, endpoint: str, body: Any) -> None:
    _check_response(client.post(endpoint, json=body))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(endpoint=st.sampled_from(ENDPOINTS), key=st.sampled_from(FIELD_NAMES), value=json_values)
def test_valid_bodies_with_one_field_mutated(
    client: TestClient, endpoint: str, key: str, value: Any
) -> None:
    _check_response(client.post(endpoint, json={**VALID[endpoint], key: value}))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "-NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "-1e999",
        "1e-999",
        "nan",
        "inf",
        "99999999999999999999999999999999999",
        '"NaN"',
        '"Infinity"',
        "[NaN]",
        "{}",
        "null",
        "true",
        '"0.1"',
    ],
)
def test_nan_and_infinity_spellings_everywhere(
    client: TestClient, endpoint: str, text: str
) -> None:
    body = json.dumps(VALID[endpoint])
    for field in list(VALID[endpoint])[:3]:
        mutated = body.replace(f'"{field}": ', f'"{field}": {text}, "__was": ', 1)
        r = client.post(endpoint, content=mutated, headers={"content-type": "application/json"})
        _check_response(r)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000 + "]" * 50_000,
        '{"a":' * 5000 + "1" + "}" * 5000,
        "",
        "{",
        "\x00",
        '{"depth": 2, "depth": 99}',
        '\ufeff{"depth": 2}',
        "[]" * 1000,
        '"' + "x" * 100_000 + '"',
    ],
)
def test_deep_nesting_duplicates_and_garbage(client: TestClient, text: str) -> None:
    for endpoint in ENDPOINTS:
        r = client.post(
            endpoint,
            content=text.encode("utf-8", "surrogatepass"),
            headers={"content-type": "application/json"},
        )
        _check_response(r)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    message=json_values
    | st.fixed_dictionaries(
        {"type": st.sampled_from(["configure", "play", "pause", "step", "reset", "x"])},
        optional={
            "lab": st.sampled_from(["layers", "descend", "train", "?"]),
            "config": json_values,
            "n": json_values,
            "options": json_values,
        },
    )
)
def test_fuzzed_websocket_messages(client: TestClient, message: Any) -> None:
    _then_the_lab_still_works(client, message)


def _then_the_lab_still_works(
    client: TestClient, message: Any, answers: tuple[str, ...] = (), internal: bool = True
) -> None:
    """Send ``message``, then a valid configure: every answer is a known message type (an
    error without a traceback, and no ``internal`` one unless allowed), and a frame of
    the valid configure comes."""
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        _strict(ws.receive_text())  # hello
        ws.send_text(json.dumps(message))
        ws.send_text(
            json.dumps({"type": "configure", "lab": "descend", "config": VALID["/api/descend"]})
        )
        for _ in range(20):
            m = _strict(ws.receive_text())
            assert m["type"] in ("frame", "status", "error", *answers), m
            if m["type"] == "error":
                assert "Traceback" not in m["message"]
                assert internal or m["code"] != "internal", m
            if m["type"] == "frame" and m["lab"] == "descend":
                break
        else:
            raise AssertionError("the valid configure after the fuzzed message got no frame")


ANSWERS = ("class_created", "class_joined", "class_state", "class_handins", "class_view")
CLASS_TYPES = sorted(t for t in MESSAGE_TAGS[0] if t.startswith("class_"))


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    message=st.fixed_dictionaries(
        {"type": st.sampled_from(CLASS_TYPES)},
        optional={
            "code": json_values | st.text(max_size=40),
            "teacher_key": json_values | st.text(max_size=200),
            "side": st.sampled_from(["a", "b", "c", 1, None]),
            "state": json_values,
            "handin": json_values,
            "lesson": json_values | st.text(max_size=80),
            "step": json_values,
            "done": json_values,
            "name": json_values | st.text(max_size=100),
            "note": json_values,
        },
    )
)
def test_fuzzed_class_messages(client: TestClient, message: Any) -> None:
    """A class message of any shape: a clear answer (or an error naming the field), never
    a traceback or a dead connection; the lab still works after it."""
    _then_the_lab_still_works(client, message, ANSWERS, internal=False)


# --- against a real server -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [
        ("same", None, True),
        ("http://evil.example", None, False),
        ("http://127.0.0.1.evil.example", None, False),
        ("same+0", None, False),
        ("http://127.0.0.1:1", None, False),
        ("null", None, False),
        (None, None, False),
        ("same", "evil.example", False),
        ("http://evil.example", "evil.example", False),
        ("same", "127.0.0.1.evil.example", False),
    ],
)
def test_origin_and_host_matrix(
    server: LiveServer, origin: str | None, host: str | None, ok: bool
) -> None:
    from websockets.asyncio.client import connect

    if origin == "same":
        origin = server.origin
    elif origin == "same+0":
        origin = server.origin + "0"

    async def go() -> None:
        headers = {"Host": host} if host else None
        kwargs: dict[str, Any] = {
            "compression": None,
            "open_timeout": 10,
            "additional_headers": headers,
        }
        if origin is not None:
            kwargs["origin"] = origin
        if ok:
            ws = await connect(server.ws_url, **kwargs)
            assert json.loads(await ws.recv())["type"] == "hello"
            await ws.close()
        else:
            with pytest.raises(InvalidStatus):
                await connect(server.ws_url, **kwargs)

    asyncio.run(go())


def test_fragmented_messages_are_reassembled_and_oversized_ones_refused(server: LiveServer) -> None:
    async def go() -> None:
        ws = await open_ws(server)
        await ws.recv()
        text = json.dumps({"type": "configure", "lab": "descend", "config": VALID["/api/descend"]})
        await ws.send([text[i : i + 7] for i in range(0, len(text), 7)])  # continuation frames
        assert (await until(ws, "frame"))["lab"] == "descend"
        big = json.dumps({"type": "configure", "lab": "layers", "config": {}, "pad": "y" * 80_000})
        with pytest.raises(ConnectionClosed) as info:
            await ws.send([big[i : i + 4096] for i in range(0, len(big), 4096)])
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        # 1009, or — if the server closed while our fragments were still in flight —
        # a torn-down connection; either way the server freed the session.
        assert info.value.rcvd is None or info.value.rcvd.code == 1009
        h = await wait_for_health(server, lambda h: h["sessions"] == 0)
        assert h["sessions"] == 0

    asyncio.run(go())


def test_a_flood_is_throttled_and_others_keep_their_service(server: LiveServer) -> None:
    async def go() -> None:
        flooder = await open_ws(server)
        await flooder.recv()
        await flooder.send(
            json.dumps(
                {
                    "type": "configure",
                    "lab": "descend",
                    "config": {**VALID["/api/descend"], "steps": 100_000},
                }
            )
        )
        await until(flooder, "frame")
        calm = await open_ws(server)
        await calm.recv()
        await calm.send(
            json.dumps(
                {
                    "type": "configure",
                    "lab": "descend",
                    "config": {**VALID["/api/descend"], "steps": 100_000},
                    "options": {"fps": 10},
                }
            )
        )
        await until(calm, "frame")
        await calm.send(json.dumps({"type": "play"}))

        async def flood() -> int:
            sent = 0
            try:
                for i in range(3000):
                    await flooder.send(json.dumps({"type": "step", "n": 1 + i % 3}))
                    sent += 1
            except ConnectionClosed:
                pass
            return sent

        task = asyncio.create_task(flood())
        # The flood does not stall another student: its frames keep coming, one run's
        # steps in order (`make bench` reports the longest gap between them).
        steps = [(await until(calm, "frame", timeout=5))["step"] for _ in range(30)]
        task.cancel()
        assert steps == sorted(steps) and steps[-1] > steps[0]
        errors = []
        try:
            for _ in range(50):
                m = json.loads(await asyncio.wait_for(flooder.recv(), 5))
                if m["type"] == "error":
                    errors.append(m["code"])
        except (TimeoutError, ConnectionClosed):
            pass
        assert errors.count("rate_limited") >= 1  # told once, then slowed down
        assert set(errors) == {"rate_limited"}
        await calm.close()
        await flooder.close()

    asyncio.run(go())


def test_no_non_finite_number_on_the_wire_from_a_diverging_run(server: LiveServer) -> None:
    async def go() -> None:
        ws = await open_ws(server)
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "type": "configure",
                    "lab": "train",
                    "config": {
                        "activation": "linear",
                        "scale": 50,
                        "steps": 500,
                        "optimizer": {"optimizer": "gd", "lr": 10},
                    },
                    "options": {"steps_per_frame": 5},
                }
            )
        )
        await until(ws, "frame")
        await ws.send(json.dumps({"type": "play"}))
        while True:
            text = await asyncio.wait_for(ws.recv(), 20)
            m = _strict(text)
            if m["type"] == "status" and m["state"] in ("diverged", "finished"):
                break
        assert m["state"] == "diverged"
        await ws.close()

    asyncio.run(go())


def test_strict_parse_catches_nan() -> None:
    with pytest.raises(AssertionError):
        _strict('{"x": NaN}')
    assert math.isfinite(_strict('{"x": 1e308}')["x"])
