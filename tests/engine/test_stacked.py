"""The stacked trainer: K runs of one network stepped as one batched pass are, bit for
bit, the K runs trained alone (every kind of layer, every kind of optimizer term, a
run that diverges, one that blows up and is handed back, Newton stepped alone)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from deepscope.engine import landscape as ls
from deepscope.engine.optimizers import Schedule
from deepscope.engine.race import RunConfig
from deepscope.engine.stacked import StackedTrainer, stackable
from deepscope.engine.training import FrameOptions, TrainConfig, Trainer, train

BASE = TrainConfig(dataset="circle", n_samples=120, hidden=(8, 8), steps=120, seed=3)
VARIANTS = [
    {},
    {"dtype": "float64"},
    {"activation": "relu", "l1": 0.01, "l2": 0.02},
    {"activation": "prelu", "residual": True, "hidden": (5, 5)},
    {"activation": "maxout", "hidden": (4, 3)},
    {"batchnorm": True, "dropout_keep": 0.8, "dropout_mode": "classic", "activation": "elu"},
    {"batchnorm": True, "dropout_keep": 0.7},
    {"dataset": "xor", "activation": "sigmoid", "batch_size": 200},
    {"hidden": (30, 20, 10), "bias": 0.1},
]
# every part of the rule, clipping both ways, noise, a schedule, Nesterov's look-ahead
RUNS = [
    RunConfig("momentum", {"lr": 0.1, "momentum": 0.9}),
    RunConfig("adam", {"lr": 0.03}),
    RunConfig("gd", {"lr": 0.5}, clip_norm=0.5),
    RunConfig("nesterov", {"lr": 0.05}, noise=0.1, schedule=Schedule("step", step_size=30)),
    RunConfig("rmsprop", {"lr": 0.01}, clip_value=0.05),
    RunConfig("adadelta", {}),
    RunConfig("adamw", {"lr": 0.01, "weight_decay": 0.01}),
    RunConfig("gd", {"lr": 10.0}, noise=50.0),  # blows up
]


def _same_frames(a: Trainer, b: Trainer) -> None:
    fa, fb = a.frame(FrameOptions()), b.frame(FrameOptions())
    assert (fa.step, fa.epoch, fa.status, fa.lr) == (fb.step, fb.epoch, fb.status, fb.lr)
    assert fa.train_loss == fb.train_loss and fa.accuracy == fb.accuracy
    assert fa.grad_norm == fb.grad_norm and fa.update_ratio == fb.update_ratio
    assert fa.reason == fb.reason and fa.blowup == fb.blowup


@pytest.mark.parametrize("changes", VARIANTS)
def test_a_stack_of_runs_is_each_run_alone_bit_for_bit(changes: dict[str, object]) -> None:
    config = replace(BASE, **changes)  # type: ignore[arg-type]
    trainers = [Trainer(replace(config, optimizer=r)) for r in RUNS[:-1]]
    stack = StackedTrainer(trainers)
    with np.errstate(all="ignore"):
        stack.run(config.steps or 0)
    assert stack.handed_back == []
    for run, t in zip(RUNS, trainers, strict=False):
        alone = Trainer(replace(config, optimizer=run))
        with np.errstate(all="ignore"):
            alone.run(config.steps or 0)
        np.testing.assert_array_equal(t.net.flat, alone.net.flat)
        for mine, theirs in zip(t.net.layers, alone.net.layers, strict=True):
            if theirs.running_mean is not None:  # batch norm's buffers, per run
                np.testing.assert_array_equal(mine.running_mean, theirs.running_mean)
                np.testing.assert_array_equal(mine.running_var, theirs.running_var)
        _same_frames(t, alone)
    # the runs really differ
    assert not np.array_equal(trainers[0].net.flat, trainers[1].net.flat)


def test_a_run_blowing_up_leaves_the_stack_and_the_others_go_on() -> None:
    config = replace(BASE, activation="relu", steps=60)
    runs = [RunConfig("adam", {"lr": 0.03}), RunConfig("gd", {"lr": 10.0}, noise=50.0)]
    trainers = [Trainer(replace(config, optimizer=r)) for r in runs]
    stack = StackedTrainer(trainers)
    with np.errstate(all="ignore"):
        stack.run(60)
    # the blown-up run left the stack before its gradient could meet 0·∞ there
    assert [row for row, _ in stack.handed_back] == [1]
    assert trainers[0].step_count == 60 and trainers[0].running


@pytest.mark.parametrize("changes", [{}, {"activation": "relu"}, {"activation": "maxout"}])
def test_the_race_is_k_single_runs_including_a_blow_up_and_newton(
    changes: dict[str, object],
) -> None:
    config = replace(BASE, hidden=(6, 6), **changes)  # type: ignore[arg-type]
    runs = [*RUNS, RunConfig("newton", {"lr": 0.5})]
    assert stackable(Trainer(replace(config, optimizer=runs[-1]))) is not None
    with np.errstate(all="ignore"):
        stacked = ls.race(config, runs, 3, 1.0, 25)
        looped = ls.race(config, runs, 3, 1.0, 25, stack=False)
    statuses = []
    for run, r, q in zip(runs, stacked.runs, looped.runs, strict=True):
        with np.errstate(all="ignore"):
            frames = list(train(replace(config, optimizer=run), every=25))
        assert [f.step for f in r.frames] == [f.step for f in frames]
        assert [f.train_loss for f in r.frames] == [f.train_loss for f in frames]
        assert [f.accuracy for f in r.frames] == [f.accuracy for f in frames]
        np.testing.assert_array_equal(r.trainer.net.flat, q.trainer.net.flat)
        assert r.path is not None and q.path is not None
        np.testing.assert_array_equal(r.path, q.path)
        assert r.trainer.status == q.trainer.status
        statuses.append(r.trainer.status)
    assert statuses[0] == "running"  # (the race's runs are not marked finished)
    np.testing.assert_array_equal(stacked.landscape.loss, looped.landscape.loss)


def test_a_stack_refuses_newton_stepped_runs_and_runs_of_different_networks() -> None:
    newton = Trainer(replace(BASE, optimizer=RunConfig("newton", {"lr": 1.0})))
    with pytest.raises(ValueError, match="Hessian"):
        StackedTrainer([Trainer(BASE), newton])
    with pytest.raises(ValueError, match="only in their optimizer"):
        StackedTrainer([Trainer(BASE), Trainer(replace(BASE, hidden=(4,)))])
    with pytest.raises(ValueError, match="at least one"):
        StackedTrainer([])
    stepped = Trainer(BASE)
    stepped.run(1)
    with pytest.raises(ValueError, match="fresh"):
        StackedTrainer([Trainer(BASE), stepped])
