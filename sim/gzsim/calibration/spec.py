"""The calibration spec: which parameters are free (with bounds), which targets they face."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, model_validator

from gzsim.errors import InputError, TargetsError
from gzsim.scenario.types import Frozen, parse_year_month
from gzsim.yamlio import load_yaml, problems_from_validation


class FreeParameter(Frozen):
    path: str  # dotted scenario path, e.g. investment.arrival_rate_per_month
    bounds: tuple[float, float]
    start: float | None = None  # default: the scenario's current value
    informed_by: list[str] = Field(default_factory=list)  # target ids expected to pin it
    note: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> FreeParameter:
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError(f"bounds must be [low, high] with low < high, got {self.bounds}")
        if self.start is not None and not lo <= self.start <= hi:
            raise ValueError(f"start {self.start} is outside bounds {self.bounds}")
        return self


class Assumption(Frozen):
    """A parameter no target pins down: kept in YAML with a plausible range."""

    path: str
    range: tuple[float, float]
    note: str = ""


class Settings(Frozen):
    replications: Annotated[int, Field(ge=1, le=1000)] = 16
    max_evaluations: Annotated[int, Field(ge=2, le=10_000)] = 120
    report_replications: Annotated[int, Field(ge=2, le=1000)] = 40


class CalibrationSpec(Frozen):
    scenario: str  # path relative to this file
    targets: str  # path relative to this file
    output: str = "fitted.yaml"
    seed: Annotated[int, Field(ge=0)] = 1
    horizon_end: str | None = None  # simulate only up to here while fitting (speed)
    use_targets: list[str]  # target ids in the objective
    # scenario path -> "growth_series.parameter" fitted by gzsim.calibration.growth
    growth_values: dict[str, str] = Field(default_factory=dict)
    parameters: list[FreeParameter]
    assumptions: list[Assumption] = Field(default_factory=list)
    full: Settings = Field(default_factory=Settings)
    quick: Settings = Field(default_factory=lambda: Settings(replications=4, max_evaluations=20,
                                                             report_replications=8))
    # finite-difference step as a share of each parameter's range
    diff_step: Annotated[float, Field(gt=0, le=0.5)] = 0.03

    @model_validator(mode="after")
    def _check(self) -> CalibrationSpec:
        if self.horizon_end is not None:
            parse_year_month(self.horizon_end)
        paths = [p.path for p in self.parameters]
        if len(set(paths)) != len(paths):
            raise ValueError("a parameter is listed twice")
        if not self.parameters:
            raise ValueError("at least one free parameter is needed")
        return self


def load_spec(path: str | Path) -> tuple[CalibrationSpec, Path]:
    """Read and validate a calibration spec; return it and the folder it lives in."""
    try:
        data, origins = load_yaml(path, what="calibration spec")
    except InputError as e:
        raise TargetsError(e.problems) from None
    try:
        spec = CalibrationSpec.model_validate(data)
    except ValidationError as e:
        raise TargetsError(problems_from_validation(e, origins, CalibrationSpec, str(path))
                           ) from None
    return spec, Path(path).parent
