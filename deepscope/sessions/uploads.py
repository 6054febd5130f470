"""Uploaded datasets, kept per owner: a WebSocket session (its id) or the REST API.

Bounded three ways: each table by ``engine.owndata`` (bytes, rows, line length),
the number per owner (the least recently used goes first), and time (an upload
not used for ``ttl_s`` is forgotten; a session's go when the session ends).
Thread-safe: the REST routes run on a thread pool.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from ..engine.owndata import Table
from ..protocol import MAX_REST_UPLOADS, MAX_SESSION_UPLOADS, UPLOAD_TTL_S

REST = "rest"  # the owner of uploads made through POST /api/datasets (never a session id)


class UploadStore:
    def __init__(
        self,
        per_session: int = MAX_SESSION_UPLOADS,
        rest: int = MAX_REST_UPLOADS,
        ttl_s: float = UPLOAD_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_session = per_session
        self.rest = rest
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._owners: dict[str, OrderedDict[str, tuple[Table, float]]] = {}

    def _expire(self, now: float) -> None:
        for owner in list(self._owners):
            tables = self._owners[owner]
            for key in [k for k, (_, used) in tables.items() if now - used > self.ttl_s]:
                del tables[key]
            if not tables:
                del self._owners[owner]

    def put(self, owner: str, table: Table) -> None:
        """Keep ``table`` for ``owner`` (again: it becomes the most recently used)."""
        cap = self.rest if owner == REST else self.per_session
        with self._lock:
            now = self.clock()
            self._expire(now)
            tables = self._owners.setdefault(owner, OrderedDict())
            tables.pop(table.id, None)
            tables[table.id] = (table, now)
            while len(tables) > cap:
                tables.popitem(last=False)

    def get(self, owner: str, table_id: str) -> Table | None:
        with self._lock:
            now = self.clock()
            self._expire(now)
            tables = self._owners.get(owner)
            if tables is None or table_id not in tables:
                return None
            table, _ = tables.pop(table_id)
            tables[table_id] = (table, now)
            return table

    def drop(self, owner: str) -> None:
        """Forget every upload of ``owner`` (a session that ended)."""
        with self._lock:
            self._owners.pop(owner, None)

    def count(self, owner: str | None = None) -> int:
        with self._lock:
            if owner is not None:
                return len(self._owners.get(owner, ()))
            return sum(len(t) for t in self._owners.values())

    def nbytes(self) -> int:
        with self._lock:
            return sum(t.nbytes for tables in self._owners.values() for t, _ in tables.values())
