"""The engine is a library: it imports no web framework, no pydantic, no asyncio."""

from __future__ import annotations

import ast
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


def test_every_chart_module_exports_create_and_nothing_else_builds_figures() -> None:
    charts = sorted((STATIC_JS / "charts").glob("*.js"))
    assert len(charts) >= 8
    for path in charts:
        source = path.read_text()
        assert "export function create(" in source, f"{path.name} has no create(el, opts)"
        assert "update" in source, f"{path.name} returns no update(model)"
    # Labs lay out controls and route frames; they never talk to Plotly themselves.
    for path in sorted((STATIC_JS / "labs").glob("*.js")):
        assert "Plotly." not in path.read_text(), f"{path.name} calls Plotly directly"
