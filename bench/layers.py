"""Layers lab: the full computation vs bare float32 matmuls and vs a naive version."""

from __future__ import annotations

import itertools

import numpy as np

from deepscope.engine import layers_lab

from .common import Row, paired_ms


def bare_matmuls(widths: tuple[int, ...], input_dim: int, batch: int) -> None:
    """The float32 matmuls of the same forward and backward, and nothing else."""
    rng = np.random.default_rng(0)
    dims = [input_dim, *widths]
    Ws = [rng.standard_normal((a, b), dtype=np.float32) for a, b in itertools.pairwise(dims)]
    X = rng.standard_normal((batch, input_dim), dtype=np.float32)

    def run() -> None:
        hs = [X]
        for W in Ws:
            hs.append(hs[-1] @ W)
        d = hs[-1]
        for i in range(len(Ws) - 1, -1, -1):
            _ = hs[i].T @ d  # ∂L/∂W
            if i > 0:  # ∂L/∂X of the input is not needed (DeepScope skips it too)
                d = d @ Ws[i].T

    return run  # type: ignore[return-value]


def naive(config: layers_lab.LayersConfig) -> None:
    """What a student would write: float64, np.tanh, np.histogram per quantity."""
    rng = np.random.default_rng(config.seed)
    dims = [config.input_dim, *config.widths]
    Ws = [rng.standard_normal((a, b)) * config.scale for a, b in itertools.pairwise(dims)]
    X = rng.standard_normal((config.batch, config.input_dim))

    def run() -> None:
        hs, zs = [X], []
        for W in Ws:
            z = hs[-1] @ W
            zs.append(z)
            hs.append(np.tanh(z))
        d = hs[-1] / config.batch
        for i in reversed(range(len(Ws))):
            np.histogram(zs[i], bins=config.bins, range=(-6, 6))
            np.histogram(hs[i + 1], bins=config.bins, range=(-1, 1))
            deriv = 1 - hs[i + 1] ** 2
            np.histogram(deriv, bins=config.bins, range=(0, 1.25))
            np.histogram(np.log10(np.abs(d) + 1e-300), bins=config.bins, range=(-16, 2))
            dz = d * deriv
            dW = hs[i].T @ dz
            np.histogram(np.log10(np.abs(dW) + 1e-300), bins=config.bins, range=(-16, 2))
            for a in (zs[i], hs[i + 1], deriv, d, dW):
                a.mean(), a.std()
            d = dz @ Ws[i].T

    return run  # type: ignore[return-value]


def rows(quick: bool = False) -> list[Row]:
    config = layers_lab.LayersConfig()
    if quick:
        config = layers_lab.LayersConfig(widths=(50,) * 3, input_dim=50, batch=100)
    repeat = 3 if quick else 9
    ours, bare, ratio = paired_ms(
        lambda: layers_lab.run(config),
        bare_matmuls(config.widths, config.input_dim, config.batch),
        repeat=repeat,
    )
    _, slow, naive_ratio = paired_ms(
        lambda: layers_lab.run(config), naive(config), repeat=max(3, repeat // 3)
    )
    label = f"{len(config.widths)} × {config.widths[0]}, batch {config.batch}"
    out = [
        Row(
            f"Layers lab {label}: fwd + bwd + all statistics vs bare float32 matmuls (paired)",
            f"{ours:.1f} ms",
            f"{bare:.1f} ms",
            f"{ratio:.2f}×",
            "≤ 1.5×",
            ratio <= 1.5,
        ),
        Row(
            f"Layers lab {label} vs naive float64 + np.histogram (paired)",
            f"{ours:.1f} ms",
            f"{slow:.1f} ms",
            f"{1 / naive_ratio:.2f}× faster",
            "≥ 3× faster",
            1 / naive_ratio >= 3,
        ),
    ]
    return out
