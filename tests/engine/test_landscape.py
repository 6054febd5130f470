"""The loss landscape: the grid is the training loss, directions are filter-normalized,
PCA is exact on a planar path, the K-optimizer race is K single runs, the live view."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from deepscope.engine import landscape as ls
from deepscope.engine.race import RunConfig
from deepscope.engine.training import FrameOptions, TrainConfig, Trainer, train

BASE = TrainConfig(
    dataset="circle",
    n_samples=120,
    hidden=(8, 8),
    steps=150,
    optimizer=RunConfig("adam", {"lr": 0.03}),
    seed=3,
    dtype="float64",
)
# every kind of layer the batched pass has to follow
VARIANTS = [
    {},
    {"activation": "relu", "l1": 0.01, "l2": 0.02},
    {"activation": "prelu", "residual": True, "hidden": (5, 5)},
    {"activation": "maxout", "hidden": (4, 3)},
    {"batchnorm": True, "dropout_keep": 0.8, "dropout_mode": "classic", "activation": "elu"},
    {"dataset": "xor", "activation": "sigmoid", "batch_size": 200},
]


def _trained(**changes: object) -> Trainer:
    trainer = Trainer(replace(BASE, **changes))  # type: ignore[arg-type]
    trainer.run(BASE.steps or 0)
    return trainer


@pytest.mark.parametrize("changes", VARIANTS)
@pytest.mark.parametrize("directions", ["random", "pca"])
def test_the_centre_of_the_grid_is_the_training_loss_of_the_frames(
    changes: dict[str, object], directions: ls.Directions
) -> None:
    result = ls.train_and_map(replace(BASE, **changes), directions, 9, 0.5, 10)  # type: ignore[arg-type]
    land = result.landscape
    frame_loss = result.frames[-1].train_loss
    assert frame_loss is not None
    assert land.loss[4, 4] == pytest.approx(frame_loss, rel=1e-12, abs=1e-14)
    assert land.center_loss == pytest.approx(frame_loss, rel=1e-12, abs=1e-14)
    # and it is what a fresh frame of the final network reports
    again = result.trainer.frame(FrameOptions()).train_loss
    assert again == pytest.approx(land.center_loss, rel=1e-12)


@pytest.mark.parametrize("changes", VARIANTS)
def test_the_grid_matches_the_forward_pass_point_by_point(changes: dict[str, object]) -> None:
    trainer = _trained(**changes)
    plane = ls.random_plane(trainer.net, trainer.net.flat, seed=5)
    land = ls.grid(trainer, plane, 7, 1.5)
    # along the first direction (β = 0, the middle row) and the second (α = 0) …
    for k, a in enumerate(land.alphas):
        along = ls.loss_at(trainer, plane.center + a * plane.d1)
        assert land.loss[3, k] == pytest.approx(along, rel=1e-11, abs=1e-13)
        across = ls.loss_at(trainer, plane.center + a * plane.d2)
        assert land.loss[k, 3] == pytest.approx(across, rel=1e-11, abs=1e-13)
    # … and off both axes
    point = plane.center + land.alphas[0] * plane.d1 + land.betas[6] * plane.d2
    assert land.loss[6, 0] == pytest.approx(ls.loss_at(trainer, point), rel=1e-11)
    # the grid changes the weights of no network
    assert ls.loss_at(trainer, trainer.net.flat) == pytest.approx(land.center_loss, rel=1e-12)


def test_the_grid_is_not_flat_and_grows_away_from_a_trained_minimum() -> None:
    trainer = _trained()
    land = ls.grid(trainer, ls.random_plane(trainer.net, trainer.net.flat, 0), 11, 1.0)
    assert np.ptp(land.loss) > 0.1
    assert land.loss[0].mean() > land.center_loss and land.loss[-1].mean() > land.center_loss


def test_filter_normalization_gives_each_unit_its_weights_norm() -> None:
    trainer = _trained(batchnorm=True, activation="prelu", hidden=(6, 4))
    net = trainer.net
    theta = net.flat.astype(np.float64)
    theta[: net.layers[0].W.size][:3] = 0.0  # a unit of layer 1 with some zero weights
    plane = ls.random_plane(net, theta, seed=11)
    for d in (plane.d1, plane.d2):
        for got, want in zip(ls.unit_norms(net, d), ls.unit_norms(net, theta), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        # biases, γ, β and PReLU's α are zero in the directions
        nonweights = ~net.weight_mask
        assert nonweights.sum() > 0 and np.all(d[nonweights] == 0)
    assert not np.allclose(plane.d1, plane.d2)
    # fixed by the seed; another seed, another direction
    again = ls.random_plane(net, theta, seed=11)
    np.testing.assert_array_equal(again.d1, plane.d1)
    assert not np.allclose(ls.random_plane(net, theta, seed=12).d1, plane.d1)


def test_a_unit_with_zero_weights_gets_a_zero_direction() -> None:
    trainer = Trainer(replace(BASE, init="zeros"))
    plane = ls.random_plane(trainer.net, trainer.net.flat, 0)
    assert np.all(plane.d1 == 0) and np.all(plane.d2 == 0)


def test_pca_of_a_planar_trajectory_is_exact() -> None:
    rng = np.random.default_rng(0)
    P, T = 40, 30
    center = rng.standard_normal(P)
    u, v = np.linalg.qr(rng.standard_normal((P, 2)))[0].T
    a = np.linspace(-3, 0, T) + 0.2 * np.sin(np.arange(T))
    b = 0.5 * np.cos(np.arange(T)) - 0.5
    a[-1] = b[-1] = 0.0  # the path ends at the centre (the final weights)
    path = center + a[:, None] * u + b[:, None] * v
    plane = ls.pca_plane(path, center)
    coords = plane.project(path)
    rebuilt = plane.center + coords[:, :1] * plane.d1 + coords[:, 1:] * plane.d2
    np.testing.assert_allclose(rebuilt, path, atol=1e-12)
    # orthogonal, of one length: the path's largest excursion (span 1 covers it)
    assert plane.d1 @ plane.d2 == pytest.approx(0, abs=1e-9)
    assert np.linalg.norm(plane.d1) == pytest.approx(np.linalg.norm(plane.d2))
    assert np.max(np.abs(coords)) == pytest.approx(1.0)
    # the path lies in the plane: the two components hold all of its variance …
    ev = plane.explained_variance
    assert ev is not None and sum(ev) == pytest.approx(1.0, abs=1e-12)
    # … in the shares of its singular values about the centre
    s = np.linalg.svd(path - center, compute_uv=False)
    assert ev == pytest.approx(list(s[:2] ** 2 / np.sum(s**2)), rel=1e-12)
    assert ev[0] >= ev[1] > 0


def test_pca_of_a_path_off_the_plane_shares_its_variance() -> None:
    rng = np.random.default_rng(1)
    path = rng.standard_normal((20, 12)) * np.array([5, 3, 1] + [0.1] * 9)
    center = path[-1]
    _, _, ev = ls.pca_directions(path, center)
    s = np.linalg.svd(path - center, compute_uv=False) ** 2
    assert ev == pytest.approx(list(s[:2] / s.sum()), rel=1e-12)
    assert 0 < sum(ev) < 1


def test_pca_of_a_straight_path_and_of_no_path() -> None:
    P = 10
    line = np.outer(np.linspace(-1, 0, 8), np.arange(1.0, P + 1))
    d1, d2, ev = ls.pca_directions(line, np.zeros(P))
    assert ev == pytest.approx([1.0, 0.0])
    assert abs(d1 @ d2) < 1e-12 and np.linalg.norm(d2) == pytest.approx(1)
    with pytest.raises(ValueError, match="never left"):
        ls.pca_directions(np.zeros((3, P)), np.zeros(P))


def test_the_projected_path_ends_at_the_centre_and_starts_at_the_start() -> None:
    result = ls.train_and_map(BASE, "pca", 5, 1.0, 10)
    land = result.landscape
    assert land.path is not None
    assert land.path_steps[0] == 0 and land.path_steps[-1] == BASE.steps
    np.testing.assert_allclose(land.path[-1], [0, 0], atol=1e-12)
    assert len(land.path) == len(land.path_steps) == 16
    assert np.linalg.norm(land.path[0]) > 0.1


def test_the_race_equals_single_runs_with_the_same_seed() -> None:
    runs = [
        RunConfig("momentum", {"lr": 0.1, "momentum": 0.9}, label="momentum"),
        RunConfig("adam", {"lr": 0.03}, label="adam"),
        RunConfig("gd", {"lr": 0.5}, label="gd"),
    ]
    config = replace(BASE, dropout_keep=0.9, dtype="float32")  # dropout masks shared too
    result = ls.race(config, runs, 5, 1.0, 25)
    start = Trainer(config).net.flat
    plane = ls.random_plane(Trainer(config).net, start, config.seed)
    for r, run in zip(result.runs, runs, strict=True):
        alone = replace(config, optimizer=run)
        frames = list(train(alone, every=25))
        assert [f.step for f in r.frames] == [f.step for f in frames]
        assert [f.train_loss for f in r.frames] == [f.train_loss for f in frames]
        assert [f.accuracy for f in r.frames] == [f.accuracy for f in frames]
        single = Trainer(alone)
        single.run(config.steps or 0)
        np.testing.assert_array_equal(r.trainer.net.flat, single.net.flat)
        # its path is on the common plane through the shared start
        assert r.path is not None
        np.testing.assert_allclose(r.path[0], [0, 0], atol=1e-6)
        np.testing.assert_allclose(r.path[-1], plane.project(single.net.flat)[0], rtol=1e-9)
    # the optimizers really differ, and the plane is the start network's
    assert result.runs[0].frames[-1].train_loss != result.runs[1].frames[-1].train_loss
    assert result.landscape.center_loss == pytest.approx(
        ls.loss_at(Trainer(config), start), rel=1e-6
    )


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_live_view_refreshes_every_n_steps_and_within_its_share_of_time() -> None:
    trainer = Trainer(BASE)
    clock = Clock()
    live = ls.LiveLandscape(trainer, "random", "current", 5, 1.0, 20, clock=clock)
    assert live.due(0)
    first = live.refresh(trainer)
    assert first.step == 0 and first.landscape.loss.shape == (5, 5)
    refreshed = []
    for _ in range(10):
        trainer.run(10)
        live.record(trainer.step_count, trainer.net.flat)
        clock.t += 1.0  # plenty of time between frames: every 20 steps
        if live.due(trainer.step_count):
            refreshed.append(live.refresh(trainer).step)
    assert refreshed == [20, 40, 60, 80, 100]
    # a refresh that cost as much as the time between frames waits for its share
    live.cost = 1.0
    for _ in range(4):
        trainer.run(10)
        clock.t += 1.0
        assert not live.due(trainer.step_count)
    assert live.due(trainer.step_count, force=True)
    clock.t += 10
    assert live.due(trainer.step_count)


def test_the_live_path_grows_and_a_pca_view_starts_random() -> None:
    trainer = Trainer(BASE)
    live = ls.LiveLandscape(trainer, "pca", "current", 5, 1.0, 1)
    assert live.refresh(trainer).directions == "random"  # no path yet
    for _ in range(5):
        trainer.run(10)
        live.record(trainer.step_count, trainer.net.flat)
    m = live.refresh(trainer)
    assert m.directions == "pca" and m.landscape.plane.explained_variance is not None
    assert m.landscape.path_steps == [0, 10, 20, 30, 40, 50]
    assert m.landscape.path is not None
    np.testing.assert_allclose(m.landscape.path[-1], [0, 0], atol=1e-12)


def test_a_live_plane_through_the_start_is_fixed_and_shared_by_runs_of_one_seed() -> None:
    views = []
    for run in (RunConfig("momentum", {"lr": 0.1}), RunConfig("adam", {"lr": 0.03})):
        trainer = Trainer(replace(BASE, optimizer=run))
        live = ls.LiveLandscape(trainer, "random", "start", 5, 1.0, 20)
        before = live.refresh(trainer)
        trainer.run(50)
        live.record(50, trainer.net.flat)
        after = live.refresh(trainer)
        np.testing.assert_array_equal(before.landscape.loss, after.landscape.loss)
        assert after.landscape.path is not None and np.linalg.norm(after.landscape.path[-1]) > 0
        views.append(after)
    np.testing.assert_array_equal(views[0].landscape.loss, views[1].landscape.loss)
    assert views[0].landscape.path is not None and views[1].landscape.path is not None
    assert not np.allclose(views[0].landscape.path[-1], views[1].landscape.path[-1])


def test_a_trajectory_keeps_its_newest_and_thins_when_full() -> None:
    path = ls.Trajectory(limit=8)
    for step in range(40):
        path.add(step, np.full(3, float(step)))
    assert len(path.steps) <= 8 and path.steps[0] == 0
    snapshots, steps = path.matrix(np.full(3, 99.0), 99)
    assert steps[-1] == 99 and snapshots[-1, 0] == 99.0
    assert steps == sorted(steps)


def test_the_size_check_names_the_limits() -> None:
    assert ls.check_size(105, 100, 41) is None
    assert "parameters" in (ls.check_size(ls.MAX_PARAMS + 1, 10, 3) or "")
    assert "resolution²" in (ls.check_size(5000, 2000, 41) or "")


def test_large_grids_are_chunked_and_equal_one_pass() -> None:
    trainer = _trained()
    plane = ls.random_plane(trainer.net, trainer.net.flat, 0)
    whole = ls.grid(trainer, plane, 9, 1.0)
    old = ls.CHUNK_ELEMENTS
    try:
        ls.CHUNK_ELEMENTS = 1  # one grid row at a time
        chunked = ls.grid(trainer, plane, 9, 1.0)
        np.testing.assert_allclose(
            ls.losses(trainer, plane.center + np.outer(whole.alphas, plane.d1)),
            whole.loss[4],
            rtol=1e-12,
        )
    finally:
        ls.CHUNK_ELEMENTS = old
    np.testing.assert_allclose(chunked.loss, whole.loss, rtol=1e-12)


def test_a_long_rest_path_is_thinned_and_still_ends_at_the_centre() -> None:
    config = replace(BASE, steps=130, hidden=(2,), dtype="float64")
    old = ls.MAX_SNAPSHOTS
    try:
        ls.MAX_SNAPSHOTS = 16  # a trajectory of this net keeps 16 snapshots, then thins
        land = ls.train_and_map(config, "pca", 5, 1.0, 1).landscape
    finally:
        ls.MAX_SNAPSHOTS = old
    assert land.path is not None
    assert len(land.path_steps) <= 17 and land.path_steps[0] == 0
    assert land.path_steps[-1] == 130 and land.path_steps == sorted(land.path_steps)
    np.testing.assert_allclose(land.path[-1], [0, 0], atol=1e-12)
    assert ls.snapshot_limit(10_000) == 100 and ls.snapshot_limit(105) == ls.MAX_SNAPSHOTS


def test_kept_buffers_change_no_grid_whatever_comes_between() -> None:
    nets = [_trained(), _trained(activation="relu", hidden=(5, 7)), _trained(dtype="float32")]
    planes = [ls.random_plane(t.net, t.net.flat, 1) for t in nets]
    first = [ls.grid(t, p, 9, 1.0).loss for t, p in zip(nets, planes, strict=True)]
    # again, in another order and at another resolution in between: the same numbers
    ls.grid(nets[1], planes[1], 5, 2.0)
    for t, p, loss in reversed(list(zip(nets, planes, first, strict=True))):
        np.testing.assert_array_equal(ls.grid(t, p, 9, 1.0).loss, loss)
    old = ls.POOL_BYTES
    try:
        ls.POOL_BYTES = 1  # every buffer clears the pool: a grid still sees its own
        np.testing.assert_array_equal(ls.grid(nets[0], planes[0], 9, 1.0).loss, first[0])
    finally:
        ls.POOL_BYTES = old
    # a grid while another thread holds the pool computes with buffers of its own
    with ls._POOL_LOCK:
        np.testing.assert_array_equal(ls.grid(nets[2], planes[2], 9, 1.0).loss, first[2])
    results: dict[int, np.ndarray] = {}

    def compute(i: int) -> None:
        results[i] = ls.grid(nets[i % 3], planes[i % 3], 9, 1.0).loss

    threads = [threading.Thread(target=compute, args=(i,)) for i in range(9)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(9):
        np.testing.assert_array_equal(results[i], first[i % 3])
