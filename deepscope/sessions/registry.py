"""The live sessions of this worker, with a cap."""

from __future__ import annotations

import asyncio
from typing import Protocol


class Closable(Protocol):
    async def close(self, code: int, reason: str) -> None: ...


class SessionRegistry:
    """Admits sessions up to ``cap`` and closes them all at shutdown."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._sessions: set[Closable] = set()

    def __len__(self) -> int:
        return len(self._sessions)

    def admit(self, session: Closable) -> bool:
        if len(self._sessions) >= self.cap:
            return False
        self._sessions.add(session)
        return True

    def remove(self, session: Closable) -> None:
        self._sessions.discard(session)

    async def shutdown(self, code: int = 1012, reason: str = "server restarting") -> None:
        """Close every session (1012 = service restart)."""
        sessions = list(self._sessions)
        if sessions:
            await asyncio.gather(*(s.close(code, reason) for s in sessions), return_exceptions=True)
        self._sessions.clear()
