"""Fixed-edge histograms against np.histogram, with out-of-range and non-finite values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepscope.engine import histograms
from deepscope.engine.histograms import Bins, histogram, moments


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
    # float32 data: float32 pairwise sums, relative error ~1e-7
    assert h.mean == pytest.approx(float(np.mean(x.astype(np.float64))), abs=1e-6)
    assert h.std == pytest.approx(float(np.std(x.astype(np.float64))), rel=1e-6)
    h64 = histogram(x.astype(np.float64), bins)
    assert h64.mean == pytest.approx(float(np.mean(x.astype(np.float64))), abs=1e-13)
    assert h64.std == pytest.approx(float(np.std(x.astype(np.float64))), rel=1e-12)


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
    assert mean == pytest.approx(float(x64.mean()), abs=6e-8)  # float32 resolution at 0.5
    assert std == pytest.approx(float(x64.std()), rel=1e-4)
    _mean64, std64 = moments(x64)
    assert std64 == pytest.approx(float(x64.std()), rel=1e-9)


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


@pytest.mark.parametrize("scale", ["linear", "log"])
@pytest.mark.parametrize("spread", [1e-9, 1e-3, 0.3, 3.0, 300.0])
def test_both_counting_paths_agree(
    monkeypatch: pytest.MonkeyPatch, scale: str, spread: float
) -> None:
    """Comparisons (few occupied bins) and bincount (many) give the same counts."""
    x = (np.random.default_rng(2).standard_normal(20_000) * spread).astype(np.float32)
    x[:3] = [0.0, 1.0, -1.0]  # exact edges
    bins = Bins(-1.0, 1.0, 20) if scale == "linear" else Bins(-8.0, 2.0, 20, "log")
    monkeypatch.setattr(histograms, "SPARSE_BINS", 10**6)
    by_comparison = histogram(x, bins)  # type: ignore[arg-type]
    monkeypatch.setattr(histograms, "SPARSE_BINS", 0)
    by_index = histogram(x, bins)  # type: ignore[arg-type]
    assert by_comparison.total == by_index.total == x.size
    np.testing.assert_array_equal(by_comparison.counts, by_index.counts)
    assert (by_comparison.below, by_comparison.above) == (by_index.below, by_index.above)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_moments_only_still_sets_non_finite_values_apart(dtype: type) -> None:
    bins = Bins(-1.0, 1.0, 4)
    clean = histogram(np.array([0.5, -0.5, 1e30], dtype=dtype), bins, with_counts=False)
    assert clean.counts is None and clean.nonfinite == 0
    assert clean.mean == pytest.approx(1e30 / 3, rel=1e-6)  # huge but finite: kept
    dirty = histogram(np.array([1.0, np.inf, np.nan, 3.0], dtype=dtype), bins, with_counts=False)
    assert dirty.nonfinite == 2
    assert dirty.mean == pytest.approx(2.0) and dirty.std == pytest.approx(1.0)
