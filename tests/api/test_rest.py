"""The REST API through FastAPI's TestClient: contracts, ranges and 422s."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deepscope.engine import activations, datasets, initializers, optimizers, surfaces

SMALL = {"depth": 3, "width": 20, "input_dim": 10, "batch": 30}


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_catalog_lists_every_registry_entry(client: TestClient) -> None:
    cat = client.get("/api/catalog").json()
    for key, registry in (
        ("activations", activations.ACTIVATIONS),
        ("inits", initializers.INITIALIZERS),
        ("optimizers", optimizers.OPTIMIZERS),
        ("surfaces", surfaces.SURFACE_SPECS),
        ("datasets", datasets.DATASETS),
    ):
        assert [entry["name"] for entry in cat[key]] == list(registry), key
    assert cat["schedules"]["names"] == list(optimizers.SCHEDULES)
    names = {a["name"] for a in cat["activations"]}
    assert {"tanh", "relu", "maxout", "gelu", "prelu"} <= names
    assert {"he_normal", "xavier_uniform", "orthogonal"} <= {i["name"] for i in cat["inits"]}
    fields = cat["labs"]["layers"]["fields"]
    assert fields["depth"] == {
        "default": 10,
        "min": 1,
        "max": 50,
        "control": {"min": 1, "max": 50, "step": 1, "log": False, "integer": True},
        "description": "number of layers",
    }
    assert fields["scale"]["min"] == 1e-4 and fields["scale"]["max"] == 100
    assert fields["activation"]["choices"][0] == "linear"
    assert cat["limits"]["max_layer_elements"] > 0
    leaky = next(a for a in cat["activations"] if a["name"] == "leaky_relu")
    assert leaky["params"][0]["default"] == 0.01


def test_layers_contract(client: TestClient) -> None:
    r = client.post("/api/layers", json=SMALL)
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"layers", "theory", "elapsed_ms"}
    assert len(body["layers"]) == 3
    layer = body["layers"][0]
    assert layer["index"] == 1
    for q in ("preactivation", "activation", "derivative", "gradient", "weight_gradient"):
        h = layer[q]
        assert set(h) >= {"mean", "std", "edges", "counts"}
        assert len(h["edges"]) == len(h["counts"]) + 1
    for key in ("saturated_fraction", "dead_units", "zero_fraction", "grad_norm"):
        assert key in layer
    assert len(body["theory"]) == 3


def test_layers_defaults_are_the_lecture_experiment(client: TestClient) -> None:
    body = client.post("/api/layers", json={}).json()
    assert len(body["layers"]) == 10
    assert body["layers"][0]["width"] == 500
    assert body["layers"][0]["activation"]["std"] == pytest.approx(0.2136, abs=0.005)
    assert body["n_var_w_target"] == 1.0
    assert body["n_var_w_expected"][0] == pytest.approx(0.05)


def test_layers_explicit_widths(client: TestClient) -> None:
    body = client.post("/api/layers", json={**SMALL, "widths": [30, 20, 10], "depth": 3}).json()
    assert [layer["width"] for layer in body["layers"]] == [30, 20, 10]
    r = client.post("/api/layers", json={**SMALL, "widths": [30, 20], "depth": 3})
    assert r.status_code == 422 and "depth" in r.json()["error"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"depth": 51}, "depth"),
        ({"depth": 0}, "depth"),
        ({"width": 1}, "width"),
        ({"scale": 1e3}, "scale"),
        ({"scale": -1}, "scale"),
        ({"batch": 5}, "batch"),
        ({"activation": "swish"}, "activation"),
        ({"init": "glorot"}, "init"),
        ({"dropout_keep": 0}, "dropout_keep"),
        ({"bias": 6}, "bias"),
        ({"seed": -1}, "seed"),
        ({"colour": "red"}, "colour"),
        ({"input": {"distribution": "cauchy"}}, "input"),
        ({"input": {"distribution": "uniform", "low": 2, "high": 1}}, "input"),
        ({"activation": "leaky_relu", "activation_params": {"alpha": 3}}, "activation_params"),
        ({"activation": "tanh", "activation_params": {"alpha": 0.1}}, "activation_params"),
        ({"depth": 50, "width": 1000, "batch": 4000}, "depth × width × batch"),
        ({"depth": 30, "widths": [1000] * 30, "input_dim": 1000, "batch": 10}, "weights"),
    ],
)
def test_layers_bad_input_is_a_422_naming_the_field(
    client: TestClient, patch: dict[str, Any], field: str
) -> None:
    r = client.post("/api/layers", json={**SMALL, **patch})
    assert r.status_code == 422
    assert field in r.json()["error"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(client: TestClient, literal: str) -> None:
    body = json.dumps(SMALL)[:-1] + f', "scale": {literal}}}'
    r = client.post("/api/layers", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "scale" in r.json()["error"]


def test_malformed_json_is_a_422(client: TestClient) -> None:
    r = client.post(
        "/api/layers", content=b"{depth: 3", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert "error" in r.json()


def test_an_exploding_net_answers_without_nan(client: TestClient) -> None:
    r = client.post(
        "/api/layers",
        json={
            "depth": 50,
            "width": 200,
            "input_dim": 200,
            "batch": 10,
            "activation": "relu",
            "scale": 100,
        },
    )
    assert r.status_code == 200
    assert "NaN" not in r.text and "Infinity" not in r.text
    last = r.json()["layers"][-1]["activation"]
    assert last["nonfinite"] > 0 or last["above"] > 0


def test_activation_endpoint(client: TestClient) -> None:
    r = client.post("/api/activation", json={"name": "sigmoid", "x": [-1000, 0, 1000]})
    assert r.status_code == 200
    body = r.json()
    assert body["f"] == pytest.approx([0.0, 0.5, 1.0])
    assert body["df"] == pytest.approx([0.0, 0.25, 0.0])
    r = client.post("/api/activation", json={"name": "elu", "params": {"alpha": 2}, "x": [-1e6, 1]})
    assert r.json()["f"] == pytest.approx([-2.0, 1.0])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "nope", "x": [1]}, "name"),
        ({"name": "relu", "x": []}, "x"),
        ({"name": "relu", "x": [1e7]}, "x"),
        ({"name": "maxout", "params": {"k": 99}, "x": [1]}, "params"),
        ({"name": "relu", "x": [1], "y": [2]}, "y"),
    ],
)
def test_activation_bad_input(client: TestClient, body: dict[str, Any], field: str) -> None:
    r = client.post("/api/activation", json=body)
    assert r.status_code == 422
    assert field in r.json()["error"]


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/catalog", "/api/layers", "/api/activation", "/healthz"):
        assert path in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_page_serves_plotly_from_the_package_and_no_cdn(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "/static/vendor/plotly.min.js" in page.text
    assert "cdn" not in page.text.lower()
    assert "script-src 'self'" in page.headers["content-security-policy"]
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and "plotly" in js.text[:200].lower()


def test_foreign_host_header_is_refused(client: TestClient) -> None:
    r = client.get("/healthz", headers={"host": "evil.example"})
    assert r.status_code == 400
