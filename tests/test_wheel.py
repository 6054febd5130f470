"""The project installs like any Python tool: a wheel built from this checkout, installed into a
fresh virtual environment outside it, serves the page, its ES modules and plotly.js."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from bench.live import ROOT, live_server

pytestmark = pytest.mark.slow


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("deepscope-*.whl")
    return built


def test_the_wheel_holds_the_page_and_one_import_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"deepscope"}  # nothing called `server`, `static` or `templates` at the top
    for path in ("deepscope/app.py", "deepscope/static/js/main.js", "deepscope/templates/"):
        assert any(n.startswith(path) for n in names), path
    shipped = {n.removeprefix("deepscope/") for n in names if n.startswith("deepscope/static/")}
    here = {str(p.relative_to(ROOT)) for p in (ROOT / "static").rglob("*") if p.is_file()}
    assert shipped == here
    lessons = {n for n in names if n.startswith("deepscope/lessons/") and n.endswith(".json")}
    files = {f"deepscope/lessons/{p.name}" for p in (ROOT / "deepscope" / "lessons").glob("*.json")}
    assert lessons == files and len(files) == 7  # (read at start-up: the lessons ship)


def test_the_installed_server_serves_the_page_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", str(wheel)], check=True, capture_output=True)
    python = env_dir / "bin" / "python"
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import deepscope.app, importlib.util as u; "
            "print(deepscope.app.__file__); print(u.find_spec('server'))",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    assert where[0].startswith(str(env_dir)) and where[1] == "None"
    with live_server(command=[str(env_dir / "bin" / "deepscope")], cwd=tmp_path, timeout=60) as s:
        status, page = _get(f"{s.url}/")
        assert status == 200 and b"DeepScope" in page
        status, module = _get(f"{s.url}/static/js/main.js")
        assert status == 200 and module == (ROOT / "static/js/main.js").read_bytes()
        status, plotly = _get(f"{s.url}/static/vendor/plotly.min.js")
        assert status == 200 and len(plotly) > 1_000_000
        # the texts: the page's catalogs, and the server's English read from the installed one
        status, zh = _get(f"{s.url}/static/i18n/zh.json")
        assert status == 200 and zh == (ROOT / "static/i18n/zh.json").read_bytes()
        status, catalog = _get(f"{s.url}/api/catalog")
        assert status == 200 and b"Momentum + RMSProp + bias correction." in catalog
