"""Every lecture preset is a valid configuration of its lab, says the same in both
languages (its texts live in the catalogs, static/i18n/<lang>.json), and shows what it
says: its claims hold on its own configuration."""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
import pytest

from deepscope import claims, i18n, protocol
from deepscope.presets import PRESETS
from deepscope.sessions import labs

MODELS = {
    "layers": protocol.LayersRequest,
    "descend": protocol.DescendRequest,
    "train": protocol.TrainRequest,
}
IDS = [p["id"] for p in PRESETS]
BY_ID = {p["id"]: p for p in PRESETS}
LAYERS = [p for p in PRESETS if p["lab"] == "layers"]


def texts(preset: dict[str, Any], lang: str) -> dict[str, str]:
    """A preset's title, notice and (compare mode) labels in ``lang``, from its catalog."""
    prefix = f"preset.{preset['id']}."
    return {k[len(prefix) :]: v for k, v in i18n.catalog(lang).items() if k.startswith(prefix)}


@pytest.mark.parametrize("preset", PRESETS, ids=IDS)
def test_preset_is_valid_and_translated(preset: dict[str, Any]) -> None:
    model = MODELS[preset["lab"]]
    config = model.model_validate(preset["config"])
    labels = ["labels.0", "labels.1"] if "compare" in preset else []
    for lang in i18n.LANGS:
        said = texts(preset, lang)
        assert sorted(said) == sorted(["title", "notice", *labels]), f"{preset['id']} in {lang}"
        assert all(said.values())
    if "options" in preset:
        protocol.StreamOptions.model_validate(preset["options"])
    if "compare" in preset:
        model.model_validate(preset["compare"])
    if preset["lab"] == "descend":
        assert isinstance(config, protocol.DescendRequest)
        surface = labs.build_surface(config.surface, config.surface_params)
        labs.check_starts(config, surface)
        view = preset.get("view", {})
        if view.get("mode") == "sweep":  # the optimizer lab's sweep mode: a configure's sweep
            message = {"type": "configure", "lab": "descend", "config": preset["config"]}
            protocol.ConfigureDescend.model_validate({**message, "sweep": view["sweep"]})


NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+")


@pytest.mark.parametrize("preset", PRESETS, ids=IDS)
def test_both_languages_quote_the_same_numbers(preset: dict[str, Any]) -> None:
    """A translation that drifts (an edited number in one language only) fails here."""
    en, zh = texts(preset, "en"), texts(preset, "zh")
    assert en.keys() == zh.keys()
    for key in en:
        said = {lang: sorted(NUMBER.findall(t[key])) for lang, t in (("en", en), ("zh", zh))}
        assert said["en"] == said["zh"], f"{preset['id']} {key}: {said}"


@pytest.mark.parametrize("preset", PRESETS, ids=IDS)
def test_every_claim_of_a_preset_holds_on_its_own_configuration(preset: dict[str, Any]) -> None:
    assert preset["claims"], "a preset's text makes claims: list them as checks"
    failed = [
        f"{claim['check']}: {verdict.observed}"
        for claim, verdict in claims.check_preset(preset)
        if not verdict.ok
    ]
    assert failed == [], f"{preset['id']} says what its picture does not show: {failed}"


@pytest.mark.parametrize("preset", LAYERS, ids=[p["id"] for p in LAYERS])
def test_a_layers_preset_opens_the_view_its_claims_are_about(preset: dict[str, Any]) -> None:
    quantity = preset["view"]["quantity"]
    assert quantity in claims.HISTOGRAMMED
    about = {c["what"].split(".")[0] for c in preset["claims"] if "what" in c}
    assert quantity in about, f"{preset['id']} opens on {quantity} but claims {about}"


@pytest.mark.parametrize("k", range(len(LAYERS)), ids=[p["id"] for p in LAYERS])
def test_layers_claims_fail_on_another_preset_configuration(k: int) -> None:
    """The checks can fail: a preset's claims do not all hold for the next preset's net."""
    preset, other = LAYERS[k], LAYERS[(k + 1) % len(LAYERS)]
    moved = {**preset, "config": other["config"]}
    assert not all(v.ok for _, v in claims.check_preset(moved))


DESCEND = [p for p in PRESETS if p["lab"] == "descend"]


@pytest.mark.parametrize("preset", DESCEND, ids=[p["id"] for p in DESCEND])
def test_descend_claims_fail_when_the_learning_rates_change(preset: dict[str, Any]) -> None:
    """(A sweep's learning rates are its range: each run's own lr is replaced.)"""
    moved = copy.deepcopy(preset)
    sweep = moved.get("view", {}).get("sweep") if moved.get("view", {}).get("mode") else None
    if sweep is not None:
        sweep["lr_min"] *= 0.6
        sweep["lr_max"] *= 0.6
    for run in moved["config"]["runs"]:
        if run["optimizer"] != "newton":
            run["lr"] = run.get("lr", 1.0) * 0.6
    assert not all(v.ok for _, v in claims.check_preset(moved))


