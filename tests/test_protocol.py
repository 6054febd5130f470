"""The wire names are the registry keys: the Literals in deepscope/protocol/common.py equal them."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from deepscope import catalog, protocol
from deepscope.engine import activations, datasets, initializers, optimizers, surfaces

# Each wire name list, with a request field that takes it and a valid body around it.
NAME_FIELDS: list[tuple[dict[str, Any], Any, str, Any]] = [
    (activations.ACTIVATIONS, protocol.LayersRequest, "activation", {}),
    (activations.ACTIVATIONS, protocol.TrainRequest, "activation", {}),
    (initializers.INITIALIZERS, protocol.LayersRequest, "init", {}),
    (datasets.DATASETS, protocol.TrainRequest, "dataset", {}),
    (optimizers.OPTIMIZERS, protocol.OptimizerChoice, "optimizer", {}),
    (optimizers.SCHEDULES, protocol.OptimizerChoice, "schedule", {"optimizer": "gd"}),
    (surfaces.SURFACE_SPECS, protocol.SurfaceRequest, "surface", {}),
]


@pytest.mark.parametrize(("registry", "model", "field", "body"), NAME_FIELDS)
def test_the_wire_names_are_the_registry_keys(
    registry: dict[str, Any], model: Any, field: str, body: dict[str, Any]
) -> None:
    """Validation reads the registry: every key is a wire name (in its order), and a
    name that is not a key is refused, naming the field and listing the keys."""
    choices = catalog.field_ranges(model)[field]["choices"]
    assert choices == list(registry)
    for name in registry:
        if (field, name) == ("dataset", "uploaded"):
            continue  # (an upload is named by its id too: tests/api/test_owndata.py)
        assert getattr(model.model_validate({**body, field: name}), field) == name
    with pytest.raises(ValidationError) as err:
        model.model_validate({**body, field: "not_a_registry_key"})
    first = err.value.errors()[0]
    assert first["loc"][0] == field
    assert all(repr(n) in first["msg"] for n in registry), first["msg"]


def test_every_optimizer_hyper_parameter_has_a_wire_field() -> None:
    fields = set(protocol.OptimizerChoice.model_fields)
    for spec in optimizers.OPTIMIZERS.values():
        for h in spec.hyper:
            assert h.name in fields, (spec.name, h.name)


def test_quantity_names_equal_the_layers_lab() -> None:
    from deepscope.engine import layers_lab

    assert tuple(get_args(protocol.Quantity)) == layers_lab.QUANTITIES == protocol.QUANTITY_NAMES


CLIENT_EXAMPLES = [
    {"type": "configure", "lab": "layers", "config": {"depth": 3, "scale": 0.5}},
    {
        "type": "configure",
        "lab": "layers",
        "config": {"activation": "relu", "init": "he_normal"},
        "options": {"drag": True},
    },
    {
        "type": "configure",
        "lab": "descend",
        "config": {"surface": "rosenbrock", "runs": [{"optimizer": "adam", "lr": 0.05}]},
        "options": {"fps": 20, "steps_per_frame": 3},
    },
    {"type": "configure", "lab": "train", "config": {"dataset": "xor", "hidden": [4]}},
    {"type": "play"},
    {"type": "pause"},
    {"type": "step", "n": 7},
    {"type": "reset"},
    {"type": "dataset", "csv": "x,y,label\n0,0,0\n1,1,1\n"},
    {"type": "dataset", "points": [[0, 0, "a"], [1, 1, "b"]]},
    {"type": "class_create"},
    {"type": "class_join", "code": "AC3 4DE"},
    {"type": "class_resume", "code": "AC34DE", "teacher_key": "k" * 32},
    {"type": "class_follow"},
    {"type": "class_explore"},
    {"type": "class_handin", "name": "Ada", "note": "", "state": {"lab": "layers"}},
    {"type": "class_show", "handin": 3},
    {"type": "class_task", "lesson": "relu", "step": 1, "done": True},
    {"type": "class_view", "state": {"v": 1, "lab": "descend", "play": True}},
]

SERVER_EXAMPLES = [
    protocol.Hello(
        version="1",
        session="s1",
        worker=42,
        limits=protocol.Limits(
            max_message_bytes=65536,
            rate_limit_per_s=30,
            rate_limit_burst=60,
            max_fps=60,
            max_sessions=200,
        ),
    ),
    protocol.Frame(
        lab="descend",
        seq=3,
        config_seq=2,
        step=0,
        compute_ms=4.5,
        data={"first_row": 0, "runs": []},
    ),
    protocol.Status(lab="descend", state="diverged", reason="loss overflowed", step=12),
    protocol.ErrorMessage(code="invalid", message="config.depth: too large"),
    protocol.DatasetInfo(
        id="0123456789abcdef",
        rows=4,
        labels=["cat", "dog"],
        bounds=[[0.0, 1.0], [-2.0, 2.0]],
        columns=["x", "y", "label"],
        counts=[2, 2],
    ),
    protocol.ClassCreated(
        code="AC34DE", teacher_key="k" * 32, join_urls=["http://h/?class=AC34DE"], qr_svg="<svg/>"
    ),
    protocol.ClassJoined(code="AC34DE", mode="follow"),
    protocol.ClassState(code="AC34DE", followers=29, explorers=1, teacher_present=True),
    protocol.ClassState(
        code="AC34DE",
        followers=2,
        explorers=3,
        teacher_present=True,
        completed=protocol.TaskCount(lesson="relu", step=0, done=2, all=5),
    ),
    protocol.ClassHandins(
        code="AC34DE",
        handins=[
            protocol.Handin(id=1, name="", note="hi", lab="train", at=1.5, state={"lab": "train"})
        ],
    ),
    protocol.ClassViewOut(code="AC34DE", state={"lab": "layers"}, handin=None),
    protocol.ClassSideMessage(side="b", message={"type": "status", "state": "paused"}),
    protocol.ClassEnded(code="AC34DE", reason="the teacher left", why="teacher_left"),
]


def _members(union: Any) -> set[type]:
    """The model classes of a (nested, Annotated) discriminated union."""
    if isinstance(union, type):
        return {union}
    out: set[type] = set()
    for arg in get_args(union):
        if not isinstance(arg, FieldInfo):
            out |= _members(arg)
    return out


def test_every_client_message_type_round_trips() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(protocol.ClientMessage)
    kinds = set()
    for example in CLIENT_EXAMPLES:
        message = adapter.validate_python(example)
        kinds.add(type(message).__name__)
        again = adapter.validate_json(message.model_dump_json())
        assert again == message
    assert kinds == {m.__name__ for m in _members(protocol.ClientMessage)}


def test_every_server_message_type_round_trips() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(protocol.ServerMessage)
    for message in SERVER_EXAMPLES:
        again = adapter.validate_json(message.model_dump_json())
        assert type(again) is type(message) and again == message
    assert {type(m) for m in SERVER_EXAMPLES} == _members(protocol.ServerMessage)
