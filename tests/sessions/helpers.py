"""Helpers of the in-process WebSocket tests (TestClient): an app's client, sending, and
receiving with a deadline.

A TestClient websocket's receive has no timeout: a test waiting for a message that never
comes would wait until pytest-timeout ends the whole run. Here every receive runs on a
thread and fails after ``RECEIVE_TIMEOUT_S``, and ``until`` fails after ``within``
messages without a match, each naming what it waited for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from deepscope.app import create_app
from deepscope.settings import Settings

ORIGIN = {"origin": "http://testserver"}
# A guard, not a measurement: far longer than any one message takes on a loaded machine
# (a frame waits for at most one step of a small configuration), far shorter than
# pytest-timeout's whole-test limit.
RECEIVE_TIMEOUT_S = 60.0
WITHIN = 300  # messages ``until`` reads before it gives up


def app_client(**settings: Any) -> Iterator[TestClient]:
    """A TestClient of an app with the settings these tests share (``settings`` add to or
    override them): the test host, no pre-warming, and limits no test trips by accident."""
    values: dict[str, Any] = {
        "allowed_hosts": ["testserver"],
        "max_fps": 60,
        "rate_limit_burst": 400,
        "prewarm_presets": False,
        **settings,
    }
    with TestClient(create_app(Settings(**values))) as c:
        yield c


def receive_text(ws: WebSocketTestSession, timeout: float = RECEIVE_TIMEOUT_S) -> str:
    """The next message's text; AssertionError if none comes within ``timeout`` seconds
    (a close is raised as the WebSocketDisconnect it is)."""
    got: dict[str, Any] = {}

    def read() -> None:
        try:
            got["text"] = ws.receive_text()
        except BaseException as err:  # handed to the test's thread below
            got["error"] = err

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        # (the thread stays blocked on the socket until it closes; the test has failed)
        raise AssertionError(f"no message within {timeout:g} s")
    if "error" in got:
        raise got["error"]
    text: str = got["text"]
    return text


def recv(ws: WebSocketTestSession, timeout: float = RECEIVE_TIMEOUT_S) -> dict[str, Any]:
    return dict(json.loads(receive_text(ws, timeout)))


def until(
    ws: WebSocketTestSession, kind: str, within: int = WITHIN, **match: Any
) -> dict[str, Any]:
    """The next message of type ``kind`` whose fields equal ``match``."""
    for _ in range(within):
        m = recv(ws)
        if m["type"] == kind and all(m.get(k) == v for k, v in match.items()):
            return m
    raise AssertionError(f"no {kind} {match} in {within} messages")


def until_text(ws: WebSocketTestSession, kind: str, within: int = WITHIN) -> str:
    """The raw text of the next message of type ``kind`` (to compare strings)."""
    for _ in range(within):
        text = receive_text(ws)
        if json.loads(text)["type"] == kind:
            return text
    raise AssertionError(f"no {kind} in {within} messages")


def send(ws: WebSocketTestSession, **message: Any) -> None:
    ws.send_text(json.dumps(message))
