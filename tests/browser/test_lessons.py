"""The lessons in real Chromium: every step's highlight is on the page, every task's check
is not done on the step's own state and turns done once the test does what the task
asks (the control set as a student would), the question shows its answer once
answered, the address holds the lesson and step, the panel speaks Chinese, and in a
class the teacher's step is the follower's. The condition language's shared vectors
(tests/condition_vectors.json) run in the page too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from deepscope import i18n, lessons
from tests.live import ROOT, LiveServer

from .conftest import Watched

pytestmark = pytest.mark.browser

LESSONS = lessons.load()
VECTORS = json.loads((ROOT / "tests" / "condition_vectors.json").read_text(encoding="utf-8"))
STATUS = "[data-testid=lesson-task-status]"


def open_step(page: Page, lesson: str, k: int) -> None:
    page.evaluate("([id, k]) => window.deepscope.lessons.open(id, k)", [lesson, k])
    page.wait_for_function(
        "([id, k]) => { const l = window.deepscope.lessons;"
        " return l.lesson && l.lesson.id === id && l.k === k; }",
        arg=[lesson, k],
    )


def set_control(page: Page, control: str, value: Any) -> None:
    """What a student does: a slider moved to ``value`` (on its scale) and let go, or a
    menu choice."""
    page.evaluate(
        """async ([control, value]) => {
          const C = await import("/static/js/controls.js");
          const input = document.querySelector(`#lab [data-control="${control}"]`);
          if (input.tagName === "SELECT") input.value = String(value);
          else {
            const c = C.controlOf(C.entryAt(window.deepscope.catalog, input.dataset.catalog));
            input.value = String(c.log ? Math.log10(value) : value);
            input.dispatchEvent(new Event("input", { bubbles: true }));
          }
          input.dispatchEvent(new Event("change", { bubbles: true }));
        }""",
        [control, value],
    )


# The step's own state has been seen long enough to say the check is not met on it:
# a layers picture at its complete detail, a race or a run that has run its course (or,
# for a training run, has sent a few frames with its weights).
SEEN = """() => {
  const app = window.deepscope, l = app.lessons, s = l.lastScope;
  if (!l.checked || !s) return false;
  if (s.runs) return s.runs.every((r) => r.status !== "running" || r.steps >= 60);
  if (s.dead_share !== undefined)
    return l.checked >= 3 && s.layers.every((r) => r.identical !== null);
  return app.active.frames?.a?.detail === "complete";
}"""


def test_every_task_turns_done_after_its_action_and_not_before(watched: Watched) -> None:
    page = watched.open()
    page.wait_for_function("() => window.deepscope.socket.open")
    tasks = 0
    for lesson in LESSONS:
        for k, step in enumerate(lesson.steps):
            if step.task is None:
                continue
            tasks += 1
            open_step(page, lesson.id, k)
            page.wait_for_function(SEEN, timeout=60_000)
            assert page.get_attribute(STATUS, "data-done") == "false", f"{lesson.id} {k}"
            assert page.evaluate("window.deepscope.lessons.done") is False
            solution = step.task.solution
            set_control(page, solution.control, solution.input)
            if lessons.resolved(step)["lab"] == "descend":  # (the task says: then press Play)
                page.click('#lab .player button[data-i18n="play"]')
            page.wait_for_function(
                f"() => document.querySelector('{STATUS}').dataset.done === 'true'",
                timeout=60_000,
            )
            assert page.inner_text(STATUS) == i18n.text("lessons.done")
            assert i18n.text("lessons.done") in page.inner_text("#live")
    assert tasks == sum(1 for lesson in LESSONS for s in lesson.steps if s.task is not None) >= 7
    watched.check_clean()


def test_every_highlight_is_on_the_page_and_next_back_walk_the_steps(watched: Watched) -> None:
    page = watched.open()
    for lesson in LESSONS:
        page.select_option("#lesson", lesson.id)  # the lesson menu opens step 1
        for k, step in enumerate(lesson.steps):
            where = f"{lesson.id} step {k}"
            page.wait_for_function(
                "(k) => window.deepscope.lessons.k === k && window.deepscope.active", arg=k
            )
            text = i18n.text(f"lesson.{lesson.id}.{k}.text")
            assert page.inner_text("[data-testid=lesson-text]") == text, where
            assert page.inner_text("[data-testid=lesson-where]") == i18n.text(
                "lessons.step", k=str(k + 1), n=str(len(lesson.steps))
            )
            if step.highlight is not None:
                h = step.highlight
                attr = f'[data-chart="{h.chart}"]' if h.chart else f'[data-control="{h.control}"]'
                page.wait_for_selector(f"#lab {attr}", timeout=30_000)
                page.wait_for_selector(".lesson-highlight", timeout=30_000)
                lit = page.evaluate(
                    "(a) => { const el = document.querySelector('.lesson-highlight');"
                    " return el.matches(a) || Boolean(el.querySelector(a)); }",
                    attr,
                )
                assert lit, f"{where}: the highlight is not on {attr}"
            else:
                assert page.query_selector(".lesson-highlight") is None, where
            if k + 1 < len(lesson.steps):
                page.click("[data-testid=lesson-next]")
        assert page.is_disabled("[data-testid=lesson-next]")
    # back, and the keyboard: PageUp / PageDown walk the steps, as a clicker does
    page.click("[data-testid=lesson-back]")
    page.wait_for_function("() => window.deepscope.lessons.k === 1")
    page.keyboard.press("PageUp")
    page.wait_for_function("() => window.deepscope.lessons.k === 0")
    assert page.is_disabled("[data-testid=lesson-back]")
    page.keyboard.press("PageUp")  # the first step: it says so
    page.wait_for_function(
        "(t) => document.getElementById('live').textContent === t", arg=i18n.text("lessons.first")
    )
    page.keyboard.press("PageDown")
    page.wait_for_function("() => window.deepscope.lessons.k === 1")
    watched.check_clean()


def test_the_address_holds_the_step_a_question_answers_and_the_panel_speaks_chinese(
    watched: Watched,
) -> None:
    page = watched.open("?lesson=learning-rate&step=3")
    page.wait_for_function("() => window.deepscope.lessons.k === 2")
    assert page.evaluate("window.deepscope.active.lab") == "descend"
    assert page.input_value("#lesson") == "learning-rate"
    assert page.input_value("#preset") == "gd-quartic"
    assert page.is_hidden("#notice")  # (the lesson's panel says what to look at)
    # the question: nothing shown before answering; a wrong answer shows the right one
    assert page.query_selector("[data-testid=lesson-verdict]") is None
    page.focus("[data-testid=lesson-choice-0]")
    page.keyboard.press("Space")
    page.click("[data-testid=lesson-answer]")
    verdict = page.inner_text("[data-testid=lesson-verdict]")
    answer = i18n.text("lesson.learning-rate.2.choice.2")
    assert verdict.startswith(i18n.text("lessons.wrong", answer=answer))
    assert i18n.text("lesson.learning-rate.2.explain") in verdict
    assert page.get_attribute("[data-testid=lesson-verdict]", "data-right") == "false"
    assert page.is_disabled("[data-testid=lesson-choice-2]")
    # the address follows the step; a reload opens it again
    page.click("[data-testid=lesson-back]")
    page.wait_for_function("() => location.search.includes('step=2')")
    assert "lesson=learning-rate" in page.url
    page.reload()
    page.wait_for_function("() => window.deepscope && window.deepscope.lessons.k === 1")
    # 中文: the panel, the task and the hint (shown after a while, or on asking)
    page.click("#lang")
    zh = i18n.catalog("zh")
    page.wait_for_function(
        "(t) => document.querySelector('[data-testid=lesson-text]').textContent === t",
        arg=zh["lesson.learning-rate.1.text"],
    )
    assert zh["lesson.learning-rate.1.task"] in page.inner_text("#lesson-panel")
    assert page.inner_text(STATUS) == zh["lessons.todo"]
    assert page.query_selector("[data-testid=lesson-hint]") is None
    page.click("[data-testid=lesson-hint-button]")
    assert page.inner_text("[data-testid=lesson-hint]") == zh["lesson.learning-rate.1.hint"]
    watched.shot("lesson-zh", full_page=False)
    # the hint comes by itself after the step's hint_after_s
    page.evaluate(
        "() => { const l = window.deepscope.lessons;"
        " l.find('adaptive').steps[1].task.hint_after_s = 0.3; l.open('adaptive', 1); }"
    )
    page.wait_for_selector("[data-testid=lesson-hint]", timeout=10_000)
    # projector mode: the same panel, larger
    page.click("#lang")
    page.check("#projector")
    page.wait_for_function("() => document.body.classList.contains('projector')")
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.lesson-text')).fontSize)"
    )
    assert size > 19
    watched.shot("lesson-projector", full_page=False)
    page.uncheck("#projector")
    open_step(page, "initialisation", 0)
    page.wait_for_selector(".lesson-highlight")
    watched.shot("lesson-en", full_page=False)
    page.click("#lesson-panel >> text=" + i18n.text("lessons.close"))
    page.wait_for_function("() => !window.deepscope.lessons.active")
    assert page.is_hidden("#lesson-panel")
    page.wait_for_function("() => !location.search.includes('lesson=')")
    watched.check_clean()


def test_the_condition_vectors_mean_the_same_in_the_page(watched: Watched) -> None:
    page = watched.open()
    results = page.evaluate(
        """async (vectors) => {
          const c = await import("/static/js/conditions.js");
          return vectors.cases.map((v) => {
            try { return { met: c.met(v.condition, vectors.scope) }; }
            catch (e) { return { error: String(e.message), kind: e instanceof c.ConditionError }; }
          });
        }""",
        VECTORS,
    )
    for case, got in zip(VECTORS["cases"], results, strict=True):
        if "error" in case:
            assert got.get("kind") is True and case["error"] in got["error"], (case, got)
        else:
            assert got == {"met": case["met"]}, case


@pytest.fixture
def pair(browser: Browser, server: LiveServer) -> Iterator[tuple[Watched, Watched]]:
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in "ts"]
    teacher, student = (Watched(c.new_page(), server) for c in contexts)
    yield teacher, student
    for c in contexts:
        c.close()


def test_in_a_class_the_teacher_s_step_is_the_follower_s_and_the_teacher_counts_tasks(
    pair: tuple[Watched, Watched],
) -> None:
    teacher, student = pair
    t = teacher.open("?lesson=initialisation&step=2")
    t.wait_for_function("() => window.deepscope.socket.open")
    t.click("#class-open")
    t.click("#class-panel >> text=" + i18n.text("class.start"))
    t.wait_for_selector("[data-testid=class-code]")
    code = t.inner_text("[data-testid=class-code]").replace(" ", "")
    s = student.open(f"?class={code}")
    s.wait_for_function("() => window.deepscope.classroom.mode === 'follow'")
    s.wait_for_function("() => window.deepscope.lessons.active && window.deepscope.lessons.k === 1")
    t.click("[data-testid=lesson-next]")
    s.wait_for_function("() => window.deepscope.lessons.k === 2")
    t.click("[data-testid=lesson-back]")
    s.wait_for_function(
        "() => window.deepscope.lessons.k === 1"
        " && window.deepscope.labs.layers.configs.a.scale === 0.01"
    )
    # the student explores, does the task on their own session; the teacher sees it
    s.click("#class-seat >> text=" + i18n.text("class.explore"))
    s.wait_for_function("() => window.deepscope.classroom.mode === 'explore'")
    t.wait_for_selector("[data-testid=lesson-class-done]")
    counted = i18n.text("lessons.class_done", n="0", all="1")
    assert t.inner_text("[data-testid=lesson-class-done]") == counted
    s.wait_for_function(SEEN)
    set_control(s, "labs.layers.fields.scale", 0.1)
    s.wait_for_function(f"() => document.querySelector('{STATUS}').dataset.done === 'true'")
    t.wait_for_function(
        "(t) => document.querySelector('[data-testid=lesson-class-done]').textContent === t",
        arg=i18n.text("lessons.class_done", n="1", all="1"),
    )
    assert t.get_attribute(STATUS, "data-done") == "false"  # (the teacher's own task)
    teacher.check_clean()
    student.check_clean()
