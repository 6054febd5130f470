"""A configuration the server refuses leaves the picture as it was, and the page's labels
describe that picture, not the refused settings (the optimizer lab's: test_sweep.py)."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Watched, wait_frame

pytestmark = pytest.mark.browser


def _slide(page: Page, path: str, value: float) -> None:
    """A log slider dragged to ``value`` and let go."""
    page.evaluate(
        """([path, pos]) => { const i = document.querySelector(`input[data-catalog="${path}"]`);
            i.value = String(pos); i.dispatchEvent(new Event('input', { bubbles: true }));
            i.dispatchEvent(new Event('change', { bubbles: true })); }""",
        [path, math.log10(value)],
    )


def test_the_training_lab_s_layer_menu_follows_the_run_drawn(watched: Watched) -> None:
    """Three hidden layers asked for with too much work are refused; a reset replays the
    two-layer run drawn, and the menu of layers to look at lists its two, not three."""
    page = watched.open("?lab=train")
    wait_frame(page, "train", "l.runs.a.latest !== null && l.runs.a.latest !== undefined")
    menu = page.get_by_label("Layer", exact=True)
    expect(menu.locator("option")).to_have_count(2)
    _slide(page, "labs.train.fields.steps", 100_000)
    _slide(page, "labs.train.fields.batch_size", 2000)
    hidden = page.get_by_label("Hidden widths (e.g. 8, 8)")
    hidden.fill("8, 8, 8")
    hidden.press("Enter")
    hidden.blur()
    expect(page.locator("#banner")).to_contain_text("steps × batch × parameters")
    page.wait_for_function("() => window.deepscope.labs.train.configs.a.hidden.length === 3")
    page.evaluate("window.shownBefore = window.deepscope.labs.train.runs.a.latest")
    page.get_by_role("button", name="Reset", exact=True).click()
    # the reset's first frame, of the run drawn
    wait_frame(page, "train", "l.runs.a.latest !== window.shownBefore && l.runs.a.latest.data")
    expect(menu.locator("option")).to_have_count(2)
    watched.check_clean()
