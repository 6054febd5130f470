"""The engine is a library: it imports no web framework, no pydantic, no asyncio."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "server" / "engine"
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
                names = ["server (outside the engine)"]
            for name in names:
                if name.split(".")[0] in FORBIDDEN or name.startswith("server"):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
