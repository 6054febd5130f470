"""The app page, our static ES modules, and plotly.js from the installed package."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from .. import __version__
from ..paths import page_dir

STATIC = page_dir("static")
TEMPLATES = page_dir("templates")


@cache
def plotly_js() -> Path:
    """plotly.min.js as shipped inside the installed ``plotly`` package (never a CDN)."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise RuntimeError(f"plotly.min.js not found in the plotly package at {path}")
    return path


def install(app: FastAPI) -> None:
    templates = Jinja2Templates(directory=str(TEMPLATES))

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    async def plotly() -> FileResponse:
        return FileResponse(
            plotly_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "index.html", {"version": __version__})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
