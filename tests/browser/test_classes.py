"""A class in two real browser contexts on one real server: a teacher and a student."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.live import LiveServer

from .conftest import Watched

pytestmark = pytest.mark.browser


@pytest.fixture
def pair(browser: Browser, server: LiveServer) -> Iterator[tuple[Watched, Watched]]:
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in "ts"]
    teacher, student = (Watched(c.new_page(), server) for c in contexts)
    yield teacher, student
    for c in contexts:
        c.close()


def start_class(teacher: Watched) -> str:
    page = teacher.open("?preset=tanh-small")
    page.wait_for_function("() => window.deepscope.socket.open")
    page.click("#class-open")
    page.click("#class-panel >> text=Start a class")
    page.wait_for_selector("[data-testid=class-code]")
    return page.inner_text("[data-testid=class-code]").replace(" ", "")


def follow(student: Watched, code: str) -> None:
    page = student.open(f"?class={code}")
    page.wait_for_function("() => window.deepscope.classroom.mode === 'follow'")


def test_the_qr_code_on_screen_is_the_join_address(pair: tuple[Watched, Watched]) -> None:
    import zxingcpp
    from PIL import Image

    teacher, _ = pair
    code = start_class(teacher)
    page = teacher.page
    page.check("#projector")  # the size a room reads it at
    qr = page.locator("[data-testid=class-qr] svg")
    assert qr.bounding_box()["width"] >= 300  # type: ignore[index]
    picture = Image.open(io.BytesIO(qr.screenshot()))
    found = zxingcpp.read_barcodes(picture)
    assert [f.text for f in found] == [f"{teacher.server.url}/?class={code}"]
    assert page.inner_text("[data-testid=class-counts]").startswith("0 following")
    teacher.shot("class-teacher-projector", full_page=False)
    # the key is nowhere on screen nor in the address
    key = page.evaluate("() => window.deepscope.classroom.key")
    assert len(key) >= 24 and key not in page.content() and key not in page.url
    teacher.check_clean()


def test_a_student_follows_explores_hands_in_and_is_shown(
    pair: tuple[Watched, Watched],
) -> None:
    teacher, student = pair
    code = start_class(teacher)
    t, s = teacher.page, student.page
    follow(student, code)
    assert "Following the teacher" in s.inner_text("#class-seat")
    # the student's page shows the teacher's preset and its picture
    s.wait_for_function("() => document.querySelector('#preset').value === 'tanh-small'")
    s.wait_for_function("() => window.deepscope.active.frames.a !== null")
    t.wait_for_function(
        "() => document.querySelector('[data-testid=class-counts]').textContent"
        ".startsWith('1 following')"
    )
    # a slider move: the init scale, by keyboard on the teacher's page
    before = s.evaluate("() => window.deepscope.active.frames.a.layers[0].hist.activation.std")
    slider = t.get_by_label("Init scale (× the scheme's std)")
    slider.focus()
    for _ in range(30):
        slider.press("ArrowRight")
    moved = t.evaluate("() => window.deepscope.labs.layers.configs.a.scale")
    assert moved > 0.018
    s.wait_for_function("(v) => window.deepscope.labs.layers.configs.a.scale === v", arg=moved)
    s.wait_for_function(
        "(b) => window.deepscope.active.frames.a.layers[0].hist.activation.std > 1.5 * b",
        arg=before,
    )
    # the teacher changed the preset's settings: the follower's notice says so too
    s.wait_for_selector("#notice-edited:not([hidden])")
    # read-only: the student's controls are inert, their tabs disabled
    assert s.evaluate("() => document.querySelector('#lab .controls').inert")
    assert s.evaluate("() => document.querySelector('#tab-train').disabled")
    # a tab change
    t.click("#tab-descend")
    s.wait_for_function("() => window.deepscope.active.lab === 'descend'")
    t.click("#tab-layers")
    s.wait_for_function("() => window.deepscope.active.lab === 'layers'")
    # a preset
    t.select_option("#preset", "tanh-big")
    s.wait_for_function("() => document.querySelector('#preset').value === 'tanh-big'")
    s.wait_for_function("() => window.deepscope.labs.layers.configs.a.scale === 1")
    s.wait_for_selector("#notice-edited", state="hidden")  # (a new preset: its own settings)
    s.check("#projector")  # a student's own view option: not the teacher's to set
    student.shot("class-follower-projector", full_page=False)
    s.uncheck("#projector")
    # explore: the student's own session, from the teacher's state
    s.click("#class-seat >> text=Explore on my own")
    s.wait_for_function("() => window.deepscope.classroom.mode === 'explore'")
    assert not s.evaluate("() => document.querySelector('#lab .controls').inert")
    t.wait_for_function(
        "() => document.querySelector('[data-testid=class-counts]').textContent"
        ".startsWith('0 following · 1 exploring')"
    )
    s.evaluate("() => window.deepscope.labs.layers.set({ scale: 0.05 })")
    s.fill("#class-seat .class-name", "Ada")
    s.fill("#class-seat .class-note", "0.05 keeps the signal")
    s.click("#class-seat >> text=Hand in")
    t.click("#class-seat >> text=Class panel")
    t.wait_for_selector("[data-testid=class-handins] >> text=Ada")
    # the teacher's own picture did not move while the student explored
    assert t.evaluate("() => window.deepscope.labs.layers.configs.a.scale") == 1
    # follow again, then the teacher shows the hand-in: it is on the follower's screen
    s.click("#class-seat >> text=Follow the teacher")
    s.wait_for_function("() => window.deepscope.classroom.mode === 'follow'")
    t.click("[data-testid=class-handins] >> text=Show")
    t.wait_for_function("() => window.deepscope.labs.layers.configs.a.scale === 0.05")
    s.wait_for_function("() => window.deepscope.labs.layers.configs.a.scale === 0.05")
    teacher.shot("class-teacher-panel", full_page=False)
    # the URL carries the class code, never the key
    key = t.evaluate("() => window.deepscope.classroom.key")
    assert f"class={code}" in s.url and key not in t.url
    # a reload of the teacher's page resumes its seat (the key is kept in the tab)
    t.reload()
    t.wait_for_function("() => window.deepscope && window.deepscope.classroom.mode === 'teacher'")
    t.wait_for_selector("#class-seat >> text=You lead class")
    teacher.check_clean()
    student.check_clean(expected=("not_teacher",))


def test_followers_see_both_sides_of_the_teachers_compare_mode(
    pair: tuple[Watched, Watched],
) -> None:
    """A compare preset on the teacher's page: every follower draws side A and side B
    from the teacher's two sessions, and goes back to one side when compare mode closes."""
    teacher, student = pair
    code = start_class(teacher)
    t, s = teacher.page, student.page
    follow(student, code)
    # the layers lab: batch norm (side A) against none (side B)
    t.select_option("#preset", "bn-small")
    s.wait_for_function("() => document.querySelector('#preset').value === 'bn-small'")
    s.wait_for_function(
        "() => window.deepscope.active.comparing && window.deepscope.active.frames.b !== null"
    )
    assert s.evaluate("() => window.deepscope.socketB") is None  # (the teacher's frames)
    std = "(side) => window.deepscope.active.frames[side].layers.at(-1).hist.activation.std"
    t.wait_for_function(
        "() => window.deepscope.active.frames.b && window.deepscope.active.frames.b.detail "
        "=== 'complete'"
    )
    s.wait_for_function(
        "() => window.deepscope.active.frames.b.detail === 'complete' && "
        "window.deepscope.active.frames.a.detail === 'complete'"
    )
    for side in "ab":
        assert s.evaluate(std, side) == t.evaluate(std, side)
    assert s.evaluate(std, "b") < 1e-3 < s.evaluate(std, "a")  # the preset's point
    assert s.locator("#lab .charts").inner_text().count("B") >= 1
    student.shot("class-follower-compare", full_page=False)
    # the training lab: two runs, both streaming to the follower
    t.select_option("#preset", "deep-linear")  # (a preset that plays)
    s.wait_for_function("() => window.deepscope.active.lab === 'train'")
    s.wait_for_function("() => window.deepscope.active.comparing")
    s.wait_for_function(
        "() => ['a', 'b'].every((k) => (window.deepscope.active.runs[k].latest?.step || 0) > 200)"
    )
    assert s.evaluate("() => window.deepscope.labs.train.configs.b.activation") == "tanh"
    assert s.locator(".card", has_text="Decision boundary").count() == 2
    t.get_by_role("button", name="Pause", exact=True).click()
    # compare mode closed on the teacher's page: one side on the follower's too
    t.select_option("#preset", "tanh-small")
    s.wait_for_function(
        "() => window.deepscope.active.lab === 'layers' && !window.deepscope.active.comparing"
    )
    teacher.check_clean()
    student.check_clean(expected=("not_teacher",))


def test_the_pages_speak_chinese_in_a_class(pair: tuple[Watched, Watched]) -> None:
    teacher, student = pair
    code = start_class(teacher)
    page = student.open(f"?class={code}&lang=zh")
    page.wait_for_function("() => window.deepscope.classroom.mode === 'follow'")
    assert "正在跟随老师" in page.inner_text("#class-seat")
    assert "跟随" in page.inner_text("#live")  # announced in the live region
    # the teacher's page switched to 中文: its seat bar and open panel follow
    tpage = teacher.page
    tpage.locator("#lang").dispatch_event("click")  # (the open panel is over it)
    tpage.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    assert tpage.locator("#class-panel").is_visible()  # (open since the class began)
    assert "你的课堂" in tpage.inner_text("#class-panel")
    seat = tpage.inner_text("#class-seat")
    assert "你正在主持课堂" in seat and "You lead" not in seat
    student.check_clean()
