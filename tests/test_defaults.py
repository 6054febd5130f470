"""Each default and range is defined once, in the engine: the protocol's fields, the
catalog and the engine's own config dataclasses agree with the knobs they come from."""

from __future__ import annotations

import dataclasses
from types import UnionType
from typing import get_args, get_origin

import annotated_types
import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from deepscope import catalog, claims, protocol
from deepscope.engine import landscape, layers_lab, optimizers, race, surfaces, training
from deepscope.engine.knobs import SEED, Knob, knob, knobs
from deepscope.sessions import labs

# (model, field) → the knob it is built from.
KNOBBED: dict[tuple[type[BaseModel], str], Knob] = {
    **{(protocol.LayersRequest, n): k for n, k in knobs(layers_lab.LayersConfig).items()},
    (protocol.LayersRequest, "depth"): layers_lab.DEPTH,
    (protocol.LayersRequest, "width"): layers_lab.WIDTH,
    (protocol.NormalInput, "mean"): knobs(layers_lab.InputDistribution)["mean"],
    (protocol.NormalInput, "std"): knobs(layers_lab.InputDistribution)["std"],
    (protocol.UniformInput, "low"): knobs(layers_lab.InputDistribution)["low"],
    (protocol.UniformInput, "high"): knobs(layers_lab.InputDistribution)["high"],
    **{(protocol.TrainRequest, n): k for n, k in knobs(training.TrainConfig).items()},
    **{(protocol.ScheduleSpec, n): k for n, k in knobs(optimizers.Schedule).items()},
    **{(protocol.OptimizerChoice, n): k for n, k in knobs(race.RunConfig).items()},
    (protocol.DescendRequest, "steps"): race.STEPS,
    (protocol.DescendRequest, "every"): race.EVERY,
    (protocol.DescendRequest, "seed"): SEED,
    (protocol.SurfaceRequest, "resolution"): surfaces.RESOLUTION,
    (protocol.StreamOptions, "fps"): protocol.FPS,
    (protocol.StreamOptions, "steps_per_frame"): protocol.STEPS_PER_FRAME,
    (protocol.StreamOptions, "boundary"): protocol.BOUNDARY,
    (protocol.StreamOptions, "histogram_bins"): protocol.HISTOGRAM_BINS,
    (protocol.StreamOptions, "view_fps"): protocol.VIEW_FPS,
    **{
        (model, name): k
        for model in (protocol.LandscapeRequest, protocol.LandscapeRaceRequest)
        for name, k in (("resolution", landscape.RESOLUTION), ("span", landscape.SPAN))
    },
    (protocol.LandscapeStream, "resolution"): landscape.RESOLUTION,
    (protocol.LandscapeStream, "span"): landscape.SPAN,
    (protocol.LandscapeStream, "every"): landscape.EVERY,
}
# Numeric request fields that are not a knob, and why.
NOT_KNOBS = {
    # a hyper-parameter's range is the optimizer registry's (test below); its default
    # is each optimizer's own
    **{(protocol.OptimizerChoice, n): "registry" for n in optimizers.hyper_ranges()},
    (protocol.TrainRequest, "record_every"): "None: the server picks ≤ 500 rows",
    (protocol.StepMessage, "n"): "a message's size, not a configuration",
}
REQUESTS = (
    protocol.LayersRequest,
    protocol.NormalInput,
    protocol.UniformInput,
    protocol.TrainRequest,
    protocol.ScheduleSpec,
    protocol.OptimizerChoice,
    protocol.RunRequest,
    protocol.DescendRequest,
    protocol.SurfaceRequest,
    protocol.StreamOptions,
    protocol.StepMessage,
    protocol.LandscapeRequest,
    protocol.LandscapeRaceRequest,
    protocol.LandscapeRun,
    protocol.LandscapeStream,
)
# A request built on another checks only its own fields (the base's are checked as its).
BASES: dict[type[BaseModel], type[BaseModel]] = {
    protocol.RunRequest: protocol.OptimizerChoice,
    protocol.LandscapeRun: protocol.OptimizerChoice,
    protocol.LandscapeRequest: protocol.TrainRequest,
    protocol.LandscapeRaceRequest: protocol.TrainRequest,
}


