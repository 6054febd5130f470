"""The layers lab reproduces the lectures' numbers (README, "What the engine reproduces")."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from deepscope.engine.layers_lab import (
    QUANTITIES,
    Abandoned,
    LayersConfig,
    coarse_rows,
    run,
    theory_variance,
)
from deepscope.engine.text import Text

DEFAULT = LayersConfig()  # tanh, N(0, 0.01²), 10 × 500, inputs 1000 × 500 N(0, 1)


def _stds(result, quantity: str = "activation") -> list[float]:  # type: ignore[no-untyped-def]
    return [layer.hist[quantity].std for layer in result.layers]


@pytest.fixture(scope="module")
def lecture() -> object:
    return run(DEFAULT)


def test_tanh_small_init_collapses_by_0_224_per_layer(lecture) -> None:  # type: ignore[no-untyped-def]
    stds = _stds(lecture)
    assert stds[0] == pytest.approx(
        0.01 * math.sqrt(500), rel=0.05
    )  # ≈ 0.2236 (tanh shrinks it a bit)
    ratios = [b / a for a, b in pairwise(stds)]
    for r in ratios[1:]:  # past layer 1 tanh is linear: the ratio is 0.01·√500
        assert r == pytest.approx(0.01 * math.sqrt(500), rel=0.05)
    means = [layer.hist["activation"].mean for layer in lecture.layers]
    assert all(abs(m) < 0.05 * s for m, s in zip(means[1:], stds[1:], strict=True))
    # Weight gradients vanish because ∂L/∂W ∝ the layer's input: from layer 2 on they are
    # far smaller than the upstream gradients would suggest.
    assert lecture.layers[-1].hist["activation"].std < 1e-6


def test_tanh_unit_init_saturates(lecture) -> None:  # type: ignore[no-untyped-def]
    result = run(replace(DEFAULT, scale=1.0))
    for layer in result.layers:
        assert 0.85 < layer.saturated_fraction < 0.95  # ≈ 90 % with |h| > 0.99
        assert layer.hist["derivative"].mean < 0.05  # tanh′ ≈ 0
    assert all(layer.saturated_fraction == 0.0 for layer in lecture.layers)


def test_tanh_lecun_shrinks_slowly_without_saturating() -> None:
    result = run(replace(DEFAULT, init="lecun_normal", scale=1.0))
    stds = _stds(result)
    assert stds[0] == pytest.approx(0.63, abs=0.03)
    assert stds[-1] == pytest.approx(0.23, abs=0.04)
    assert all(a > b for a, b in pairwise(stds))
    assert max(layer.saturated_fraction for layer in result.layers) < 0.05
    xavier = _stds(run(replace(DEFAULT, init="xavier_normal", scale=1.0)))
    np.testing.assert_allclose(xavier, stds, rtol=0.05)  # the same when fan_in = fan_out


def test_relu_lecun_halves_the_variance_each_layer() -> None:
    result = run(replace(DEFAULT, activation="relu", init="lecun_normal", scale=1.0))
    variances = np.array([s * s for s in _stds(result, "preactivation")])
    # Each layer's ratio fluctuates by ~10 % at width 500; the trend is exactly ½.
    for a, b in pairwise(variances):
        assert 0.35 < b / a < 0.65
    slope = np.polyfit(np.arange(1, 11), np.log2(variances), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.06)
    assert result.theory is not None
    theory_slope = np.polyfit(np.arange(1, 11), np.log2(result.theory), 1)[0]
    assert theory_slope == pytest.approx(-1.0)
    assert variances[0] == pytest.approx(result.theory[0], rel=0.05)


def test_relu_he_is_stable() -> None:
    result = run(replace(DEFAULT, activation="relu", init="he_normal", scale=1.0))
    stds = _stds(result)
    # std of relu(s) with Var(s) = 2 is √(1 − 1/π) ≈ 0.83 at every layer.
    assert all(0.7 < s < 0.95 for s in stds)
    assert max(stds) / min(stds) < 1.2
    assert all(0.4 < layer.zero_fraction < 0.6 for layer in result.layers)  # ≈ 50 % is normal
    # Few units are dead (zero for every sample). Deep ReLU layers see increasingly
    # correlated inputs, so a handful die with depth even at He init.
    assert result.layers[0].dead_units == 0
    assert all(layer.dead_units < 0.15 * 500 for layer in result.layers)


def test_sigmoid_small_init_collapses_to_one_half_and_gradients_shrink() -> None:
    small = run(replace(DEFAULT, activation="sigmoid"))
    assert all(abs(layer.hist["activation"].mean - 0.5) < 0.01 for layer in small.layers)
    # Not toward 0: the 0.5-mean inputs keep Var(s) = n·Var(w)·¼, so std(h) ≈ 0.028.
    assert all(layer.hist["activation"].std < 0.06 for layer in small.layers)
    assert all(layer.hist["derivative"].mean <= 0.25 + 1e-9 for layer in small.layers)
    big = run(replace(DEFAULT, activation="sigmoid", scale=1.0))
    assert all(layer.saturated_fraction > 0.7 for layer in big.layers)
    good = run(replace(DEFAULT, activation="sigmoid", init="lecun_normal", scale=1.0))
    # σ′ ≤ 0.25: even with a good init the upstream gradient shrinks ≥ 4× per layer.
    grads = [
        math.hypot(layer.hist["gradient"].mean, layer.hist["gradient"].std) for layer in good.layers
    ]  # RMS of ∂L/∂h
    for lower, upper in pairwise(grads):
        assert lower / upper < 0.5


def test_batchnorm_makes_the_distributions_independent_of_init_scale() -> None:
    for scale in (0.01, 1.0):
        result = run(replace(DEFAULT, batchnorm="train", scale=scale))
        for layer in result.layers:
            assert layer.hist["activation"].std == pytest.approx(0.628, abs=0.01)
    evaluated = run(replace(DEFAULT, batchnorm="eval"))
    for layer in evaluated.layers:
        assert layer.hist["activation"].std == pytest.approx(0.628, abs=0.03)


def test_the_lectures_tapering_widths() -> None:
    """tanh, N(0, 0.01²), inputs 1000 × 500, widths 450…250.

    The lecture's slide prints layer stds 0.2135, 0.0452, 0.0090, 0.0017, 0.00029."""
    result = run(replace(DEFAULT, widths=(450, 400, 350, 300, 250)))
    np.testing.assert_allclose(_stds(result), [0.2135, 0.0452, 0.0090, 0.0017, 0.00029], rtol=0.06)


