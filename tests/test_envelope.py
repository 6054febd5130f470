"""The two messages made by functions rather than by a model's own encoding."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from deepscope import protocol

RUN = {
    "label": "adam",
    "optimizer": "adam",
    "status": "running",
    "stopped_at": None,
    "points": [[-1.5, 2.0]],
    "loss": [12.5],
    "gradient": [[-3.0, 1.0]],
    "effective_lr": [[0.01, 0.01]],
    "distance": None,
}


def test_a_frame_message_is_its_model_with_the_data_spliced_in() -> None:
    data = {"first_row": 0, "runs": [RUN]}
    text = protocol.frame_message("descend", 7, 3, 0, 12.5, json.dumps(data))
    frame = protocol.Frame.model_validate_json(text)
    assert frame == protocol.Frame(
        lab="descend", seq=7, config_seq=3, step=0, compute_ms=12.5, data=data
    )
    assert text.startswith('{"type":"frame","lab":"descend","seq":7,"config_seq":3')
    assert json.loads(text)["data"] == data


def test_a_frame_whose_data_has_no_labs_shape_is_refused() -> None:
    good = {"first_row": 0, "runs": [RUN]}
    for bad in (
        {**good, "extra": 1},  # a field no shape has
        {"first_row": 0},  # one missing
        {**good, "runs": [{**RUN, "status": "lost"}]},  # a value out of its type
    ):
        text = protocol.frame_message("descend", 1, 1, 0, 1.0, json.dumps(bad))
        with pytest.raises(ValidationError):
            protocol.Frame.model_validate_json(text)


def test_an_error_message_names_its_first_problem_or_the_given_field() -> None:
    found = [protocol.Problem(field="config.depth", code="less_than_equal", message="≤ 50")]
    one = protocol.ErrorMessage.model_validate_json(
        protocol.error_message("invalid", "config.depth: ≤ 50", found)
    )
    assert one.field == "config.depth" and one.problems == found
    two = protocol.ErrorMessage.model_validate_json(
        protocol.error_message("no_class", "no class has the code 'X'", field="code")
    )
    assert (two.code, two.field, two.problems) == ("no_class", "code", [])
