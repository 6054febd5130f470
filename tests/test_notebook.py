"""DeepScope in a notebook: examples/lecture.ipynb executed on a real Jupyter kernel
(nbclient + ipykernel), its outputs checked, and the IFrame it shows opened in a
browser — directly and framed by a page of another loopback origin — where the lab
draws. Also: ``import deepscope`` stays cheap, and the Python API is the REST API."""

from __future__ import annotations

import functools
import http.server
import itertools
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from fastapi.testclient import TestClient
from nbclient import NotebookClient
from playwright.sync_api import sync_playwright

import deepscope
from deepscope.app import create_app
from deepscope.settings import Settings
from tests.live import CHROMIUM, CHROMIUM_FLAGS, ROOT, free_port

EXAMPLE = ROOT / "examples" / "lecture.ipynb"
IFRAME = re.compile(r'<iframe src="([^"]+)"')


class Executed:
    def __init__(self, nb: Any) -> None:
        self.nb = nb

    def outputs(self, index: int) -> list[Any]:
        return list(self.nb.cells[index].outputs)

    def html(self, index: int) -> str:
        return "".join(o["data"].get("text/html", "") for o in self.outputs(index) if "data" in o)

    def text(self, index: int) -> str:
        parts = []
        for o in self.outputs(index):
            if o["output_type"] == "stream":
                parts.append(o["text"])
            elif "data" in o:
                parts.append(o["data"].get("text/plain", ""))
        return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executed]:
    """The notebook run cell by cell on a real kernel, kept alive for the browser."""
    nb = nbformat.read(EXAMPLE, as_version=4)
    workdir = tmp_path_factory.mktemp("notebook")
    client = NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        yield Executed(nb)


def test_the_notebook_runs_and_its_outputs_are_the_lectures(executed: Executed) -> None:
    for index, cell in enumerate(executed.nb.cells):
        if cell.cell_type == "code":
            errors = [o for o in executed.outputs(index) if o["output_type"] == "error"]
            assert errors == [], f"cell {index}: {errors}"
    first, last = executed.html(1), executed.html(4)
    src = IFRAME.search(first)
    assert src is not None, first
    assert src.group(1).startswith("http://127.0.0.1:")
    assert "lab=layers" in src.group(1) and "%22scale%22%3A0.01" in src.group(1)
    assert "ssh -L" in first  # what to do when the frame cannot reach the kernel
    again = IFRAME.search(last)
    assert again is not None
    port = lambda url: url.split("/")[2]  # noqa: E731
    assert port(again.group(1)) == port(src.group(1))  # one server, reused
    assert "%22init%22%3A%22he_normal%22" in again.group(1)
    stds = [float(x) for x in re.findall(r"[\d.]+(?:e-?\d+)?", executed.text(2))]
    assert len(stds) == 10 and stds[0] == pytest.approx(0.214, abs=0.01)
    ratios = [b / a for a, b in itertools.pairwise(stds)]
    assert ratios == pytest.approx([0.224] * 9, abs=0.02)  # 0.01·√500 per layer: vanishing
    lines = executed.text(3).strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("normal × 0.01: std 0.000")
    saturated = int(re.search(r"saturated (\d+)%", lines[1]).group(1))  # type: ignore[union-attr]
    assert saturated >= 80  # N(0, 1): most tanh units saturate
    assert lines[2].startswith("xavier_normal × 1.0: std 0.2")


def _frame_page(port: int, lab_url: str, directory: Path) -> http.server.ThreadingHTTPServer:
    (directory / "index.html").write_text(
        f'<!doctype html><title>notebook</title><iframe src="{lab_url}" width="1200" '
        'height="900"></iframe>'
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


DRAWN = (
    "() => { const l = window.deepscope && window.deepscope.labs.layers;"
    " return !!l && !!l.frame && l.frame.detail === 'complete'"
    " && document.querySelectorAll('.plot[data-drawn]').length >= 4; }"
)


@pytest.mark.browser
def test_the_iframe_shows_the_lab_drawn(executed: Executed, tmp_path: Path) -> None:
    src = IFRAME.search(executed.html(1))
    assert src is not None
    url = src.group(1).replace("&amp;", "&")
    notebook = _frame_page(free_port(), url, tmp_path)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.wait_for_function(DRAWN, timeout=30_000)
            std = page.evaluate("window.deepscope.labs.layers.frame.layers[0].hist.activation.std")
            assert std == pytest.approx(0.2136, abs=0.01)  # the state came from the keywords
            # Framed by a notebook-like page on another loopback origin: allowed, and drawn.
            page.goto(f"http://localhost:{notebook.server_address[1]}/index.html")
            frame = page.frame_locator("iframe")
            frame.locator(".plot[data-drawn]").first.wait_for(timeout=30_000)
            inner = page.frames[1]
            inner.wait_for_function(DRAWN, timeout=30_000)
            assert errors == []
            browser.close()
    finally:
        notebook.shutdown()


def test_import_deepscope_loads_no_server_and_no_numpy() -> None:
    code = (
        "import sys, deepscope; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'numpy', 'pydantic', 'starlette') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_python_api_answers_what_the_rest_api_answers() -> None:
    app = create_app(Settings(allowed_hosts=["testserver"], prewarm_presets=False))
    body = {"depth": 3, "width": 40, "batch": 50, "input_dim": 20, "activation": "relu"}
    race = {"surface": "booth", "steps": 30, "runs": [{"optimizer": "adam", "lr": 0.1}]}
    train = {"dataset": "xor", "hidden": [4], "steps": 30}
    points = [[0, 0, "no"], [1, 1, "no"], [0, 1, "yes"], [1, 0, "yes"]]
    with TestClient(app) as client:
        rest = client.post("/api/layers", json=body).json()
        mine = deepscope.layers(**body)
        assert rest.keys() == mine.keys()
        assert rest["layers"] == mine["layers"] and rest["theory"] == mine["theory"]
        rest = client.post("/api/descend", json=race).json()
        assert rest["runs"] == deepscope.descend(**race)["runs"]
        rest = client.post("/api/train", json=train).json()
        mine = deepscope.train(**train)
        assert rest["history"] == mine["history"] and rest["final"] == mine["final"]
        assert client.post("/api/datasets", json={"points": points}).json() == deepscope.upload(
            points=points
        )
    uploaded = deepscope.upload(points=points)
    run = deepscope.train(dataset="uploaded", dataset_params={"id": uploaded["id"]}, steps=5)
    assert len(run["final"]["inputs"]) == 2  # half of the 4 points train


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: deepscope.layers(depth=300), "depth: Input should be less than or equal to 50"),
        (
            lambda: deepscope.train(dataset="uploaded", dataset_params={"id": "feed"}),
            "dataset_params.id: no uploaded dataset feed",
        ),
        (lambda: deepscope.upload(csv="1,2,0\n1,x,1\n"), "csv: row 2, column 2"),
        (lambda: deepscope.show("layers", activation="swish"), "activation: Input should be"),
        (lambda: deepscope.show("optimizers"), "lab: choose one of"),
    ],
)
def test_bad_input_raises_naming_the_field(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
