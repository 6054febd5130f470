"""The benchmark's sections, each run in a process of its own (``python -m bench``)."""

from __future__ import annotations

from deepscope.runtime import tune_allocator

from . import (
    classroom,
    e2e,
    landscape,
    layers,
    layers_class,
    optimizers,
    reliability,
    streaming,
    surfaces,
    sweep,
    training,
)
from .common import Row

SECTIONS = {
    "layers": layers.rows,
    "optimizers": optimizers.rows,
    "sweep": sweep.rows,
    "surfaces": surfaces.rows,
    "training": training.rows,
    "landscape": landscape.rows,
    "e2e": e2e.rows,
    "layers_class": layers_class.rows,
    "classroom": classroom.rows,
    "streaming": streaming.rows,
    "reliability": reliability.rows,
}


def run(name: str, quick: bool) -> list[Row]:
    """One section's rows, in this process (the allocator tuned as the server's)."""
    tune_allocator()
    return SECTIONS[name](quick)
