"""JSON that is never non-finite, and errors that name the field, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..protocol import ErrorBody
from ..sessions import problems
from ..sessions.encode import dumps_bytes
from ..sessions.labs import InputError

log = logging.getLogger("deepscope")


class SafeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps_bytes(content)


def plain_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic's error dicts with only JSON-safe fields (no ctx objects, no input echo)."""
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = list(exc.errors())
        found = problems.problems(errs)
        body = ErrorBody(error=problems.describe(found), detail=plain_errors(errs), problems=found)
        return SafeJSONResponse(status_code=422, content=body.model_dump())

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        loc = ["body", *exc.field.split(".")]
        detail = [{"loc": loc, "msg": exc.message, "type": "value_error"}]
        body = ErrorBody(error=str(exc), detail=detail, problems=[exc.problem()])
        return SafeJSONResponse(status_code=422, content=body.model_dump())

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return SafeJSONResponse(
            status_code=exc.status_code,
            content={"error": str(exc.detail)},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return SafeJSONResponse(status_code=500, content={"error": "internal error"})
