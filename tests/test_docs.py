"""The documentation lives in the repository and says what the code does.

* ``docs/protocol.md`` documents every WebSocket message and each of its fields, every
  field of the labs' frame data, every error code, status, close code and route;
* no file points to notes outside the repository (the team's specification, seed
  notes or style guide, or a machine's shared folder).
"""

from __future__ import annotations

import re
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest
import typing_extensions
from pydantic import BaseModel

from deepscope import protocol
from deepscope.api import routes as api_routes
from deepscope.api import ws
from deepscope.sessions import session

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "docs" / "protocol.md"


def _models(union: Any) -> list[type[BaseModel]]:
    """The pydantic models of a (discriminated, possibly nested) union."""
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(union):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            out.append(arg)
        else:
            out.extend(_models(arg))
    return out


def _type_of(model: type[BaseModel]) -> str:
    (value,) = typing.get_args(model.model_fields["type"].annotation)
    return str(value)


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` (a markdown heading line) up to the next heading of
    the same or a higher level."""
    lines = text.splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    start = lines.index(heading)
    end = len(lines)
    for i in range(start + 1, len(lines)):
        m = re.match(r"^(#+) ", lines[i])
        if m and len(m.group(1)) <= level:
            end = i
            break
    return "\n".join(lines[start + 1 : end])


def _undocumented(section: str, models: list[type[BaseModel]]) -> list[str]:
    return [
        f"{m.__name__}.{name}"
        for m in models
        for name in m.model_fields
        if f"`{name}`" not in section
    ]


def test_every_websocket_message_and_field_is_documented() -> None:
    text = PROTOCOL.read_text()
    messages = _models(protocol.ClientMessage) + _models(protocol.ServerMessage)
    by_type: dict[str, list[type[BaseModel]]] = {}
    for model in messages:
        by_type.setdefault(_type_of(model), []).append(model)
    assert set(by_type) >= {"configure", "play", "hello", "frame", "status", "error"}
    missing = []
    for kind, models in by_type.items():
        heading = f"### `{kind}`"
        if heading not in text.splitlines():
            missing.append(heading)
            continue
        section = _section(text, heading)
        nested = (
            [protocol.StreamOptions, protocol.SweepSpec, protocol.LandscapeStream]
            if kind == "configure"
            else []
        )
        nested += [protocol.Limits] if kind == "hello" else []
        missing += _undocumented(section, models + nested)
    assert missing == []


def _shapes(tp: Any) -> list[type]:
    """The TypedDicts a type is made of: itself and every one nested in its fields
    (through lists, dicts, unions, ``NotRequired`` and ``Annotated``), each once."""
    found: list[type] = []

    def walk(t: Any) -> None:
        if typing_extensions.is_typeddict(t):
            if t not in found:
                found.append(t)
                for hint in typing.get_type_hints(t, include_extras=True).values():
                    walk(hint)
            return
        for arg in typing.get_args(t):
            walk(arg)

    walk(tp)
    return found


FRAME_SECTIONS = {
    "layers": protocol.LayersFrameData,
    "descend": protocol.DescendFrameData,
    "descend sweep": protocol.SweepFrameData,
    "train": protocol.TrainFrameData,
}


def test_the_frame_sections_cover_every_shape_of_frame_data() -> None:
    assert set(typing.get_args(protocol.FrameData)) == set(FRAME_SECTIONS.values())


@pytest.mark.parametrize("lab", list(FRAME_SECTIONS))
def test_every_field_of_a_labs_frame_data_is_documented(lab: str) -> None:
    """Every key of the lab's frame data, nested ones included, read from the TypedDicts
    the runners build (a field added in code but not here fails)."""
    section = _section(PROTOCOL.read_text(), f"#### `data` of a {lab} frame")
    shapes = _shapes(FRAME_SECTIONS[lab])
    assert len(shapes) >= 2
    missing = [
        f"{shape.__name__}.{key}"
        for shape in shapes
        for key in typing.get_type_hints(shape)
        if f"`{key}`" not in section
    ]
    assert missing == []


def test_every_error_code_status_close_code_and_route_is_documented() -> None:
    text = PROTOCOL.read_text()
    codes = typing.get_args(protocol.ErrorMessage.model_fields["code"].annotation)
    states = typing.get_args(protocol.Status.model_fields["state"].annotation)
    words = [f"`{w}`" for w in (*codes, *states)]
    close = [
        f"| {value} |"
        for module in (protocol, session)
        for name, value in vars(module).items()
        if name.startswith("CLOSE_") and isinstance(value, int)
    ]
    routes = sorted(
        {str(getattr(r, "path", "")) for r in api_routes.router.routes + ws.router.routes}
    )
    assert len(close) >= 4 and len(routes) >= 7
    assert [w for w in (*words, *close, *routes) if w not in text] == []


def test_the_doc_checks_can_fail() -> None:
    class Example(BaseModel):
        type: typing.Literal["example"] = "example"
        size: int

    assert _undocumented("`type` and `size`", [Example]) == []
    assert _undocumented("`type` and size", [Example]) == ["Example.size"]
    nested = [t.__name__ for t in _shapes(protocol.DescendFrameData)]
    assert nested == ["DescendFrameData", "DescendRunFrame", "SurfaceInfo", "CriticalPointOut"]
    text = "# A\n## `x`\nabout x\n### sub\nmore\n## `y`\nabout y\n"
    assert _section(text, "## `x`") == "about x\n### sub\nmore"


# --- self-contained ---------------------------------------------------------------------

# References to documents that live outside the repository. Each pattern is written so
# that this file does not match itself.
OUTSIDE = [
    re.compile(p)
    for p in (
        r"\b" + "SP" + "EC" + r"\b",
        "SE" + "ED-NOTES",
        # the notes' name, not the engine's ``SEED`` knob (code: followed by = , ) ` as …)
        r"\b" + "SE" + "ED" + r"\b(?!\s*(=|,|\)|`|;|\bas\b|$))",
        "STYLE" + r"\.md",
        r"\.\./" + "shared",
        r"\bseed" + "s/",
        "team " + "machines",
        r"(?i)\bseed[ _]0\d\d\b",
    )
]
SKIP_DIRS = {".git", ".venv", "node_modules", "artifacts", "results", "__pycache__"}
TEXT = {".py", ".js", ".md", ".html", ".css", ".toml", ".json", ".txt", ".cfg", ".yml", ""}


