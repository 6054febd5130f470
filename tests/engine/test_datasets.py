"""Datasets: seeded, balanced, split, and the lectures' truth tables."""

from __future__ import annotations

import numpy as np
import pytest

from deepscope.engine import datasets
from deepscope.engine.datasets import DATASETS, GATES

GENERATED = [n for n, d in DATASETS.items() if not d.fixed and d.make is not None]


@pytest.mark.parametrize("name", GENERATED)
def test_shape_labels_split_and_seed(name: str) -> None:
    a = datasets.make(name, 200, 0.2, 0.7, seed=5)
    b = datasets.make(name, 200, 0.2, 0.7, seed=5)
    c = datasets.make(name, 200, 0.2, 0.7, seed=6)
    assert a.X_train.shape == (140, 2) and a.X_test.shape == (60, 2)
    assert set(np.unique(np.concatenate([a.y_train, a.y_test]))) <= {0.0, 1.0}
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert 0.25 < np.mean(np.concatenate([a.y_train, a.y_test])) < 0.75
    (_x0, x1), _ = a.domain
    assert np.all(np.abs(a.X_train) <= x1)


@pytest.mark.parametrize("gate", list(GATES))
def test_logic_gate_tables(gate: str) -> None:
    split = datasets.make("logic", 100, 0.5, 0.5, seed=0, params={"gate": gate})
    np.testing.assert_array_equal(split.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(split.y_train, GATES[gate])
    np.testing.assert_array_equal(split.X_test, split.X_train)  # the table is the test set


def test_noise_jitters() -> None:
    clean = datasets.make("circle", 300, 0.0, 0.5, seed=1)
    radius = np.linalg.norm(np.concatenate([clean.X_train, clean.X_test]), axis=1)
    assert not np.any((radius > 0.45) & (radius < 0.65))  # a clean gap between the classes
    noisy = datasets.make("circle", 300, 1.0, 0.5, seed=1)
    radius = np.linalg.norm(np.concatenate([noisy.X_train, noisy.X_test]), axis=1)
    assert np.any((radius > 0.45) & (radius < 0.65))


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="gate"):
        datasets.make("logic", 4, 0, 0.5, 0, params={"gate": "implies"})
    with pytest.raises(ValueError, match="no parameter"):
        datasets.make("circle", 40, 0, 0.5, 0, params={"gate": "and"})
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.make("mnist", 40, 0, 0.5, 0)