def bounds(info: FieldInfo) -> dict[str, float]:
    out: dict[str, float] = {}
    for meta in info.metadata:
        for name in ("ge", "gt", "le", "lt"):
            if isinstance(meta, getattr(annotated_types, name.capitalize())):
                out[name] = getattr(meta, name)
    return out


def numeric(info: FieldInfo) -> bool:
    """A number, or an optional one (not a list or a map of them: registry parameters)."""
    a = info.annotation
    return a in (int, float) or (
        get_origin(a) is UnionType and bool({int, float} & set(get_args(a)))
    )


def fields_of(model: type[BaseModel]) -> dict[str, FieldInfo]:
    # RunRequest inherits OptimizerChoice's fields: check them once, as OptimizerChoice's
    base = BASES.get(model)
    return {
        n: f for n, f in model.model_fields.items() if base is None or n not in base.model_fields
    }


@pytest.mark.parametrize(("model", "name"), sorted(KNOBBED, key=lambda k: (k[0].__name__, k[1])))
def test_a_protocol_field_has_its_knobs_default_and_range(
    model: type[BaseModel], name: str
) -> None:
    k = KNOBBED[(model, name)]
    info = model.model_fields[name]
    default = list(k.default) if isinstance(k.default, tuple) else k.default
    assert info.default == default
    if isinstance(k.default, tuple):  # a list: its items have the range
        item = get_args(info.annotation)[0]
        assert bounds(FieldInfo.from_annotation(item)) == {"ge": k.ge, "le": k.le}
        assert any(getattr(m, "max_length", None) == k.max_items for m in info.metadata)
    else:
        want = {n: getattr(k, n) for n in ("ge", "gt", "le", "lt") if getattr(k, n) is not None}
        assert bounds(info) == want
    assert info.json_schema_extra == {"control": k.control_dict()}


def test_every_numeric_request_field_is_a_knob_or_says_why_not() -> None:
    loose = [
        f"{model.__name__}.{name}"
        for model in REQUESTS
        for name, info in fields_of(model).items()
        if numeric(info) and (model, name) not in KNOBBED and (model, name) not in NOT_KNOBS
    ]
    assert loose == []


def test_hyper_parameter_bounds_are_the_registrys() -> None:
    ranges = optimizers.hyper_ranges()
    for name, (low, high) in ranges.items():
        info = protocol.OptimizerChoice.model_fields[name]
        assert info.default is None
        assert bounds(info) == {"ge": low, "le": high}
    # each optimizer's own default lies in the one range
    for spec in optimizers.OPTIMIZERS.values():
        for h in spec.hyper:
            if not h.is_bool:
                assert ranges[h.name][0] <= h.default <= ranges[h.name][1]
    # the disagreements: the lr floor is 1e-6 and momentum stops at 0.9999
    assert ranges["lr"][0] == 1e-6 and ranges["momentum"][1] == 0.9999
    with pytest.raises(ValueError, match="momentum"):
        protocol.OptimizerChoice(optimizer="momentum", momentum=0.99995)


def test_a_default_request_is_the_engines_default_config() -> None:
    """Every default (ranged or not: names, switches) comes from the engine's dataclass."""
    train = labs.train_config(protocol.TrainRequest())
    assert dataclasses.replace(train, optimizer=dataclasses.replace(train.optimizer, label="")) == (
        training.TrainConfig()
    )
    assert labs.layers_config(protocol.LayersRequest()) == layers_lab.LayersConfig()
    schedule = protocol.ScheduleSpec()
    assert (
        optimizers.Schedule(schedule.name, schedule.step_size, schedule.gamma, schedule.period)
        == optimizers.Schedule()
    )
    run = labs.run_config(protocol.OptimizerChoice(optimizer="gd"))
    assert (run.noise, run.clip_norm, run.clip_value) == (
        race.RunConfig("gd").noise,
        race.RunConfig("gd").clip_norm,
        race.RunConfig("gd").clip_value,
    )
    assert protocol.DescendRequest(runs=[{"optimizer": "gd"}]).steps == race.STEPS.default