def test_theory_curve_is_the_geometric_law() -> None:
    theory, _ = theory_variance(DEFAULT)
    assert theory is not None
    for k, v in enumerate(theory, start=1):
        assert v == pytest.approx((500 * 0.01**2) ** k * 1.0)
    relu, _ = theory_variance(replace(DEFAULT, activation="relu", init="he_normal", scale=1.0))
    assert relu == pytest.approx([2.0] * 10)
    none, note = theory_variance(replace(DEFAULT, activation="sigmoid"))
    assert none is None and note == Text("layers.theory.no_law", {"name": "sigmoid"})
    assert theory_variance(DEFAULT)[1] == Text("layers.theory.linear")
    positive, _ = theory_variance(replace(DEFAULT, input=replace(DEFAULT.input, mean=2.0, std=1.0)))
    assert positive is not None and positive[0] == pytest.approx(500 * 1e-4 * 5.0)


def test_histograms_use_shared_fixed_edges_and_count_everything(lecture) -> None:  # type: ignore[no-untyped-def]
    other = run(replace(DEFAULT, scale=3.0, seed=5))
    for q in QUANTITIES:
        assert lecture.bins[q] == other.bins[q]
    for layer in lecture.layers:
        for q in QUANTITIES:
            h = layer.hist[q]
            expected = 1000 * 500 if q != "weight_gradient" else 500 * 500
            assert h.total == expected


def test_dead_units_from_a_large_negative_bias() -> None:
    result = run(replace(DEFAULT, activation="relu", init="he_normal", scale=1.0, bias=-5.0))
    assert result.layers[0].dead_units >= 350  # P(z > 0) = P(N(0, 2) > 5) ≈ 2e-4 per sample
    assert all(layer.dead_units == 500 for layer in result.layers[1:])
    assert result.layers[0].zero_fraction > 0.99
    leaky = run(replace(DEFAULT, activation="leaky_relu", init="he_normal", scale=1.0, bias=-5.0))
    assert all(layer.dead_units == 0 for layer in leaky.layers)


