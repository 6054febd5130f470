"""Guided lessons: the lectures as step-by-step explorations of the labs.

A lesson is data, one file per lesson (``deepscope/lessons/<id>.json``), validated by
``Lesson`` below when the server starts (``LESSONS``) and in ``tests/test_lessons.py``.
Adding a lesson touches its file and its texts in ``static/i18n/<lang>.json``:

* ``lesson.<id>.title`` and ``lesson.<id>.summary``;
* per step ``k`` (0-based): ``lesson.<id>.<k>.text`` — what to look at and why; with a
  task ``.task`` (what to do) and ``.hint`` (shown after ``hint_after_s``); with a
  question ``.question``, ``.choice.<i>`` and ``.explain`` (shown once answered).

A step sets the lab's state: a lecture ``preset`` (by id), or an explicit ``lab``,
``config``, ``view`` and ``options`` (``play``: start it). It may ``highlight`` a chart
(``data-chart``) or a control (``data-control``) of the page by its stable id. A
``task``'s ``check`` is a condition (``deepscope.conditions``) on the named quantities
of the lab's newest frame, evaluated by the page on its live frames; ``solution`` says
what a student does to meet it (a control and a value, and the same change as a
configuration path), which the tests perform, in Python on the engine and in a real
browser on the page. ``claims`` are the preset checks (``deepscope.claims``) that the
step's texts rely on, run on the step's configuration; ``quotes`` account for every
number the step's texts quote: a claim whose range holds it, a value of the step's
configuration, the step's surface formula, the task's check, a layer number or a
formula written out in the text.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import conditions

LESSON_DIR = Path(__file__).resolve().parent
Lab = Literal["layers", "descend", "train"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Highlight(_Strict):
    """A chart (its ``data-chart`` id) or a control (its ``data-control`` id)."""

    chart: str | None = None
    control: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Highlight:
        if (self.chart is None) == (self.control is None):
            raise ValueError("a highlight names exactly one of chart or control")
        return self


class Solution(_Strict):
    """What a student does to meet the task: set the page's control ``control`` (its
    ``data-control`` id) to ``input``; in the lab's configuration that is ``path``
    (dotted, a list item by its index: ``runs.0.lr``) taking ``value``."""

    control: str
    input: float | str | bool
    path: str
    value: float | str | bool | dict[str, Any]


class Task(_Strict):
    check: str
    hint_after_s: Annotated[float, Field(ge=5, le=600)] = 45.0
    solution: Solution

    @model_validator(mode="after")
    def _parses(self) -> Task:
        try:
            conditions.parse(self.check)
        except conditions.ConditionError as e:
            raise ValueError(f"task.check: {e}") from e
        return self


class Question(_Strict):
    choices: Annotated[int, Field(ge=2, le=5)]
    answer: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _answer(self) -> Question:
        if self.answer >= self.choices:
            raise ValueError(f"question.answer {self.answer} is not one of {self.choices} choices")
        return self


class Quote(_Strict):
    """How one number a step's texts quote is known to be true (exactly one way)."""

    value: float
    claim: Annotated[int, Field(ge=0)] | None = None  # the step's claim (index) that holds it
    config: str | None = None  # a dotted path of the step's configuration equal to it
    surface: bool = False  # a number of the step's surface formula
    check: bool = False  # a number of the task's check
    layer: bool = False  # a layer's number (1 … depth)
    formula: str | None = None  # written out in the text (e.g. "1/√n"): a number of it

    @model_validator(mode="after")
    def _one_way(self) -> Quote:
        ways = [self.claim is not None, self.config is not None, self.surface, self.check]
        ways += [self.layer, self.formula is not None]
        if sum(ways) != 1:
            raise ValueError(f"quote {self.value:g}: give exactly one way it is known")
        return self


class Step(_Strict):
    preset: str | None = None
    lab: Lab | None = None
    config: dict[str, Any] | None = None
    view: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    play: bool = False
    highlight: Highlight | None = None
    task: Task | None = None
    question: Question | None = None
    claims: list[dict[str, Any]] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)

    @model_validator(mode="after")
    def _state(self) -> Step:
        if self.preset is not None:
            if self.lab is not None or self.config is not None or self.view or self.options:
                raise ValueError("a step sets a preset or a lab state, not both")
            from ..presets import PRESETS

            if self.preset not in {p["id"] for p in PRESETS}:
                raise ValueError(f"no preset {self.preset!r}")
        elif self.lab is None or self.config is None:
            raise ValueError("a step names a preset, or a lab and its config")
        for quote in self.quotes:
            if quote.claim is not None and quote.claim >= len(self.claims):
                raise ValueError(f"quote {quote.value:g}: the step has no claim {quote.claim}")
            if quote.check and self.task is None:
                raise ValueError(f"quote {quote.value:g}: the step has no task to check")
        return self


class Lesson(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    steps: Annotated[list[Step], Field(min_length=2, max_length=12)]


def _read(path: Path) -> Lesson:
    try:
        lesson = Lesson.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, json.JSONDecodeError) as e:
        raise ValueError(f"lesson file {path.name}: {e}") from e
    if lesson.id != path.stem.split("-", 1)[1]:
        raise ValueError(f"lesson file {path.name}: its id is {lesson.id!r}")
    return lesson


@cache
def load() -> list[Lesson]:
    """Every lesson, in the order of their files' names (``<nn>-<id>.json``)."""
    return [_read(p) for p in sorted(LESSON_DIR.glob("[0-9][0-9]-*.json"))]


def resolved(step: Step) -> dict[str, Any]:
    """The lab state a step sets, a preset's expanded: lab, config, view, options, play
    (and ``compare``: a preset's side B)."""
    if step.preset is not None:
        from ..presets import PRESETS

        p = next(p for p in PRESETS if p["id"] == step.preset)
        out = {
            "lab": p["lab"],
            "config": p["config"],
            "view": p.get("view", {}),
            "options": p.get("options", {}),
            "play": bool(p.get("play")),
        }
        if "compare" in p:
            out["compare"] = p["compare"]
        return out
    return {
        "lab": step.lab,
        "config": step.config,
        "view": step.view,
        "options": step.options,
        "play": step.play,
    }


def catalog_entry(lesson: Lesson) -> dict[str, Any]:
    """A lesson as ``/api/catalog`` serves it: its steps without what only the tests need
    (claims, quotes, a task's solution); the page words it from its own catalog."""
    return {
        "id": lesson.id,
        "steps": [
            step.model_dump(
                exclude={"claims": True, "quotes": True, "task": {"solution"}}, exclude_none=True
            )
            for step in lesson.steps
        ],
    }