def test_the_catalog_sends_each_fields_control_and_the_labs_starting_points() -> None:
    cat = catalog.build_catalog()
    fields = cat["labs"]["train"]["fields"]
    for name, k in knobs(training.TrainConfig).items():
        assert fields[name]["control"] == k.control_dict()
        default = list(k.default) if isinstance(k.default, tuple) else k.default
        assert fields[name]["default"] == default
    assert cat["labs"]["train"]["optimizer"] == {
        "optimizer": training.OPTIMIZER,
        "lr": training.OPTIMIZER_LR,
    }
    assert cat["labs"]["descend"]["runs"] == [
        {"optimizer": r.optimizer, **r.hyper} for r in race.LECTURE_RACE
    ]
    for lab, opts in cat["labs"].items():
        if "options" not in opts:
            continue
        assert list(opts["options"]) == list(protocol.LAB_STREAM_FIELDS[lab])
        for name, value in protocol.LAB_STREAM_DEFAULTS[lab].items():
            assert opts["options"][name]["default"] == value
    assert cat["limits"]["max_newton_params"] == training.MAX_NEWTON_PARAMS
    assert cat["close_codes"]["try_later"] == protocol.CLOSE_TRY_LATER
    assert cat["labs"]["train"]["loss_floor"] == training.LOSS_FLOOR
    # the training lab's race card: registry optimizers, as many as a race request takes
    race_card = cat["labs"]["train"]["race"]
    assert [r["optimizer"] for r in race_card["runs"]] == list(protocol.LANDSCAPE_RACE_RUNS)
    assert set(protocol.LANDSCAPE_RACE_RUNS) <= set(optimizers.OPTIMIZERS)
    assert race_card["max_runs"] == protocol.MAX_LANDSCAPE_RUNS >= len(race_card["runs"])
    protocol.LandscapeRaceRequest(runs=race_card["runs"])  # a valid race as it stands


def test_the_histogram_quantities_are_listed_once() -> None:
    assert protocol.QUANTITY_NAMES is layers_lab.QUANTITIES
    assert claims.HISTOGRAMMED is layers_lab.QUANTITIES
    assert tuple(get_args(protocol.Quantity)) == layers_lab.QUANTITIES
    fields = catalog.build_catalog()["labs"]["layers"]["fields"]
    assert tuple(fields["histograms"]["choices"]) == layers_lab.QUANTITIES


def test_the_newton_limit_is_the_engines() -> None:
    assert protocol.MAX_NEWTON_PARAMS is training.MAX_NEWTON_PARAMS


def test_a_knob_refuses_a_default_outside_its_range_and_a_span_without_reason() -> None:
    with pytest.raises(ValueError, match="outside"):
        Knob(2.0, "too big", ge=0, le=1)
    with pytest.raises(ValueError, match="span_why"):
        Knob(0.5, "a span", ge=0, le=1, span=(0, 0.5))
    with pytest.raises(ValueError, match="log slider"):
        Knob(1.0, "log from zero", ge=0, le=10, log=True)
    # an exclusive lower bound starts a slider one step above it
    assert Knob(1.0, "keep", gt=0, le=1, step=0.05).control.min == 0.05

    @dataclasses.dataclass(frozen=True)
    class Config:
        x: float = knob(0.5, "half", ge=0, le=1)

    assert Config().x == 0.5 and knobs(Config)["x"].le == 1


def test_knob_bounds_are_what_the_protocol_enforces() -> None:
    """A value past a knob's accepted range is refused, naming the field."""
    over = {"l1": 1.5, "n_samples": 2001, "batch_size": 2001, "steps": 100_001}
    for name, value in over.items():
        with pytest.raises(ValueError, match=name):
            protocol.TrainRequest.model_validate({name: value})
    with pytest.raises(ValueError, match="scale"):
        protocol.LayersRequest.model_validate({"scale": 1e3})
