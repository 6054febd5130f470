"""The MLP backward against centred differences, and the lectures' backprop examples."""

from __future__ import annotations

import numpy as np
import pytest

from deepscope.engine import activations
from deepscope.engine.layers import affine_backward, affine_forward
from deepscope.engine.network import LayerSpec, backward, build, forward, make_masks
from tests.conftest import centred_difference, relative_error


def _specs(activation: str, widths: tuple[int, ...], **kw: object) -> tuple[LayerSpec, ...]:
    params = tuple(sorted(activations.get(activation).resolve(kw.pop("act", None)).items()))  # type: ignore[arg-type]
    return tuple(LayerSpec(w, activation, params, **kw) for w in widths)  # type: ignore[arg-type]


def _check(
    specs: tuple[LayerSpec, ...],
    input_dim: int = 4,
    batch: int = 6,
    seed: int = 0,
    train: bool = True,
    bn_stats: str | None = None,
) -> None:
    rng = np.random.default_rng(seed)
    net = build(
        input_dim, specs, "xavier_normal", 1.5, 0.1, rng, np.float64, bn_gamma=1.3, bn_beta=-0.2
    )
    # Perturb BN and bias parameters away from their symmetric initial values.
    net.flat += 0.05 * rng.standard_normal(net.flat.size)
    for layer in net.layers:
        if layer.running_mean is not None and layer.running_var is not None:
            layer.running_mean[...] = 0.1 * rng.standard_normal(layer.running_mean.shape)
            layer.running_var[...] = 0.5 + rng.random(layer.running_var.shape)
    X = rng.standard_normal((batch, input_dim))
    masks = make_masks(net, batch, rng) if train else None
    R = rng.standard_normal((batch, specs[-1].width))

    def loss() -> float:
        out, _ = forward(net, X, train=train, masks=masks, bn_stats=bn_stats)  # type: ignore[arg-type]
        return float(np.sum(out * R))

    _, caches = forward(net, X, train=train, masks=masks, bn_stats=bn_stats)  # type: ignore[arg-type]
    grad, dX = backward(net, R, caches)
    numeric = centred_difference(lambda _: loss(), net.flat)
    assert relative_error(numeric, grad) < 1e-6
    numeric_x = centred_difference(lambda _: loss(), X)
    assert relative_error(numeric_x, dX) < 1e-6


@pytest.mark.parametrize(
    "activation", ["linear", "sigmoid", "tanh", "elu", "selu", "gelu", "silu", "softplus"]
)
def test_mlp_gradient_every_smooth_activation(activation: str) -> None:
    _check(_specs(activation, (5, 5, 3)))


def _kink_distance(specs: tuple[LayerSpec, ...], seed: int) -> float:
    """How close any pre-activation comes to a kink (0, or a tie between maxout pieces)."""
    rng = np.random.default_rng(seed)
    net = build(4, specs, "xavier_normal", 1.5, 0.1, rng, np.float64)
    net.flat += 0.05 * rng.standard_normal(net.flat.size)
    X = rng.standard_normal((6, 4))
    _, caches = forward(net, X, train=False)
    gaps = []
    for spec, cache in zip(specs, caches, strict=True):
        z = cache.act.z
        if spec.pieces > 1:
            top2 = np.sort(z.reshape(z.shape[0], -1, spec.pieces), axis=-1)[..., -2:]
            gaps.append(float(np.min(top2[..., 1] - top2[..., 0])))
        else:
            gaps.append(float(np.min(np.abs(z))))
    return min(gaps)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "prelu", "maxout"])
def test_mlp_gradient_piecewise_linear(activation: str) -> None:
    # Kinks are a measure-zero set: pick the first seed whose pre-activations all stay
    # farther from one than the finite-difference stencil reaches (±2h, h = 1e-3).
    specs = _specs(activation, (5, 4))
    seed = next(s for s in range(100) if _kink_distance(specs, s) > 0.01)
    _check(specs, seed=seed, train=False)


def test_mlp_gradient_with_batchnorm_dropout_and_residual() -> None:
    """The issue's combination: batch norm, a fixed dropout mask, skip connections."""
    specs = _specs("tanh", (5, 5, 5, 3), batchnorm=True, dropout_keep=0.7, residual=True)
    _check(specs, input_dim=5, batch=8)


def test_mlp_gradient_classic_dropout_and_eval_batchnorm() -> None:
    specs = _specs("elu", (4, 4, 2), batchnorm=True, dropout_keep=0.6, dropout_mode="classic")
    _check(specs, batch=7)
    _check(specs, batch=7, bn_stats="running")
    _check(specs, batch=7, train=False)


