"""Training lab steps/s against the same loop written with PyTorch on the CPU."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from deepscope.engine.race import RunConfig
from deepscope.engine.training import TrainConfig, Trainer

from .common import Row


def ours_steps_per_s(config: TrainConfig, steps: int) -> float:
    trainer = Trainer(config)
    trainer.run(5)
    t0 = time.perf_counter()
    trainer.run(steps)
    return steps / (time.perf_counter() - t0)


def torch_steps_per_s(config: TrainConfig, steps: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    trainer = Trainer(config)  # the same data
    X = torch.tensor(trainer.X)
    y = torch.tensor(trainer.y)
    layers: list[torch.nn.Module] = []
    fan_in = 2
    for width in config.hidden:
        linear = torch.nn.Linear(fan_in, width)
        torch.nn.init.xavier_normal_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, torch.nn.Tanh()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, 1))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=float(config.optimizer.hyper["lr"]))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    n, batch = len(y), config.batch_size
    rng = np.random.default_rng(0)

    def loop(k: int) -> None:
        order = torch.tensor(rng.permutation(n))
        cursor = 0
        for _ in range(k):
            if cursor + batch > n:
                order = torch.tensor(rng.permutation(n))
                cursor = 0
            idx = order[cursor : cursor + batch]
            cursor += batch
            opt.zero_grad()
            loss = loss_fn(model(X[idx])[:, 0], y[idx])
            loss.backward()
            opt.step()

    loop(5)
    t0 = time.perf_counter()
    loop(steps)
    return steps / (time.perf_counter() - t0)


def rows(quick: bool = False) -> list[Row]:
    small = TrainConfig(
        hidden=(8, 8),
        batch_size=10,
        optimizer=RunConfig("adam", {"lr": 0.03}),
        n_samples=200,
        steps=None,
    )
    big = replace(small, hidden=(500,) * 10, batch_size=100, n_samples=1000)
    out = []
    # The target (at least PyTorch's speed) is for the small net; the big one is for information.
    for label, config, steps, target in (
        ("2-8-8-1, batch 10", small, 200 if quick else 3000, "≥ 1×"),
        ("10 × 500, batch 100", big, 5 if quick else 60, "—"),
    ):
        ours = ours_steps_per_s(config, steps)
        theirs = torch_steps_per_s(config, steps)
        if theirs is None:
            out.append(
                Row(
                    f"Training lab {label}: steps/s vs PyTorch (CPU)",
                    f"{ours:,.0f}/s",
                    "torch not installed",
                    "—",
                    target,
                    None,
                )
            )
        else:
            out.append(
                Row(
                    f"Training lab {label}: steps/s vs PyTorch (CPU)",
                    f"{ours:,.0f}/s",
                    f"{theirs:,.0f}/s",
                    f"{ours / theirs:.2f}×",
                    target,
                    ours >= theirs if target != "—" else None,
                )
            )
    return out
