"""The wire names are the registry keys: the Literals in protocol.py equal them."""

from __future__ import annotations

from typing import get_args

from server import protocol
from server.engine import activations, datasets, initializers, optimizers, surfaces


def test_literals_equal_the_registries() -> None:
    assert list(get_args(protocol.ActivationName)) == list(activations.ACTIVATIONS)
    assert list(get_args(protocol.InitName)) == list(initializers.INITIALIZERS)
    assert list(get_args(protocol.OptimizerName)) == list(optimizers.OPTIMIZERS)
    assert list(get_args(protocol.SurfaceName)) == list(surfaces.SURFACE_SPECS)
    assert list(get_args(protocol.ScheduleName)) == list(optimizers.SCHEDULES)
    assert list(get_args(protocol.DatasetName)) == list(datasets.DATASETS)


def test_every_optimizer_hyper_parameter_has_a_wire_field() -> None:
    fields = set(protocol.OptimizerChoice.model_fields)
    for spec in optimizers.OPTIMIZERS.values():
        for h in spec.hyper:
            assert h.name in fields, (spec.name, h.name)


def test_quantity_names_equal_the_layers_lab() -> None:
    from server.engine import layers_lab

    assert tuple(get_args(protocol.Quantity)) == layers_lab.QUANTITIES == protocol.QUANTITY_NAMES
