"""The engine is a library: it imports no web framework, no pydantic, no asyncio."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "deepscope" / "engine"
FORBIDDEN = {"fastapi", "starlette", "pydantic", "pydantic_settings", "asyncio", "uvicorn"}


def test_engine_imports_only_numpy_and_the_standard_library() -> None:
    offenders = []
    for path in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom) and node.level > 1:
                names = ["deepscope (outside the engine)"]
            for name in names:
                if name.split(".")[0] in FORBIDDEN or name.startswith("deepscope"):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


STATIC_JS = Path(__file__).resolve().parents[1] / "static" / "js"


# A chart module's shape: `export function create(el, opts)` defines `function update(…)`
# and returns `{ plot, update }`.
_CREATE = re.compile(r"^export function create\(", re.M)
_UPDATE = re.compile(r"^\s+function update\(", re.M)
_RETURNS = re.compile(r"^\s+return \{\s*plot,\s*update,?\s*\};?$", re.M)


def _chart_shape_problems(source: str) -> list[str]:
    problems = []
    if not _CREATE.search(source):
        problems.append("no create(el, opts)")
    if not _UPDATE.search(source):
        problems.append("no function update(model)")
    if not _RETURNS.search(source):
        problems.append("create() does not return { plot, update }")
    return problems


def test_the_chart_shape_check_can_fail() -> None:
    good = "export function create(el) {\n  function update(m) {}\n  return { plot, update };\n}\n"
    assert _chart_shape_problems(good) == []
    # a module that only mentions "update" in a comment, or returns something else
    assert _chart_shape_problems("export function create(el) { /* update */ }") == [
        "no function update(model)",
        "create() does not return { plot, update }",
    ]
    assert _chart_shape_problems(good.replace("return { plot, update }", "return plot")) == [
        "create() does not return { plot, update }"
    ]


def test_every_chart_module_exports_create_and_nothing_else_builds_figures() -> None:
    charts = sorted((STATIC_JS / "charts").glob("*.js"))
    assert len(charts) >= 8
    for path in charts:
        assert _chart_shape_problems(path.read_text()) == [], path.name
    # Labs lay out controls and route frames; they never talk to Plotly themselves.
    for path in sorted((STATIC_JS / "labs").glob("*.js")):
        assert "Plotly." not in path.read_text(), f"{path.name} calls Plotly directly"
