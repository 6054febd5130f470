"""The training lab's live loss landscape: switched on, its card draws the contour of the
loss and the projected path, and both follow the run while it trains."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page

from tests.live import ROOT

from .conftest import Watched

CARD = "[data-chart=landscape]"


def wait_lab(page: Page, predicate: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        f"() => {{ const l = window.deepscope.labs.train; return !!l && ({predicate}); }}",
        timeout=timeout,
    )


def drawn_traces(page: Page) -> Any:
    """The landscape chart's plotly traces: type, points and the contour's grid size."""
    return page.evaluate(
        f"""() => {{
            const plot = document.querySelector('{CARD} .plot');
            return (plot.data || []).map(t => ({{
                type: t.type || 'scatter',
                name: t.name,
                n: (t.x || []).length,
                rows: t.type === 'contour' ? t.z.length : 0,
                x: t.type === 'contour' ? [] : t.x,
            }}));
        }}"""
    )


def test_the_landscape_draws_the_contour_and_the_path_and_updates_while_training(
    watched: Watched,
) -> None:
    page = watched.open("?lab=train")
    wait_lab(page, "l.latest !== null")
    assert page.locator(CARD).count() == 0 or not page.locator(CARD).first.is_visible()
    page.get_by_label("Show the network's loss landscape").check()
    wait_lab(page, "l.runs.a.landscape !== null && l.runs.a.landscape.step === 0")
    card = page.locator(CARD).first
    assert card.is_visible()
    page.wait_for_function(
        f"() => Number(document.querySelector('{CARD} .plot').dataset.drawn || 0) > 0"
    )
    first = drawn_traces(page)
    contour = [t for t in first if t["type"] == "contour"]
    assert len(contour) == 1 and contour[0]["rows"] == 41 and contour[0]["n"] == 41
    path = next(t for t in first if t["name"] == "path")
    assert path["n"] == 1  # the start only
    page.get_by_role("button", name="Play").click()
    # refreshed while the run goes on: a later step, a longer path
    wait_lab(page, "l.runs.a.landscape.step >= 200")
    wait_lab(page, "l.latest.step > l.runs.a.landscape.step || l.latest.step >= 3000")
    later = drawn_traces(page)
    path = next(t for t in later if t["name"] == "path")
    assert path["n"] > 10
    assert path["x"][-1] == 0  # the current weights: the plane's centre
    steps = page.evaluate("window.deepscope.labs.train.runs.a.landscape.path_steps")
    assert steps[0] == 0 and steps == sorted(steps) and steps[-1] >= 200
    subtitle = card.locator(".sub").text_content() or ""
    assert "random plane through the current weights" in subtitle
    page.get_by_role("button", name="Pause").click()
    # PCA: the explained variance and the caveat are shown
    page.get_by_label("Directions", exact=True).select_option("pca")
    wait_lab(page, "l.runs.a.landscape && l.runs.a.landscape.step === 0")
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "l.runs.a.landscape.directions === 'pca' && l.runs.a.landscape.step >= 100")
    page.wait_for_function(
        f"() => document.querySelector('{CARD} .sub').textContent.includes('depends on the path')"
    )
    watched.shot("training-landscape", full_page=False)
    watched.check_clean()


def test_momentum_vs_adam_draws_both_paths_on_one_plane(watched: Watched) -> None:
    page = watched.open("?preset=momentum-vs-adam")
    wait_lab(page, "l.runs.b && l.runs.b.landscape && l.runs.a.landscape")
    wait_lab(page, "l.runs.a.landscape.step >= 200 && l.runs.b.landscape.step >= 200")
    cards = page.locator(CARD)
    assert cards.count() == 2
    names = page.evaluate(
        f"""() => [...document.querySelectorAll('{CARD} .plot')]
            .map(p => (p.data || []).map(t => t.name))"""
    )
    # each side's map draws its own path and the other side's (one common plane)
    assert all("path" in n for n in names)
    assert any("Adam" in x for x in names[0] if x) and any("momentum" in x for x in names[1] if x)
    watched.check_clean()


# --- the race of optimizers on this network (the "Race optimizers" box) ------------------

RACE = "[data-testid=race]"


def race_traces(page: Page, chart: str) -> Any:
    """A race card's plotly traces: name, mode and points."""
    return page.evaluate(
        f"""() => (document.querySelector('[data-chart={chart}] .plot').data || [])
            .map(t => ({{ name: t.name, mode: t.mode || '', type: t.type || 'scatter',
                          x: t.type === 'contour' ? [] : t.x,
                          y: t.type === 'contour' ? [] : t.y }}))"""
    )


def wait_raced(page: Page) -> None:
    wait_lab(page, "!l.race.busy && (l.race.result !== null || l.race.error !== null)", 120_000)


