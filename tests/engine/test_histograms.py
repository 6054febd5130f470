"""Fixed-edge histograms against np.histogram, with out-of-range and non-finite values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from server.engine.histograms import Bins, histogram, moments


def test_matches_numpy_inside_the_range() -> None:
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
    bins = Bins(-2.0, 2.0, 40)
    h = histogram(x, bins)
    expected, edges = np.histogram(x[(x >= -2) & (x <= 2)], bins=40, range=(-2, 2))
    np.testing.assert_array_equal(h.counts, expected)
    np.testing.assert_allclose(bins.edges, edges)
    assert h.below == int(np.sum(x < -2))
    assert h.above == int(np.sum(x > 2))
    assert h.total == x.size
    assert h.mean == pytest.approx(float(np.mean(x.astype(np.float64))), abs=1e-9)
    assert h.std == pytest.approx(float(np.std(x.astype(np.float64))), rel=1e-9)


def test_right_edge_is_closed_and_left_edge_included() -> None:
    h = histogram(np.array([-1.0, 1.0, 0.0]), Bins(-1.0, 1.0, 4))
    assert h.counts.tolist() == [1, 0, 1, 1]
    assert h.below == h.above == 0


def test_non_finite_values_are_counted_apart() -> None:
    x = np.array([0.5, np.nan, np.inf, -np.inf, -0.5, 7.0])
    h = histogram(x, Bins(-1.0, 1.0, 2))
    assert h.nonfinite == 3
    assert h.counts.tolist() == [1, 1]
    assert h.above == 1
    assert h.mean == pytest.approx(7.0 / 3)


def test_log_scale_bins_magnitudes() -> None:
    x = np.array([1e-3, -1e-3, 2e-3, 0.5, 0.0, 1e-20, 1e5])
    h = histogram(x, Bins(-4.0, 0.0, 4, "log"))
    # decades [-4,-3), [-3,-2), [-2,-1), [-1,0]
    assert h.counts.tolist() == [0, 3, 0, 1]
    assert h.below == 2  # the zero and 1e-20
    assert h.above == 1


def test_moments_keep_a_tiny_spread_around_a_large_mean() -> None:
    x = (0.5 + 1e-6 * np.random.default_rng(1).standard_normal(100_000)).astype(np.float32)
    mean, std = moments(x)
    x64 = x.astype(np.float64)
    assert mean == pytest.approx(float(x64.mean()), abs=1e-12)
    assert std == pytest.approx(float(x64.std()), rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(0, 300), elements=st.floats(-1e6, 1e6)),
    st.integers(1, 30),
)
def test_every_value_is_counted_once(x: np.ndarray, n: int) -> None:
    h = histogram(x, Bins(-10.0, 10.0, n))
    assert h.total == x.size
    inside = x[(x >= -10) & (x <= 10)]
    expected, _ = np.histogram(inside, bins=n, range=(-10, 10))
    # Values within 1e-6 relative of an edge may land on either side.
    assert int(np.abs(h.counts - expected).sum()) <= 2 * int(
        np.sum(np.isclose(inside[:, None], np.linspace(-10, 10, n + 1)[None, :], rtol=1e-6).any(1))
    )
