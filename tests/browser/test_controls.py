"""Every control of every lab takes its range, step and starting value from /api/catalog.

Each slider, number box and menu of values carries the catalog path it was built from
(``data-catalog``); this test resolves the path in the catalog the server sends and
compares the input's min / max / step / value with it. A control built from numbers
written in the page has no path, and fails here.
"""

from __future__ import annotations

import json
import math
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import Watched

# Controls that set a view of the page, not a field the server knows (so not in the
# catalog): the gallery's x range.
VIEW_ONLY = {"f.range"}
LAB_CONTROLS = """() => [...document.querySelectorAll(
    "#lab input[type=range], #lab input[type=number], #lab select[data-catalog]")]
  .map((el) => ({ key: el.closest('.field')?.querySelector('label span')?.dataset.i18n,
    tag: el.tagName.toLowerCase(), type: el.type, path: el.dataset.catalog ?? null,
    min: el.min, max: el.max, step: el.step, value: el.value,
    options: el.tagName === 'SELECT' ? [...el.options].map((o) => o.value) : null }))"""


def entry_at(catalog: dict[str, Any], path: str) -> dict[str, Any]:
    node: Any = catalog
    for part in path.split("."):
        node = (
            next(item for item in node if item["name"] == part)
            if isinstance(node, list)
            else node[part]
        )
    assert isinstance(node, dict)
    return node


def starting_values(catalog: dict[str, Any], lab: str) -> dict[str, float]:
    """Where a lab opens a control at something else than the field's default: the
    race's runners and the training lab's optimizer carry their own lr (also catalog)."""
    if lab == "descend":
        runs = catalog["labs"]["descend"]["runs"]
        return {f"optimizers.{r['optimizer']}.hyper.lr": r["lr"] for r in runs}
    if lab == "train":
        train = catalog["labs"]["train"]["optimizer"]
        return {f"optimizers.{train['optimizer']}.hyper.lr": train["lr"]}
    return {}


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def check_control(
    c: dict[str, Any], catalog: dict[str, Any], starts: dict[str, float]
) -> list[str]:
    """What is wrong with one control (an empty list: nothing)."""
    where = f"{c['key']} ({c['path']})"
    entry = entry_at(catalog, c["path"])
    spec = entry.get("control", entry)
    log = bool(spec.get("log"))
    default = starts.get(c["path"], entry.get("default"))
    if c["tag"] == "select":
        wrong = []
        if [float(v) for v in c["options"]] != [float(v) for v in spec["options"]]:
            wrong.append(f"{where}: options {c['options']} ≠ {spec['options']}")
        if not close(float(c["value"]), float(default)):
            wrong.append(f"{where}: value {c['value']} ≠ default {default}")
        return wrong
    pos = (lambda v: math.log10(v)) if log else (lambda v: float(v))
    wrong = []
    for name in ("min", "max"):
        if not close(float(c[name]), pos(spec[name])):
            wrong.append(f"{where}: {name} {c[name]} ≠ catalog {spec[name]}")
    step = spec.get("step")
    if log:
        # a log slider moves in hundredths of a decade, whatever the field
        if c["step"] != "0.01":
            wrong.append(f"{where}: a log slider's step is {c['step']}")
    elif step is None:
        if c["step"] != "any":
            wrong.append(f"{where}: step {c['step']} where the catalog has none")
    elif not close(float(c["step"]), float(step)):
        wrong.append(f"{where}: step {c['step']} ≠ catalog {step}")
    if default is None:
        if c["value"] != "":
            wrong.append(f"{where}: value {c['value']!r} where the default is none")
        return wrong
    expected = pos(min(max(default, spec["min"]), spec["max"]))
    # a range input snaps its value to its step grid (from min): within half a step
    slack = 0.0
    if c["type"] == "range" and c["step"] != "any":
        slack = float(c["step"]) / 2 + 1e-9
    if abs(float(c["value"]) - expected) > slack + 1e-9 * max(1.0, abs(expected)):
        wrong.append(f"{where}: value {c['value']} ≠ default {default}")
    return wrong


def controls(watched: Watched) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = watched.page.evaluate(LAB_CONTROLS)
    return found


@pytest.fixture(scope="module")
def catalog(server: Any) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/api/catalog", timeout=30) as r:
        out: dict[str, Any] = json.load(r)
    return out


@pytest.mark.parametrize(
    ("lab", "fewest"),
    [("layers", 10), ("descend", 10), ("train", 13), ("gallery", 3)],
)
def test_every_control_is_the_catalogs(
    watched: Watched, catalog: dict[str, Any], lab: str, fewest: int
) -> None:
    page = watched.open(f"?lab={lab}")
    page.wait_for_function("() => document.querySelector('#lab input')")
    found = controls(watched)
    untied = [c["key"] for c in found if c["path"] is None and c["key"] not in VIEW_ONLY]
    assert untied == [], f"controls with numbers of their own: {untied}"
    tied = [c for c in found if c["path"] is not None]
    assert len(tied) >= fewest
    starts = starting_values(catalog, lab)
    wrong = [w for c in tied for w in check_control(c, catalog, starts)]
    assert wrong == []
    watched.check_clean()


def test_a_registry_parameter_slider_follows_its_activation(
    watched: Watched, catalog: dict[str, Any]
) -> None:
    """Switching the layers lab to an activation with parameters builds its sliders from
    the registry (an integer one among them)."""
    page = watched.open("?lab=layers")
    page.wait_for_function("() => document.querySelector('#lab input')")
    starts = starting_values(catalog, "layers")
    for name in ("maxout", "elu", "leaky_relu"):
        page.select_option("#lab .field:has(span[data-i18n='f.activation']) select", name)
        want = {
            f"activations.{name}.params.{p['name']}"
            for p in entry_at(catalog, f"activations.{name}")["params"]
        }
        page.wait_for_function(
            "(n) => document.querySelector(`#lab input[data-catalog^='activations.${n}.']`)",
            arg=name,
        )
        found = [c for c in controls(watched) if (c["path"] or "").startswith("activations.")]
        assert {c["path"] for c in found} == want
        assert [w for c in found for w in check_control(c, catalog, starts)] == []
    watched.check_clean()
