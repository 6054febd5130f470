"""The optimizer lab's sweep mode in a real browser: the sweep view draws, its curves
fill in while it streams, and one click races each optimizer at its best learning rate."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.browser.test_lecture_charts import card, wait_drawn, wait_lab

pytestmark = pytest.mark.browser

CONFIG = {
    "surface": "rosenbrock",
    "steps": 400,
    "runs": [
        {"optimizer": "gd", "lr": 0.001},
        {"optimizer": "momentum", "lr": 0.001},
        {"optimizer": "adam", "lr": 0.05},
    ],
}
SWEEP = "Learning-rate sweep"


def _traces(page: Any, selector: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate(
        """(s) => document.querySelector(s).data.map((t) => ({
            name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || []),
            symbol: t.marker && t.marker.symbol, axis: t.yaxis || 'y' }))""",
        selector,
    )
    return result


def test_the_sweep_view_draws_fills_in_and_races_each_at_its_best_lr(watched: Watched) -> None:
    options = {"steps_per_frame": 10}
    page = watched.open(
        f"?lab=descend&config={quote(json.dumps(CONFIG))}&options={quote(json.dumps(options))}"
    )
    wait_lab(page, "descend", "l.runsData.length === 3 && l.grid !== null")
    sweep_card = page.locator(f'section.card[aria-label="{SWEEP}"]')
    assert sweep_card.is_hidden()  # a race until asked

    page.get_by_label("Sweep each run's learning rate").check()
    assert sweep_card.is_visible()
    assert page.locator('section.card[aria-label="Loss"]').is_hidden()
    gd_lr = page.locator('input[data-catalog="optimizers.gd.hyper.lr"]')
    assert gd_lr.is_disabled()  # the sweep sets the learning rates
    wait_lab(page, "descend", "l.sweepData !== null && l.sweepData.step === 0")
    plot = card(SWEEP)
    wait_drawn(page, plot)
    first = _traces(page, plot)
    curves = [t for t in first if t["name"] in ("gd", "momentum", "adam")]
    assert [t["name"] for t in curves] == ["gd", "momentum", "adam"]
    count = page.evaluate("window.deepscope.catalog.labs.descend.sweep_fields.lr_count.default")
    assert all(len(t["x"]) == count for t in curves)
    watched.shot("sweep-start")

    # the curves fill in while the sweep streams
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.sweepData.step > 0 && l.sweepData.step < 400", 20_000)
    middle = page.evaluate("window.deepscope.labs.descend.sweepData.step")
    wait_lab(page, "descend", "l.sweepData.step === 400", 60_000)
    assert 0 < middle < 400
    drawn = wait_drawn(page, plot)
    final = _traces(page, plot)
    gd = next(t for t in final if t["name"] == "gd")
    assert gd["y"] != next(t for t in first if t["name"] == "gd")["y"]
    # diverged runs are marked in the strip above, at their learning rate
    strip = [t for t in final if t["axis"] == "y2" and t["name"].startswith("gd")]
    assert strip and strip[0]["symbol"] == "x-thin-open"
    data = page.evaluate("window.deepscope.labs.descend.sweepData.optimizers")
    gd_curve = data[0]
    marked = {round(x, 12) for x in strip[0]["x"]}
    diverged = {
        round(lr, 12)
        for lr, s in zip(gd_curve["lrs"], gd_curve["status"], strict=True)
        if s == "diverged"
    }
    assert marked == diverged and diverged
    # each optimizer's best learning rate is marked ◆ (★ is the contour's start)
    bests = [t for t in final if t["symbol"] == "diamond" and t["x"] != [None]]
    assert len(bests) == 3 and not [t for t in final if t["symbol"] == "star"]
    for best, curve in zip(bests, data, strict=True):
        assert best["x"] == [curve["best_lr"]]
    # the screen reader's line ends at the sweep's last step, not at an earlier frame
    page.wait_for_function(
        "() => document.getElementById('live').textContent.startsWith('Step 400.')"
    )
    # and its best run's path is on the contour
    paths = card("Paths on the surface")
    wait_drawn(page, paths)
    names = [t["name"] for t in _traces(page, paths)]
    assert any((n or "").startswith("adam @ lr") for n in names)
    assert drawn > 0
    watched.shot("sweep-finished")

    # one click: the race, each at its best learning rate
    best = [c["best_lr"] for c in data]
    assert all(b is not None for b in best)
    page.get_by_role("button", name="Race each at its best learning rate").click()
    wait_lab(page, "descend", "l.view.mode === 'race' && l.runsData.length === 3")
    assert sweep_card.is_hidden() and gd_lr.is_enabled()
    lrs = page.evaluate("window.deepscope.labs.descend.config.runs.map((r) => r.lr)")
    assert lrs == best
    page.wait_for_function(
        "(best) => { const u = new URL(location.href); const c = JSON.parse("
        "u.searchParams.get('config')); return JSON.stringify(c.runs.map((r) => r.lr))"
        " === JSON.stringify(best); }",
        arg=best,
    )
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.runsData[2].points.length > 100", 30_000)
    watched.shot("sweep-race-at-best")
    watched.check_clean()


def test_a_sweep_preset_opens_in_sweep_mode_in_chinese(watched: Watched) -> None:
    page = watched.open("?preset=sweep-adagrad-adam&lang=zh")
    wait_lab(page, "descend", "l.sweepData !== null")
    assert page.locator('section.card[aria-label="学习率扫描"]').is_visible()
    page.get_by_role("button", name="让每个优化器以其最佳学习率比赛").wait_for()
    watched.check_clean()


# --- the sweep box keeps its claims true ---------------------------------------------

MAX_LR = "labs.descend.sweep_fields.lr_max"
ADD = "Add a runner"


def _slide(page: Any, path: str, value: float, *, log: bool = True) -> None:
    """A slider dragged to ``value`` (its input events, as a hand on the thumb sends)."""
    page.evaluate(
        """([path, pos]) => { const i = document.querySelector(`input[data-catalog="${path}"]`);
            i.value = String(pos); i.dispatchEvent(new Event('input', { bubbles: true })); }""",
        [path, math.log10(value) if log else value],
    )


def _sweep_box(page: Any) -> Any:
    return page.locator("fieldset", has=page.get_by_label("Sweep each run's learning rate"))


def _wait_preset_sent(page: Any) -> None:
    """Until the preset's own configuration went out (what a change is measured from)."""
    page.wait_for_function("() => 'a' in window.deepscope.presetBase")


