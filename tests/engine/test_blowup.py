"""A training run that blows up without overflowing is caught and explained."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepscope.engine import training
from deepscope.engine.race import RunConfig


def trained(optimizer: str, hyper: dict[str, float], steps: int = 1000) -> training.Trainer:
    """The training lab's default net (circle, 2-8-8-1 tanh, Xavier, batch 10)."""
    trainer = training.Trainer(
        training.TrainConfig(optimizer=RunConfig(optimizer, hyper), steps=steps)
    )
    with np.errstate(all="ignore"):
        trainer.run(steps)
    return trainer


def test_gd_at_lr_10_on_the_circle_is_a_finite_blow_up() -> None:
    trainer = trained("gd", {"lr": 10.0})
    # finite all along, so the divergence check never fires …
    assert trainer.status == "running" and trainer.step_count == 1000
    assert math.isfinite(float(trainer.net.flat.sum()))
    frame = trainer.frame(training.FrameOptions())
    assert frame.train_loss is not None and frame.train_loss > 1  # and it is no good:
    assert frame.accuracy < 0.6
    # … but the blow-up is caught early, with what it looked like
    b = trainer.blowup
    assert b is not None and frame.blowup == b
    assert 10 <= b.step <= 50
    assert b.loss_start == pytest.approx(math.log(2), abs=0.05)
    assert b.loss_peak > 10 * b.loss_start
    assert b.loss > training.BLOWUP_FACTOR * b.loss_start
    assert b.update_ratio is not None and b.update_ratio > 0.1  # healthy: ≈ 1e-3
    assert (b.units, b.unit_layer) == ("saturated", 2)
    assert b.unit_share > 0.9
    assert b.lr == 10.0
    assert b.message.startswith(f"the loss blew up at step {b.step}: it spiked to ")
    assert "too high: try 1" in b.message


def test_a_healthy_run_has_no_warning() -> None:
    trainer = trained("adam", {})
    assert trainer.blowup is None
    frame = trainer.frame(training.FrameOptions())
    assert frame.blowup is None and frame.accuracy > 0.95


def test_the_warning_is_kept_once_caught_and_the_same_for_the_same_seed() -> None:
    a = trained("gd", {"lr": 10.0}, steps=200)
    b = trained("gd", {"lr": 10.0}, steps=60)
    assert a.blowup is not None and a.blowup == b.blowup
