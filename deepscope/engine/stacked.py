"""K copies of one training run, stepped together: the optimizer race on a network.

K trainers of one configuration — the same data, initial weights, mini-batch order
and dropout masks — that differ only in their optimizer (with its hyper-parameters,
clipping, gradient noise and schedule). Their weights are one (K, P) array, and each
trainer's network is a view of its row (so its frames, its forward pass and the
landscape read it as they read a lone run). A step runs every layer once for all K
runs: batched matrix products, (K, N, D) @ (K, D, M) in one NumPy call, which hands
BLAS the same product per run that the run alone hands it; every reduction runs
along the same axis in the same order as a lone run's; the optimizer step is one
call of the fused rule over the K rows, each with its own coefficients. So run k
gets, bit for bit, the numbers of ``Trainer`` with optimizer k alone
(``tests/engine/test_stacked.py``).

What is per run is computed per run, as the lone run computes it: the learning rate
of its schedule, its bias corrections, its divergence (its loss is a mean along its
own row, in float64, as alone). A run that diverges keeps its last finite weights
and drops out of the rule (a zero learning rate, its state cleared); the others go on.

Where shapes do not allow it, a run is stepped alone: Newton's method takes its
Hessian by 2P more backward passes of its own a step and solves with it
(``stackable`` says why); ``landscape.race`` steps those runs one after another in
the same blocks of steps as the stack. And a run blowing up (a gradient or weight
past √max · 10⁻⁶) leaves the stack before the step where the shared rule could meet
0·∞ in a part it does not use (``handed_back``): the caller goes on with it alone,
replayed from the start to that step (``landscape.race`` does), which costs the
blown-up run its steps twice and keeps it the lone run's to the last bit.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from . import activations, optimizers
from .fused import FusedRule
from .layers import BN_EPS, BN_MOMENTUM, dropout_backward, dropout_forward, prelu_alpha_grad
from .network import LayerSpec, Network, _layer_sizes, make_masks, param_views
from .training import Trainer

Array = NDArray[np.floating]
# A run leaves the stack when a gradient or weight passes √(dtype's max) × this (see
# ``StackedTrainer.step``): far into a blow-up (1.8e13 in float32), with room for
# momentum's sum of up to 1/(1 − 0.9999) gradients before a square overflows.
HAND_BACK = 1e-6
Views = list[dict[str, Array]]  # per layer: W (K, D, M), b (K, M), … views of a (K, P) stack


def stack_views(stack: Array, input_dim: int, specs: Sequence[LayerSpec]) -> Views:
    """Per layer, W, b, γ, β, α of every row of a (K, P) stack, as (K, …) views."""
    K = stack.shape[0]
    out: Views = []
    offset, fan_in = 0, input_dim
    for spec in specs:
        parts: dict[str, Array] = {}
        for name, shape in _layer_sizes(fan_in, spec):
            size = int(np.prod(shape))
            parts[name] = stack[:, offset : offset + size].reshape(K, *shape)
            offset += size
        out.append(parts)
        fan_in = spec.width
    return out


def stackable(trainer: Trainer) -> str | None:
    """Why this run cannot be stepped in a stack (None: it can)."""
    if trainer.needs_hessian:
        return "Newton's method takes a Hessian of its own (2P more backward passes a step)"
    return None


@dataclass
class _Cache:
    x: Array  # the layer's input: (N, D) for the first layer (shared), else (K, N, D)
    z: Array  # (K, N, M) the nonlinearity's input
    dh_dz: Array  # (K, N, M) f′(z) (one-hot over pieces for maxout)
    bn: tuple[Array, Array, Array] | None  # x̂ (K, N, M), 1/√(σ² + ε) (K, M), γ (K, M)
    factor: Array | None  # dropout's multiplier (N, H), shared by the runs
    residual: bool


class StackedTrainer:
    """K trainers of one configuration (their optimizers aside), stepped as one.

    The trainers' networks (and batch-norm buffers) become views of the stack's rows;
    their step counts, epochs, learning rates, last gradients and steps, status and
    blow-up watch are kept as each would keep them alone, so ``trainer.frame`` works
    as for a lone run. Raises ValueError if a trainer cannot be stacked
    (``stackable``), has stepped already, or the trainers differ in more than their
    optimizer.
    """

    def __init__(self, trainers: Sequence[Trainer]) -> None:
        if not trainers:
            raise ValueError("a stack needs at least one trainer")
        for t in trainers:
            why = stackable(t)
            if why is not None:
                raise ValueError(why)
        first = trainers[0]
        if any(t.step_count for t in trainers):  # (their rules' state is not carried over)
            raise ValueError("a stack starts from fresh trainers (step 0)")
        if any(t.config != replace(first.config, optimizer=t.config.optimizer) for t in trainers):
            raise ValueError("the trainers of a stack differ only in their optimizer")
        self.trainers = list(trainers)
        K, P = len(trainers), first.net.n_params
        self.K = K
        self.dtype = dt = first.dtype
        net = first.net
        self.input_dim, self.specs = net.input_dim, net.specs
        self.theta = np.stack([t.net.flat for t in trainers])  # (K, P)
        self.views = stack_views(self.theta, net.input_dim, net.specs)
        # batch norm's running buffers, (K, M) per layer, rows shared with the trainers
        self.running: list[tuple[Array, Array] | None] = []
        for i, lp in enumerate(net.layers):
            if lp.running_mean is None or lp.running_var is None:
                self.running.append(None)
                continue
            means = [t.net.layers[i].running_mean for t in trainers]
            variances = [t.net.layers[i].running_var for t in trainers]
            self.running.append((np.stack(means), np.stack(variances)))  # type: ignore[arg-type]
        for k, t in enumerate(trainers):
            row = self.theta[k]
            layers = param_views(row, net.input_dim, net.specs)
            for lp, stats in zip(layers, self.running, strict=True):
                if stats is not None:
                    lp.running_mean, lp.running_var = stats[0][k], stats[1][k]
            t.net = Network(net.input_dim, net.specs, row, layers, t.net.weight_mask)
        self.wmask = net.weight_mask
        self.rule = FusedRule(optimizers.stack([t.opt for t in trainers]).c, (K, P), dt)
        self._lr = np.zeros((K, 1), dtype=dt)  # lr_t, lr_t·B1_t and B2_t per run
        self._lr_b1 = np.zeros((K, 1), dtype=dt)
        self._b2 = np.ones((K, 1), dtype=dt)
        # Step and gradient buffers, used in turn: a run's last accepted step and gradient
        # (its frames read them) stay as they were through the next step.
        self._steps = [np.empty((K, P), dtype=dt) for _ in range(2)]
        self._grads = [np.empty((K, P), dtype=dt) for _ in range(2)]
        self._grad_views = [stack_views(g, net.input_dim, net.specs) for g in self._grads]
        self.pieces = [spec.pieces for spec in net.specs]
        self.alive = np.ones((K, 1), dtype=bool)
        # Nesterov's look-ahead: lr_t·μ per run (0 for the others: θ − 0·m is θ)
        self._nesterov = [t._nesterov for t in trainers]
        self._lr_mu = np.zeros((K, 1), dtype=dt) if any(self._nesterov) else None
        self._ahead = np.empty((K, P), dtype=dt) if any(self._nesterov) else None
        self.ahead_views = (
            stack_views(self._ahead, net.input_dim, net.specs) if self._ahead is not None else None
        )
        self._noise = [t.grad_noise for t in trainers]
        # clipping row by row, as each run alone clips (a shared call would take the norm
        # of a run that does not clip, and an overflowed norm would turn its gradient NaN)
        self._clips = [bool(t.clip_norm or t.clip_value) for t in trainers]
        self._constant_lr = [t.schedule.name == "constant" for t in trainers]
        # One stream each for the batches, dropout masks and noise: every trainer's own
        # are the same seeds, and every run draws from them at every step it takes.
        # (copies: a trainer handed back goes on with streams of its own)
        self.rng_batch = copy.deepcopy(first.rng_batch)
        self.rng_dropout = copy.deepcopy(first.rng_dropout)
        self.rng_noise = copy.deepcopy(first.rng_noise)
        self.limit = float(np.sqrt(np.finfo(dt).max)) * HAND_BACK
        self.handed_back: list[tuple[int, int]] = []  # (row, the step it stopped before)
        self.order, self.cursor, self.epoch = first.order, first.cursor, first.epoch
        self.batch = first.batch
        self.X, self.y = first.X, first.y
        self.count = first.step_count
        self.dropout = first.config.dropout_keep < 1
        self.l1, self.l2 = first.config.l1, first.config.l2

    def live(self) -> list[int]:
        """The rows still stepped here: running, neither diverged nor handed back."""
        return [k for k, t in enumerate(self.trainers) if t.running and self.alive[k, 0]]

    @property
    def running_any(self) -> bool:
        return bool(self.live())

    def run(self, n: int) -> None:
        """Up to ``n`` steps of every run still running."""
        for _ in range(n):
            self.step()
            if not self.running_any:
                return

    def _next_batch(self) -> NDArray[np.intp]:
        n = len(self.y)
        if self.cursor + self.batch > n:
            self.order = self.rng_batch.permutation(n)
            self.cursor = 0
            self.epoch += 1
        idx = self.order[self.cursor : self.cursor + self.batch]
        self.cursor += self.batch
        return idx

    def _stop(self, k: int) -> None:
        """Run k diverged: out of the rule, its learning rate 0, its weights frozen."""
        self.alive[k] = False
        t = self.trainers[k]
        if t.last_step is not None and t.last_grad is not None:  # (rows of buffers reused)
            t.last_step, t.last_grad = t.last_step.copy(), t.last_grad.copy()
        self._lr[k] = self._lr_b1[k] = 0
        self.rule.retire(k)

    def step(self) -> None:
        """One mini-batch update of every running run (as ``Trainer.step`` each)."""
        live = self.live()
        if not live:
            return
        dt = self.dtype.type
        idx = self._next_batch()
        X, y = self.X[idx], self.y[idx]
        masks = (
            make_masks(self.trainers[0].net, len(idx), self.rng_dropout) if self.dropout else None
        )
        step_no = self.count
        rates: dict[int, float] = {}
        for k in live:
            t = self.trainers[k]
            if self._constant_lr[k]:
                lr_t = t.lr0 * 1.0
            else:
                lr_t = t.lr0 * float(t.schedule.factor(np.array([step_no]))[0])
            t.lr = rates[k] = lr_t
            b1, b2 = t.opt.bias_corrections(step_no + 1)
            self._lr[k, 0] = lr_t
            self._lr_b1[k, 0] = dt(lr_t * b1)
            self._b2[k, 0] = dt(b2)
            if self._lr_mu is not None:
                self._lr_mu[k, 0] = dt(lr_t * self._nesterov[k])
        theta = self.theta
        point, views = theta, self.views
        if self._lr_mu is not None and self._ahead is not None and self.ahead_views is not None:
            self.rule.look_ahead(theta, self._lr_mu, self._ahead)  # θ − lr·μ·m
            point, views = self._ahead, self.ahead_views
        losses, grad = self._loss_and_grad(point, views, X, y, masks, step_no % 2)
        if any(self._noise[k] for k in live):
            noise = self.rng_noise.standard_normal((grad.shape[1],)).astype(self.dtype)
            for k in live:
                if self._noise[k]:
                    grad[k] = grad[k] + dt(self._noise[k]) * noise
        for k in live:
            if self._clips[k]:
                t = self.trainers[k]
                grad[k] = optimizers.clip(grad[k], t.clip_norm, t.clip_value)
        # A run blowing up (|g| or |θ| past √max/10⁶) goes on alone from this step: the
        # shared rule computes every part any run uses for every row, with zero
        # coefficients where a run does not use it, and 0·∞ there would be NaN where
        # the run alone (which never computes that part) takes a finite step.
        huge = (np.abs(grad).max(axis=1) > self.limit) | (np.abs(theta).max(axis=1) > self.limit)
        if np.any(huge[live]):
            for k in [k for k in live if huge[k]]:
                self.handed_back.append((k, step_no))
                self.alive[k] = False
                self._lr[k] = self._lr_b1[k] = 0
                self.rule.retire(k)
            live = self.live()
        if len(live) < self.K:  # (a stopped run's gradient feeds nothing)
            np.copyto(grad, 0, where=~self.alive)
        step = self.rule.step(
            grad, theta, self._lr_b1, self._b2, self._lr, None, None, out=self._steps[step_no % 2]
        )
        self.count = step_no + 1
        sums = step.sum(axis=1, dtype=np.float64)
        for k in live:
            t = self.trainers[k]
            t.step_count, t.epoch = self.count, self.epoch
            if not (math.isfinite(losses[k]) and math.isfinite(sums[k])):
                t.status = "diverged"
                t.reason = t._overflowed(
                    "loss" if not math.isfinite(losses[k]) else "weights", rates[k]
                )
                self._stop(k)
        np.subtract(theta, step, out=theta, where=self.alive)
        totals = theta.sum(axis=1, dtype=np.float64)
        for k in live:
            t = self.trainers[k]
            if not t.running:
                continue
            if not math.isfinite(totals[k]):  # weights overflowed: back to the last finite
                theta[k] += step[k]
                t.status = "diverged"
                t.reason = t._overflowed("weights", rates[k])
                self._stop(k)
                continue
            t.last_grad, t.last_step = grad[k], step[k]
            t._watch(losses[k], rates[k])

    # --- one forward and backward pass for every run -----------------------------------

    def _loss_and_grad(
        self,
        point: Array,
        views: Views,
        X: Array,
        y: Array,
        masks: list[Array | None] | None,
        buffer: int,
    ) -> tuple[list[float], Array]:
        """Training-mode losses (with penalties) and gradients at the rows of ``point``."""
        out, caches = self._forward(views, X, masks)
        z = out[:, :, 0]  # (K, N)
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # σ(z), stable
        dz = ((p - y) / len(y)).astype(self.dtype)[..., None]
        grad = self._backward(views, dz, caches, buffer)
        softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))  # training.bce_with_logits
        bce = np.asarray(np.mean(softplus - y * z, axis=1, dtype=np.float64))  # (rows as alone)
        losses = [float(bce[k]) + self._penalty(point[k]) for k in range(self.K)]
        dt = self.dtype.type
        if self.l2:
            grad += dt(self.l2) * point * self.wmask
        if self.l1:
            grad += dt(self.l1) * np.sign(point) * self.wmask
        return losses, grad

    def _penalty(self, row: Array) -> float:
        if not (self.l1 or self.l2):
            return 0.0
        w = row[self.wmask].astype(np.float64)
        return self.l1 * float(np.abs(w).sum()) + 0.5 * self.l2 * float(w @ w)

    def _forward(
        self, views: Views, X: Array, masks: list[Array | None] | None
    ) -> tuple[Array, list[_Cache]]:
        dt = self.dtype
        h: Array = X.astype(dt, copy=False)  # (N, D), then (K, N, H)
        caches: list[_Cache] = []
        for i, (spec, p) in enumerate(zip(self.specs, views, strict=True)):
            x = h
            a = np.matmul(x, p["W"])  # (N, D) or (K, N, D) @ (K, D, M) → (K, N, M)
            if p["b"].any():
                a += p["b"][:, None, :]
            bn = None
            stats = self.running[i]
            if spec.batchnorm and stats is not None:
                a, bn = self._batchnorm(a, p["gamma"], p["beta"], stats)
            act = activations.get(spec.activation)
            params: dict[str, object] = dict(spec.params)
            if "alpha" in p:  # PReLU's learned α, one per run: a (K, 1, 1) column
                params["alpha"] = p["alpha"].astype(np.float64)[:, :, None]
            k = self.pieces[i]
            if k > 1:
                z3 = a.reshape(*a.shape[:2], -1, k)  # (K, N, H, k)
                hidden = act.f(z3, params)  # type: ignore[arg-type]
                d = act.df(z3, params).reshape(a.shape)  # type: ignore[arg-type]
            else:
                hidden, d = act.value_and_derivative(a, params)  # type: ignore[arg-type]
            mask = masks[i] if masks is not None else None
            out, factor = dropout_forward(hidden, spec.dropout_keep, spec.dropout_mode, True, mask)
            residual = spec.residual and x.shape[-1] == spec.width
            if residual:
                out = out + x
            caches.append(_Cache(x, a, d, bn, factor, residual))
            h = out
        return h, caches

    def _batchnorm(
        self, a: Array, gamma: Array, beta: Array, stats: tuple[Array, Array]
    ) -> tuple[Array, tuple[Array, Array, Array]]:
        """Training-mode batch norm of every run (``layers.batchnorm_forward`` per row),
        folding each running run's batch statistics into its running buffers."""
        mu = a.mean(axis=1)
        var = a.var(axis=1)
        mean_buf, var_buf = stats
        for buf, batch in ((mean_buf, mu), (var_buf, var)):
            if bool(np.all(self.alive)):
                buf *= 1 - BN_MOMENTUM
                buf += BN_MOMENTUM * batch
            else:  # a stopped run's buffers stay as they were
                new = buf * (1 - BN_MOMENTUM)
                new += BN_MOMENTUM * batch
                np.copyto(buf, new, where=self.alive)
        inv_std = (1.0 / np.sqrt(var + BN_EPS)).astype(a.dtype, copy=False)
        xhat = (a - mu[:, None, :]) * inv_std[:, None, :]
        z = xhat * gamma[:, None, :]
        z += beta[:, None, :]
        return z, (xhat, inv_std, gamma)

    def _backward(self, views: Views, dout: Array, caches: list[_Cache], buffer: int) -> Array:
        """The (K, P) gradient, each run's in its row (``network.backward`` per row), in
        gradient buffer ``buffer`` (every entry is written)."""
        grad, grads = self._grads[buffer], self._grad_views[buffer]
        dx: Array = dout
        for i in range(len(caches) - 1, -1, -1):
            c, g, p = caches[i], grads[i], views[i]
            grad_h = dropout_backward(dx, c.factor)
            k = self.pieces[i]
            dz: Array
            if k > 1:
                K, N = grad_h.shape[:2]
                dz = (c.dh_dz.reshape(K, N, -1, k) * grad_h[..., None]).reshape(K, N, -1)
            else:
                dz = grad_h * c.dh_dz
            if "alpha" in g:
                for r in range(self.K):
                    g["alpha"][r, 0] = prelu_alpha_grad(grad_h[r], c.z[r])
            if c.bn is not None:
                dz = self._batchnorm_backward(dz, c.bn, g)
            xt = c.x.T if c.x.ndim == 2 else c.x.transpose(0, 2, 1)
            np.matmul(xt, dz, out=g["W"])
            np.sum(dz, axis=1, out=g["b"])
            if i == 0:
                break  # ∂L/∂X is not needed
            dx_next = np.matmul(dz, p["W"].transpose(0, 2, 1))
            if c.residual:
                dx_next += dx
            dx = dx_next
        return grad

    @staticmethod
    def _batchnorm_backward(
        dz: Array, bn: tuple[Array, Array, Array], g: dict[str, Array]
    ) -> Array:
        """``layers.batchnorm_backward`` (training mode) per row; writes dγ, dβ into ``g``."""
        xhat, inv_std, gamma = bn
        g["gamma"][...] = (dz * xhat).sum(axis=1)
        g["beta"][...] = dz.sum(axis=1)
        dxhat = dz * gamma[:, None, :]
        n = dz.shape[1]
        da = dxhat * n
        da -= dxhat.sum(axis=1)[:, None, :]
        da -= xhat * (dxhat * xhat).sum(axis=1)[:, None, :]
        da *= (inv_std / n)[:, None, :]
        out: Array = da
        return out
