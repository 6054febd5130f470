"""The training lab's live loss landscape: switched on, its card draws the contour of the
loss and the projected path, and both follow the run while it trains."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

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