def test_the_old_lecture_configurations_fail_the_claims_they_were_given() -> None:
    """What the first version shipped: the texts were not true of these pictures."""
    adaptive = copy.deepcopy(BY_ID["adaptive"])  # on the plateau AdaGrad won
    adaptive["config"] = {**adaptive["config"], "surface": "plateau", "start": None}
    adaptive["config"]["runs"][1]["lr"] = 0.01
    assert not all(v.ok for _, v in claims.check_preset(adaptive))
    linear = copy.deepcopy(BY_ID["deep-linear"])  # on the circle: P ≈ 0.5 everywhere, no line
    linear["config"]["dataset"] = "circle"
    linear["claims"] = [{"check": "straight_boundary"}]
    assert not claims.check_preset(linear)[0][1].ok


def test_the_spec_presets_are_all_there() -> None:
    ids = {p["id"] for p in PRESETS}
    assert len(ids) == len(PRESETS)
    for needed in (
        "tanh-small",
        "tanh-big",
        "tanh-xavier",
        "relu-xavier",
        "relu-he",
        "sigmoid-small",
        "sigmoid-big",
        "sigmoid-lecun",
        "bn-small",
        "bn-big",
        "zero-init",
        "dead-relu",
        "deep-linear",
        "gd-quadratic",
        "gd-quartic",
        "gd-shifted",
        "gd-ill",
        "saddle",
        "race-rosenbrock",
        "race-beale",
        "newton",
        "adaptive",
    ):
        assert needed in ids


def test_claims_name_only_known_checks_and_runs() -> None:
    for preset in PRESETS:
        labels = set()
        if preset["lab"] == "descend":
            labels = {r.get("label") or r["optimizer"] for r in preset["config"]["runs"]}
        for claim in preset["claims"]:
            assert claim["check"] in claims.CHECKS, claim
            if "run" in claim:
                assert claim["run"] in labels, (preset["id"], claim)


def _coarse_and_complete(preset: dict[str, Any]) -> tuple[Any, Any]:
    from deepscope.engine import layers_lab

    config = labs.layers_config(protocol.LayersRequest.model_validate(preset["config"]))
    rows = layers_lab.coarse_rows(config.batch)
    return layers_lab.run(config, rows), layers_lab.run(config)


@pytest.mark.parametrize("preset", LAYERS, ids=[p["id"] for p in LAYERS])
def test_a_layers_preset_s_coarse_frame_agrees_with_its_complete_frame(
    preset: dict[str, Any],
) -> None:
    """The preview a student sees while dragging is an honest estimate.

    Measures: per-layer std of z, h and f′(z) within 5 % (125 of 1000 rows: the
    standard error of a std from 125 × 500 values is far below that, the rest is the
    rows' own variation), of ∂L/∂h within 10 % (at a large init its per-sample spread
    is heavy-tailed: 7.5 % off in tanh N(0, 1)'s layer 1); histogram shapes within a
    total-variation distance of 0.05 (half the summed |difference| of the bins'
    shares, outside counts included); ‖∂L/∂W‖, a sum over samples whose coherent
    part is estimated from 125 rows, within 40 % — on the log₁₀ axes it is drawn on,
    0.15 of 18 decades.
    """
    coarse, complete = _coarse_and_complete(preset)
    assert coarse.samples == 125 and complete.samples == 1000
    for c, f in zip(coarse.layers, complete.layers, strict=True):
        for q in ("preactivation", "activation", "derivative", "gradient"):
            hc, hf = c.hist[q], f.hist[q]
            assert hc.std is not None and hf.std is not None
            if hf.std > 1e-3 * abs(hf.mean or 0.0):  # (not float32's rounding noise)
                rel = 0.10 if q == "gradient" else 0.05
                assert hc.std == pytest.approx(hf.std, rel=rel), (q, f.index)
            if hc.counts is not None and hf.counts is not None:
                share_c = np.append(hc.counts, [hc.below, hc.above]) / (c.width * 125)
                share_f = np.append(hf.counts, [hf.below, hf.above]) / (f.width * 1000)
                assert 0.5 * np.abs(share_c - share_f).sum() <= 0.05, (q, f.index)
        assert c.grad_norm == pytest.approx(f.grad_norm, rel=0.4), f.index
        assert c.saturated_fraction == pytest.approx(f.saturated_fraction, abs=0.01)
        assert c.dead_units is None and f.dead_units is not None


def test_a_coarse_frame_of_the_wrong_rows_would_be_caught() -> None:
    """The agreement above is not automatic: another batch's rows (another seed) move
    the statistics of a preset beyond those bounds somewhere."""
    from deepscope.engine import layers_lab

    preset = BY_ID["relu-he"]
    req = protocol.LayersRequest.model_validate({**preset["config"], "seed": 1})
    other = layers_lab.run(labs.layers_config(req), 125)
    _, complete = _coarse_and_complete(preset)
    stds = [
        abs(o.hist["activation"].std / f.hist["activation"].std - 1)
        for o, f in zip(other.layers, complete.layers, strict=True)
    ]
    assert max(stds) > 0.05