def test_same_seed_same_numbers_and_float64() -> None:
    a = run(replace(DEFAULT, widths=(50, 50), batch=100, input_dim=50))
    b = run(replace(DEFAULT, widths=(50, 50), batch=100, input_dim=50))
    assert [layer.hist["activation"].std for layer in a.layers] == _stds(b)
    c = run(replace(DEFAULT, widths=(50, 50), batch=100, input_dim=50, dtype="float64"))
    np.testing.assert_allclose(_stds(c), _stds(a), rtol=1e-4)


def test_explosion_is_reported_not_raised() -> None:
    result = run(replace(DEFAULT, activation="relu", scale=100.0, widths=(500,) * 50, batch=10))
    last = result.layers[-1]
    assert last.hist["activation"].nonfinite > 0 or last.hist["activation"].above > 0
    for layer in result.layers:
        for q in QUANTITIES:
            h = layer.hist[q]
            assert h.mean is None or math.isfinite(h.mean)
        assert layer.grad_norm is None or math.isfinite(layer.grad_norm)


def test_only_the_histograms_asked_for_are_counted() -> None:
    small = replace(DEFAULT, widths=(40, 40), batch=50, input_dim=20)
    some = run(replace(small, quantities=("activation",)))
    full = run(small)
    for a, b in zip(some.layers, full.layers, strict=True):
        assert a.hist["activation"].counts is not None
        np.testing.assert_array_equal(a.hist["activation"].counts, b.hist["activation"].counts)
        assert a.hist["gradient"].counts is None
        assert a.hist["gradient"].std == pytest.approx(b.hist["gradient"].std)  # moments stay
        assert a.grad_norm == pytest.approx(b.grad_norm)


def test_a_coarse_run_is_the_first_rows_of_the_same_batch() -> None:
    """Forward statistics equal a run whose batch *is* those rows; ∂L/∂h keeps the whole
    batch's 1/N (so it is the complete run's own, per sample); dead units are left out."""
    config = replace(DEFAULT, widths=(60, 60, 60), batch=800, input_dim=40, activation="relu")
    rows = coarse_rows(config.batch)
    assert rows == 100
    coarse = run(config, rows)
    alone = run(replace(config, batch=rows))
    assert coarse.coarse and (coarse.samples, coarse.batch) == (100, 800)
    for c, a in zip(coarse.layers, alone.layers, strict=True):
        for q in ("preactivation", "activation", "derivative"):
            np.testing.assert_array_equal(c.hist[q].counts, a.hist[q].counts)
        assert c.hist["gradient"].std == pytest.approx(
            a.hist["gradient"].std * rows / 800, rel=1e-4
        )
        assert c.dead_units is None and a.dead_units is not None
    last = run(config).layers[0]  # the complete run's first layer is not the subsample's
    assert not np.array_equal(
        last.hist["activation"].counts, coarse.layers[0].hist["activation"].counts
    )


def test_coarse_rows_are_an_eighth_never_fewer_than_100_and_none_for_a_small_batch() -> None:
    assert coarse_rows(1000) == 125
    assert coarse_rows(4000) == 500
    assert coarse_rows(600) == 100
    assert coarse_rows(200) is None and coarse_rows(50) is None


def test_the_weight_gradient_norm_is_estimated_for_the_whole_batch() -> None:
    """A sum of incoherent per-sample terms grows as √N, a coherent one as N: the coarse
    run's ‖∂L/∂W‖ predicts the complete one's either way (a plain N/b would be √8 off)."""
    for act, init in (("tanh", "lecun_normal"), ("relu", "he_normal")):
        config = replace(DEFAULT, activation=act, init=init, scale=1.0, widths=(200,) * 4)
        full, coarse = run(config), run(config, coarse_rows(config.batch))
        for f, c in zip(full.layers, coarse.layers, strict=True):
            assert c.grad_norm == pytest.approx(f.grad_norm, rel=0.15)


def test_an_abandoned_run_stops_after_the_layer_it_is_in() -> None:
    asked = []

    def abandoned() -> bool:
        asked.append(1)
        return len(asked) >= 2  # the second layer of the forward pass says stop

    with pytest.raises(Abandoned):
        run(replace(DEFAULT, widths=(40,) * 6, batch=50, input_dim=20), None, abandoned)
    assert len(asked) == 2
