"""The training lab: exact gradients, symmetry, dead ReLUs, depth, determinism, divergence."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from deepscope.engine.network import make_masks
from deepscope.engine.optimizers import OPTIMIZERS
from deepscope.engine.race import RunConfig
from deepscope.engine.training import FrameOptions, TrainConfig, Trainer, train
from tests.conftest import centred_difference, relative_error

BASE = TrainConfig(
    dataset="circle",
    n_samples=200,
    noise=0.05,
    hidden=(8, 8),
    steps=300,
    optimizer=RunConfig("adam", {"lr": 0.03}),
    seed=1,
)


def _final(config: TrainConfig, every: int | None = None):  # type: ignore[no-untyped-def]
    frames = list(train(config, every=every or config.steps or 1))
    return frames[-1]


@pytest.mark.parametrize(
    "options",
    [
        {"l1": 0.01, "l2": 0.05},
        {"l1": 0.003, "l2": 0.02, "batchnorm": True},
        {"l2": 0.1, "batchnorm": True, "dropout_keep": 0.8, "activation": "elu"},
        {"activation": "prelu", "l1": 0.01, "hidden": (5, 5), "residual": True},
    ],
)
def test_training_loss_gradient_matches_centred_differences(options: dict[str, object]) -> None:
    config = replace(BASE, dtype="float64", bias=0.1, **options)  # type: ignore[arg-type]
    trainer = Trainer(config)
    trainer.net.flat += 0.05 * np.random.default_rng(0).standard_normal(trainer.net.n_params)
    X, y = trainer.X[:12], trainer.y[:12]
    masks = (
        make_masks(trainer.net, 12, np.random.default_rng(1)) if config.dropout_keep < 1 else None
    )
    _, grad = trainer.loss_and_grad(X, y, masks)
    numeric = centred_difference(
        lambda _: trainer.loss_and_grad(X, y, masks)[0], trainer.net.flat, h=1e-4
    )
    assert relative_error(numeric, grad) < 1e-6


def test_zero_init_sigmoid_keeps_hidden_units_identical() -> None:
    config = replace(
        BASE,
        init="zeros",
        activation="sigmoid",
        hidden=(6, 6),
        steps=200,
        dtype="float64",
        optimizer=RunConfig("gd", {"lr": 1.0}),
    )
    trainer = Trainer(config)
    trainer.run(200)
    W1, W2, W3 = (lp.W for lp in trainer.net.layers)
    assert np.abs(W1).max() > 1e-3 and np.abs(W2).max() > 1e-3  # they learn something …
    # … but every unit the same (up to the last bit of BLAS's summation order)
    np.testing.assert_allclose(W1, W1[:, :1].repeat(6, axis=1), rtol=1e-12)
    np.testing.assert_allclose(W2, W2[0, 0], rtol=1e-12)
    np.testing.assert_allclose(W3, W3[0, 0], rtol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_zero_init_tanh_relu_hidden_weights_stay_exactly_zero(activation: str) -> None:
    config = replace(
        BASE, init="zeros", activation=activation, steps=200, optimizer=RunConfig("gd", {"lr": 1.0})
    )
    trainer = Trainer(config)
    trainer.run(200)
    for lp in trainer.net.layers:
        assert not lp.W.any()
    assert trainer.net.layers[-1].b[0] != 0  # only the output bias learns


def test_constant_init_keeps_units_identical_too() -> None:
    config = replace(
        BASE,
        init="constant",
        scale=0.3,
        activation="tanh",
        steps=100,
        dtype="float64",
        optimizer=RunConfig("adam", {"lr": 0.05}),
    )
    trainer = Trainer(config)
    trainer.run(100)
    W1 = trainer.net.layers[0].W
    np.testing.assert_allclose(W1, W1[:, :1].repeat(8, axis=1), rtol=1e-12)


def test_high_learning_rate_kills_relus_leaky_does_not() -> None:
    wide = replace(
        BASE, hidden=(32, 32), activation="relu", init="he_normal", steps=400, batch_size=20, seed=3
    )
    small = _final(replace(wide, optimizer=RunConfig("gd", {"lr": 0.05})))
    big = _final(replace(wide, optimizer=RunConfig("gd", {"lr": 10.0})))
    assert sum(big.dead_units) >= sum(small.dead_units) + 20  # all 64 die on this seed
    assert big.accuracy <= 0.6  # dead for every input: the net outputs a constant
    high = _final(replace(wide, optimizer=RunConfig("gd", {"lr": 3.0})))
    leaky = _final(replace(wide, activation="leaky_relu", optimizer=RunConfig("gd", {"lr": 3.0})))
    assert sum(high.dead_units) > sum(small.dead_units)
    assert sum(leaky.dead_units) == 0


def test_large_negative_bias_kills_units_at_step_zero() -> None:
    frames = train(replace(BASE, activation="relu", bias=-4.0, steps=0), every=1)
    first = next(frames)
    assert first.dead_units[0] == 8


def test_deep_linear_net_cannot_fit_circle_small_tanh_can() -> None:
    linear = _final(replace(BASE, activation="linear", hidden=(8, 8, 8, 8), steps=1500))
    assert linear.accuracy < 0.75  # a straight boundary
    tanh = _final(replace(BASE, steps=1500))
    assert tanh.accuracy > 0.9


def test_linear_boundary_is_straight() -> None:
    trainer = Trainer(replace(BASE, activation="linear", hidden=(8, 8), steps=300))
    trainer.run(300)
    p = trainer.boundary(41)
    # logit is affine in (x, y): the 0.5 contour's crossing points are collinear
    logits = np.log(p / (1 - p))
    second = np.diff(logits, n=2, axis=0)
    assert np.abs(second).max() < 1e-2 * (np.abs(logits).max() + 1)


def test_same_config_and_seed_identical_history() -> None:
    config = replace(
        BASE, dropout_keep=0.8, optimizer=RunConfig("nesterov", {"lr": 0.05}, noise=0.1)
    )
    a = [(f.step, f.train_loss, f.test_loss, f.accuracy) for f in train(config, every=50)]
    b = [(f.step, f.train_loss, f.test_loss, f.accuracy) for f in train(config, every=50)]
    assert a == b


def test_divergence_stops_with_a_reason_not_a_crash() -> None:
    config = replace(
        BASE, activation="linear", scale=3.0, steps=500, optimizer=RunConfig("gd", {"lr": 5.0})
    )
    frames = list(train(config, every=10))
    last = frames[-1]
    assert last.status == "diverged"
    assert last.reason is not None and last.reason.key in (
        "train.diverged.loss",
        "train.diverged.weights",
    )
    assert last.reason.vars == {"step": str(last.step), "lr": "5"}
    assert last.step < 500
    for f in frames:
        assert f.train_loss is None or math.isfinite(f.train_loss)


def test_frames_carry_what_is_asked() -> None:
    opts = FrameOptions(boundary=20, histograms=15, weights=True)
    frames = list(train(replace(BASE, steps=20), every=10, options=opts))
    assert [f.step for f in frames] == [0, 10, 20]
    f = frames[-1]
    assert f.boundary is not None and f.boundary.shape == (20, 20)
    assert f.histograms is not None and len(f.histograms) == 2
    assert all(h.total == 100 * 8 for h in f.histograms)
    assert f.weights is not None and [w.shape for w in f.weights] == [(2, 8), (8, 8), (8, 1)]
    assert len(f.grad_norm) == 3 and all(g is not None and g > 0 for g in f.grad_norm)
    assert frames[0].grad_norm == [None, None, None]  # no step yet


def test_logic_xor_needs_a_hidden_layer() -> None:
    gate = replace(
        BASE,
        dataset="logic",
        dataset_params={"gate": "xor"},
        batch_size=4,
        steps=1500,
        optimizer=RunConfig("adam", {"lr": 0.05}),
    )
    assert _final(replace(gate, hidden=())).train_accuracy <= 0.75
    assert _final(replace(gate, hidden=(4,))).train_accuracy == 1.0
    assert _final(replace(gate, hidden=(), dataset_params={"gate": "and"})).train_accuracy == 1.0


def test_every_optimizer_trains(  # a smoke matrix: no optimizer crashes or diverges here
) -> None:
    for name in OPTIMIZERS:
        if name == "newton":  # its Hessian limits it to tiny nets: tested below
            continue
        f = _final(replace(BASE, steps=100, optimizer=RunConfig(name, {})))
        assert f.status == "finished", name
    newton = _final(
        replace(
            BASE,
            dataset="logic",
            hidden=(3,),
            batch_size=4,
            steps=5,
            dtype="float64",
            optimizer=RunConfig("newton", {"lr": 0.5}),
        )
    )
    assert (newton.status, newton.step) == ("finished", 5)  # Newton on 4 points: no blow-up
    assert newton.train_loss is not None and math.isfinite(newton.train_loss)


def test_newton_refuses_big_nets() -> None:
    with pytest.raises(ValueError, match="Hessian"):
        Trainer(replace(BASE, hidden=(64, 64), optimizer=RunConfig("newton")))


def test_clipping_bounds_the_training_step_in_the_nets_dtype() -> None:
    """The one clipping function on the whole parameter vector: by norm, then by value."""
    for clip, check in (
        ({"clip_norm": 1e-3}, lambda s: np.linalg.norm(s) == pytest.approx(0.1 * 1e-3, rel=1e-5)),
        ({"clip_value": 1e-4}, lambda s: np.max(np.abs(s)) == pytest.approx(0.1 * 1e-4, rel=1e-5)),
    ):
        trainer = Trainer(replace(BASE, optimizer=RunConfig("gd", {"lr": 0.1}, **clip)))
        before = trainer.net.flat.copy()
        trainer.step()
        step = trainer.last_step
        assert step is not None and step.dtype == trainer.net.flat.dtype == np.float32
        np.testing.assert_allclose(before - trainer.net.flat, step, atol=1e-6)
        assert check(step), clip
        unclipped = Trainer(replace(BASE, optimizer=RunConfig("gd", {"lr": 0.1})))
        unclipped.step()
        assert np.max(np.abs(before - unclipped.net.flat)) > 10 * np.max(np.abs(step))


def test_the_last_step_a_frame_reads_is_the_last_accepted_one() -> None:
    """A diverging step is refused: the weights and the step the frames show (their
    update/weight ratios) stay the last accepted ones."""
    config = replace(
        BASE, activation="linear", scale=3.0, steps=500, optimizer=RunConfig("gd", {"lr": 5.0})
    )
    trainer = Trainer(config)
    previous = None
    with np.errstate(all="ignore"):  # (as train() steps it)
        while trainer.running:
            weights = trainer.net.flat.copy()
            trainer.step()
            if trainer.running:
                assert trainer.last_step is not None
                previous = trainer.last_step.copy()
    assert trainer.status == "diverged" and previous is not None
    assert trainer.last_step is not None
    np.testing.assert_array_equal(trainer.last_step, previous)
    np.testing.assert_array_equal(trainer.net.flat, weights)
    assert np.all(np.isfinite(trainer.last_step))
