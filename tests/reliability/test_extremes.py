"""Every lab at the extremes of every slider: a finite answer or a "diverged" status,
never an exception."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deepscope.app import create_app
from deepscope.engine import activations, initializers, optimizers
from deepscope.settings import Settings


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(allowed_hosts=["testserver"])), raise_server_exceptions=False
    ) as c:
        yield c


def _finite(text: str) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-finite {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("activation", list(activations.ACTIVATIONS))
@pytest.mark.parametrize("init", list(initializers.INITIALIZERS))
def test_layers_at_the_extremes(client: TestClient, activation: str, init: str) -> None:
    for scale, bias, depth in itertools.product((1e-4, 100.0), (-5.0, 5.0), (1, 50)):
        body = {
            "activation": activation,
            "init": init,
            "scale": scale,
            "bias": bias,
            "depth": depth,
            "width": 16,
            "input_dim": 8,
            "batch": 10,
            "batchnorm": "off",
        }
        r = client.post("/api/layers", json=body)
        assert r.status_code == 200, (body, r.text[:300])
        out = _finite(r.text)
        assert len(out["layers"]) == depth


@pytest.mark.parametrize(
    "options",
    [
        {"batchnorm": "train"},
        {"batchnorm": "eval"},
        {"dropout_keep": 0.01},
        {"residual": True},
        {"input": {"distribution": "uniform", "low": 99, "high": 100}},
        {"dtype": "float64", "scale": 100.0},
    ],
)
def test_layers_options_at_the_extremes(client: TestClient, options: dict[str, Any]) -> None:
    body = {
        "activation": "relu",
        "scale": 100.0,
        "depth": 50,
        "width": 16,
        "input_dim": 8,
        "batch": 10,
        **options,
    }
    r = client.post("/api/layers", json=body)
    assert r.status_code == 200, r.text[:300]
    _finite(r.text)


@pytest.mark.parametrize("optimizer", list(optimizers.OPTIMIZERS))
@pytest.mark.parametrize(
    "surface", ["rosenbrock", "quartic_1d", "saddle", "ackley", "monkey_saddle"]
)
def test_descend_at_the_extremes(client: TestClient, optimizer: str, surface: str) -> None:
    spec = optimizers.OPTIMIZERS[optimizer]
    lr = next(h for h in spec.hyper if h.name == "lr")
    runs = [
        {"optimizer": optimizer, "lr": lr.low},
        {"optimizer": optimizer, "lr": lr.high},
        {"optimizer": optimizer, "lr": lr.high, "noise": 100, "clip_value": 1e6},
    ]
    r = client.post("/api/descend", json={"surface": surface, "steps": 300, "runs": runs})
    assert r.status_code == 200, r.text[:300]
    out = _finite(r.text)
    # The smallest learning rate never leaves the surface: it runs all 300 steps.
    assert out["runs"][0]["status"] == "running", out["runs"][0]["status"]
    for run in out["runs"]:
        # A run that stopped says where, and its rows end there; one that did not has them all.
        stopped = run["stopped_at"]
        if run["status"] == "running":
            assert stopped is None and len(run["points"]) == 301
        else:
            assert stopped is not None and len(run["points"]) == stopped + 1
        assert len(run["loss"]) == len(run["points"])
        assert all(v is not None for row in run["points"] for v in row)


@pytest.mark.parametrize(
    "expr",
    [
        "exp(x*y)",
        "1/(x*y)",
        "log(x) + sqrt(y)",
        "x**(-3)",
        "tan(x)*1e6",
        "x**y",
        "abs(x) + sign(y)",
    ],
)
def test_descend_on_nasty_custom_surfaces(client: TestClient, expr: str) -> None:
    r = client.post(
        "/api/descend",
        json={
            "surface": {"expr": expr, "dims": 2},
            "steps": 200,
            "start": [0.5, 0.5],
            "runs": [{"optimizer": "newton"}, {"optimizer": "adam", "lr": 10}],
        },
    )
    assert r.status_code == 200, r.text[:300]
    _finite(r.text)
    grid = client.post("/api/surface", json={"surface": {"expr": expr}, "resolution": 64})
    assert grid.status_code == 200
    _finite(grid.text)


@pytest.mark.parametrize(
    "patch",
    [
        {"optimizer": {"optimizer": "gd", "lr": 10}, "scale": 100.0},
        {"optimizer": {"optimizer": "adam", "lr": 10}, "bias": 5.0, "activation": "relu"},
        {"optimizer": {"optimizer": "gd", "lr": 1e-6}, "scale": 1e-4},
        {"activation": "linear", "scale": 100.0, "hidden": [32, 32, 32]},
        {"activation": "elu", "batchnorm": True, "dropout_keep": 0.01, "l1": 1.0, "l2": 1.0},
        {"activation": "maxout", "activation_params": {"k": 8}, "bias": -5.0, "init": "zeros"},
        {"optimizer": {"optimizer": "newton", "lr": 10}, "hidden": [3], "dtype": "float64"},
        {
            "optimizer": {"optimizer": "adadelta", "lr": 10, "eps": 1.0},
            "residual": True,
            "hidden": [8, 8],
        },
    ],
)
def test_train_at_the_extremes(client: TestClient, patch: dict[str, Any]) -> None:
    body = {"n_samples": 40, "hidden": [8, 8], "steps": 300, **patch}
    r = client.post("/api/train", json=body)
    assert r.status_code == 200, r.text[:300]
    out = _finite(r.text)
    # Each of these blows up or crawls, and still finishes all its steps on finite weights
    # (a blow-up that stays finite is a warning, not a stop).
    assert (out["status"], out["reason"]) == ("finished", "finished 300 steps")
    assert out["history"][-1]["step"] == 300


def test_live_labs_at_the_extremes(client: TestClient) -> None:
    configs = [
        (
            "layers",
            {
                "activation": "relu",
                "scale": 100.0,
                "depth": 50,
                "width": 64,
                "batch": 64,
                "input_dim": 64,
            },
        ),
        ("descend", {"surface": "beale", "steps": 200, "runs": [{"optimizer": "gd", "lr": 10}]}),
        (
            "train",
            {
                "activation": "linear",
                "scale": 100.0,
                "steps": 200,
                "optimizer": {"optimizer": "gd", "lr": 10},
            },
        ),
    ]
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        ws.receive_text()
        for lab, config in configs:
            ws.send_text(
                json.dumps(
                    {
                        "type": "configure",
                        "lab": lab,
                        "config": config,
                        "options": {"steps_per_frame": 20},
                    }
                )
            )
            ws.send_text(json.dumps({"type": "play"}))
            for _ in range(100):
                m = _finite(ws.receive_text())
                assert m["type"] != "error", m
                if lab == "layers" and m["type"] == "frame":
                    break
                if m["type"] == "status" and m["state"] in ("diverged", "finished"):
                    # the race's runs all leave Beale's window; the linear net overflows
                    assert m["state"] == {"descend": "finished", "train": "diverged"}[lab], m
                    break
            else:
                raise AssertionError(f"{lab}: no end within 100 messages")
