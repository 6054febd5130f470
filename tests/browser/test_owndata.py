"""Own data in the training lab, in a real browser: a CSV through the file picker draws
its decision boundary on axes fitted to it, pasted text works, a bad file is explained
by row and column without losing the run, and a link carries only a fingerprint."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Watched

pytestmark = pytest.mark.browser

ROWS = [
    (50 + 10 * math.cos(i), 20 + 8 * math.sin(1.7 * i), math.cos(i) * math.sin(1.7 * i) > 0)
    for i in range(120)
]
CSV = "height,weight,class\n" + "".join(
    f"{x:.4f},{y:.4f},{'cat' if c else 'dog'}\n" for x, y, c in ROWS
)


def lab(page: Page, expression: str) -> object:
    return page.evaluate(
        f"(() => {{ const l = window.deepscope.labs.train; return {expression}; }})()"
    )


def wait(page: Page, predicate: str) -> None:
    page.wait_for_function(
        f"() => {{ const l = window.deepscope.labs.train; return !!l && ({predicate}); }}",
        timeout=20_000,
    )


def choose_own_data(page: Page) -> None:
    page.get_by_label("Dataset").select_option("uploaded")
    expect(page.get_by_test_id("own-data")).to_be_visible()


def boundary_drawn(page: Page) -> int:
    return int(page.evaluate("Number(document.querySelector('.card .plot').dataset.drawn || 0)"))


def test_a_file_through_the_picker_draws_its_boundary(watched: Watched, tmp_path: Path) -> None:
    page = watched.open("?lab=train")
    wait(page, "l.latest !== null")
    choose_own_data(page)
    path = tmp_path / "pets.csv"
    path.write_text(CSV)
    page.get_by_label("Choose a CSV file").set_input_files(str(path))
    expect(page.get_by_test_id("own-info")).to_contain_text("120 points")
    expect(page.get_by_test_id("own-info")).to_contain_text("x = height, y = weight")
    wait(page, "l.points && l.points.X_train.length + l.points.X_test.length === 120")
    wait(page, "l.latest && l.latest.boundary && l.latest.step === 0")
    before = boundary_drawn(page)
    page.keyboard.press("ArrowRight")  # one step: the boundary is drawn again
    wait(page, "l.latest.step > 0")
    page.wait_for_function(
        f"() => Number(document.querySelector('.card .plot').dataset.drawn || 0) > {before}"
    )
    (x0, x1), (y0, y1) = lab(page, "l.points.domain")  # type: ignore[misc]
    xs = [x for x, _, _ in ROWS]
    ys = [y for _, y, _ in ROWS]
    assert x0 < min(xs) and x1 > max(xs) and y0 < min(ys) and y1 > max(ys)
    assert (x1 - x0) < 1.3 * (max(xs) - min(xs))  # fitted to the data, not ±1.2
    # The link names the data by its fingerprint and says the data is not in it.
    table_id = lab(page, "l.config.dataset_params.id")
    page.wait_for_function(f"() => location.search.includes('{table_id}')")
    expect(page.get_by_test_id("own-link")).to_contain_text(f"({table_id}), not the data")
    # Standardised: the same points, zero mean and unit variance.
    page.get_by_label("Standardise (zero mean, unit variance)").check()
    wait(page, "l.points && Math.abs(l.points.domain[0][0]) < 3 && l.points.domain[0][0] < 0")
    watched.shot("train-own-data")
    watched.check_clean()


def test_pasted_text_works_and_a_bad_one_is_explained(watched: Watched) -> None:
    page = watched.open("?lab=train")
    wait(page, "l.latest !== null")
    choose_own_data(page)
    page.get_by_label("…or paste CSV text").fill("0,0,-1\n1,1,1\n0,1,1\n1,0,-1\n0.5,0.2,-1\n")
    page.get_by_role("button", name="Use pasted data").click()
    expect(page.get_by_test_id("own-info")).to_contain_text("5 points · class 0: -1 (3)")
    wait(page, "l.points && l.points.X_train.length + l.points.X_test.length === 5")
    step = lab(page, "l.latest.step")
    page.get_by_label("…or paste CSV text").fill("x,y,label\n0,0,0\n1,1,1\n2,two,1\n3,3,0\n")
    page.get_by_role("button", name="Use pasted data").click()
    expect(page.get_by_test_id("own-error")).to_have_text(
        "row 4, column 2: y is 'two', not a number"
    )
    # nothing lost: the run on the first data goes on
    assert lab(page, "l.points.X_train.length + l.points.X_test.length") == 5
    assert lab(page, "l.latest.step") == step
    page.locator("#lang").click()
    expect(page.get_by_test_id("own-error")).to_have_text("第 4 行第 2 列：y 是“two”，不是数字")
    watched.check_clean()


def test_a_link_asks_for_its_file(watched: Watched, tmp_path: Path) -> None:
    page = watched.open("?lab=train")
    wait(page, "l.latest !== null")
    choose_own_data(page)
    path = tmp_path / "pets.csv"
    path.write_text(CSV)
    page.get_by_label("Choose a CSV file").set_input_files(str(path))
    wait(page, "l.points && l.points.X_train.length + l.points.X_test.length === 120")
    table_id = lab(page, "l.config.dataset_params.id")
    # The address is rewritten a moment after the configure: wait for the one with the id
    # (it said "uploaded" already, with an empty id, before the file was read).
    page.wait_for_function(f"() => location.search.includes('{table_id}')")
    link = page.evaluate("location.href")
    student = page.context.browser.new_context(viewport={"width": 1440, "height": 1000})  # type: ignore[union-attr]
    try:
        other = student.new_page()
        other.goto(link)
        other.wait_for_function("() => window.deepscope && window.deepscope.labs.train")
        expect(other.get_by_test_id("own-missing")).to_contain_text(
            f"fingerprint {table_id}). The data is not in the link", timeout=30_000
        )  # (a page starting on a loaded machine: catalog, language, plotly.js)
        assert lab(other, "l.latest") is None  # nothing trains without the data
        other.get_by_label("Choose a CSV file").set_input_files(str(path))
        wait(other, "l.points && l.points.X_train.length + l.points.X_test.length === 120")
        expect(other.get_by_test_id("own-missing")).to_have_count(0, timeout=30_000)
        assert lab(other, "l.config.dataset_params.id") == table_id
    finally:
        student.close()
    watched.check_clean()


def test_compare_mode_trains_both_sides_on_the_same_upload(
    watched: Watched, tmp_path: Path
) -> None:
    page = watched.open("?lab=train")
    wait(page, "l.latest !== null")
    choose_own_data(page)
    path = tmp_path / "pets.csv"
    path.write_text(CSV)
    page.get_by_label("Choose a CSV file").set_input_files(str(path))
    wait(page, "l.points && l.points.X_train.length + l.points.X_test.length === 120")
    page.get_by_label("Compare two configurations").check()
    wait(page, "l.runs.b.points && l.runs.b.points.X_train.length === 60")
    assert lab(page, "l.configs.b.dataset_params.id") == lab(page, "l.configs.a.dataset_params.id")
    # Side B's session has the data too: a fresh socket would have been refused without it.
    page.get_by_role("button", name="Step", exact=True).click()
    wait(page, "l.runs.a.latest.step > 0 && l.runs.b.latest.step > 0")
    watched.check_clean()