def test_the_sweep_s_settings_count_as_changing_a_preset(watched: Watched) -> None:
    """Ticking or unticking the sweep and its range, count, criterion and tolerance change
    the picture, so the preset's notice says it speaks of the preset's own; a view setting
    (and a tolerance the criterion does not read) does not."""
    page = watched.open("?preset=sweep-rosenbrock")
    wait_lab(page, "descend", "l.sweepData !== null")
    _wait_preset_sent(page)
    edited = page.locator("#notice-edited")
    expect(edited).to_be_hidden()
    page.get_by_label("Log-scale contours").uncheck()
    _slide(page, "labs.descend.sweep_fields.tolerance", 1e-3)  # (the criterion is "final")
    page.wait_for_timeout(300)
    expect(edited).to_be_hidden()
    _slide(page, MAX_LR, 0.01)
    expect(edited).to_be_visible()
    page.click("#lang")
    expect(edited).to_contain_text("你已改动了这个预设的设置")
    page.click("#lang")
    page.click("#notice-back")
    expect(edited).to_be_hidden()
    wait_lab(page, "descend", "l.view.sweep.lr_max === 10 && l.sweeping()")
    _wait_preset_sent(page)

    # the sweep unticked is a race, not the preset's picture; ticked again, it is
    page.get_by_label("Sweep each run's learning rate").uncheck()
    expect(edited).to_be_visible()
    page.get_by_label("Sweep each run's learning rate").check()
    expect(edited).to_be_hidden()
    page.get_by_label("Criterion").select_option("steps_to_tolerance")
    expect(edited).to_be_visible()
    page.click("#notice-back")
    _wait_preset_sent(page)
    _slide(page, "labs.descend.sweep_fields.lr_count", 10, log=False)
    expect(edited).to_be_visible()

    # a race preset: ticking the sweep changes its picture
    page = watched.open("?preset=gd-quadratic")
    wait_lab(page, "descend", "l.runsData.length === 6")
    _wait_preset_sent(page)
    expect(edited).to_be_hidden()
    page.get_by_label("Sweep each run's learning rate").check()
    expect(edited).to_be_visible()
    watched.check_clean()


