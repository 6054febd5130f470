"""Shared links are versioned (``v``): an old link is migrated, a field this release does
not know is dropped with a console note, and neither stops the page from opening."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from playwright.sync_api import ConsoleMessage

from tests.browser.conftest import Watched

# Through the page's own module (the one the app reads the URL with): the link the
# current release writes for a training configuration, then that link read by a page
# whose format is one version newer, in which `n_samples` is called `samples` (the
# catalog renamed, and the migration table's step from version 1 renaming it too).
RENAMED = """async ({ migrate }) => {
  const m = await import("/static/js/state.js");
  const app = window.deepscope;
  m.state.lab = "train";
  m.state.configs.train = { ...app.labs.train.config, n_samples: 300 };
  const link = m.urlFor();
  const catalog = structuredClone(app.catalog);
  const fields = catalog.labs.train.fields;
  fields.samples = fields.n_samples;
  delete fields.n_samples;
  const migrations = migrate
    ? { 1: (l) => { if (l.lab === "train") m.rename(l.config, "n_samples", "samples"); return l; } }
    : { 1: (l) => l };
  delete m.state.configs.train;
  m.readUrl(link, catalog, { version: 2, migrations });
  return { link, version: m.VERSION, config: m.state.configs.train };
}"""


def warnings(watched: Watched) -> list[str]:
    notes: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "warning":
            notes.append(message.text)

    watched.page.on("console", keep)
    return notes


def link(lab: str, config: dict[str, Any], **extra: str) -> str:
    query = f"?lab={lab}&config={quote(json.dumps(config))}"
    return query + "".join(f"&{k}={quote(v)}" for k, v in extra.items())


def test_a_link_without_a_version_is_version_1_and_the_page_writes_its_version(
    watched: Watched,
) -> None:
    page = watched.open(link("train", {"n_samples": 300, "steps": 500}))
    assert page.evaluate("window.deepscope.labs.train.config.n_samples") == 300
    page.evaluate("async () => (await import('/static/js/state.js')).flushUrl()")
    version = page.evaluate("async () => (await import('/static/js/state.js')).VERSION")
    assert f"v={version}" in page.url and "n_samples" in page.url
    watched.check_clean()


def test_fields_this_release_does_not_know_are_dropped_with_a_console_note(
    watched: Watched,
) -> None:
    notes = warnings(watched)
    config = {
        "n_samples": 300,
        "momentum_of_the_future": 1,
        "optimizer": {"optimizer": "adam", "lr": 0.02, "warmup": 10},
    }
    page = watched.open(link("train", config, compare=json.dumps({"depth_of_field": 2})))
    got = page.evaluate("window.deepscope.labs.train.configs")
    assert got["a"]["n_samples"] == 300 and got["a"]["optimizer"]["lr"] == 0.02
    assert "momentum_of_the_future" not in got["a"] and "warmup" not in got["a"]["optimizer"]
    assert got["b"] is not None and "depth_of_field" not in got["b"]
    dropped = [n for n in notes if "left out" in n]
    assert len(dropped) == 1
    for name in (
        "config.momentum_of_the_future",
        "config.optimizer.warmup",
        "compare.depth_of_field",
    ):
        assert name in dropped[0]
    # the server took the rest: the run streams (an error frame would show in the banner)
    page.wait_for_function("() => window.deepscope.labs.train.runs.a.latest !== null")
    assert page.evaluate("document.getElementById('banner').hidden")
    watched.check_clean()


def test_a_link_of_this_release_still_opens_after_a_field_is_renamed(watched: Watched) -> None:
    notes = warnings(watched)
    page = watched.open("?lab=train")
    got = page.evaluate(RENAMED, {"migrate": True})
    assert "v=1" in got["link"] and got["version"] == 1
    assert got["config"]["samples"] == 300 and "n_samples" not in got["config"]
    assert got["config"]["steps"] == page.evaluate("window.deepscope.labs.train.config.steps")
    assert not [n for n in notes if "left out" in n]
    # without the migration's step the renamed field would be lost (with a note)
    lost = page.evaluate(RENAMED, {"migrate": False})
    assert "samples" not in lost["config"] and "n_samples" not in lost["config"]
    assert [n for n in notes if "left out" in n and "config.n_samples" in n]
    watched.check_clean()


def test_a_link_from_a_newer_release_opens_as_it_is_with_a_note(watched: Watched) -> None:
    notes = warnings(watched)
    page = watched.open(link("layers", {"depth": 4}, v="99"))
    assert page.evaluate("window.deepscope.labs.layers.config.depth") == 4
    assert [n for n in notes if "version 99" in n]
    watched.check_clean()
