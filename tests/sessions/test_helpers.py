"""The WebSocket tests' helpers fail instead of hanging: a receive has a deadline, and
``until`` gives up after so many messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from .helpers import ORIGIN, app_client, recv, send, until


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    yield from app_client(compute_processes=0)


def test_a_message_that_never_comes_fails_the_test(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        assert recv(ws)["type"] == "hello"
        with pytest.raises(AssertionError, match=r"no message within 0\.2 s"):
            recv(ws, timeout=0.2)  # (the server says nothing until asked)


def test_until_gives_up_after_so_many_messages_without_a_match(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        until(ws, "hello")
        for _ in range(3):
            send(ws, type="play")  # no lab yet: an error each
        with pytest.raises(AssertionError, match=r"no frame \{\} in 3 messages"):
            until(ws, "frame", within=3)
        send(ws, type="play")
        assert until(ws, "error")["code"] == "no_lab"