def test_dropout_keep_is_the_keep_probability() -> None:
    """Our convention: `keep` is p; inverted dropout keeps E[h] and classic scales by p at test."""
    spec = _specs("linear", (2000,), dropout_keep=0.8)
    net = build(1, spec, "constant", 1.0, 0.0, np.random.default_rng(0), np.float64)
    X = np.ones((50, 1))
    masks = make_masks(net, 50, np.random.default_rng(1))
    assert masks[0] is not None
    assert float(masks[0].mean()) == pytest.approx(0.8, abs=0.01)
    out, _ = forward(net, X, train=True, masks=masks)
    assert float(out.mean()) == pytest.approx(1.0, abs=0.01)  # inverted: E unchanged
    classic = _specs("linear", (2000,), dropout_keep=0.8, dropout_mode="classic")
    net_c = build(1, classic, "constant", 1.0, 0.0, np.random.default_rng(0), np.float64)
    out_train, _ = forward(net_c, X, train=True, masks=masks)
    out_test, _ = forward(net_c, X, train=False)
    assert float(out_train.mean()) == pytest.approx(0.8, abs=0.01)
    np.testing.assert_allclose(out_test, 0.8)  # test-time output scaled by p


def test_batchnorm_running_statistics() -> None:
    spec = _specs("linear", (3,), batchnorm=True)
    net = build(2, spec, "normal", 1.0, 0.0, np.random.default_rng(0), np.float64)
    X = np.random.default_rng(1).standard_normal((100, 2)) * 3 + 1
    out, _ = forward(net, X, train=True, update_running=True, bn_momentum=1.0)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(0), 1, rtol=1e-3)  # biased variance, ε = 1e-5
    running, _ = forward(net, X, train=False)
    np.testing.assert_allclose(running, out, atol=1e-12)


def test_backprop_worked_example_sum_times_z() -> None:
    """The lectures' worked example: f = (x + y)z at (−2, 5, −4).

    q = 3, f = −12, ∂f/∂x = ∂f/∂y = −4, ∂f/∂z = 3."""
    X = np.array([[-2.0, 5.0]])
    W1, W2 = np.array([[1.0], [1.0]]), np.array([[-4.0]])
    q = affine_forward(X, W1, np.zeros(1))
    f = affine_forward(q, W2, np.zeros(1))
    assert q[0, 0] == 3.0 and f[0, 0] == -12.0
    dq, dz, _ = affine_backward(np.ones((1, 1)), q, W2)
    dX, _, _ = affine_backward(dq, X, W1)
    assert dz[0, 0] == 3.0
    np.testing.assert_array_equal(dX, [[-4.0, -4.0]])


def test_backprop_worked_example_norm_of_Wx() -> None:
    """The lectures' worked example: f = ‖Wx‖², W = [[0.1, 0.5], [−0.3, 0.8]], x = [0.2, 0.4]."""
    W = np.array([[0.1, 0.5], [-0.3, 0.8]])
    x = np.array([[0.2, 0.4]])
    q = affine_forward(x, W.T, np.zeros(2))  # row-vector convention: q = x Wᵀ
    np.testing.assert_allclose(q, [[0.22, 0.26]])
    dx, dWT, _ = affine_backward(2 * q, x, W.T)
    np.testing.assert_allclose(dWT.T, [[0.088, 0.176], [0.104, 0.208]])
    np.testing.assert_allclose(dx, [[-0.112, 0.636]])


def test_logic_gate_neurons() -> None:
    """The lectures' logic units: g(θᵀ[1, x₁, x₂]) with AND, OR, NOR, NOT weights.

    XNOR = OR(AND, NOR)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)

    def neuron(theta: list[float], inputs: np.ndarray) -> np.ndarray:
        W = np.array(theta[1:])[:, None]
        return activations.sigmoid(affine_forward(inputs, W, np.array(theta[:1])), {})[:, 0]

    AND, OR, NOR = [-30, 20, 20], [-10, 20, 20], [10, -20, -20]
    np.testing.assert_allclose(neuron(AND, X), [0, 0, 0, 1], atol=1e-4)
    np.testing.assert_allclose(neuron(OR, X), [0, 1, 1, 1], atol=1e-4)
    np.testing.assert_allclose(neuron(NOR, X), [1, 0, 0, 0], atol=1e-4)
    np.testing.assert_allclose(
        neuron([10, -20], np.array([[0.0], [1.0]])), [1, 0], atol=1e-4
    )  # NOT
    hidden = np.stack([neuron(AND, X), neuron(NOR, X)], axis=1)
    np.testing.assert_allclose(neuron(OR, hidden), [1, 0, 0, 1], atol=1e-4)  # XNOR


def test_flat_layout_views_share_memory() -> None:
    spec = _specs("prelu", (3, 2), batchnorm=True)
    net = build(4, spec, "normal", 1.0, 0.0, np.random.default_rng(0))
    net.flat[:] = 7.0
    for layer in net.layers:
        assert np.all(layer.W == 7.0) and np.all(layer.b == 7.0)
        assert layer.alpha is not None and layer.alpha[0] == 7.0
    assert net.n_params == (4 * 3 + 3 + 3 + 3 + 1) + (3 * 2 + 2 + 2 + 2 + 1)
    assert int(net.weight_mask.sum()) == 4 * 3 + 3 * 2


def test_the_gradient_check_catches_a_wrong_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: a derivative off by 1 % fails it."""
    act = activations.ACTIVATIONS["tanh"]
    wrong = type(act)(
        **{**act.__dict__, "fdf": None, "df": lambda z, p: 1.01 * activations.d_tanh(z, p)}
    )
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", wrong)
    with pytest.raises(AssertionError):
        _check(_specs("tanh", (5, 3)))
