"""Lab adapters: a validated request in, the engine run, a response out.

Both the REST routes and the WebSocket sessions go through these functions, so
a lab computes the same numbers whichever way it is asked.
"""

from __future__ import annotations

import numpy as np

from ..engine import activations, layers_lab
from ..engine.histograms import Histogram
from ..protocol import (
    ActivationRequest,
    ActivationResponse,
    HistogramOut,
    LayerOut,
    LayersRequest,
    LayersResponse,
    NormalInput,
)


def layers_config(req: LayersRequest) -> layers_lab.LayersConfig:
    if isinstance(req.input, NormalInput):
        dist = layers_lab.InputDistribution("normal", mean=req.input.mean, std=req.input.std)
    else:
        dist = layers_lab.InputDistribution("uniform", low=req.input.low, high=req.input.high)
    return layers_lab.LayersConfig(
        widths=tuple(req.layer_widths),
        input_dim=req.input_dim,
        batch=req.batch,
        input=dist,
        activation=req.activation,
        activation_params=dict(req.activation_params),
        init=req.init,
        scale=req.scale,
        bias=req.bias,
        batchnorm=req.batchnorm,
        bn_gamma=req.bn_gamma,
        bn_beta=req.bn_beta,
        dropout_keep=req.dropout_keep,
        dropout_mode=req.dropout_mode,
        residual=req.residual,
        seed=req.seed,
        bins=req.bins,
        dtype=req.dtype,
    )


def histogram_out(h: Histogram, edges: list[float]) -> HistogramOut:
    return HistogramOut(
        mean=h.mean,
        std=h.std,
        edges=edges,
        counts=h.counts.tolist(),
        below=h.below,
        above=h.above,
        nonfinite=h.nonfinite,
        scale=h.bins.scale,
    )


def layers_response(result: layers_lab.LayersResult) -> LayersResponse:
    edges = {q: [round(float(e), 10) for e in b.edges] for q, b in result.bins.items()}
    layers = [
        LayerOut(
            index=s.index,
            width=s.width,
            **{q: histogram_out(s.hist[q], edges[q]) for q in layers_lab.QUANTITIES},
            saturated_fraction=s.saturated_fraction,
            dead_units=s.dead_units,
            zero_fraction=s.zero_fraction,
            grad_norm=s.grad_norm,
            n_var_w=s.n_var_w,
        )
        for s in result.layers
    ]
    return LayersResponse(
        layers=layers,
        theory=result.theory,
        theory_note=result.theory_note,
        n_var_w_expected=result.n_var_w_expected,
        n_var_w_target=result.target_gain,
        saturation_rule=result.saturation_rule,
        loss=result.loss,
        elapsed_ms=result.elapsed_ms,
    )


def run_layers(req: LayersRequest) -> LayersResponse:
    return layers_response(layers_lab.run(layers_config(req)))


def run_activation(req: ActivationRequest) -> ActivationResponse:
    x = np.asarray(req.x, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        f, df = activations.curve(req.name, x, req.params)
    return ActivationResponse(name=req.name, params=req.params, f=f.tolist(), df=df.tolist())