def test_three_optimizers_race_on_one_plane_with_their_curves_as_rest_gives_them(
    watched: Watched,
) -> None:
    page = watched.open("?lab=train")
    wait_lab(page, "l.latest !== null")
    box = page.locator(RACE)
    assert page.locator("[data-chart=race_map]").is_hidden()  # nothing raced yet
    selects = box.locator("[data-testid=race-run] select")
    assert selects.count() == 3  # the catalog's three
    for i, name in enumerate(["rmsprop", "momentum", "adam"]):
        selects.nth(i).select_option(name)
    # a fourth run can be added and removed again
    box.get_by_role("button", name="Add a runner").click()
    assert selects.count() == 4
    box.get_by_role("button", name="Remove 4").click()
    assert selects.count() == 3
    # by keyboard: the Race button is reached and pressed with Enter
    go = box.get_by_test_id("race-go")
    go.focus()
    page.keyboard.press("Enter")
    wait_raced(page)
    assert page.evaluate("window.deepscope.labs.train.race.error") is None
    assert page.locator("[data-chart=race_map]").is_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart^=race_] .plot')]"
        ".every(p => Number(p.dataset.drawn || 0) > 0)"
    )
    drawn = race_traces(page, "race_map")
    assert sum(t["type"] == "contour" for t in drawn) == 1
    paths = [t for t in drawn if t["mode"] == "lines+markers"]
    names = [t["name"] for t in paths]
    assert names == ["RMSProp, lr 0.01", "momentum, lr 0.01", "Adam, lr 0.03"], names
    # every path begins at the shared start (the plane's centre), and each one moves
    assert {(t["x"][0], t["y"][0]) for t in paths} == {(0, 0)}
    assert all(len(t["x"]) > 10 for t in paths)
    ends = [t for t in drawn if t["mode"] == "markers" and t["name"].endswith("· end")]
    assert len(ends) == 3
    loss, accuracy = race_traces(page, "race_loss"), race_traces(page, "race_accuracy")
    assert [t["name"] for t in loss] == names and [t["name"] for t in accuracy] == names
    # the page's numbers are the REST answer's for the body the page sent
    body = page.evaluate("window.deepscope.labs.train.race.body")
    assert "optimizer" not in body and [r["optimizer"] for r in body["runs"]] == [
        "rmsprop",
        "momentum",
        "adam",
    ]
    answer = page.request.post(f"{watched.server.url}/api/landscape/race", data=body).json()
    for i, run in enumerate(answer["runs"]):
        assert loss[i]["y"][-1] == run["history"][-1]["train_loss"]
        assert accuracy[i]["y"][-1] == run["history"][-1]["accuracy"]
        assert paths[i]["x"][-1] == run["path"][-1][0]
    state = box.get_by_test_id("race-state").text_content() or ""
    assert "Adam, lr 0.03: training loss" in state  # the training lab's lr for Adam
    page.wait_for_function(
        "() => document.getElementById('live').textContent.includes('Race finished')"
    )
    # focus stays on the Race button, ready for the next race
    assert page.evaluate("document.activeElement.dataset.testid") == "race-go"
    page.locator("[data-chart=race_map]").scroll_into_view_if_needed()
    watched.shot("training-race", full_page=False)
    watched.check_clean()


def test_the_race_box_races_a_wider_net_and_warns_of_a_blow_up(watched: Watched) -> None:
    """A 64-64 network (4417 weights) races on a coarser plane instead of being refused
    for a grid the box has no control for; GD at lr 10 blows up (its loss 25× its start,
    finite) and the summary says so, as the single run's status would."""
    en = json.loads((ROOT / "static" / "i18n" / "en.json").read_text())
    page = watched.open("?lab=train")
    wait_lab(page, "l.latest !== null")
    hidden = page.get_by_label(en["f.hidden"])
    hidden.fill("64, 64")
    hidden.press("Tab")
    wait_lab(page, "l.config.hidden.length === 2 && l.config.hidden[0] === 64")
    box = page.locator(RACE)
    box.locator("[data-testid=race-run] select").first.select_option("gd")
    lr = box.locator("[data-testid=race-run]").first.get_by_label(en["f.lr"])
    lr.fill("10")
    lr.press("Tab")
    box.get_by_test_id("race-go").click()
    wait_raced(page)
    assert box.get_by_test_id("race-error").text_content() == ""
    result = page.evaluate("window.deepscope.labs.train.race.result")
    assert result["n_params"] == 4417 and 3 <= len(result["alphas"]) < 41
    warning = result["runs"][0]["warning"]
    assert warning is not None and warning["loss_peak"] > 10 * warning["loss_start"]
    state = box.get_by_test_id("race-state").text_content() or ""
    first = state.split(en["sep.problems"])[0]
    assert ", lr 10: training loss" in first, state
    assert f"{en['blowup']}:" in first, state
    assert all(r["warning"] is None for r in result["runs"][1:])  # (the others are fine)
    watched.check_clean()


def test_the_race_box_speaks_chinese_and_names_the_field_of_a_refusal(watched: Watched) -> None:
    zh = json.loads((ROOT / "static" / "i18n" / "zh.json").read_text())
    page = watched.open("?lab=train&lang=zh")
    wait_lab(page, "l.latest !== null")
    box = page.locator(RACE)
    legend = page.locator("fieldset", has=box).locator("legend").text_content()
    assert legend == zh["g.race"]
    assert box.get_by_test_id("race-go").text_content() == zh["race.go"]
    assert zh["race.hint"] in (box.text_content() or "")
    # Newton on a net of more than its parameter limit: a 422 naming the run's field
    hidden = page.get_by_label(zh["f.hidden"])
    hidden.fill("16, 16")
    hidden.press("Tab")
    wait_lab(page, "l.config.hidden.length === 2 && l.config.hidden[0] === 16")
    box.locator("[data-testid=race-run] select").first.select_option("newton")
    box.get_by_test_id("race-go").click()
    wait_raced(page)
    error = box.get_by_test_id("race-error").text_content() or ""
    assert error.startswith("runs.0.optimizer: 牛顿法需要完整的 Hessian"), error
    assert page.locator("[data-chart=race_map]").is_hidden()
    # a race that runs: the cards' headings and the legends in Chinese
    box.locator("[data-testid=race-run] select").first.select_option("gd")
    box.get_by_test_id("race-go").click()
    wait_raced(page)
    assert box.get_by_test_id("race-error").text_content() == ""
    heading = page.locator("[data-chart=race_map] h3 span").first.text_content()
    assert heading == zh["c.race_map"]
    names = [t["name"] for t in race_traces(page, "race_loss")]
    assert names[0] == "梯度下降，lr 0.01", names
    watched.check_clean(expected=("status of 422",))  # the refusal, as the browser logs it
