"""The layers lab and the activation gallery: REST bodies, responses and frame data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from ..engine import activations as _activations
from ..engine import layers_lab as _layers
from ..engine.knobs import SEED as _SEED
from .common import (
    MAX_ACTIVATION_POINTS,
    MAX_LAYER_ELEMENTS,
    MAX_LAYER_PARAMS,
    ActivationName,
    InitName,
    Ints,
    Strict,
    TextRef,
    _check_activation_params,
    _default,
    _knob,
    knob_field,
    problem,
    shape,
)

# --- layers lab -----------------------------------------------------------------


class NormalInput(Strict):
    """Inputs drawn i.i.d. from N(mean, std²)."""

    distribution: Literal["normal"] = "normal"
    mean: float = _knob(_layers.InputDistribution, "mean")
    std: float = _knob(_layers.InputDistribution, "std")


class UniformInput(Strict):
    """Inputs drawn i.i.d. from U(low, high) — e.g. U(0, 1) for all-positive inputs."""

    distribution: Literal["uniform"]
    low: float = _knob(_layers.InputDistribution, "low")
    high: float = _knob(_layers.InputDistribution, "high")

    @model_validator(mode="after")
    def _ordered(self) -> UniformInput:
        if not self.low < self.high:
            raise problem(
                "low_not_below_high",
                "low must be less than high",
                field="low",
                low=self.low,
                high=self.high,
            )
        return self


Quantity = _layers.Quantity
QUANTITY_NAMES: tuple[Quantity, ...] = _layers.QUANTITIES
InputSpec = Annotated[NormalInput | UniformInput, Field(discriminator="distribution")]
Width = Annotated[int, Field(ge=_layers.WIDTH.ge, le=_layers.WIDTH.le)]


class LayersRequest(Strict):
    """Body of ``POST /api/layers`` and the layers lab's ``configure``."""

    depth: int = knob_field(_layers.DEPTH, "number of layers")
    width: int = knob_field(_layers.WIDTH, "units per layer")
    widths: list[Width] | None = Field(
        None,
        min_length=1,
        max_length=_layers.MAX_DEPTH,
        description="explicit widths (overrides depth/width)",
    )
    input_dim: int = _knob(_layers.LayersConfig, "input_dim")
    batch: int = _knob(_layers.LayersConfig, "batch")
    input: InputSpec = Field(default_factory=NormalInput)
    activation: ActivationName = _default(_layers.LayersConfig, "activation")
    activation_params: dict[str, float] = Field(default_factory=dict, max_length=4)
    init: InitName = _default(_layers.LayersConfig, "init")
    scale: float = _knob(_layers.LayersConfig, "scale", "multiplier on the init's std")
    bias: float = _knob(_layers.LayersConfig, "bias")
    batchnorm: Literal["off", "train", "eval"] = Field(
        _default(_layers.LayersConfig, "batchnorm"),
        description="off, or batch norm with batch (train) or fixed (eval) statistics",
    )
    bn_gamma: float = _knob(_layers.LayersConfig, "bn_gamma")
    bn_beta: float = _knob(_layers.LayersConfig, "bn_beta")
    dropout_keep: float = _knob(_layers.LayersConfig, "dropout_keep", "keep probability p")
    dropout_mode: Literal["inverted", "classic"] = _default(_layers.LayersConfig, "dropout_mode")
    residual: bool = _default(_layers.LayersConfig, "residual")
    seed: int = knob_field(_SEED)
    bins: int = _knob(_layers.LayersConfig, "bins")
    dtype: Literal["float32", "float64"] = _default(_layers.LayersConfig, "dtype")
    histograms: list[Quantity] = Field(
        default_factory=lambda: list(QUANTITY_NAMES),
        min_length=0,
        max_length=len(_layers.QUANTITIES),
        description="which histograms to count (mean and std are always computed)",
    )

    @field_validator("batchnorm", mode="before")
    @classmethod
    def _bool_batchnorm(cls, value: Any) -> Any:
        if value is True:
            return "train"
        if value is False:
            return "off"
        return value

    @model_validator(mode="after")
    def _consistent(self) -> LayersRequest:
        if (
            self.widths is not None
            and "depth" in self.model_fields_set
            and self.depth != len(self.widths)
        ):
            raise problem(
                "depth_widths",
                "depth must equal len(widths) when both are given",
                field="depth",
                depth=self.depth,
                widths=len(self.widths),
            )
        self.activation_params = _check_activation_params(self.activation, self.activation_params)
        k = _activations.pieces(self.activation, self.activation_params)
        widths = self.layer_widths
        elements = sum(widths) * self.batch * k
        if elements > MAX_LAYER_ELEMENTS:
            raise problem(
                "layer_elements",
                f"depth × width × batch = {elements:,} exceeds the ceiling "
                f"{MAX_LAYER_ELEMENTS:,}: reduce depth, width or batch",
                field="batch",
                value=elements,
                limit=MAX_LAYER_ELEMENTS,
                depth=len(widths),
                width=max(widths),
                batch=self.batch,
            )
        fan_ins = [self.input_dim, *widths[:-1]]
        params = sum(f * w * k for f, w in zip(fan_ins, widths, strict=True))
        if params > MAX_LAYER_PARAMS:
            raise problem(
                "layer_params",
                f"the network has {params:,} weights, over the ceiling {MAX_LAYER_PARAMS:,}: "
                "reduce depth, width or input_dim",
                field="width",
                value=params,
                limit=MAX_LAYER_PARAMS,
            )
        return self

    @property
    def layer_widths(self) -> list[int]:
        return list(self.widths) if self.widths is not None else [self.width] * self.depth


