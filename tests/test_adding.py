"""Adding an entry costs one place: no module keeps its own list of a registry's names.

docs/adding.md counts the places to edit per kind (a preset, surface, activation,
optimizer, schedule or dataset: its registry entry, plus its lines in the translation
catalogs). Those counts hold while every list of names, every table keyed by name, is
the registry itself. A second list — a protocol ``Literal`` written out, a page table
of NumPy snippets, a test's copy of the dataset names — is a place the next entry has
to be added to, and forgetting it fails silently (the snippet fell back to tanh). So:
outside its registry, no module of the server or the page names more than a few of a
kind's entries (a default, a special case); the lessons in ``presets.py`` are exempt.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deepscope.engine import activations, datasets, initializers, optimizers, surfaces

ROOT = Path(__file__).resolve().parents[1]
MAX_NAMED = 3  # e.g. race.LECTURE_RACE's gd, momentum, adam; fused.py's own terms
EXEMPT = {"deepscope/presets.py"}  # the lessons: configurations naming what they teach

KINDS = {
    "activation": (activations.ACTIVATIONS, "deepscope/engine/activations.py"),
    "init": (initializers.INITIALIZERS, "deepscope/engine/initializers.py"),
    "optimizer": (optimizers.OPTIMIZERS, "deepscope/engine/optimizers.py"),
    "schedule": (optimizers.SCHEDULES, "deepscope/engine/optimizers.py"),
    "surface": (surfaces.SURFACE_SPECS, "deepscope/engine/surfaces.py"),
    "dataset": (datasets.DATASETS, "deepscope/engine/datasets.py"),
}


def _sources() -> list[Path]:
    files = [*ROOT.glob("deepscope/**/*.py"), *ROOT.glob("static/js/**/*.js")]
    files += ROOT.glob("templates/**/*.html")
    return sorted(files)


def names_in(text: str, names: list[str], javascript: bool) -> list[str]:
    """The names ``text`` writes as a string literal (or, in JavaScript, as an object key)."""
    found = []
    for name in names:
        word = re.escape(name)
        quoted = re.search(r"""(["'`])""" + word + r"\1", text)
        key = javascript and re.search(r"(^|[{,\s])" + word + r"\s*:", text, re.M)
        if quoted or key:
            found.append(name)
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_module_keeps_its_own_list_of_a_kinds_names(kind: str) -> None:
    registry, home = KINDS[kind]
    names = list(registry)
    assert len(names) > MAX_NAMED + 1  # (else the check says nothing)
    sources = _sources()
    assert any(p.suffix == ".js" for p in sources) and len(sources) > 30
    offenders = {}
    for path in sources:
        rel = path.relative_to(ROOT).as_posix()
        if rel == home or rel in EXEMPT:
            continue
        found = names_in(path.read_text(encoding="utf-8"), names, path.suffix == ".js")
        if len(found) > MAX_NAMED:
            offenders[rel] = found
    assert not offenders, f"{kind} names listed outside {home}: {offenders}"


def test_the_scan_finds_a_list_of_names() -> None:
    """The check can fail: the page's former snippet table, and a written-out Literal."""
    table = """const act = { tanh: "np.tanh(a)", relu: "np.maximum(a, 0)",
      sigmoid: "1 / (1 + np.exp(-a))", linear: "a" }[c.activation];"""
    names = list(activations.ACTIVATIONS)
    assert len(names_in(table, names, javascript=True)) == 4
    literal = 'ScheduleName = Literal["constant", "inv_sqrt", "step", "exponential", "cosine"]'
    assert len(names_in(literal, list(optimizers.SCHEDULES), javascript=False)) == 5
    assert names_in("x = step + 1  # a step: of the relu", names, javascript=False) == []
