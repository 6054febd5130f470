"""The ASGI app: ``deepscope.app:app``.

Routes live in ``deepscope.api``; this module wires them together with the
settings, the shared compute pool and the error handlers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import __version__
from .api import errors, pages, routes, security, ws
from .presets import PRESETS
from .protocol import LayersRequest
from .runtime import tune_allocator
from .sessions.classroom import ClassHub
from .sessions.classstore import ClassStore, MemoryStore, RedisStore
from .sessions.compute import ComputePool
from .sessions.monitor import LoopMonitor
from .sessions.registry import SessionRegistry
from .sessions.uploads import UploadStore
from .settings import Settings

log = logging.getLogger("deepscope")


def preset_pictures() -> list[LayersRequest]:
    """The lecture presets' layers configurations, as the page asks for them."""
    return [
        LayersRequest.model_validate({**p["config"], "histograms": [p["view"]["quantity"]]})
        for p in PRESETS
        if p["lab"] == "layers"
    ]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    tune_allocator()
    pool = ComputePool(
        settings.compute_threads,
        settings.frame_processes,
        layers_cache_bytes=int(settings.layers_cache_mb * 2**20),
        layers_workers=settings.layers_worker_count,
    )
    registry = SessionRegistry(settings.max_sessions)
    monitor = LoopMonitor()
    store: ClassStore = (
        RedisStore(settings.redis_url) if settings.redis_url is not None else MemoryStore()
    )
    classes = ClassHub(settings, store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        monitor.start()
        await pool.start()
        await classes.start()
        if settings.prewarm_presets:
            pool.layers.prewarm(preset_pictures())
        try:
            yield
        finally:
            await registry.shutdown()
            await classes.close()
            await monitor.stop()
            pool.shutdown()

    app = FastAPI(
        title="DeepScope",
        version=__version__,
        summary="See how deep networks train.",
        lifespan=lifespan,
        default_response_class=errors.SafeJSONResponse,
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.sessions = registry
    app.state.monitor = monitor
    app.state.uploads = UploadStore()
    app.state.classes = classes
    errors.install(app)
    security.install(app, settings)
    app.include_router(routes.router)
    app.include_router(ws.router)
    pages.install(app)
    return app


app = create_app()
