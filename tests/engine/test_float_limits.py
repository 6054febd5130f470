"""float32's limits are reported where they strike, not left as mysteries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepscope.engine import activations, layers_lab
from deepscope.engine.histograms import Bins, histogram, moments

DEEP = {"widths": (500,) * 50, "batch": 400}  # the lecture's tanh, N(0, 0.01²), 50 deep


def flags(result: layers_lab.LayersResult, quantity: str, kind: str = "underflow") -> list[int]:
    return [
        s.index
        for s in result.layers
        if any(f.quantity == quantity and f.kind == kind for f in s.flags)
    ]


def test_sigmoid_is_never_exactly_zero_where_float32_can_hold_it() -> None:
    z = np.array([-80.0, -50.0, -20.0, -8.0, 0.0, 8.0, 80.0], dtype=np.float32)
    h = activations.sigmoid(z, {})
    exact = [1 / (1 + math.exp(-float(v))) for v in z]
    np.testing.assert_allclose(h, exact, rtol=1e-6)  # the tail keeps its digits
    assert np.all(h > 0)
    with np.errstate(all="raise"):  # no warning at ±1000 either
        far = activations.sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32), {})
    assert far.tolist() == [0.0, 1.0]


def test_zeros_per_sample_of_a_sigmoid_at_n01_is_zero_in_both_precisions() -> None:
    # (1 + tanh(z/2))/2 rounded σ(z) < 6e-8 to 0: 18 % "zeros" in float32, 4.4 % in float64
    for dtype in ("float32", "float64"):
        r = layers_lab.run(layers_lab.LayersConfig(activation="sigmoid", scale=1.0, dtype=dtype))
        assert max(s.zero_fraction for s in r.layers) < 1e-3, dtype
        assert all(s.dead_units == 0 for s in r.layers)
        # what is left is a true underflow (σ(z) < 1e-38 for z < −88), and flagged
        for s in r.layers:
            some = [f for f in s.flags if f.kind == "underflow_some"]
            assert (some[0].share if some else 0.0) == s.zero_fraction


def test_float32_moments_of_tiny_values_are_not_zero() -> None:
    x = (np.random.default_rng(0).standard_normal(10_000) * 1e-24).astype(np.float32)
    _, std = moments(x)
    assert std == pytest.approx(float(np.std(x.astype(np.float64))), rel=1e-4)
    assert moments(np.zeros(100, dtype=np.float32)) == (0.0, 0.0)


def test_depth_50_in_float32_flags_the_gradients_that_underflow_and_float64_none() -> None:
    f32 = layers_lab.run(layers_lab.LayersConfig(**DEEP))  # type: ignore[arg-type]
    f64 = layers_lab.run(layers_lab.LayersConfig(**DEEP, dtype="float64"))  # type: ignore[arg-type]
    # ∂L/∂W ~ 1e-65 (float64): below float32's 1.4e-45 at every layer
    assert flags(f32, "weight_gradient") == list(range(1, 51))
    assert all(s.grad_norm == 0.0 for s in f32.layers)
    assert all(s.grad_norm is not None and 0 < s.grad_norm < 1e-60 for s in f64.layers)
    # ∂L/∂h shrinks ×0.22 a layer going back: exactly 0 below some layer, not above it
    under = flags(f32, "gradient")
    assert under == list(range(1, len(under) + 1)) and 20 < len(under) < 45
    assert all(s.hist["gradient"].std > 0 for s in f32.layers[len(under) :])  # type: ignore[operator]
    # the activations are tiny but representable: no flag, and the same std as float64
    assert flags(f32, "activation") == flags(f32, "preactivation") == []
    for a, b in zip(f32.layers, f64.layers, strict=True):
        assert a.hist["activation"].std == pytest.approx(b.hist["activation"].std, rel=1e-3)
    assert [s.flags for s in f64.layers] == [[]] * 50


@pytest.mark.parametrize(
    "config",
    [
        {"activation": "relu", "init": "he_normal", "scale": 1.0},  # ≈ 50 % zeros: ReLUs off
        {"activation": "relu", "init": "he_normal", "scale": 1.0, "bias": -5.0},  # dead
        {"init": "zeros"},  # exact zeros everywhere, none of them an underflow
        {},
    ],
)
def test_true_zeros_are_not_flagged(config: dict[str, object]) -> None:
    r = layers_lab.run(layers_lab.LayersConfig(**config))  # type: ignore[arg-type]
    assert [s.flags for s in r.layers] == [[]] * len(r.layers)


def test_a_layer_collapsed_onto_zero_still_splits_at_the_edge_zero() -> None:
    # tanh at N(0, 0.01²) from layer ~27 on: |h| < 1e-16 around the edge 0 of [−1, 1]
    bins = Bins(-1.0, 1.0, 50)
    for scale in (1e-12, 1e-18, 1e-30):
        x = (np.random.default_rng(0).standard_normal(1000) * scale).astype(np.float32)
        h = histogram(x, bins)
        assert h.counts is not None
        negative = int(np.count_nonzero(x < 0))
        assert (h.counts[24], h.counts[25]) == (negative, 1000 - negative), scale
    assert bins.bin_of(-1e-18) == 24 and bins.bin_of(0.0) == 25 and bins.bin_of(1e-18) == 25
