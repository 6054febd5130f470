"""POST /api/sweep through the TestClient: the public contract, its bounds and errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from deepscope import protocol
from deepscope.engine import race, surfaces

EIGHT = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw"]


def _problems(r: Any) -> list[tuple[str, str]]:
    return [(p["field"], p["code"]) for p in r.json()["problems"]]


def test_sweep_contract(client: TestClient) -> None:
    body = {
        "surface": "rosenbrock",
        "start": [-1.5, 2.0],
        "steps": 300,
        "optimizers": [{"optimizer": o} for o in EIGHT],
        "lr_min": 1e-5,
        "lr_max": 10,
        "lr_count": 9,
        "criterion": "final",
        "tolerance": 1e-6,
    }
    r = client.post("/api/sweep", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert set(out) >= {"optimizers", "elapsed_ms"}
    assert [c["optimizer"] for c in out["optimizers"]] == EIGHT
    surface = surfaces.build("rosenbrock", {})
    for curve in out["optimizers"]:
        assert set(curve) >= {"optimizer", "label", "lrs", "values", "status", "best_lr"}
        assert len(curve["lrs"]) == len(curve["values"]) == len(curve["status"]) == 9
        assert curve["lrs"][0] == 1e-5 and curve["lrs"][-1] == 10
        for v, s in zip(curve["values"], curve["status"], strict=True):
            assert (v is None) == (s == "diverged")
            assert v is None or (math.isfinite(v) and v >= 0)
        best = curve["best_lr"]
        assert best in curve["lrs"]
        # the path of the best run is that run raced alone
        hyper = {"lr": best}
        (alone,) = race.descend(surface, [race.RunConfig(curve["optimizer"], hyper)], 300)
        assert len(curve["best_path"]) == alone.points.shape[0]
        np.testing.assert_allclose(curve["best_path"], alone.points, rtol=1e-9, atol=1e-300)
    gd = out["optimizers"][0]
    assert gd["status"][-1] == "diverged" and gd["values"][-1] is None


def test_steps_to_tolerance_and_never(client: TestClient) -> None:
    body = {
        "surface": "ill_conditioned",
        "steps": 200,
        "optimizers": [{"optimizer": "gd", "label": "plain"}],
        "lr_min": 0.001,
        "lr_max": 2.0,
        "lr_count": 12,
        "criterion": "steps_to_tolerance",
        "tolerance": 1e-3,
    }
    out = client.post("/api/sweep", json=body).json()
    (curve,) = out["optimizers"]
    assert curve["label"] == "plain"
    reached = [v for v in curve["values"] if v is not None]
    assert reached and all(isinstance(v, int) for v in reached)
    assert curve["values"][0] is None and curve["status"][0] != "diverged"  # too slow: never
    assert curve["values"][curve["lrs"].index(curve["best_lr"])] == min(reached)


def test_a_custom_surface_sweeps_the_same_way(client: TestClient) -> None:
    body = {
        "surface": {"expr": "x**2 + 10*y**2"},
        "steps": 200,
        "optimizers": [{"optimizer": "gd"}],
        "lr_min": 0.01,
        "lr_max": 1,
        "lr_count": 5,
    }
    r = client.post("/api/sweep", json=body)
    assert r.status_code == 200, r.text
    (curve,) = r.json()["optimizers"]
    # L = 20: GD is stable below lr = 0.1
    for lr, s in zip(curve["lrs"], curve["status"], strict=True):
        assert (s == "diverged") == (lr > 0.1)


def test_bad_sweeps_name_the_field(client: TestClient) -> None:
    base: dict[str, Any] = {"optimizers": [{"optimizer": "adam"}]}
    cases = [
        (
            {**base, "optimizers": [{"optimizer": "adam", "lr": 0.1}]},
            ("optimizers.0.lr", "sweep_lr"),
        ),
        ({**base, "lr_min": 1.0, "lr_max": 0.1}, ("lr_min", "sweep_lr_order")),
        ({**base, "lr_count": 0}, ("lr_count", "greater_than_equal")),
        ({**base, "criterion": "best"}, ("criterion", "literal_error")),
        ({**base, "tolerance": 0}, ("tolerance", "greater_than")),
        ({**base, "surface": "monkey_saddle"}, ("surface", "sweep_no_minimum")),
        ({**base, "start": [1.0, 2.0, 3.0]}, ("start", "too_long")),
        ({**base, "surface": "quadratic_1d", "start": [1.0, 2.0]}, ("start", "start_dims")),
        (
            {
                "optimizers": [{"optimizer": o} for o in EIGHT] * 2,
                "lr_count": 100,
                "steps": 2000,
            },
            ("steps", "sweep_work"),
        ),
    ]
    for body, expected in cases:
        r = client.post("/api/sweep", json=body)
        assert r.status_code == 422, (body, r.text)
        assert expected in _problems(r), (body, r.json())
        assert "Traceback" not in r.text


def test_the_catalog_states_the_sweeps_bound_and_fields(client: TestClient) -> None:
    cat = client.get("/api/catalog").json()
    assert cat["limits"]["max_sweep_work"] == protocol.MAX_SWEEP_WORK
    fields = cat["labs"]["descend"]["sweep_fields"]
    assert fields["lr_count"]["default"] == 25 and fields["lr_min"]["default"] == 1e-5
    assert fields["lr_max"]["default"] == 10 and fields["criterion"]["default"] == "final"
    # 8 optimizers × 25 learning rates × 2000 steps (the benchmark) fits
    assert cat["limits"]["max_sweep_work"] >= 8 * 25 * 2000


def test_the_notebook_sweep_is_the_rest_answer(client: TestClient) -> None:
    import deepscope

    body: dict[str, Any] = {
        "surface": "bowl",
        "steps": 100,
        "optimizers": [{"optimizer": "gd"}, {"optimizer": "rmsprop", "rho": 0.95}],
        "lr_min": 0.01,
        "lr_max": 1.0,
        "lr_count": 6,
    }
    rest = client.post("/api/sweep", json=body).json()
    local = deepscope.sweep(**body)
    rest.pop("elapsed_ms")
    local.pop("elapsed_ms")
    assert local == rest
    with pytest.raises(ValueError, match="lr_count"):
        deepscope.sweep(**{**body, "lr_count": 0})
