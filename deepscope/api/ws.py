"""``/ws``: the live labs. Checks the Origin, admits up to the session cap, runs a Session."""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from ..protocol import CLOSE_TRY_LATER
from ..sessions.compute import ComputePool
from ..sessions.registry import SessionRegistry
from ..sessions.session import CLOSE_POLICY, Session
from ..settings import Settings
from .security import HostPolicy

log = logging.getLogger("deepscope.ws")
router = APIRouter()


class StarletteTransport:
    """A Session's view of a Starlette WebSocket."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def receive(self) -> str | None:
        try:
            message = await self.websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return None
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is None:  # a binary frame: read it as UTF-8 text (a bad one fails to parse)
            text = (message.get("bytes") or b"").decode("utf-8", errors="replace")
        return str(text)

    async def send(self, text: str) -> None:
        await self.websocket.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        if self.websocket.application_state != WebSocketState.DISCONNECTED:
            await self.websocket.close(code=code, reason=reason)


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    """Live labs over JSON text frames (see deepscope/protocol/messages.py for every message)."""
    app = websocket.app
    settings: Settings = app.state.settings
    policy: HostPolicy = app.state.host_policy
    origin = websocket.headers.get("origin")
    if not policy.origin_ok(origin, websocket.headers.get("host")):
        log.info("refused a WebSocket from origin %r", origin)
        await websocket.close(code=CLOSE_POLICY, reason="origin not allowed")
        return
    await websocket.accept()
    registry: SessionRegistry = app.state.sessions
    pool: ComputePool = app.state.pool
    scheme = "https" if websocket.url.scheme == "wss" else "http"
    host = websocket.headers.get("host") or f"{settings.host}:{settings.port}"
    session = Session(
        StarletteTransport(websocket),
        settings,
        pool,
        registry.cap,
        app.state.uploads,
        classes=app.state.classes,
        address=websocket.client.host if websocket.client else "unknown",
        base_url=f"{scheme}://{host}",
    )
    if not registry.admit(session):
        await websocket.close(
            code=CLOSE_TRY_LATER,
            reason=f"class full: this server takes {registry.cap} students; try again soon",
        )
        return
    try:
        await session.run()
    finally:
        registry.remove(session)
        if not session.closed.is_set():
            await session.close(1000, "bye")