@shape
class CountsOut(TypedDict):
    """A histogram's counts (on edges the frame sends once, in ``edges``)."""

    counts: Annotated[Ints | None, Field(description="null where it was not asked for")]
    below: Annotated[int, Field(description="values under the first edge (log: incl. zeros)")]
    above: Annotated[int, Field(description="values over the last edge")]
    nonfinite: Annotated[int, Field(description="inf/NaN values (a diverged net)")]
    mean: float | None
    std: float | None


@shape
class HistogramOut(CountsOut):
    """Counts with their own edges (``scale`` "log": edges are log10|x|): a REST row's."""

    edges: list[float]
    scale: Literal["linear", "log"]


@shape
class LayerFlagOut(TypedDict):
    """What the working precision did to a quantity at a layer."""

    quantity: Quantity
    kind: Annotated[
        Literal["underflow", "underflow_some"],
        Field(
            description=(
                "underflow: every value is exactly 0 though computed from values that are "
                "not (below the dtype's smallest number); underflow_some: a share of the "
                "activations is exactly 0 though the activation is never 0 (σ, tanh…)"
            )
        ),
    ]
    share: Annotated[float | None, Field(description="of the layer's values")]


@shape
class LayerRow(TypedDict):
    """What a layer's row says, in a REST answer and in a frame alike."""

    index: Annotated[int, Field(description="1-based layer number")]
    width: int
    saturated_fraction: float | None
    dead_units: Annotated[
        int | None,
        Field(
            description=(
                "units that are exactly 0 for every sample (null on a coarse frame: a "
                "subsample overstates it)"
            )
        ),
    ]
    zero_fraction: Annotated[
        float | None,
        Field(
            description=(
                "zeros per sample: the share of (sample, unit) values h that are exactly 0 "
                "(a ReLU that is off; for σ, tanh… only float underflow, then flagged)"
            )
        ),
    ]
    grad_norm: Annotated[float | None, Field(description="‖∂L/∂W‖ (null once it overflows)")]
    n_var_w: Annotated[float | None, Field(description="fan_in · Var(W) measured on this layer")]
    flags: list[LayerFlagOut]


@shape
class LayerOut(LayerRow):
    """A layer of ``POST /api/layers``: each quantity's histogram on its own edges."""

    preactivation: HistogramOut
    activation: HistogramOut
    derivative: HistogramOut
    gradient: HistogramOut
    weight_gradient: HistogramOut


class LayersResponse(BaseModel):
    layers: list[LayerOut]
    theory: list[float] | None = Field(description="predicted pre-activation variance per layer")
    theory_note: str = Field(description="when the prediction holds, in English")
    theory_text: TextRef = Field(description="the same note by key")
    n_var_w_expected: list[float]
    n_var_w_target: float | None = Field(description="1 for tanh, 2 for ReLU")
    saturation_rule: str
    saturation_text: TextRef
    loss: float | None
    elapsed_ms: float


# --- activation gallery ---------------------------------------------------------


class ActivationRequest(Strict):
    """Body of ``POST /api/activation``."""

    name: ActivationName
    params: dict[str, float] = Field(default_factory=dict, max_length=4)
    x: list[Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(
        min_length=1, max_length=MAX_ACTIVATION_POINTS
    )

    @model_validator(mode="after")
    def _params(self) -> ActivationRequest:
        try:
            self.params = _activations.get(self.name).resolve(self.params)
        except ValueError as err:
            raise ValueError(f"params: {err}") from None
        return self


class ActivationResponse(BaseModel):
    name: str
    params: dict[str, float]
    f: list[float]
    df: list[float]


# --- the frame's data -------------------------------------------------------------------


@shape
class LayerFrameRow(LayerRow):
    """A layer of a frame: each quantity's counts, on the frame's shared ``edges``."""

    hist: dict[str, CountsOut]


@shape
class LayersFrameData(TypedDict):
    """Every layers-lab configure is answered by a coarse frame (when the batch is large),
    then by the complete one: the same statistics on the first ``samples`` rows of the
    same batch, then on all ``batch`` rows."""

    layers: list[LayerFrameRow]
    edges: dict[str, list[float]]
    scales: dict[str, Literal["linear", "log"]]
    theory: list[float | None] | None
    theory_note: str
    theory_text: TextRef
    n_var_w_expected: list[float | None]
    n_var_w_target: float | None
    saturation_rule: str
    saturation_text: TextRef
    loss: float | None
    detail: Literal["coarse", "complete"]
    samples: Annotated[int, Field(description="rows of the batch these statistics were taken on")]
    batch: int