def test_runs_that_differ_only_in_their_lr_are_swept_once(watched: Watched) -> None:
    """GD at six learning rates is one run of a sweep: one curve, labelled without the lr
    it no longer uses, and the box says so in both languages; the race keeps its six."""
    page = watched.open("?preset=gd-quadratic")
    wait_lab(page, "descend", "l.runsData.length === 6")
    page.get_by_label("Sweep each run's learning rate").check()
    wait_lab(page, "descend", "l.sweepData !== null")
    data = page.evaluate("window.deepscope.labs.descend.sweepData.optimizers")
    assert [(c["optimizer"], c["label"]) for c in data] == [("gd", "gd")]
    merged = page.get_by_test_id("sweep-merged")
    expect(merged).to_have_text(
        "Runs 1, 2, 3, 4, 5, 6 differ only in their learning rate, which the sweep sets: "
        "it sweeps them once, as “gd”."
    )
    expect(merged).to_be_visible()
    page.click("#lang")
    expect(merged).to_contain_text("第 1, 2, 3, 4, 5, 6 个参赛者只在学习率上不同")
    page.click("#lang")
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.sweepData.step === 60")
    plot = card(SWEEP)
    wait_drawn(page, plot)
    labels = {c["label"] for c in data}  # (the curves, not the marks and their key)
    curves = [t for t in _traces(page, plot) if t["axis"] == "y" and t["name"] in labels]
    assert [t["name"] for t in curves] == ["gd"]
    paths = card("Paths on the surface")
    wait_drawn(page, paths)
    names = [t["name"] or "" for t in _traces(page, paths)]
    assert [n for n in names if n.startswith("gd @ lr")] and not [n for n in names if "GD lr" in n]
    # the race's runs are the preset's six, each at the one best learning rate
    best = page.evaluate("window.deepscope.labs.descend.sweepData.optimizers[0].best_lr")
    page.get_by_role("button", name="Race each at its best learning rate").click()
    wait_lab(page, "descend", "l.view.mode === 'race' && l.runsData.length === 6")
    lrs = page.evaluate("window.deepscope.labs.descend.config.runs.map((r) => r.lr)")
    assert lrs == [best] * 6
    expect(merged).to_be_hidden()
    watched.shot("sweep-once")
    watched.check_clean()


def test_a_best_lr_at_an_end_of_the_range_is_flagged(watched: Watched) -> None:
    """Swept up to 0.01 only, Adam's best is the largest rate: the chart's legend and the
    summary say so (widen the range), GD's inside the range is not flagged."""
    config = {**CONFIG, "steps": 300}
    view = {"mode": "sweep", "sweep": {"lr_min": 1e-4, "lr_max": 0.01, "lr_count": 9}}
    options = {"steps_per_frame": 50}
    page = watched.open(
        f"?lab=descend&config={quote(json.dumps(config))}&view={quote(json.dumps(view))}"
        f"&options={quote(json.dumps(options))}"
    )
    wait_lab(page, "descend", "l.sweepData !== null")
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.sweepData.step === 300", 60_000)
    data = page.evaluate("window.deepscope.labs.descend.sweepData.optimizers")
    adam = next(c for c in data if c["optimizer"] == "adam")
    gd = next(c for c in data if c["optimizer"] == "gd")
    assert adam["best_index"] == len(adam["lrs"]) - 1
    assert 0 < gd["best_index"] < len(gd["lrs"]) - 1
    summary = page.get_by_test_id("sweep-summary")
    expect(summary).to_contain_text("adam: best lr 0.01 — at the end of the range: widen it")
    assert "gd: best lr" in summary.inner_text()
    assert "widen" not in page.get_by_test_id("sweep-best").first.inner_text()  # (gd's)
    plot = card(SWEEP)
    wait_drawn(page, plot)
    names = [t["name"] for t in _traces(page, plot) if t["axis"] == "y"]
    assert "adam (best at the end of the range)" in names and "gd" in names
    watched.shot("sweep-edge-en")
    page.click("#lang")
    expect(summary).to_contain_text("在扫描范围的端点：请扩大范围")
    page.wait_for_function(  # (the card's name is Chinese now: found by its chart id)
        "(s) => document.querySelector(s).data.some((t) => t.name === 'adam (最佳值在范围端点)')",
        arg="section.card[data-chart=sweep] .js-plotly-plot",
    )
    watched.shot("sweep-edge-zh")
    watched.check_clean()


