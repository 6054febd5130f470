"""The frames the engine produces have their lab's shape: every runner's output, as the
page receives it (encoded and decoded), validated through the protocol's TypedDicts —
the very types the runners are checked against, so the wire and its description cannot
drift apart."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import TypeAdapter

from deepscope import protocol
from deepscope.engine import layers_lab
from deepscope.sessions import labs, runners
from deepscope.sessions.encode import dumps_bytes

CONFIGURE: TypeAdapter[Any] = TypeAdapter(protocol.Configure)
FRAME_DATA: TypeAdapter[Any] = TypeAdapter(protocol.FrameData)
RACE = {"runs": [{"optimizer": "adam"}, {"optimizer": "gd", "lr": 0.5}], "steps": 40}
STREAMS = {
    "race": (protocol.DescendFrameData, {"lab": "descend", "config": RACE}),
    "typed surface": (
        protocol.DescendFrameData,
        {
            "lab": "descend",
            "config": {"surface": {"expr": "x**2 + 10*y**2"}, "runs": [{"optimizer": "gd"}]},
        },
    ),
    "sweep": (
        protocol.SweepFrameData,
        {"lab": "descend", "config": RACE, "sweep": {"lr_count": 4}},
    ),
    "training, landscape": (
        protocol.TrainFrameData,
        {
            "lab": "train",
            "config": {"steps": 60, "n_samples": 60, "hidden": [4, 3]},
            "options": {
                "boundary": 8,
                "histogram_bins": 6,
                "view_fps": 10,
                "landscape": {"resolution": 5, "every": 20},
            },
        },
    ),
    "training, a blow-up": (
        protocol.TrainFrameData,
        {"lab": "train", "config": {"optimizer": {"optimizer": "gd", "lr": 10}, "steps": 60}},
    ),
}


def _wire(data: protocol.FrameData) -> Any:
    return orjson.loads(dumps_bytes(data))


def _frames(message: dict[str, Any]) -> list[Any]:
    runner = runners.make_runner(CONFIGURE.validate_python({"type": "configure", **message}))
    out = runner.start()
    frames = [_wire(out.data)]
    while out.ended is None:
        out = runner.advance(10, views=len(frames) == 3)
        frames.append(_wire(out.data))
    return frames


@pytest.mark.parametrize("name", list(STREAMS))
def test_every_frame_of_a_stream_has_its_labs_shape(name: str) -> None:
    shape, message = STREAMS[name]
    own = TypeAdapter(shape)
    frames = _frames(message)
    assert len(frames) >= 3
    for data in frames:
        assert own.validate_python(data, strict=True) == data  # every key known and typed
        assert FRAME_DATA.validate_python(data) == data
    keys = set().union(*frames)
    assert "surface" in frames[0] if shape is not protocol.TrainFrameData else "data" in frames[0]
    if name == "training, landscape":
        assert {"landscape", "boundary", "histograms", "weights"} <= keys
    if name == "training, a blow-up":
        assert "warning" in keys


@pytest.mark.parametrize("batch", [50, 800])
def test_a_layers_frame_has_its_shape_coarse_and_complete(batch: int) -> None:
    req = protocol.LayersRequest.model_validate({"depth": 3, "width": 20, "batch": batch})
    config = labs.layers_config(req)
    samples = layers_lab.coarse_rows(batch)
    results = [layers_lab.run(config, samples)] if samples else []
    results.append(layers_lab.run(config))
    own = TypeAdapter(protocol.LayersFrameData)
    for result in results:
        data = _wire(runners.LayersRunner.data(result))
        assert own.validate_python(data, strict=True) == data
    assert [r.coarse for r in results] == ([True, False] if batch == 800 else [False])


def test_a_frame_of_one_lab_is_not_read_as_another() -> None:
    (race, *_) = _frames({"lab": "descend", "config": RACE})
    with pytest.raises(ValueError):
        TypeAdapter(protocol.TrainFrameData).validate_python(race)
    with pytest.raises(ValueError):
        TypeAdapter(protocol.DescendFrameData).validate_python({**race, "sweep": True})
