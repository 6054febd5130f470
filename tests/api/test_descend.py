"""/api/descend and /api/surface through the TestClient."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deepscope.engine import optimizers, surfaces


def test_descend_contract(client: TestClient) -> None:
    body = {
        "surface": "shifted_bowl",
        "steps": 2,
        "runs": [{"optimizer": "gd", "lr": 0.1}],
        "include": ["gradient", "step", "effective_lr", "distance"],
    }
    r = client.post("/api/descend", json=body)
    assert r.status_code == 200
    run = r.json()["runs"][0]
    assert run["points"] == [[-9.0, 6.0], [-6.2, 4.8], [-3.96, 3.84]]
    assert run["gradient"][:2] == [[-28.0, 12.0], [-22.4, 9.6]]
    assert run["status"] == "running" and run["stopped_at"] is None
    assert len(run["loss"]) == 3 and len(run["distance"]) == 3
    info = r.json()["surface"]
    assert info["critical_points"][0]["kind"] == "minimum"


def test_descend_race_with_options(client: TestClient) -> None:
    body = {
        "surface": "rosenbrock",
        "steps": 300,
        "every": 10,
        "seed": 7,
        "runs": [
            {"optimizer": "adam", "lr": 0.05, "schedule": {"name": "cosine", "period": 300}},
            {"optimizer": "nesterov", "lr": 0.001, "momentum": 0.95, "clip_norm": 10},
            {"optimizer": "rmsprop", "noise": 0.5, "schedule": "inv_sqrt", "start": [0, 2]},
            {"optimizer": "gd", "lr": 0.1},  # diverges
        ],
    }
    r = client.post("/api/descend", json=body)
    assert r.status_code == 200
    runs = r.json()["runs"]
    assert [len(run["points"]) for run in runs[:3]] == [31, 31, 31]
    assert runs[2]["points"][0] == [0.0, 2.0]
    assert runs[3]["status"] == "diverged"
    assert "NaN" not in r.text and "Infinity" not in r.text
    again = client.post("/api/descend", json=body).json()
    assert again["runs"] == runs  # same request + seed, same numbers


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"surface": "everest", "runs": [{"optimizer": "gd"}]}, "surface"),
        ({"runs": []}, "runs"),
        ({"runs": [{"optimizer": "lbfgs"}]}, "runs.0.optimizer"),
        ({"runs": [{"optimizer": "gd", "beta1": 0.9}]}, "beta1"),
        ({"runs": [{"optimizer": "adam", "lr": 50}]}, "runs.0.lr"),
        ({"runs": [{"optimizer": "gd", "start": [1, 2, 3]}]}, "runs.0.start"),
        ({"runs": [{"optimizer": "gd", "start": [1]}]}, "runs.0.start"),
        ({"start": [1], "runs": [{"optimizer": "gd"}]}, "start"),
        ({"steps": 0, "runs": [{"optimizer": "gd"}]}, "steps"),
        ({"steps": 100_001, "runs": [{"optimizer": "gd"}]}, "steps"),
        ({"steps": 100_000, "runs": [{"optimizer": "gd"}] * 16}, "rows"),
        ({"runs": [{"optimizer": "gd", "schedule": "warmup"}]}, "schedule"),
        (
            {"surface": "bowl", "surface_params": {"condition": 0}, "runs": [{"optimizer": "gd"}]},
            "surface_params",
        ),
        (
            {
                "surface": {"expr": "x**2"},
                "surface_params": {"a": 1},
                "runs": [{"optimizer": "gd"}],
            },
            "surface_params",
        ),
        ({"runs": [{"optimizer": "gd"}], "turbo": True}, "turbo"),
    ],
)
def test_descend_bad_input(client: TestClient, body: dict[str, Any], field: str) -> None:
    r = client.post("/api/descend", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os')",
        "x.__class__",
        "lambda: 0",
        "(lambda x: x)(1)",
        "x" * 500,
        "open('/etc/passwd')",
        "exp(exp(exp(x)))**" + "9" * 8,
        "-" * 100 + "x",
    ],
)
def test_hostile_expressions_are_refused(client: TestClient, expr: str) -> None:
    r = client.post("/api/descend", json={"surface": {"expr": expr}, "runs": [{"optimizer": "gd"}]})
    assert r.status_code == 422
    assert "surface" in r.json()["error"]


@pytest.mark.parametrize(
    ("surface", "error"),
    [
        ({"expr": ""}, "surface.expr: String should have at least 1 character"),
        ({"expresion": "x"}, "surface.expr: Field required"),
        (5, 'surface: a surface name, or an object {"expr": …} for a typed surface'),
        ("nope", "surface: Input should be 'quadratic_1d'"),
    ],
)
def test_a_bad_surface_is_reported_against_what_was_sent(
    client: TestClient, surface: object, error: str
) -> None:
    # Not against both kinds of surface: a typed one that is wrong does not list the
    # built-in names, and a wrong name does not ask for "expr".
    r = client.post("/api/descend", json={"surface": surface, "runs": [{"optimizer": "gd"}]})
    assert r.status_code == 422
    message = r.json()["error"]
    assert message.startswith(error)
    assert ("rosenbrock" in message) == (surface == "nope")
    assert "CustomSurfaceRequest" not in message and "literal[" not in message


def test_custom_expression_races(client: TestClient) -> None:
    body = {
        "surface": {"expr": "x**2 + 10*y**2", "domain": [[-3, 3], [-3, 3]]},
        "start": [-2.5, 2],
        "steps": 50,
        "runs": [{"optimizer": "newton"}],
    }
    r = client.post("/api/descend", json=body)
    assert r.status_code == 200
    run = r.json()["runs"][0]
    assert run["status"] == "converged" and run["points"][1] == [0.0, 0.0]


def test_exploding_custom_surface_is_diverged_not_nan(client: TestClient) -> None:
    body = {
        "surface": {"expr": "exp(x**2)"},
        "start": [3],
        "steps": 50,
        "runs": [{"optimizer": "gd", "lr": 1}],
    }
    r = client.post(
        "/api/descend", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200
    assert r.json()["runs"][0]["status"] == "diverged"
    assert "NaN" not in r.text and "Infinity" not in r.text


def test_surface_grid(client: TestClient) -> None:
    r = client.post("/api/surface", json={"surface": "himmelblau", "resolution": 64})
    body = r.json()
    assert r.status_code == 200
    assert len(body["x"]) == len(body["y"]) == 64 and len(body["z"]) == 64
    kinds = [c["kind"] for c in body["surface"]["critical_points"]]
    assert kinds.count("minimum") == 4
    one = client.post("/api/surface", json={"surface": "quadratic_1d", "resolution": 16}).json()
    assert len(one["z"]) == 16 and len(one["dz"]) == 16 and one["y"] is None
    holes = client.post("/api/surface", json={"surface": {"expr": "log(x)"}, "resolution": 8})
    assert holes.status_code == 200 and None in holes.json()["z"]


def test_catalog_lists_optimizers_surfaces_and_schedules(client: TestClient) -> None:
    cat = client.get("/api/catalog").json()
    assert [o["name"] for o in cat["optimizers"]] == list(optimizers.OPTIMIZERS)
    adam = next(o for o in cat["optimizers"] if o["name"] == "adam")
    assert {h["name"] for h in adam["hyper"]} >= {"lr", "beta1", "beta2", "eps", "bias_correction"}
    assert [s["name"] for s in cat["surfaces"]] == list(surfaces.SURFACE_SPECS)
    rosen = next(s for s in cat["surfaces"] if s["name"] == "rosenbrock")
    assert rosen["minima"] == [[1.0, 1.0]] and rosen["start"] == [-1.5, 2.0]
    assert cat["schedules"]["names"] == list(optimizers.SCHEDULES)
    assert "sin" in cat["expressions"]["functions"]