def _repository_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        files = [ROOT / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        files = [p for p in ROOT.rglob("*") if p.is_file()]
    return [
        p
        for p in files
        if p.is_file()
        and not SKIP_DIRS & set(p.relative_to(ROOT).parts)
        and (p.suffix in TEXT or p.name == "Makefile")
        and not p.name.endswith(".lock")
        and p.name != "package-lock.json"
    ]


def _outside_references(text: str) -> list[str]:
    return [m.group(0) for pattern in OUTSIDE for m in pattern.finditer(text)]


def test_no_file_points_outside_the_repository() -> None:
    files = _repository_files()
    assert len(files) > 50 and ROOT / "DEVELOPERS.md" in files
    found = []
    for path in files:
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{n}: {hit}" for hit in _outside_references(line)]
    assert found == []


def test_the_outside_reference_check_can_fail() -> None:
    for line in (
        "Numerics: " + "SP" + "EC" + " §3.",
        "Read ../" + "shared/notes.md first",
        "they live beside the repository on the team " + "machines",
        "# " + "Seed" + " 001: Xavier for 32 → 64",
        "see " + "STYLE" + ".md",
    ):
        assert _outside_references(line), line
    assert _outside_references("SURFACE_SPECS, the seed 7 run, DatasetSpec") == []
    assert _outside_references("`knobs.SEED`; same(SEED), import SEED as _SEED") == []


def test_the_readme_counts_the_presets_there_are() -> None:
    """The README says how many lecture presets there are: the number in the catalog."""
    import re

    from deepscope.presets import PRESETS

    readme = (ROOT / "README.md").read_text()
    said = re.search(r"it is about — (\d+) of them", readme)
    assert said is not None, "the README no longer counts the presets where it did"
    assert int(said.group(1)) == len(PRESETS)
