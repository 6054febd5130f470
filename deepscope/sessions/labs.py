"""Lab adapters: a validated request in, the engine run, a response out.

Both the REST routes and the WebSocket sessions go through these functions, so
a lab computes the same numbers whichever way it is asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import cast

import numpy as np

from .. import i18n
from ..engine import (
    activations,
    landscape,
    layers_lab,
    optimizers,
    owndata,
    race,
    surfaces,
    sweep,
    training,
)
from ..engine.expressions import ExpressionError
from ..engine.histograms import Histogram
from ..engine.text import Text
from ..protocol import (
    UPLOAD_TTL_S,
    ActivationRequest,
    ActivationResponse,
    BlowUpOut,
    DatasetRequest,
    DatasetResponse,
    DescendRequest,
    DescendResponse,
    HistogramOut,
    HistoryRow,
    LandscapeRaceRequest,
    LandscapeRaceResponse,
    LandscapeRaceRunOut,
    LandscapeRequest,
    LandscapeResponse,
    LayerOut,
    LayerRow,
    LayersRequest,
    LayersResponse,
    NormalInput,
    OptimizerChoice,
    Problem,
    RunOut,
    SurfaceChoice,
    SurfaceInfo,
    SurfaceRequest,
    SurfaceResponse,
    SweepCurveOut,
    SweepRequest,
    SweepResponse,
    SweepSpec,
    TextRef,
    TrainFinal,
    TrainRequest,
    TrainResponse,
)
from .encode import finite_list


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
        quantities=tuple(req.histograms),
    )


def histogram_out(h: Histogram, edges: list[float]) -> HistogramOut:
    return {
        "mean": h.mean,
        "std": h.std,
        "edges": edges,
        "counts": None if h.counts is None else h.counts.tolist(),
        "below": h.below,
        "above": h.above,
        "nonfinite": h.nonfinite,
        "scale": h.bins.scale,
    }


def layers_response(result: layers_lab.LayersResult) -> LayersResponse:
    edges = {q: [round(float(e), 10) for e in b.edges] for q, b in result.bins.items()}
    layers = []
    for s in result.layers:
        row: LayerRow = {
            "index": s.index,
            "width": s.width,
            "saturated_fraction": s.saturated_fraction,
            "dead_units": s.dead_units,
            "zero_fraction": s.zero_fraction,
            "grad_norm": s.grad_norm,
            "n_var_w": s.n_var_w,
            "flags": [{"quantity": f.quantity, "kind": f.kind, "share": f.share} for f in s.flags],
        }
        hists = {q: histogram_out(s.hist[q], edges[q]) for q in layers_lab.QUANTITIES}
        # (a histogram per quantity: LayerOut's keys, which LayersResponse validates)
        layers.append(cast(LayerOut, {**row, **hists}))
    return LayersResponse(
        layers=layers,
        theory=result.theory,
        theory_note=i18n.english(result.theory_note),
        theory_text=text_ref(result.theory_note),
        n_var_w_expected=result.n_var_w_expected,
        n_var_w_target=result.target_gain,
        saturation_rule=i18n.english(result.saturation_rule),
        saturation_text=text_ref(result.saturation_rule),
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


# --- optimizer lab ------------------------------------------------------------------


class InputError(ValueError):
    """Input that validated field by field but does not work together; names the field.

    ``code`` and ``params`` let the page word it in its language (a ``Problem``).
    """

    def __init__(
        self, field: str, message: str, code: str = "invalid_input", **params: float | str
    ) -> None:
        self.field = field
        self.message = message
        self.code = code
        self.params = params
        super().__init__(f"{field}: {message}")

    def problem(self, prefix: str = "") -> Problem:
        return Problem(
            field=f"{prefix}{self.field}", code=self.code, params=self.params, message=self.message
        )


def expression_error(err: ExpressionError) -> InputError:
    """A typed surface the parser refused, in English here and, from its key and slots
    (``detail``, ``position`` and the sentence's own), in the page's language there."""
    message = i18n.english(err.said)
    slots: dict[str, float | str] = {"detail": err.said.key, **err.said.vars}
    if err.character is not None:
        message = i18n.text("expr.at", "en", message=message, position=str(err.character))
        slots["position"] = err.character
    return InputError("surface.expr", message, "expression", **slots)


@lru_cache(maxsize=64)
def _custom_surface(
    expr: str, domain: tuple[tuple[float, float], ...] | None, dims: int | None
) -> surfaces.Surface:
    return surfaces.build_custom(surfaces.CustomSurface(expr, domain, dims=dims))


def build_surface(choice: SurfaceChoice, params: dict[str, float]) -> surfaces.Surface:
    """A named surface with its parameters, or a typed one (InputError if it is bad)."""
    if isinstance(choice, str):
        return surfaces.build(choice, params)
    domain = tuple((lo, hi) for lo, hi in choice.domain) if choice.domain else None
    try:
        return _custom_surface(choice.expr, domain, choice.dims)
    except ExpressionError as err:
        raise expression_error(err) from None
    except surfaces.DomainError as err:
        raise InputError("surface.domain", str(err), "domain_dims", dims=err.dims) from None
    except ValueError as err:
        raise InputError("surface.domain", str(err), "domain") from None


def surface_title(surface: surfaces.Surface) -> str:
    """A registry surface's title; a typed one is its expression."""
    if surface.name in surfaces.SURFACE_SPECS:
        return i18n.text(f"surface.{surface.name}.title")
    return surface.formula


def text_ref(said: Text) -> TextRef:
    return {"key": said.key, "vars": dict(said.vars)}


def surface_info(surface: surfaces.Surface) -> SurfaceInfo:
    return {
        "name": surface.name,
        "title": surface_title(surface),
        "formula": surface.formula,
        "dims": surface.dims,
        "domain": [[float(lo), float(hi)] for lo, hi in surface.domain],
        "start": [float(x) for x in surface.start],
        "critical_points": [
            {
                "point": finite_list(c.point),
                "value": float(c.value),
                "kind": c.kind,
                "eigenvalues": finite_list(c.eigenvalues),
            }
            for c in surface.critical_points
        ],
        "notes": (
            i18n.notes("surface", surface.name) if surface.name in surfaces.SURFACE_SPECS else []
        ),
    }


def run_config(run: OptimizerChoice, start: list[float] | None = None) -> race.RunConfig:
    sched = run.schedule_spec
    label = getattr(run, "label", None)
    own_start = getattr(run, "start", None)
    return race.RunConfig(
        optimizer=run.optimizer,
        hyper=run.hyper,
        start=tuple(chosen) if (chosen := own_start or start) else None,
        clip_norm=run.clip_norm,
        clip_value=run.clip_value,
        noise=run.noise,
        schedule=optimizers.Schedule(**sched.model_dump()),  # (its fields are the knobs')
        label=label or run.optimizer,
    )


def check_starts(req: DescendRequest, surface: surfaces.Surface) -> None:
    for i, run in enumerate(req.runs):
        start = run.start or req.start
        if start is not None and len(start) != surface.dims:
            where = f"runs.{i}.start" if run.start else "start"
            raise InputError(
                where,
                f"needs {surface.dims} coordinate(s) on this surface",
                "start_dims",
                dims=surface.dims,
            )


def run_descend(req: DescendRequest) -> DescendResponse:
    started = time.perf_counter()
    surface = build_surface(req.surface, req.surface_params)
    check_starts(req, surface)
    configs = [run_config(r, req.start) for r in req.runs]
    results = race.descend(surface, configs, req.steps, req.seed)
    every = req.every
    runs = []
    for res in results:
        rows = np.arange(0, res.points.shape[0], every)
        if rows[-1] != res.points.shape[0] - 1:  # always keep the last point
            rows = np.append(rows, res.points.shape[0] - 1)
        extra = {
            "gradient": finite_list(res.grad[rows]) if "gradient" in req.include else None,
            "step": finite_list(res.step[rows]) if "step" in req.include else None,
            "effective_lr": (
                finite_list(res.effective_lr[rows]) if "effective_lr" in req.include else None
            ),
            "distance": (
                finite_list(res.distance[rows])
                if "distance" in req.include and res.distance is not None
                else None
            ),
        }
        runs.append(  # the engine's arrays, made finite above: no need to validate again
            RunOut.model_construct(
                optimizer=res.optimizer,
                label=res.label,
                status=res.status,
                stopped_at=res.stopped_at,
                points=finite_list(res.points[rows]),
                loss=finite_list(res.loss[rows]),
                **extra,
            )
        )
    return DescendResponse(
        surface=surface_info(surface),
        runs=runs,
        steps=req.steps,
        every=every,
        elapsed_ms=(time.perf_counter() - started) * 1e3,
    )


def run_surface(req: SurfaceRequest) -> SurfaceResponse:
    started = time.perf_counter()
    surface = build_surface(req.surface, req.surface_params)
    axes, z = surface.grid(req.resolution)
    if surface.dims == 1:
        dz = surface.gradient(axes[0][:, None])[:, 0]
        return SurfaceResponse(
            surface=surface_info(surface),
            x=finite_list(axes[0]),
            z=finite_list(z, 7),
            dz=finite_list(dz, 7),
            elapsed_ms=(time.perf_counter() - started) * 1e3,
        )
    return SurfaceResponse(
        surface=surface_info(surface),
        x=finite_list(axes[0]),
        y=finite_list(axes[1]),
        z=finite_list(z, 7),
        elapsed_ms=(time.perf_counter() - started) * 1e3,
    )


# --- learning-rate sweeps ----------------------------------------------------------


def start_sweep(
    surface: surfaces.Surface,
    runs: list[race.RunConfig],
    spec: SweepSpec,
    steps: int,
    seed: int,
) -> sweep.Sweep:
    """The sweep of ``runs`` on ``surface`` (InputError when the surface knows no f*)."""
    try:
        return sweep.Sweep(surface, runs, spec.config(), steps, seed)
    except sweep.NoMinimumError as err:
        raise InputError("surface", str(err), "sweep_no_minimum") from None


def run_sweep(req: SweepRequest) -> SweepResponse:
    """Every optimizer × learning rate as one race; the best run's path per optimizer."""
    started = time.perf_counter()
    surface = build_surface(req.surface, req.surface_params)
    if req.start is not None and len(req.start) != surface.dims:
        raise InputError(
            "start",
            f"needs {surface.dims} coordinate(s) on this surface",
            "start_dims",
            dims=surface.dims,
        )
    runs = [run_config(r, req.start) for r in req.optimizers]
    swept = start_sweep(surface, runs, req, req.steps, req.seed)
    swept.run()
    curves: list[SweepCurveOut] = []
    for j, curve in enumerate(swept.curves()):
        path = None
        if curve.best is not None:
            path = finite_list(swept.path(swept.run_index(j, curve.best)))
        curves.append(
            {
                "optimizer": curve.optimizer,
                "label": curve.label,
                "lrs": curve.lrs,
                "values": list(curve.values),
                "status": curve.status,
                "best_lr": curve.best_lr,
                "best_path": path,
            }
        )
    return SweepResponse(
        optimizers=curves,
        criterion=req.criterion,
        f_star=swept.f_star,
        steps=req.steps,
        surface=surface_info(surface),
        elapsed_ms=(time.perf_counter() - started) * 1e3,
    )


# --- training lab -------------------------------------------------------------------


# --- the training lab's own data ------------------------------------------------------

Find = Callable[[str], owndata.Table | None]  # an upload's id → its table (None: unknown)


def parse_upload(req: DatasetRequest) -> owndata.Table:
    """The upload's table, or an InputError naming the row and column (field csv / points)."""
    try:
        if req.csv is not None:
            return owndata.parse_csv(req.csv)
        return owndata.parse_points(req.points or [])
    except owndata.DataError as err:
        field = "csv" if req.csv is not None else "points"
        raise InputError(field, err.message, err.code, **err.params) from None


def dataset_response(table: owndata.Table) -> DatasetResponse:
    return DatasetResponse(
        id=table.id,
        rows=table.rows,
        labels=[int(v) if isinstance(v, float) and v.is_integer() else v for v in table.labels],
        bounds=[list(b) for b in table.bounds],
        columns=list(table.columns),
        counts=list(table.counts),
    )


def train_table(req: TrainRequest, find: Find | None) -> owndata.Table | None:
    """The uploaded table a training request names (None for the built-in datasets)."""
    if req.dataset != "uploaded":
        return None
    table_id = req.dataset_params["id"]
    table = find(table_id) if find is not None else None
    if table is None:
        raise InputError(
            "dataset_params.id",
            f"no uploaded dataset {table_id} here: an upload lives in the session that "
            f"sent it (through POST /api/datasets: {UPLOAD_TTL_S // 60} minutes after its "
            "last use); upload the file again",
            "dataset_unknown",
            id=table_id[:40],
        )
    return table


def train_config(
    req: TrainRequest, steps: int | None = None, table: owndata.Table | None = None
) -> training.TrainConfig:
    return training.TrainConfig(
        dataset=req.dataset,
        dataset_params=dict(req.dataset_params),
        n_samples=req.n_samples,
        noise=req.noise,
        train_share=req.train_share,
        hidden=tuple(req.hidden),
        activation=req.activation,
        activation_params=dict(req.activation_params),
        init=req.init,
        scale=req.scale,
        bias=req.bias,
        batchnorm=req.batchnorm,
        dropout_keep=req.dropout_keep,
        dropout_mode=req.dropout_mode,
        residual=req.residual,
        l1=req.l1,
        l2=req.l2,
        optimizer=run_config(req.optimizer),
        batch_size=req.batch_size,
        steps=steps if steps is not None else req.steps,
        seed=req.seed,
        dtype=req.dtype,
        table=table,
    )


def blowup_out(b: training.BlowUp | None) -> BlowUpOut | None:
    if b is None:
        return None
    return {
        "step": b.step,
        "loss": round(b.loss, 6),
        "loss_peak": round(b.loss_peak, 6),
        "loss_start": round(b.loss_start, 6),
        "update_ratio": None if b.update_ratio is None else round(b.update_ratio, 6),
        "units": b.units,
        "unit_share": round(b.unit_share, 4),
        "unit_layer": b.unit_layer,
        "lr": float(b.lr),
        "message": b.message,
    }


def history_row(frame: training.TrainFrame) -> HistoryRow:
    return HistoryRow(
        step=frame.step,
        train_loss=frame.train_loss,
        test_loss=frame.test_loss,
        accuracy=frame.accuracy,
        train_accuracy=frame.train_accuracy,
        dead_units=frame.dead_units,
    )


def run_train(req: TrainRequest, find: Find | None = None) -> TrainResponse:
    """A whole training run; ``find`` looks up the uploads a request may name."""
    started = time.perf_counter()
    every = req.record_every or max(1, -(-req.steps // 500))
    config = train_config(req, table=train_table(req, find))
    trainer = training.Trainer(config)
    options = training.FrameOptions(weights=True)
    frames = [trainer.frame(options)]
    with np.errstate(all="ignore"):
        while trainer.running and trainer.step_count < req.steps:
            trainer.run(min(every, req.steps - trainer.step_count))
            frames.append(trainer.frame(options))
    last = frames[-1]
    status = "diverged" if trainer.status == "diverged" else "finished"
    reason = i18n.english(trainer.reason) if trainer.reason else f"finished {req.steps} steps"
    weights = biases = None
    if last.weights is not None and last.biases is not None:
        weights = [finite_list(w) for w in last.weights]
        biases = [finite_list(b) for b in last.biases]
    with np.errstate(all="ignore"):
        predictions = training.final_predictions(trainer)
    final = TrainFinal(
        train_loss=last.train_loss,
        test_loss=last.test_loss,
        accuracy=last.accuracy,
        train_accuracy=last.train_accuracy,
        dead_units=last.dead_units,
        predictions=finite_list(predictions),
        inputs=finite_list(trainer.data.X_train),
        labels=finite_list(trainer.data.y_train),
        weights=weights,
        biases=biases,
    )
    return TrainResponse(
        history=[history_row(f) for f in frames],
        final=final,
        status=status,
        reason=reason,
        reason_text=text_ref(trainer.reason) if trainer.reason else None,
        warning=blowup_out(trainer.blowup),
        n_params=trainer.net.n_params,
        elapsed_ms=(time.perf_counter() - started) * 1e3,
    )


# --- the loss landscape ------------------------------------------------------------------


def _record_every(req: TrainRequest) -> int:
    return req.record_every or max(1, -(-req.steps // 500))


def _train_request(req: TrainRequest) -> TrainRequest:
    """The training part of a landscape request (its own fields dropped)."""
    fields = set(TrainRequest.model_fields)
    return TrainRequest.model_validate(req.model_dump(include=fields))


def run_landscape(req: LandscapeRequest, find: Find | None = None) -> LandscapeResponse:
    """Train as ``/api/train`` would, then the loss on a plane through the final weights."""
    started = time.perf_counter()
    config = train_config(_train_request(req), table=train_table(req, find))
    try:
        result = landscape.train_and_map(
            config, req.directions, req.resolution, req.span, _record_every(req)
        )
    except landscape.SizeError as err:  # (an upload's rows are known only here)
        raise landscape_size_error(err, "resolution") from None
    except ValueError as err:  # pca of a path that never moved
        raise InputError("directions", str(err), "landscape_pca") from None
    land = result.landscape
    assert land.path is not None
    return LandscapeResponse(
        alphas=finite_list(land.alphas, 8),
        betas=finite_list(land.betas, 8),
        loss=finite_list(land.loss, 7),
        center_loss=_finite(land.center_loss),
        path=finite_list(land.path, 7),
        path_steps=land.path_steps,
        explained_variance=land.plane.explained_variance,
        directions=req.directions,
        n_params=result.trainer.net.n_params,
        elapsed_ms=(time.perf_counter() - started) * 1e3,
    )


def run_landscape_race(
    req: LandscapeRaceRequest, find: Find | None = None
) -> LandscapeRaceResponse:
    """K optimizers on one network (same start, same batches), paths on one plane."""
    started = time.perf_counter()
    config = train_config(_train_request(req), table=train_table(req, find))
    runs = [run_config(r) for r in req.runs]
    try:
        result = landscape.race(config, runs, req.resolution, req.span, _record_every(req))
    except landscape.SizeError as err:
        raise landscape_size_error(err, "resolution") from None
    land = result.landscape
    out = []
    for r in result.runs:
        t = r.trainer
        assert r.path is not None
        out.append(
            LandscapeRaceRunOut(
                label=r.run.label or r.run.optimizer,
                optimizer=r.run.optimizer,
                status="diverged" if t.status == "diverged" else "finished",
                reason=i18n.english(t.reason) if t.reason else f"finished {req.steps} steps",
                history=[history_row(f) for f in r.frames],
                path=finite_list(r.path, 7),
                path_steps=r.path_steps,
                warning=blowup_out(t.blowup),
            )
        )
    return LandscapeRaceResponse(
        alphas=finite_list(land.alphas, 8),
        betas=finite_list(land.betas, 8),
        loss=finite_list(land.loss, 7),
        center_loss=_finite(land.center_loss),
        runs=out,
        n_params=result.runs[0].trainer.net.n_params,
        elapsed_ms=(time.perf_counter() - started) * 1e3,
    )


def landscape_size_error(err: landscape.SizeError, field: str) -> InputError:
    return InputError(
        field,
        str(err),
        "landscape_size",
        value=err.work,
        limit=landscape.MAX_WORK,
        params=err.n_params,
        max_params=landscape.MAX_PARAMS,
    )


def _finite(x: float) -> float | None:
    return x if np.isfinite(x) else None
