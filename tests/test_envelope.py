"""The two messages made by functions rather than by a model's own encoding."""

from __future__ import annotations

import json

from deepscope import protocol


def test_a_frame_message_is_its_model_with_the_data_spliced_in() -> None:
    data = {"detail": "coarse", "layers": [{"index": 1, "std": 0.25}]}
    text = protocol.frame_message("layers", 7, 3, 0, 12.5, json.dumps(data))
    frame = protocol.Frame.model_validate_json(text)
    assert frame == protocol.Frame(
        lab="layers", seq=7, config_seq=3, step=0, compute_ms=12.5, data=data
    )
    assert text.startswith('{"type":"frame","lab":"layers","seq":7,"config_seq":3')


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
