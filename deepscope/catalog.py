"""``GET /api/catalog``: everything the UI builds its menus and sliders from.

Assembled from the engine registries (names, formulas, parameters) and the
protocol models (every field's default and range), so a new registry entry or
a changed limit shows up in the UI without touching the front end.
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any

import annotated_types
from pydantic import BaseModel

from . import __version__, conditions, i18n, lessons, presets, protocol
from .engine import (
    activations,
    datasets,
    expressions,
    initializers,
    landscape,
    optimizers,
    owndata,
    race,
    surfaces,
    training,
)


def _literal_choices(annotation: Any) -> list[Any] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    for arg in typing.get_args(annotation):
        found = _literal_choices(arg)
        if found:
            return found
    return None


def _bounds(metadata: list[Any], entry: dict[str, Any]) -> None:
    for meta in metadata:
        if isinstance(meta, annotated_types.Ge):
            entry["min"] = meta.ge
        elif isinstance(meta, annotated_types.Gt):
            entry["min"], entry["min_exclusive"] = meta.gt, True
        elif isinstance(meta, annotated_types.Le):
            entry["max"] = meta.le
        elif isinstance(meta, annotated_types.Lt):
            entry["max"], entry["max_exclusive"] = meta.lt, True


def _items(annotation: Any) -> dict[str, Any] | None:
    """The bounds of a list's items (``list[Annotated[int, Field(ge=…)]]``)."""
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            entry: dict[str, Any] = {}
            for meta in typing.get_args(arg)[1:]:
                _bounds(getattr(meta, "metadata", [meta]), entry)
            return entry or None
    return None