def test_a_refused_setting_leaves_the_labels_of_what_is_drawn(watched: Watched) -> None:
    """Too many steps for a sweep, or a typed surface without a minimum, are refused: the
    old sweep goes on, and its subtitle and title still describe it (and say the new
    settings were refused) until a configuration is accepted; the race's too."""
    options = {"steps_per_frame": 10}
    view = {"mode": "sweep"}
    page = watched.open(
        f"?lab=descend&config={quote(json.dumps(CONFIG))}&view={quote(json.dumps(view))}"
        f"&options={quote(json.dumps(options))}"
    )
    wait_lab(page, "descend", "l.sweepData !== null")
    # (by chart id: the cards' names change with the language)
    sweep_sub = page.locator("section.card[data-chart=sweep] h3 .sub")
    main_sub = page.locator("section.card[data-chart=surface] h3 .sub")
    expect(sweep_sub).to_have_text(" — step 0 of 400")
    expect(main_sub).to_have_text("f = (1 - x)**2 + 100*(y - x**2)**2")
    banner = page.locator("#banner")

    _slide(page, "labs.descend.fields.steps", 100_000)
    expect(banner).to_contain_text("steps")
    expect(sweep_sub).to_have_text(
        " — step 0 of 400 — new settings refused: still showing the previous ones"
    )
    page.get_by_role("button", name="Step").click()
    wait_lab(page, "descend", "l.sweepData.step === 1")
    expect(sweep_sub).to_contain_text("step 1 of 400 — new settings refused")
    page.click("#lang")
    expect(sweep_sub).to_contain_text("新设置被拒绝")
    page.click("#lang")
    _slide(page, "labs.descend.fields.steps", 1000)  # accepted: the new settings' labels
    expect(sweep_sub).to_have_text(" — step 0 of 1000")
    expect(banner).to_be_hidden()

    # a typed surface the server refuses to sweep (no known minimum)
    page.get_by_label("Surface", exact=True).select_option("custom")  # (x**2 + 10*y**2)
    expect(main_sub).to_have_text("f = x**2 + 10*y**2")
    page.get_by_label("f(x, y) =").fill("x + y")
    page.get_by_role("button", name="Apply").click()
    expect(banner).to_contain_text("no known minimum")
    expect(main_sub).to_have_text(
        "f = x**2 + 10*y**2 — new settings refused: still showing the previous ones"
    )
    drawn = page.evaluate("window.deepscope.labs.descend.drawn().grid.surface.formula")
    assert drawn == "x**2 + 10*y**2"  # the contour under it is the accepted surface's
    watched.shot("sweep-refused")
    page.get_by_label("f(x, y) =").fill("x**2 + y**2")
    page.get_by_role("button", name="Apply").click()
    expect(main_sub).to_have_text("f = x**2 + y**2")
    expect(banner).to_be_hidden()

    # the race: refused steps leave the race's title as it is, and say so
    page.get_by_label("Sweep each run's learning rate").uncheck()
    wait_lab(page, "descend", "l.runsData.length === 3 && !l.refused")
    for n in (4, 5):  # (five runs of 100 000 steps are more rows than a race may have)
        page.get_by_role("button", name=ADD).click()
        wait_lab(page, "descend", f"l.runsData.length === {n}")
    _slide(page, "labs.descend.fields.steps", 100_000)
    expect(banner).to_be_visible()
    expect(main_sub).to_have_text(
        "f = x**2 + y**2 — new settings refused: still showing the previous ones"
    )
    watched.check_clean()


