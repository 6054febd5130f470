"""The training lab: a small network learning a 2-D dataset, as a generator of frames.

The network is the layers lab's MLP (any activation, init, batch norm, dropout,
skip connections) with a linear output unit; the loss is the mean binary
cross-entropy of σ(z) computed from the logit z, plus L1 and L2 penalties on the
weights (λ₁·Σ|W| + ½λ₂·ΣW², so L2 adds λ₂W to the gradient). Any optimizer of
``optimizers`` drives it over mini-batches reshuffled every epoch.

``train`` yields a frame at step 0 and then every ``every`` steps; what a frame
carries is the caller's choice (``FrameOptions``). Same config and seed, same
frames, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from . import activations, datasets, optimizers
from .fused import FusedRule
from .histograms import Bins, Histogram, histogram
from .knobs import BIAS, DROPOUT, SCALE_RANGE, SEED, Knob, knob, same
from .network import (
    LayerParams,
    LayerSpec,
    Network,
    backward,
    build,
    forward,
    make_masks,
    param_views,
)
from .owndata import Table
from .race import RunConfig
from .text import Text

Array = NDArray[np.floating]
Status = Literal["running", "diverged", "finished"]

MAX_NEWTON_PARAMS = 300  # Newton's Hessian is taken by differences: 2P backward passes a step
SMALL_NET_PARAMS = 10_000  # frames may carry every weight up to this size

# A blow-up that stays finite: the mini-batch loss, smoothed over ~20 steps, climbs
# above BLOWUP_FACTOR × where it started (a healthy run only ever goes down from its
# start, ≈ ln 2 for a fresh net; a noisy one wobbles around it).
BLOWUP_FACTOR = 5.0
BLOWUP_SMOOTHING = 0.05  # weight of the newest batch loss in the running average
BLOWUP_MIN_STEPS = 10  # the average needs a few batches before it means anything
LOSS_FLOOR = 0.1  # a start below this counts as 0.1 (so a tiny start does not trip it)


# The training lab opens on Adam at lr 0.03 for 3000 steps: with the default network
# that learns the spiral too (91 % test accuracy, seed 0), where Adam's own 0.01 is
# still at chance after 3000 steps (58 %); circle and moons reach 100 % either way.
OPTIMIZER = "adam"
OPTIMIZER_LR = 0.03
N_SAMPLES = Knob(
    200,
    "enough points to show the dataset's shape, few enough to see every one",
    ge=8,
    # the boundary chart draws every point (the first frame sends them all): past a
    # couple of thousand they hide the boundary they are there to show
    le=2000,
    log=True,
    integer=True,
)


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "circle"
    dataset_params: Mapping[str, str] = field(default_factory=dict)
    n_samples: int = same(N_SAMPLES)
    noise: float = knob(
        0.1, "a little noise: the classes touch without mixing", ge=0, le=1, step=0.05
    )
    train_share: float = knob(
        0.5, "half to train, half to test: overfitting shows as a gap", ge=0.1, le=0.9, step=0.05
    )
    hidden: tuple[int, ...] = knob(
        (8, 8),
        "two small layers: enough for the circle and the spiral's start",
        ge=1,
        le=1000,
        integer=True,
        max_items=12,
    )
    activation: str = "tanh"  # of the hidden layers; the output unit is σ of a linear layer
    activation_params: Mapping[str, float] = field(default_factory=dict)
    init: str = "xavier_normal"  # init, scale and bias apply to every layer, output included
    scale: float = knob(1.0, "the init as its authors meant it", **SCALE_RANGE)
    bias: float = same(BIAS)
    batchnorm: bool = False
    dropout_keep: float = same(DROPOUT)
    dropout_mode: Literal["inverted", "classic"] = "inverted"
    residual: bool = False
    l1: float = knob(
        0.0,
        "no penalty until asked for",
        ge=0,
        le=1,  # the engine stays finite up to here (tests/reliability/test_extremes.py)
        step=0.0005,
        span=(0, 0.05),
        span_why="past λ₁ ≈ 0.05 the penalty outweighs the data and every weight goes to 0",
    )
    l2: float = knob(
        0.0,
        "no penalty until asked for",
        ge=0,
        le=1,
        step=0.001,
        span=(0, 0.1),
        span_why="past λ₂ ≈ 0.1 the weights shrink until the boundary is a straight line",
    )
    optimizer: RunConfig = field(default_factory=lambda: RunConfig(OPTIMIZER, {"lr": OPTIMIZER_LR}))
    batch_size: int = knob(
        10,
        "small mini-batches: noisy, fast steps, the classic SGD picture",
        ge=1,
        le=N_SAMPLES.le,  # a larger batch is the whole dataset anyway
        log=True,
        integer=True,
    )
    steps: int | None = knob(
        3000,
        "long enough for the default network to learn the spiral (see OPTIMIZER_LR)",
        ge=0,  # 0: the untrained network (REST)
        le=100_000,
        log=True,
        integer=True,
        span=(10, 100_000),
        span_why="a log slider cannot stop at 0; fewer than 10 steps shows no curve",
    )  # None: until stopped
    seed: int = same(SEED)
    dtype: Literal["float32", "float64"] = "float32"
    table: Table | None = None  # the points of dataset "uploaded"


@dataclass(frozen=True)
class FrameOptions:
    """What each frame carries (all cheap; chosen by the caller)."""

    boundary: int = 0  # decision-boundary grid resolution (0 = none)
    histograms: int = 0  # bins of the per-layer activation histogram (0 = none)
    weights: bool = False  # every weight and bias (only for nets ≤ SMALL_NET_PARAMS)
    layer_stats: bool = True  # dead units, zero fraction, gradient norm, update/weight ratio


@dataclass(frozen=True)
class BlowUp:
    """What a run that blew up without overflowing looked like when it was caught."""

    step: int
    loss: float  # the smoothed mini-batch loss then
    loss_peak: float  # the highest mini-batch loss until then
    loss_start: float  # the first mini-batch's loss
    update_ratio: float | None  # ‖Δθ‖/‖θ‖ of that step (healthy: ≈ 1e-3)
    units: Literal["saturated", "dead"]  # saturating activations saturate, ReLUs die
    unit_share: float  # of the worst hidden layer's (sample, unit) values / units
    unit_layer: int  # that layer, 1-based (0: no hidden layer)
    lr: float

    @property
    def message(self) -> str:
        ratio = "" if self.update_ratio is None else f"{self.update_ratio:.2g}"
        parts = [
            f"the loss blew up at step {self.step}: it spiked to {self.loss_peak:.3g}, "
            f"{self.loss_peak / max(self.loss_start, LOSS_FLOOR):.0f}× its start "
            f"({self.loss_start:.3g})"
        ]
        if ratio:
            parts.append(f"each update is {ratio}× the weights (‖Δθ‖/‖θ‖; healthy ≈ 0.001)")
        if self.unit_layer:
            share = f"{self.unit_share:.0%}"
            parts.append(f"{share} of layer {self.unit_layer}'s units are {self.units}")
        return (
            "; ".join(parts)
            + f". The learning rate ({self.lr:.3g}) is too high: try {self.lr / 10:.3g}"
        )


@dataclass
class TrainFrame:
    step: int
    epoch: int
    status: Status
    reason: Text | None  # why it diverged (train.diverged.*)
    train_loss: float | None
    test_loss: float | None
    train_accuracy: float
    accuracy: float  # on the test split
    lr: float
    dead_units: list[int] = field(default_factory=list)  # per hidden layer
    zero_fraction: list[float] = field(default_factory=list)
    grad_norm: list[float | None] = field(default_factory=list)  # ‖∂L/∂W‖ per layer
    update_ratio: list[float | None] = field(default_factory=list)  # ‖ΔW‖/‖W‖ per layer
    histograms: list[Histogram] | None = None
    boundary: Array | None = None  # (res, res) P(y = 1) over the domain
    weights: list[Array] | None = None
    biases: list[Array] | None = None
    blowup: BlowUp | None = None  # set from the step it was caught on


def layer_specs(config: TrainConfig) -> tuple[LayerSpec, ...]:
    act = activations.get(config.activation)
    params = tuple(sorted(act.resolve(config.activation_params).items()))
    hidden = tuple(
        LayerSpec(
            width=w,
            activation=config.activation,
            act_params=params,
            batchnorm=config.batchnorm,
            dropout_keep=config.dropout_keep,
            dropout_mode=config.dropout_mode,
            residual=config.residual,
        )
        for w in config.hidden
    )
    return (*hidden, LayerSpec(width=1, activation="linear"))


def bce_with_logits(z: NDArray[np.floating], y: NDArray[np.floating]) -> float:
    """mean[log(1 + eᶻ) − y·z] = mean BCE of σ(z), computed stably."""
    softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(softplus - y * z, dtype=np.float64))


class Trainer:
    """The state of one training run; ``step()`` does one mini-batch update."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.dtype = np.dtype(config.dtype)
        if config.table is not None:
            self.data = datasets.from_table(
                config.table, config.train_share, config.seed, config.dataset_params
            )
        else:
            self.data = datasets.make(
                config.dataset,
                config.n_samples,
                config.noise,
                config.train_share,
                config.seed,
                config.dataset_params,
            )
        self.X = self.data.X_train.astype(self.dtype)
        self.y = self.data.y_train.astype(self.dtype)
        self.X_test = self.data.X_test.astype(self.dtype)
        self.y_test = self.data.y_test.astype(self.dtype)
        self.specs = layer_specs(config)
        self.net: Network = build(
            2,
            self.specs,
            config.init,
            config.scale,
            config.bias,
            np.random.default_rng([config.seed, 20]),
            self.dtype,
        )
        run = config.optimizer
        spec = optimizers.get_spec(run.optimizer)
        if spec.needs_hessian and self.net.n_params > MAX_NEWTON_PARAMS:
            raise ValueError(
                f"newton needs the Hessian of every parameter: at most {MAX_NEWTON_PARAMS} "
                f"parameters, this net has {self.net.n_params}"
            )
        self.opt = optimizers.make(run.optimizer, run.hyper)
        self.needs_hessian = spec.needs_hessian
        # The race's rule with one run (K = 1) over the whole parameter vector, in the
        # network's dtype: its state (m, v, …) lives in the rule.
        self.rule = FusedRule(self.opt.c, (1, self.net.n_params), self.dtype)
        self._lr_col = np.empty((1, 1), dtype=self.dtype)  # lr_t for the rule
        # Two step buffers, used in turn: the last accepted step (frames read it) stays
        # as it was when the next one diverges.
        self._steps = [np.empty((1, self.net.n_params), dtype=self.dtype) for _ in range(2)]
        self.schedule = run.schedule
        self.lr0 = float(self.opt.c.lr)
        self.clip_norm = run.clip_norm
        self.clip_value = run.clip_value
        self._nesterov = float(self.opt.c.nesterov * self.opt.c.mu)
        self.grad_noise = run.noise
        self.rng_batch = np.random.default_rng([config.seed, 21])
        self.rng_dropout = np.random.default_rng([config.seed, 22])
        self.rng_noise = np.random.default_rng([config.seed, 23])
        self.batch = min(config.batch_size, len(self.y))
        self.order = self.rng_batch.permutation(len(self.y))
        self.cursor = 0
        self.step_count = 0
        self.epoch = 0
        self.last_grad: Array | None = None
        self.last_step: Array | None = None
        self.status: Status = "running"
        self.reason: Text | None = None
        self.wmask = self.net.weight_mask
        self.lr = self.lr0
        self.loss_start: float | None = None
        self.loss_smooth = self.loss_peak = 0.0
        self.blowup: BlowUp | None = None
        self._inputs: dict[int, Array] = {}  # frame inputs by boundary resolution

    @property
    def running(self) -> bool:
        return self.status == "running"

    def run(self, n: int) -> None:
        """Up to ``n`` updates (fewer if the run diverges)."""
        for _ in range(n):
            self.step()
            if not self.running:
                return

    # --- one update ------------------------------------------------------------------

    def _next_batch(self) -> NDArray[np.intp]:
        n = len(self.y)
        if self.cursor + self.batch > n:
            self.order = self.rng_batch.permutation(n)
            self.cursor = 0
            self.epoch += 1
        idx = self.order[self.cursor : self.cursor + self.batch]
        self.cursor += self.batch
        return idx

    def loss_and_grad(
        self, X: Array, y: Array, masks: list[Array | None] | None
    ) -> tuple[float, Array]:
        """Training-mode loss (with penalties) and its gradient w.r.t. every parameter."""
        out, caches = forward(self.net, X, train=True, masks=masks, update_running=True)
        z = out[:, 0]
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # σ(z), stable
        dz = ((p - y) / len(y)).astype(self.dtype)[:, None]
        grad, _ = backward(self.net, dz, caches, need_input_grad=False)
        loss = bce_with_logits(z, y) + self._penalty()
        c = self.config
        if c.l2:
            grad += self.dtype.type(c.l2) * self.net.flat * self.wmask
        if c.l1:
            grad += self.dtype.type(c.l1) * np.sign(self.net.flat) * self.wmask
        return loss, grad

    def _penalty(self) -> float:
        c = self.config
        if not (c.l1 or c.l2):
            return 0.0
        w = self.net.flat[self.wmask].astype(np.float64)
        return c.l1 * float(np.abs(w).sum()) + 0.5 * c.l2 * float(w @ w)

    def _hessian(self, X: Array, y: Array, masks: list[Array | None] | None) -> Array:
        """∇²L by centred differences of the analytic gradient (small nets only)."""
        flat = self.net.flat
        P = flat.size
        H = np.empty((P, P))
        h = 1e-4 if self.dtype == np.float64 else 1e-2
        running = [(lp.running_mean, lp.running_var) for lp in self.net.layers]
        saved = [
            (None if m is None else m.copy(), None if v is None else v.copy()) for m, v in running
        ]
        for i in range(P):
            old = flat[i]
            flat[i] = old + h
            _, up = self.loss_and_grad(X, y, masks)
            flat[i] = old - h
            _, down = self.loss_and_grad(X, y, masks)
            flat[i] = old
            H[:, i] = (up - down) / (2 * h)
        for lp, (m, v) in zip(self.net.layers, saved, strict=True):  # undo the BN updates
            if m is not None and lp.running_mean is not None and lp.running_var is not None:
                lp.running_mean[...] = m
                lp.running_var[...] = v
        return 0.5 * (H + H.T)

    def step(self) -> None:
        """One mini-batch update (or a divergence, which stops the run)."""
        if self.status != "running":
            return
        idx = self._next_batch()
        X, y = self.X[idx], self.y[idx]
        masks = (
            make_masks(self.net, len(idx), self.rng_dropout)
            if self.config.dropout_keep < 1
            else None
        )
        self.lr = lr_t = self.lr0 * float(self.schedule.factor(np.array([self.step_count]))[0])
        theta = self.net.flat
        if self._nesterov:  # the gradient at the look-ahead point θ − lr·μ·m
            saved = theta.copy()
            self.rule.look_ahead(theta[None], self.dtype.type(lr_t * self._nesterov), theta[None])
            loss, grad = self.loss_and_grad(X, y, masks)
            theta[...] = saved
        else:
            loss, grad = self.loss_and_grad(X, y, masks)
        if self.grad_noise:
            grad = grad + self.dtype.type(self.grad_noise) * self.rng_noise.standard_normal(
                grad.shape
            ).astype(self.dtype)
        if self.clip_value or self.clip_norm:
            grad = optimizers.clip(grad, self.clip_norm, self.clip_value)
        H = self._hessian(X, y, masks)[None] if self.needs_hessian else None
        step = self._update(grad, theta, lr_t, H)
        self.step_count += 1
        # One reduction finds a non-finite step (inf and NaN propagate through a sum).
        if not (math.isfinite(loss) and math.isfinite(float(step.sum(dtype=np.float64)))):
            # Keep the last finite weights (what the frames show) and stop.
            self.status = "diverged"
            what = "loss" if not math.isfinite(loss) else "weights"
            self.reason = self._overflowed(what, lr_t)
            return
        theta -= step
        if not math.isfinite(float(theta.sum(dtype=np.float64))):  # weights overflowed
            theta += step
            self.status = "diverged"
            self.reason = self._overflowed("weights", lr_t)
            return
        self.last_grad, self.last_step = grad, step
        self._watch(loss, lr_t)

    def _update(self, grad: Array, theta: Array, lr_t: float, H: Array | None = None) -> Array:
        """The rule's step for this gradient (θ ← θ − step), in the network's dtype."""
        b1, b2 = self.opt.bias_corrections(self.step_count + 1)
        dt = self.dtype.type
        self._lr_col[0, 0] = lr_t
        buffer = self._steps[self.step_count % 2]
        step = self.rule.step(
            grad[None], theta[None], dt(lr_t * b1), dt(b2), self._lr_col, None, H, out=buffer
        )
        out: Array = step[0]
        return out

    def _overflowed(self, what: str, lr_t: float) -> Text:
        """The loss or the weights overflowed: the learning rate is too high."""
        return Text(f"train.diverged.{what}", {"step": str(self.step_count), "lr": f"{lr_t:.3g}"})

    def _watch(self, loss: float, lr_t: float) -> None:
        """Catch a blow-up that stays finite (the loss climbs far above its start)."""
        if self.blowup is not None:
            return
        if self.loss_start is None:
            self.loss_start = self.loss_smooth = self.loss_peak = loss
            return
        self.loss_smooth += BLOWUP_SMOOTHING * (loss - self.loss_smooth)
        self.loss_peak = max(self.loss_peak, loss)
        if self.step_count < BLOWUP_MIN_STEPS:
            return
        if self.loss_smooth > BLOWUP_FACTOR * max(self.loss_start, LOSS_FLOOR):
            self.blowup = self._explain_blowup(lr_t)

    def _explain_blowup(self, lr_t: float) -> BlowUp:
        """The update/weight ratio of this step and the worst layer's saturated or dead units."""
        assert self.loss_start is not None and self.last_step is not None
        theta = self.net.flat
        with np.errstate(all="ignore"):
            wn = float(np.linalg.norm(theta))
            ratio = float(np.linalg.norm(self.last_step)) / wn if wn > 0 else math.inf
            _, caches = forward(self.net, self.X, train=False)
            act = activations.get(self.config.activation)
            shares: list[float] = []
            for c in caches[:-1]:  # the hidden layers
                if act.saturated is not None:
                    shares.append(float(np.mean(act.saturated(c.act.z, c.h))))
                else:  # units that are 0 on every training input
                    shares.append(float(np.mean(~np.any(c.h != 0, axis=0))))
        layer = int(np.argmax(shares)) + 1 if shares else 0
        return BlowUp(
            step=self.step_count,
            loss=self.loss_smooth,
            loss_peak=self.loss_peak,
            loss_start=self.loss_start,
            update_ratio=ratio if math.isfinite(ratio) else None,
            units="saturated" if act.saturated is not None else "dead",
            unit_share=shares[layer - 1] if layer else 0.0,
            unit_layer=layer,
            lr=lr_t,
        )

    # --- what a frame shows ------------------------------------------------------

    def evaluate(self, X: Array) -> tuple[Array, list[Array]]:
        """Test-mode logits and each hidden layer's activations."""
        out, caches = forward(self.net, X, train=False)
        return out[:, 0], [c.h for c in caches[:-1]]

    def frame(self, options: FrameOptions) -> TrainFrame:
        # One test-mode forward pass for the training set, the test set and the
        # boundary's grid together (rows are independent in test mode): the cost of a
        # frame of a small net is the Python around each layer, not the arithmetic.
        X = self._frame_inputs(options.boundary)
        n, m = len(self.X), len(self.X_test)
        with np.errstate(all="ignore"):
            z, hidden_all = self.evaluate(X)
            z_train, z_test = z[:n], z[n : n + m]
            hidden = [h[:n] for h in hidden_all]
            train_loss = bce_with_logits(z_train, self.y) + self._penalty()
            test_loss = bce_with_logits(z_test, self.y_test)
        frame = TrainFrame(
            step=self.step_count,
            epoch=self.epoch,
            status=self.status,
            reason=self.reason,
            train_loss=train_loss if math.isfinite(train_loss) else None,
            test_loss=test_loss if math.isfinite(test_loss) else None,
            train_accuracy=float(np.mean((z_train > 0) == (self.y > 0.5))),
            accuracy=float(np.mean((z_test > 0) == (self.y_test > 0.5))),
            lr=self.lr,
            blowup=self.blowup,
        )
        if options.layer_stats:
            self._layer_stats(frame, hidden)
        if options.histograms:
            frame.histograms = self._histograms(hidden, options.histograms)
        if options.boundary:
            r = options.boundary
            with np.errstate(all="ignore"):
                p = 0.5 * (1.0 + np.tanh(0.5 * z[n + m :].astype(np.float64)))
            frame.boundary = p.reshape(r, r)
        if options.weights and self.net.n_params <= SMALL_NET_PARAMS:
            frame.weights = [lp.W.copy() for lp in self.net.layers]
            frame.biases = [lp.b.copy() for lp in self.net.layers]
        return frame

    def _layer_stats(self, frame: TrainFrame, hidden: list[Array]) -> None:
        for h in hidden:
            alive = np.any(h != 0, axis=0)
            frame.dead_units.append(int(h.shape[1] - np.count_nonzero(alive)))
            frame.zero_fraction.append(float(np.mean(h == 0)))
        grads = self._per_layer(self.last_grad)
        steps = self._per_layer(self.last_step)
        for i, lp in enumerate(self.net.layers):
            if grads is None or steps is None:
                frame.grad_norm.append(None)
                frame.update_ratio.append(None)
                continue
            gn = float(np.linalg.norm(grads[i].W))
            wn = float(np.linalg.norm(lp.W))
            sn = float(np.linalg.norm(steps[i].W))
            frame.grad_norm.append(gn if math.isfinite(gn) else None)
            ratio = sn / wn if wn > 0 else None
            frame.update_ratio.append(ratio if ratio is not None and math.isfinite(ratio) else None)

    def _per_layer(self, flat: Array | None) -> list[LayerParams] | None:
        if flat is None:
            return None
        return param_views(flat, self.net.input_dim, self.net.specs)

    def _histograms(self, hidden: list[Array], n: int) -> list[Histogram]:
        act = activations.get(self.config.activation)
        bins = Bins(*act.output_range, n)
        return [histogram(h, bins) for h in hidden]

    def grid(self, resolution: int) -> Array:
        """The boundary's resolution × resolution points over the data's domain (row = y)."""
        (x0, x1), (y0, y1) = self.data.domain
        gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
        out: Array = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(self.dtype)
        return out

    def _frame_inputs(self, resolution: int) -> Array:
        """Training set, test set, then the grid (if any): one array, made once per size."""
        cached = self._inputs.get(resolution)
        if cached is None:
            parts = [self.X, self.X_test] + ([self.grid(resolution)] if resolution else [])
            cached = self._inputs[resolution] = np.concatenate(parts)
        return cached

    def boundary(self, resolution: int) -> Array:
        """P(y = 1) on ``grid(resolution)`` (row = y)."""
        with np.errstate(all="ignore"):
            z, _ = self.evaluate(self.grid(resolution))
            p = 0.5 * (1.0 + np.tanh(0.5 * z.astype(np.float64)))
        return p.reshape(resolution, resolution)


def train(
    config: TrainConfig, every: int = 1, options: FrameOptions | None = None
) -> Iterator[TrainFrame]:
    """Frames at step 0 and then every ``every`` steps until ``config.steps`` or divergence."""
    options = options or FrameOptions()
    trainer = Trainer(config)
    yield trainer.frame(options)
    total = config.steps
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        while trainer.running:
            n = every if total is None else min(every, total - trainer.step_count)
            trainer.run(n)
            if total is not None and trainer.step_count >= total and trainer.running:
                trainer.status = "finished"
            yield trainer.frame(options)


def final_predictions(trainer: Trainer) -> Array:
    z, _ = trainer.evaluate(trainer.X)
    out: Array = 0.5 * (1.0 + np.tanh(0.5 * z.astype(np.float64)))
    return out
