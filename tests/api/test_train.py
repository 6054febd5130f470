"""/api/train through the TestClient."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from deepscope import i18n
from deepscope.engine import datasets

SMALL = {"dataset": "circle", "n_samples": 100, "hidden": [6], "steps": 200, "seed": 2}


def test_train_contract(client: TestClient) -> None:
    r = client.post("/api/train", json={**SMALL, "record_every": 50})
    assert r.status_code == 200
    body = r.json()
    assert [row["step"] for row in body["history"]] == [0, 50, 100, 150, 200]
    row = body["history"][-1]
    assert set(row) >= {"step", "train_loss", "test_loss", "accuracy", "dead_units"}
    assert len(row["dead_units"]) == 1
    final = body["final"]
    assert len(final["predictions"]) == 50 == len(final["inputs"]) == len(final["labels"])
    assert [len(w) for w in final["weights"]] == [2, 6]  # fan_in rows per layer
    assert body["status"] == "finished" and body["n_params"] == 2 * 6 + 6 + 6 + 1


def test_train_is_deterministic(client: TestClient) -> None:
    body = {**SMALL, "dropout_keep": 0.7, "optimizer": {"optimizer": "momentum", "lr": 0.1}}
    assert (
        client.post("/api/train", json=body).json()["history"]
        == client.post("/api/train", json=body).json()["history"]
    )


def test_logic_gate_and_divergence(client: TestClient) -> None:
    xor = client.post(
        "/api/train",
        json={
            "dataset": "logic",
            "dataset_params": {"gate": "xnor"},
            "hidden": [4],
            "batch_size": 4,
            "steps": 1500,
            "optimizer": {"optimizer": "adam", "lr": 0.05},
        },
    ).json()
    assert xor["final"]["train_accuracy"] == 1.0
    assert xor["final"]["labels"] == [1.0, 0.0, 0.0, 1.0]
    boom = client.post(
        "/api/train",
        json={
            **SMALL,
            "activation": "linear",
            "scale": 3,
            "optimizer": {"optimizer": "gd", "lr": 5},
        },
    )
    assert boom.status_code == 200
    assert boom.json()["status"] == "diverged" and "learning rate" in boom.json()["reason"]
    said = boom.json()["reason_text"]
    assert boom.json()["reason"] == i18n.text(said["key"], **said["vars"])
    assert "NaN" not in boom.text and "Infinity" not in boom.text


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"dataset": "mnist"}, "dataset"),
        ({"dataset": "logic", "dataset_params": {"gate": "implies"}}, "dataset_params"),
        ({"hidden": [0]}, "hidden"),
        ({"hidden": [8] * 13}, "hidden"),
        ({"optimizer": {"optimizer": "adam", "momentum": 0.9}}, "momentum"),
        ({"optimizer": {"optimizer": "newton"}, "hidden": [64, 64]}, "newton"),
        (
            {"steps": 100_000, "batch_size": 1000, "n_samples": 2000, "hidden": [500, 500]},
            "steps × batch × parameters",
        ),
        ({"l2": -1}, "l2"),
        ({"train_share": 1.0}, "train_share"),
        ({"learning_rate": 0.1}, "learning_rate"),
    ],
)
def test_train_bad_input(client: TestClient, patch: dict[str, Any], field: str) -> None:
    r = client.post("/api/train", json={**SMALL, **patch})
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]


def test_catalog_lists_datasets(client: TestClient) -> None:
    cat = client.get("/api/catalog").json()
    names = [d["name"] for d in cat["datasets"]]
    assert names == list(datasets.DATASETS)  # the registry, in its order
    assert {"circle", "xor", "gaussians", "spiral", "moons", "linear", "logic"} <= set(names)
    assert names[-1] == "uploaded"  # the menu ends with the teacher's own data
    logic = next(d for d in cat["datasets"] if d["name"] == "logic")
    assert "xnor" in logic["params"]["gate"]
    assert cat["labs"]["train"]["fields"]["batch_size"]["default"] == 10
