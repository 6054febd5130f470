"""Every tunable number of a configuration, defined once: its default and the reason
for it, the range a request may ask for, and how a control moves through that range.

A config dataclass declares a field as ``n_samples: int = knob(200, "…", ge=8, le=2000)``;
``knobs(TrainConfig)`` reads them back. The protocol builds its ``Field(default, ge, le)``
from a knob and the catalog sends its ``control``, so the server, the wire and the page
cannot disagree (``tests/test_defaults.py`` and ``tests/browser/test_controls.py``).

Two ranges are two facts: ``ge``/``gt``/``le``/``lt`` is what a request may ask for (a
robustness bound: the engine stays finite up to it); ``span`` is what a slider offers,
when that is narrower (a teaching bound: past it the picture says nothing new), with its
own reason in ``span_why``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Control:
    """How the page offers a knob: a slider from ``min`` to ``max`` by ``step`` (a
    ``log`` slider moves in powers of ten), or a menu of ``options``."""

    min: float | None
    max: float | None
    step: float | None
    log: bool = False
    options: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Knob:
    default: Any
    why: str  # the reason for the default
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    step: float | None = None  # a slider's increment (None: 1 for an integer, else continuous)
    log: bool = False  # a log-scale slider
    integer: bool = False
    span: tuple[float, float] | None = None  # a slider's range, when narrower than the accepted one
    span_why: str = ""
    options: tuple[float, ...] | None = None  # a menu of values instead of a slider
    max_items: int | None = None  # a list's longest (its items have the range above)

    def __post_init__(self) -> None:
        if self.span is not None and not self.span_why:
            raise ValueError("a knob's span needs its reason (span_why)")
        lo, hi = self.control.min, self.control.max
        if lo is not None and hi is not None and not lo <= hi:
            raise ValueError(f"empty control range [{lo}, {hi}]")
        numeric = isinstance(self.default, int | float) and not isinstance(self.default, bool)
        if numeric and not self.accepts(self.default):
            raise ValueError(f"default {self.default} is outside its own range")

    def accepts(self, value: float) -> bool:
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )

    @property
    def control(self) -> Control:
        """The slider's range: the span, else the accepted range; a slider with an
        exclusive lower bound starts one step above it (it cannot stop *near* a number)."""
        step = self.step if self.step is not None else (1.0 if self.integer else None)
        lo: float | None
        hi: float | None
        if self.span is not None:
            lo, hi = self.span
        else:
            lo = self.ge
            if lo is None and self.gt is not None:
                lo = self.gt + step if step is not None else self.gt
            hi = self.le if self.le is not None else self.lt
        if self.log and lo is not None and not lo > 0:
            raise ValueError("a log slider needs a positive lower end (give a span)")
        return Control(min=lo, max=hi, step=step, log=self.log, options=self.options)

    def control_dict(self) -> dict[str, Any]:
        c = self.control
        out: dict[str, Any] = {"min": c.min, "max": c.max, "step": c.step, "log": c.log}
        if self.integer:
            out["integer"] = True
        if c.options is not None:
            out["options"] = list(c.options)
        if self.max_items is not None:
            out["max_items"] = self.max_items
        return {k: v for k, v in out.items() if v is not None}


def knob(default: Any, why: str, **spec: Any) -> Any:
    """A dataclass field whose default is ``default`` and whose range is ``spec``."""
    return field(default=default, metadata={"knob": Knob(default, why, **spec)})


def same(k: Knob) -> Any:
    """A dataclass field holding a knob defined elsewhere (a shared one, e.g. ``SEED``)."""
    return field(default=k.default, metadata={"knob": k})


def knobs(cls: type) -> dict[str, Knob]:
    """The knobs of a config dataclass, by field name."""
    return {f.name: f.metadata["knob"] for f in fields(cls) if "knob" in f.metadata}


SEED = Knob(
    0,
    "the same seed, the same numbers: a lecture's picture is reproducible",
    ge=0,
    le=2**32 - 1,  # NumPy's seeds are 32-bit
    integer=True,
)

# Ranges the layers and training labs share (their defaults differ, with their reasons).
SCALE_RANGE: dict[str, Any] = {"ge": 1e-4, "le": 1e2, "log": True}  # × the init's std
BIAS_RANGE: dict[str, Any] = {"ge": -5, "le": 5, "step": 0.1}
# Dropout's keep probability: 0 would drop every unit; a slider starts one step above.
DROPOUT_RANGE: dict[str, Any] = {"gt": 0, "le": 1, "step": 0.05}
BIAS = Knob(0.0, "no bias: zero-mean pre-activations, as the variance theory assumes", **BIAS_RANGE)
DROPOUT = Knob(1.0, "no dropout until asked for", **DROPOUT_RANGE)
