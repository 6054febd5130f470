"""Every lesson file validates, says each step in both languages with the same numbers,
and every number it quotes is checked against the engine; every task's check is not
met on the step's own state and is met once the student does what the task asks
(on the engine's frames here; on the live page in tests/browser/test_lessons.py); the
condition language means what tests/condition_vectors.json says."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from deepscope import claims, conditions, i18n, lessons, protocol
from deepscope.catalog import build_catalog
from deepscope.engine import surfaces

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "tests" / "condition_vectors.json").read_text(encoding="utf-8"))
LESSONS = lessons.load()
STEPS = [(lesson, k) for lesson in LESSONS for k in range(len(lesson.steps))]
STEP_IDS = [f"{lesson.id}-{k}" for lesson, k in STEPS]
TASKS = [(lesson, k) for lesson, k in STEPS if lesson.steps[k].task is not None]
TASK_IDS = [f"{lesson.id}-{k}" for lesson, k in TASKS]
MODELS = {
    "layers": protocol.LayersRequest,
    "descend": protocol.DescendRequest,
    "train": protocol.TrainRequest,
}


def test_the_seven_lessons_of_the_lectures_are_there() -> None:
    assert [lesson.id for lesson in LESSONS] == [
        "initialisation",
        "relu",
        "batchnorm",
        "symmetry",
        "learning-rate",
        "adaptive",
        "saddles-newton",
    ]
    assert len({lesson.id for lesson in LESSONS}) == len(LESSONS)


def test_the_catalog_serves_the_lessons_without_what_only_the_tests_need() -> None:
    served = build_catalog()["lessons"]
    assert [entry["id"] for entry in served] == [lesson.id for lesson in LESSONS]
    for entry, lesson in zip(served, LESSONS, strict=True):
        assert len(entry["steps"]) == len(lesson.steps)
        for step in entry["steps"]:
            assert "claims" not in step and "quotes" not in step
            assert "solution" not in step.get("task", {})
        json.dumps(entry)  # (plain JSON)


def _bad(tmp_path: Path, body: dict[str, Any], name: str = "01-x.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        lessons._read(path)
    return str(err.value)


def test_a_broken_lesson_file_is_refused_naming_the_file_and_the_field(tmp_path: Path) -> None:
    good = json.loads((lessons.LESSON_DIR / "01-initialisation.json").read_text(encoding="utf-8"))
    broken = copy.deepcopy(good)
    broken["id"] = "x"
    broken["steps"][1]["task"]["check"] = "layers[-1].activation.std >"
    said = _bad(tmp_path, broken)
    assert "01-x.json" in said and "task.check" in said and "expected a value" in said
    broken = copy.deepcopy(good)
    broken["id"] = "x"
    broken["steps"][0]["preset"] = "no-such-preset"
    assert "no preset 'no-such-preset'" in _bad(tmp_path, broken)
    broken = copy.deepcopy(good)
    broken["id"] = "x"
    broken["steps"][0]["quotes"][3]["claim"] = 99
    assert "no claim 99" in _bad(tmp_path, broken)
    broken = copy.deepcopy(good)
    broken["id"] = "x"
    broken["steps"][2]["question"]["answer"] = 3
    assert "question.answer 3" in _bad(tmp_path, broken)
    broken = copy.deepcopy(good)
    broken["steps"][0]["colour"] = "red"
    assert "colour" in _bad(tmp_path, {**broken, "id": "x"})
    assert "its id is 'initialisation'" in _bad(tmp_path, good)
    assert "lesson file 01-x.json" in _bad(tmp_path, {"id": "x", "steps": []})


# --- texts ---------------------------------------------------------------------------


def needed_keys(lesson: lessons.Lesson) -> set[str]:
    keys = {f"lesson.{lesson.id}.title", f"lesson.{lesson.id}.summary"}
    for k, step in enumerate(lesson.steps):
        base = f"lesson.{lesson.id}.{k}."
        keys.add(base + "text")
        if step.task is not None:
            keys |= {base + "task", base + "hint"}
        if step.question is not None:
            keys |= {base + "question", base + "explain"}
            keys |= {f"{base}choice.{i}" for i in range(step.question.choices)}
    return keys


def test_every_step_is_worded_in_both_languages_and_no_lesson_text_is_orphaned() -> None:
    needed = set().union(*(needed_keys(lesson) for lesson in LESSONS))
    for lang in i18n.LANGS:
        table = i18n.catalog(lang)
        have = {k for k in table if k.startswith("lesson.")}
        assert sorted(needed - have) == [], f"missing in {lang}"
        assert sorted(have - needed) == [], f"orphaned in {lang}"
        assert all(table[k].strip() for k in needed)


def step_texts(lesson: lessons.Lesson, k: int, lang: str) -> dict[str, str]:
    base = f"lesson.{lesson.id}.{k}."
    table = i18n.catalog(lang)
    return {key[len(base) :]: table[key] for key in needed_keys(lesson) if key.startswith(base)}


# Numbers as the texts write them: 0.21, 3·10⁻⁷, 10⁴, 3e-4, 90% (a share).
SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
NUMBER = re.compile(
    r"(?:(?P<m>\d+(?:\.\d+)?)·)?10(?P<p>⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)"
    r"|(?P<n>\d+(?:\.\d+)?(?:e-?\d+)?)(?P<pct>\s?%)?"
)


def numbers(text: str) -> list[float]:
    out = []
    for m in NUMBER.finditer(text):
        if m.group("p") is not None:
            mantissa = float(m.group("m")) if m.group("m") else 1.0
            out.append(mantissa * 10.0 ** int(m.group("p").translate(SUPER)))
        else:
            value = float(m.group("n"))
            out.append(value / 100 if m.group("pct") else value)
    return out


def test_numbers_are_read_as_the_texts_write_them() -> None:
    said = numbers("0.21 in layer 1, 3·10⁻⁷ in layer 10; 8·10⁴, 10⁻⁶, 3e-4, 1e-5, 90% and 50 %")
    assert said == pytest.approx([0.21, 1, 3e-7, 10, 8e4, 1e-6, 3e-4, 1e-5, 0.9, 0.5])
    assert numbers("x² − 10x + 1; β₂ and x₁") == [10, 1]


@pytest.mark.parametrize(("lesson", "k"), STEPS, ids=STEP_IDS)
def test_both_languages_quote_the_same_numbers(lesson: lessons.Lesson, k: int) -> None:
    en, zh = step_texts(lesson, k, "en"), step_texts(lesson, k, "zh")
    for key in en:
        said = {"en": sorted(numbers(en[key])), "zh": sorted(numbers(zh[key]))}
        assert said["en"] == said["zh"], f"{lesson.id} step {k} {key}: {said}"


# --- every quoted number, against the engine -------------------------------------------


def at_path(config: Any, path: str) -> Any:
    node = config
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def set_path(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(config)
    *head, last = path.split(".")
    node: Any = out
    for part in head:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def claim_numbers(claim: dict[str, Any]) -> list[float]:
    """The numbers a claim is about (its parameters, and the variant it names)."""
    found: list[float] = []

    def walk(v: Any) -> None:
        if isinstance(v, bool):
            return
        if isinstance(v, (int, float)):
            found.append(float(v))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk({k: v for k, v in claim.items() if k not in ("check", "between", "what", "run")})
    return found


def close(a: float, b: float) -> bool:
    return math.isclose(abs(a), abs(b), rel_tol=1e-9, abs_tol=1e-12)


def quote_holds(quote: lessons.Quote, step: lessons.Step, state: dict[str, Any], text: str) -> bool:
    v = quote.value
    if quote.claim is not None:
        claim = step.claims[quote.claim]
        lo, hi = claim.get("between", [math.nan, math.nan])
        return lo <= v <= hi or lo <= -v <= hi or any(close(v, n) for n in claim_numbers(claim))
    if quote.config is not None:
        found = at_path(state["config"], quote.config)
        return isinstance(found, (int, float)) and close(v, float(found))
    if quote.surface:
        spec = surfaces.SURFACE_SPECS[state["config"]["surface"]]
        return any(close(v, n) for n in map(float, re.findall(r"\d+(?:\.\d+)?", spec.expr)))
    if quote.check:
        assert step.task is not None
        return any(close(v, n) for n in numbers(step.task.check))
    if quote.layer:
        depth = MODELS["layers"].model_validate(state["config"]).depth
        return float(v).is_integer() and 1 <= v <= depth
    assert quote.formula is not None
    return quote.formula in text and any(close(v, n) for n in numbers(quote.formula))


@pytest.mark.parametrize(("lesson", "k"), STEPS, ids=STEP_IDS)
def test_every_number_a_step_quotes_is_accounted_for(lesson: lessons.Lesson, k: int) -> None:
    step = lesson.steps[k]
    state = lessons.resolved(step)
    text = " ".join(step_texts(lesson, k, "en").values())
    said = numbers(text)
    quoted = [q.value for q in step.quotes]
    unquoted = [v for v in said if not any(close(v, q) for q in quoted)]
    assert unquoted == [], f"{lesson.id} step {k} quotes numbers it does not account for"
    stale = [q for q in quoted if not any(close(v, q) for v in said)]
    assert stale == [], f"{lesson.id} step {k} accounts for numbers it does not quote"
    wrong = [q.value for q in step.quotes if not quote_holds(q, step, state, text)]
    assert wrong == [], f"{lesson.id} step {k}: these quotes are not what they claim"


@pytest.mark.parametrize(("lesson", "k"), STEPS, ids=STEP_IDS)
def test_every_claim_of_a_step_holds_on_its_own_state(lesson: lessons.Lesson, k: int) -> None:
    step = lesson.steps[k]
    state = lessons.resolved(step)
    MODELS[state["lab"]].model_validate(state["config"])
    if state["options"]:
        protocol.StreamOptions.model_validate(state["options"])
    if not step.claims:
        assert not any(q.claim is not None for q in step.quotes)
        return
    preset = {**state, "id": f"{lesson.id}-{k}", "claims": step.claims}
    failed = [
        f"{claim['check']}: {verdict.observed}"
        for claim, verdict in claims.check_preset(preset)
        if not verdict.ok
    ]
    assert failed == [], f"{lesson.id} step {k} says what its picture does not show"


# --- the highlights and the tasks ---------------------------------------------------------


@pytest.mark.parametrize(("lesson", "k"), STEPS, ids=STEP_IDS)
def test_a_highlighted_control_is_one_of_the_step_s_lab(lesson: lessons.Lesson, k: int) -> None:
    """(That the id exists on the page is tests/browser/test_lessons.py's.)"""
    step = lesson.steps[k]
    lab = lessons.resolved(step)["lab"]
    if step.highlight is not None and step.highlight.control is not None:
        control = step.highlight.control
        assert control.startswith((f"labs.{lab}.", "optimizers.", "runs."))
    if step.task is not None:
        assert step.highlight is not None, "a task points at the control it is about"
        assert step.highlight.control == step.task.solution.control


def scopes(lab: str, config: dict[str, Any], options: dict[str, Any]) -> list[dict[str, Any]]:
    """The named quantities of every frame the page would receive, in order."""
    trace = claims.replay(lab, config, options, frames=400 if lab == "train" else 0)
    if lab == "layers":
        return [conditions.layers_scope(data) for data in trace.frames]
    if lab == "train":
        hidden = protocol.TrainRequest.model_validate(config).hidden
        out: list[dict[str, Any]] = []
        for data in trace.frames:
            out.append(conditions.train_scope(data, hidden, out[-1] if out else None))
        return out
    order = [run["label"] for run in trace.frames[0]["runs"]]
    return [
        conditions.descend_scope(claims._stitch(trace.frames[: i + 1]), order)
        for i in range(len(trace.frames))
    ]


@pytest.mark.parametrize(("lesson", "k"), TASKS, ids=TASK_IDS)
def test_a_task_is_not_done_on_the_step_s_state_and_done_once_the_student_does_it(
    lesson: lessons.Lesson, k: int
) -> None:
    step = lesson.steps[k]
    assert step.task is not None
    state = lessons.resolved(step)
    check = step.task.check
    before = scopes(state["lab"], state["config"], state["options"])
    assert not any(conditions.met(check, s) for s in before), "done before the student acts"
    solution = step.task.solution
    after_config = set_path(state["config"], solution.path, solution.value)
    MODELS[state["lab"]].model_validate(after_config)
    after = scopes(state["lab"], after_config, state["options"])
    assert conditions.met(check, after[-1]), f"{check} is not met by the solution"


# --- the condition language -------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["condition"] for c in VECTORS["cases"]])
def test_the_condition_language_means_what_the_shared_vectors_say(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(conditions.ConditionError, match=re.escape(case["error"])):
            conditions.met(case["condition"], VECTORS["scope"])
    else:
        assert conditions.met(case["condition"], VECTORS["scope"]) is case["met"]


def test_a_condition_is_parsed_never_evaluated_as_python() -> None:
    for hostile in ("__import__('os')", "().__class__", "layers.__class__ > 0", "x if y else z"):
        with contextlib.suppress(conditions.ConditionError):
            assert conditions.met(hostile, {"layers": []}) is False
    with pytest.raises(conditions.ConditionError, match="at most"):
        conditions.parse("1 < 2 and " * 40 + "true")


def test_the_train_scope_tells_identical_units_and_keeps_them_between_weight_frames() -> None:
    same = {"dead_units": [0], "weights": [[[0.5, 0.5], [1.0, 1.0]]], "biases": [[0.1, 0.1]]}
    differ = {"dead_units": [1], "weights": [[[0.5, 0.4], [1.0, 1.0]]], "biases": [[0.1, 0.1]]}
    s = conditions.train_scope(same, [2])
    assert s["layers"][0]["identical"] is True and s["dead_share"] == 0
    assert conditions.train_scope({"dead_units": [0]}, [2], s)["layers"][0]["identical"] is True
    d = conditions.train_scope(differ, [2])
    assert d["layers"][0]["identical"] is False and d["dead_share"] == 0.5
    bias = {**same, "biases": [[0.1, 0.2]]}
    assert conditions.train_scope(bias, [2])["layers"][0]["identical"] is False
