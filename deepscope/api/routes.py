"""The REST API (docs/protocol.md). Routes are thin: validate, compute off the loop, reply."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse

from .. import __version__
from ..catalog import build_catalog
from ..protocol import (
    ActivationRequest,
    ActivationResponse,
    DatasetRequest,
    DatasetResponse,
    DescendRequest,
    DescendResponse,
    Health,
    LandscapeRaceRequest,
    LandscapeRaceResponse,
    LandscapeRequest,
    LandscapeResponse,
    LayersRequest,
    LayersResponse,
    SurfaceRequest,
    SurfaceResponse,
    SweepRequest,
    SweepResponse,
    TrainRequest,
    TrainResponse,
)
from ..sessions import labs
from ..sessions.compute import ComputePool
from ..sessions.uploads import REST, UploadStore

router = APIRouter()


def _pool(request: Request) -> ComputePool:
    pool: ComputePool = request.app.state.pool
    return pool


@router.get("/healthz", response_model=Health, tags=["meta"])
async def healthz(request: Request) -> Health:
    """Liveness, version, and this worker's sessions, tasks, threads and loop lag."""
    return Health(
        version=__version__,
        sessions=len(request.app.state.sessions),
        worker=os.getpid(),
        tasks=len(asyncio.all_tasks()),
        threads=threading.active_count(),
        loop_lag=request.app.state.monitor.percentiles(),
        layers_cache=request.app.state.pool.layers.stats(),
        frames=request.app.state.pool.frames.stats(),
        classes=request.app.state.classes.stats(),
    )


@router.get("/api/catalog", tags=["meta"])
async def catalog() -> dict[str, Any]:
    """Every activation, init, optimizer, surface, dataset and preset, with ranges."""
    return build_catalog()


@router.post("/api/layers", response_model=LayersResponse, tags=["labs"])
async def layers(body: LayersRequest, request: Request) -> LayersResponse:
    """The layers lab: per-layer histograms and statistics of an initialised MLP."""
    return await _pool(request).run(labs.run_layers, body)


@router.post("/api/activation", response_model=ActivationResponse, tags=["labs"])
async def activation(body: ActivationRequest, request: Request) -> ActivationResponse:
    """An activation and its derivative at the given points (the gallery's data)."""
    return await _pool(request).run(labs.run_activation, body)


@router.post("/api/descend", response_model=DescendResponse, tags=["labs"])
async def descend(body: DescendRequest, request: Request) -> DescendResponse:
    """The optimizer lab: every run's path on the surface, raced together."""
    return await _pool(request).run(labs.run_descend, body)


@router.post("/api/sweep", response_model=SweepResponse, tags=["labs"])
async def sweep(body: SweepRequest, request: Request) -> SweepResponse:
    """A learning-rate sweep: every optimizer at every learning rate, raced as one array
    program; per optimizer the criterion against the learning rate, its best learning
    rate and that run's path."""
    return await _pool(request).run(labs.run_sweep, body)


@router.post("/api/surface", response_model=SurfaceResponse, tags=["labs"])
async def surface(body: SurfaceRequest, request: Request) -> SurfaceResponse:
    """A value grid of a surface for contours (and f′ for 1-D), with its critical points."""
    return await _pool(request).run(labs.run_surface, body)


def _uploads(request: Request) -> UploadStore:
    store: UploadStore = request.app.state.uploads
    return store


@router.post("/api/train", response_model=TrainResponse, tags=["labs"])
async def train(body: TrainRequest, request: Request) -> TrainResponse:
    """The training lab: a small network learning a 2-D dataset, its history and result."""
    store = _uploads(request)
    return await _pool(request).run(labs.run_train, body, lambda i: store.get(REST, i))


@router.post("/api/datasets", response_model=DatasetResponse, tags=["labs"])
async def datasets(body: DatasetRequest, request: Request) -> DatasetResponse:
    """Upload a 2-D dataset (CSV text or points) for the training lab: ``{"dataset":
    "uploaded", "dataset_params": {"id": …}}``. A bad upload is a 422 naming the row and
    column; uploads are forgotten an hour after their last use."""
    table = await _pool(request).run(labs.parse_upload, body)
    _uploads(request).put(REST, table)
    return labs.dataset_response(table)


@router.get("/api/datasets/{dataset_id}", response_class=PlainTextResponse, tags=["labs"])
async def dataset_csv(dataset_id: str, request: Request) -> PlainTextResponse:
    """An upload of ``POST /api/datasets`` back as CSV (x, y, label with the file's names)."""
    table = _uploads(request).get(REST, dataset_id)
    if table is None:
        raise HTTPException(404, f"no uploaded dataset {dataset_id[:40]} here (or it expired)")
    return PlainTextResponse(table.to_csv(), media_type="text/csv")


@router.post("/api/landscape", response_model=LandscapeResponse, tags=["labs"])
async def landscape(body: LandscapeRequest, request: Request) -> LandscapeResponse:
    """The trained network's loss on a plane through its final weights, with the path."""
    store = _uploads(request)
    return await _pool(request).run(labs.run_landscape, body, lambda i: store.get(REST, i))


@router.post("/api/landscape/race", response_model=LandscapeRaceResponse, tags=["labs"])
async def landscape_race(body: LandscapeRaceRequest, request: Request) -> LandscapeRaceResponse:
    """K optimizers on one network from one start, their paths on one common plane."""
    store = _uploads(request)
    return await _pool(request).run(labs.run_landscape_race, body, lambda i: store.get(REST, i))
