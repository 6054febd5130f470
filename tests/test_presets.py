"""Every lecture preset is a valid configuration of its lab, in both languages."""

from __future__ import annotations

import pytest

from server import protocol
from server.presets import PRESETS
from server.sessions import labs

MODELS = {
    "layers": protocol.LayersRequest,
    "descend": protocol.DescendRequest,
    "train": protocol.TrainRequest,
}


@pytest.mark.parametrize("preset", PRESETS, ids=[p["id"] for p in PRESETS])
def test_preset_is_valid_and_translated(preset: dict) -> None:  # type: ignore[type-arg]
    model = MODELS[preset["lab"]]
    config = model.model_validate(preset["config"])
    for key in ("title", "notice"):
        assert preset[key]["en"] and preset[key]["zh"]
    if "options" in preset:
        protocol.StreamOptions.model_validate(preset["options"])
    if "compare" in preset:  # side B of compare mode: a full configuration of the same lab
        model.model_validate(preset["compare"])
    if "labels" in preset:
        assert len(preset["labels"]["en"]) == len(preset["labels"]["zh"]) == 2
    if preset["lab"] == "descend":
        assert isinstance(config, protocol.DescendRequest)
        surface = labs.build_surface(config.surface, config.surface_params)
        labs.check_starts(config, surface)


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