def field_ranges(
    model: type[BaseModel], defaults: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """{field: {default, min, max, exclusive bounds, items, max_items, choices, control,
    description}} of a model; ``defaults`` replaces some defaults (a lab's own)."""
    out: dict[str, dict[str, Any]] = {}
    for name, info in model.model_fields.items():
        entry: dict[str, Any] = {}
        if defaults and name in defaults:
            entry["default"] = defaults[name]
        elif not info.is_required() and info.default_factory is None:
            default = info.default
            entry["default"] = default.model_dump() if isinstance(default, BaseModel) else default
        _bounds(info.metadata, entry)
        for meta in info.metadata:
            if isinstance(meta, annotated_types.MaxLen):
                entry["max_items"] = meta.max_length
        items = _items(info.annotation)
        if items:
            entry["items"] = items
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "control" in extra:
            entry["control"] = extra["control"]
        choices = _literal_choices(info.annotation)
        if choices:
            entry["choices"] = choices
        if info.description:
            entry["description"] = info.description
        out[name] = entry
    return out


def _activation_entry(act: activations.Activation) -> dict[str, Any]:
    defaults = act.resolve({})
    return {
        "name": act.name,
        "formula": act.formula,
        "params": [
            {
                "name": p.name,
                "default": p.default,
                "min": p.low,
                "max": p.high,
                "integer": p.integer,
                "step": p.step,
                "description": p.doc,
            }
            for p in act.params
        ],
        # the layers lab's "Reproduce in NumPy": f of the pre-activations ``a``, each
        # parameter written {name}; ``pieces`` names the parameter counting a unit's pieces
        "numpy": act.numpy,
        "pieces": act.pieces,
        "saturates": act.saturated is not None,
        "saturation_rule": i18n.text(f"activation.{act.name}.saturation"),
        "n_var_w_target": act.target_gain(defaults),
        "notes": i18n.notes("activation", act.name),
    }


def _optimizer_entry(spec: optimizers.OptimizerSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": i18n.text(f"optimizer.{spec.name}.title"),
        "equations": list(spec.equations),
        "hyper": [
            {"name": h.name, "default": h.default, "description": h.doc}
            | ({} if h.is_bool else {"min": h.low, "max": h.high, "log": h.log})
            | ({} if h.step is None else {"step": h.step})
            for h in spec.hyper
        ],
        "needs_hessian": spec.needs_hessian,
        "notes": i18n.notes("optimizer", spec.name),
    }


def _surface_entry(spec: surfaces.SurfaceSpec) -> dict[str, Any]:
    built = surfaces.build(spec.name)
    return {
        "name": spec.name,
        "title": i18n.text(f"surface.{spec.name}.title"),
        "formula": built.formula,
        "group": spec.group,
        "dims": spec.dims,
        "domain": [list(r) for r in spec.domain],
        "start": list(spec.start),
        "params": [
            {
                "name": p.name,
                "default": p.default,
                "min": p.low,
                "max": p.high,
                "step": p.step,
                "description": p.doc,
            }
            for p in spec.params
        ],
        "minima": [list(c.point) for c in built.minima],
        "critical_points": [
            {
                "point": list(c.point),
                "value": c.value,
                "kind": c.kind,
                "eigenvalues": list(c.eigenvalues),
            }
            for c in built.critical_points
        ],
        "notes": i18n.notes("surface", spec.name),
    }


def _preset_entry(preset: dict[str, Any]) -> dict[str, Any]:
    """A preset with its texts in every language (``{en, zh}``; the page reads its own
    catalog, a shared link carries the compare labels in both)."""
    pid = preset["id"]
    out = {
        **preset,
        "title": i18n.translations(f"preset.{pid}.title"),
        "notice": i18n.translations(f"preset.{pid}.notice"),
    }
    if "compare" in preset:
        sides = [i18n.translations(f"preset.{pid}.labels.{i}") for i in range(2)]
        out["labels"] = {lang: [side[lang] for side in sides] for lang in i18n.LANGS}
    return out


def _options(lab: str) -> dict[str, dict[str, Any]]:
    """A live lab's stream options, with the defaults its page opens with."""
    fields = field_ranges(protocol.StreamOptions, protocol.LAB_STREAM_DEFAULTS[lab])
    return {name: fields[name] for name in protocol.LAB_STREAM_FIELDS[lab]}


@cache
def build_catalog() -> dict[str, Any]:
    """The catalog is static for a running server: built once."""
    return {
        "version": __version__,
        "activations": [_activation_entry(a) for a in activations.ACTIVATIONS.values()],
        "inits": [
            # numpy: the scheme before ``scale``, for the layers lab's "Reproduce in NumPy"
            {"name": i.name, "formula": i.formula, "numpy": i.numpy}
            for i in initializers.INITIALIZERS.values()
        ],
        "optimizers": [_optimizer_entry(s) for s in optimizers.OPTIMIZERS.values()],
        "surfaces": [_surface_entry(s) for s in surfaces.SURFACE_SPECS.values()],
        "datasets": [
            {
                "name": d.name,
                "title": i18n.text(f"dataset.{d.name}.title"),
                "params": {k: list(v) for k, v in d.params.items()},
                "fixed": d.fixed,
                "rows": d.rows,
                # (an upload's parameters name the upload: no defaults to start from)
                "defaults": None if d.make is None else datasets.resolve_params(d.name, {}),
                "uploaded": d.make is None,
                "notes": i18n.notes("dataset", d.name),
            }
            for d in datasets.DATASETS.values()
        ],
        "presets": [_preset_entry(p) for p in presets.PRESETS],
        "lessons": [lessons.catalog_entry(lesson) for lesson in lessons.load()],
        "conditions": {
            "functions": list(conditions.FUNCTIONS),
            "max_length": conditions.MAX_LENGTH,
        },
        "schedules": {
            "names": list(optimizers.SCHEDULES),
            "fields": field_ranges(protocol.ScheduleSpec),
        },
        "expressions": {
            "functions": sorted(expressions.FUNCTIONS),
            "max_length": expressions.MAX_LENGTH,
        },
        "labs": {
            "layers": {
                "fields": field_ranges(protocol.LayersRequest),
                "input": {
                    "normal": field_ranges(protocol.NormalInput),
                    "uniform": field_ranges(protocol.UniformInput),
                },
                "loss": "L = ½‖h_L‖²/N, so ∂L/∂h_L = h_L/N",
            },
            "train": {
                "fields": field_ranges(protocol.TrainRequest),
                "optimizer": protocol.TrainRequest().optimizer.model_dump(
                    include={"optimizer", "lr"}
                ),
                "options": _options("train"),
                "loss_floor": training.LOSS_FLOOR,
                "optimizer_fields": field_ranges(protocol.OptimizerChoice),
                "landscape": field_ranges(protocol.LandscapeStream),
                "race": {
                    "runs": [{"optimizer": name} for name in protocol.LANDSCAPE_RACE_RUNS],
                    "max_runs": protocol.MAX_LANDSCAPE_RUNS,
                },
                "loss": "mean binary cross-entropy of σ(z) + λ₁·Σ|W| + ½λ₂·ΣW²",
            },
            "descend": {
                "fields": field_ranges(protocol.DescendRequest),
                "runs": [{"optimizer": r.optimizer, **r.hyper} for r in race.LECTURE_RACE],
                "options": _options("descend"),
                "run_fields": field_ranges(protocol.RunRequest),
                "surface_fields": field_ranges(protocol.SurfaceRequest),
                "sweep_fields": field_ranges(protocol.SweepSpec),
            },
        },
        "limits": {
            "max_layer_elements": protocol.MAX_LAYER_ELEMENTS,
            "max_layer_params": protocol.MAX_LAYER_PARAMS,
            "max_activation_points": protocol.MAX_ACTIVATION_POINTS,
            "max_runs": protocol.MAX_RUNS,
            "max_descend_rows": protocol.MAX_DESCEND_ROWS,
            "max_sweep_work": protocol.MAX_SWEEP_WORK,
            "max_train_work": protocol.MAX_TRAIN_WORK,
            "max_newton_params": protocol.MAX_NEWTON_PARAMS,
            "max_landscape_params": landscape.MAX_PARAMS,
            "max_landscape_work": landscape.MAX_WORK,
            "upload": {
                "max_bytes": owndata.MAX_BYTES,
                "max_rows": owndata.MAX_ROWS,
                "min_rows": owndata.MIN_ROWS,
                "max_line_chars": owndata.MAX_LINE_CHARS,
                "max_coordinate": owndata.MAX_COORD,
                "per_session": protocol.MAX_SESSION_UPLOADS,
                "rest_uploads": protocol.MAX_REST_UPLOADS,
                "ttl_s": protocol.UPLOAD_TTL_S,
                "label_columns": list(owndata.LABEL_NAMES),
            },
        },
        "close_codes": {"try_later": protocol.CLOSE_TRY_LATER},
    }
