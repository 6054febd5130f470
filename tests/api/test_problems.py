"""Errors carry a code, the field and the numbers, so the page can word them itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from deepscope import i18n
from deepscope.app import create_app
from deepscope.catalog import build_catalog
from deepscope.engine import surfaces
from deepscope.engine.expressions import compile_expression
from deepscope.protocol import MAX_LAYER_ELEMENTS, ErrorBody, ErrorMessage
from deepscope.settings import Settings

ORIGIN = {"origin": "http://testserver"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(Settings(allowed_hosts=["testserver"]))
    with TestClient(app) as c:
        yield c


def refused(client: TestClient, path: str, body: dict[str, Any]) -> ErrorBody:
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    return ErrorBody.model_validate(r.json())


def test_the_size_ceiling_says_its_numbers(client: TestClient) -> None:
    err = refused(client, "/api/layers", {"depth": 30, "width": 500, "batch": 1000})
    (p,) = err.problems
    assert p.code == "layer_elements"
    assert p.field == "batch"
    assert p.params == {
        "value": 15_000_000,
        "limit": MAX_LAYER_ELEMENTS,
        "depth": 30,
        "width": 500,
        "batch": 1000,
    }
    assert build_catalog()["limits"]["max_layer_elements"] == p.params["limit"]
    # the English line is unchanged and names the field
    assert err.error.startswith("batch: depth × width × batch = 15,000,000 exceeds the ceiling")


def test_a_range_error_has_pydantic_code_its_bound_and_the_value(client: TestClient) -> None:
    err = refused(client, "/api/layers", {"depth": 300, "activation": "nope"})
    depth, activation = err.problems
    assert (depth.field, depth.code, depth.params) == (
        "depth",
        "less_than_equal",
        {"le": 50, "value": 300},
    )
    assert activation.field == "activation" and activation.code == "literal_error"
    assert "value" not in activation.params  # a string the client sent is never echoed
    assert err.error.startswith("depth: Input should be less than or equal to 50; activation:")
    assert err.detail is not None and err.detail[0]["loc"] == ["body", "depth"]


def test_model_wide_checks_name_their_field(client: TestClient) -> None:
    err = refused(
        client, "/api/layers", {"input": {"distribution": "uniform", "low": 1, "high": 0}}
    )
    (p,) = err.problems
    assert (p.field, p.code, p.params) == (
        "input.low",
        "low_not_below_high",
        {"low": 1.0, "high": 0.0},
    )
    err = refused(
        client, "/api/layers", {"depth": 30, "width": 1000, "input_dim": 1000, "batch": 10}
    )
    assert err.problems[0].code == "layer_params"
    assert err.problems[0].params["limit"] == build_catalog()["limits"]["max_layer_params"]


def test_a_typed_surface_problem_is_coded(client: TestClient) -> None:
    err = refused(
        client, "/api/surface", {"surface": {"expr": "x**2", "domain": [[-5, 5], [-5, 5]]}}
    )
    (p,) = err.problems
    assert (p.field, p.code, p.params) == ("surface.domain", "domain_dims", {"dims": 1})
    assert "x only" in p.message
    err = refused(client, "/api/surface", {"surface": {"expr": "x.y"}})
    assert (err.problems[0].field, err.problems[0].code) == ("surface.expr", "expression")


def test_a_custom_expression_in_x_only_is_a_1d_surface(client: TestClient) -> None:
    r = client.post("/api/surface", json={"surface": {"expr": "x**4 - 3*x"}, "resolution": 16})
    assert r.status_code == 200
    info = r.json()["surface"]
    assert info["dims"] == 1 and info["domain"] == [[-5.0, 5.0]]
    assert r.json()["y"] is None and len(r.json()["dz"]) == 16
    r = client.post(
        "/api/descend",
        json={
            "surface": {"expr": "x**4 - 3*x", "domain": [[-2, 2]]},
            "steps": 50,
            "runs": [{"optimizer": "gd"}],
        },
    )
    assert r.status_code == 200
    assert len(r.json()["runs"][0]["points"][-1]) == 1


def test_websocket_errors_carry_problems_and_the_session_goes_on(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        json.loads(ws.receive_text())  # hello
        ws.send_text(
            json.dumps(
                {"type": "configure", "lab": "layers", "config": {"depth": 30, "width": 500}}
            )
        )
        err = ErrorMessage.model_validate(json.loads(ws.receive_text()))
        assert err.code == "invalid"
        assert err.field == "config.batch"
        assert err.problems[0].code == "layer_elements"
        assert err.problems[0].params["value"] == 15_000_000
        assert err.message.startswith("config.batch: depth × width × batch")
        bad_surface = {"surface": {"expr": "x.y"}, "runs": [{"optimizer": "gd"}]}
        ws.send_text(json.dumps({"type": "configure", "lab": "descend", "config": bad_surface}))
        err = ErrorMessage.model_validate(json.loads(ws.receive_text()))
        assert (err.field, err.problems[0].code) == ("config.surface.expr", "expression")
        ws.send_text("{not json")
        err = ErrorMessage.model_validate(json.loads(ws.receive_text()))
        assert err.code == "bad_json" and err.problems[0].code == "json_invalid"
        small = {"depth": 2, "width": 20, "batch": 20, "input_dim": 10}
        ws.send_text(json.dumps({"type": "configure", "lab": "layers", "config": small}))
        assert json.loads(ws.receive_text())["type"] == "frame"


def test_formulas_print_a_few_significant_digits() -> None:
    bowl = surfaces.build("bowl")
    assert bowl.formula == "0.5*((0.866*x + 0.5*y)**2 + 10*(-0.5*x + 0.866*y)**2)"
    assert not re.search(r"\d\.\d{5,}", surfaces.build("bowl", {"rotation": 45}).formula)
    # the rounded text still reads as (nearly) the same function
    shown = compile_expression(bowl.formula)
    x, y = np.array([-4.0, 1.0]), np.array([3.0, 2.0])
    exact = bowl.compiled.value(x, y)[0]
    np.testing.assert_allclose(shown.value(x, y)[0], exact, rtol=1e-3)


def test_no_catalog_text_leaks_markdown() -> None:
    texts = [text for lang in i18n.LANGS for text in i18n.catalog(lang).values()]
    assert len(texts) > 400
    assert not [t for t in texts if re.search(r"\*\w[^*]*\*", t)]