def _set_slider(page: Any, catalog: str, position: float) -> None:
    page.evaluate(
        """([c, v]) => { const e = document.querySelector(`input[data-catalog='${c}']`);
        e.value = String(v); e.dispatchEvent(new Event('input', {bubbles: true}));
        e.dispatchEvent(new Event('change', {bubbles: true})); }""",
        [catalog, position],
    )


def test_the_sweep_marks_its_start_and_explains_its_marks(watched: Watched) -> None:
    # steps to a tolerance GD never reaches: GD has no best run, and so no path
    view = {
        "mode": "sweep",
        "sweep": {"lr_count": 5, "criterion": "steps_to_tolerance", "tolerance": 1e-6},
    }
    config = {**CONFIG, "steps": 200}
    page = watched.open(
        f"?lab=descend&config={quote(json.dumps(config))}&view={quote(json.dumps(view))}"
    )
    wait_lab(page, "descend", "l.sweepData !== null && l.sweepData.step === 0 && !!l.grid")
    start = page.evaluate("window.deepscope.labs.descend.surface.start")
    paths = card("Paths on the surface")
    sweep = card(SWEEP)
    page.wait_for_function(
        "(s) => { const e = document.querySelector(s);"
        " return !!e && !!e.data && e.data.some((t) => t.name === 'start'); }",
        arg=paths,
    )
    stars = [t for t in _traces(page, paths) if t["name"] == "start"]
    assert [[x, y] for x, y in zip(stars[0]["x"], stars[0]["y"], strict=True)] == [start]
    # a short log axis labels its decades, not 2…9 between them
    wait_drawn(page, sweep)
    ticks = page.evaluate(
        "(s) => [...document.querySelectorAll(s + ' .ytick text')].map((e) => e.textContent)",
        sweep,
    )
    assert ticks and not [t for t in ticks if t in list("23456789")]
    # the key: one entry per mark, with the mark's own symbol
    key = {t["name"]: t["symbol"] for t in _traces(page, sweep) if t["x"] == [None]}
    assert key == {"best lr": "diamond", "diverged": "x-thin-open", "not yet": "circle-open"}

    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.sweepData.step === 200", 60_000)
    assert page.evaluate("window.deepscope.labs.descend.sweepData.optimizers[0].best_lr") is None
    drawn = wait_drawn(page, paths)
    wait_drawn(page, paths, drawn - 1)
    stars = [t for t in _traces(page, paths) if t["name"] == "start"]
    assert stars and [stars[0]["x"][0], stars[0]["y"][0]] == start
    page.wait_for_function(  # (the chart's redraw after the last frame may come later)
        "(s) => document.querySelector(s).data.some((t) => t.name === 'never')", arg=sweep
    )
    key = {t["name"] for t in _traces(page, sweep) if t["x"] == [None]}
    assert key == {"best lr", "diverged", "never"}

    # one learning rate: the box says the largest is not used, and lr_min = lr_max is
    # what the server accepts then
    hint = page.get_by_test_id("one-rate")
    assert hint.is_hidden()
    _set_slider(page, "labs.descend.sweep_fields.lr_count", 1)
    assert hint.is_visible()
    _set_slider(page, "labs.descend.sweep_fields.lr_min", -2)
    _set_slider(page, "labs.descend.sweep_fields.lr_max", -2)
    wait_lab(
        page,
        "descend",
        "l.sweepData.step === 0 && l.sweepData.optimizers[0].lrs.length === 1"
        " && Math.abs(l.sweepData.optimizers[0].lrs[0] - 0.01) < 1e-12",
    )
    assert page.locator("#banner").is_hidden()
    watched.check_clean()
