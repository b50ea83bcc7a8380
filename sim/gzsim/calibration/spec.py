"""The calibration spec: scenario, targets, priors and the ABC-SMC budget (full and quick)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from gzsim.errors import InputError, TargetsError
from gzsim.io.yamlio import load_yaml, problems_from_validation
from gzsim.model.processes import indicator_specs
from gzsim.scenario.types import Frozen, parse_year_month


class Settings(Frozen):
    """How hard pyabc's ABC-SMC works: particles, generations, stopping rules."""

    population: Annotated[int, Field(ge=5, le=100_000)] = 300
    replications: Annotated[int, Field(ge=1, le=1000)] = 1  # runs averaged per particle
    # common random numbers across particles: off by default, because it conditions the
    # posterior on one noise realisation (the coverage test then fails: see problem.py)
    crn: bool = False
    max_generations: Annotated[int, Field(ge=1, le=200)] = 12
    minimum_epsilon: Annotated[float, Field(ge=0)] = 0.5  # RMS miss, in tolerances
    min_acceptance_rate: Annotated[float, Field(ge=0, le=1)] = 0.02
    max_walltime_minutes: Annotated[float, Field(gt=0)] = 24
    predictive_draws: Annotated[int, Field(ge=4, le=100_000)] = 200
    # posterior predictive draws per reading of a source (a ``choice`` prior), run to the
    # scenario's end for the readings' forecasts; 0: weights only, no fit or forecast
    reading_draws: Annotated[int, Field(ge=0, le=100_000)] = 100
    # the proposal: "gaussian" (one Gaussian fitted to the population: even weights in many
    # dimensions, see calibration/transition.py), or pyabc's mixtures "global" (one kernel
    # covariance) and "local" (each particle's nearest neighbours)
    transition: Literal["gaussian", "global", "local"] = "gaussian"
    kernel_scaling: Annotated[float, Field(gt=0, le=100)] = 1.0  # multiplies its covariance
    # "gaussian" only: Ledoit-Wolf shrunk covariance (True) or the sample one
    shrink_covariance: bool = True
    quantile_alpha: Annotated[float, Field(gt=0, lt=1)] = 0.5  # next epsilon: this quantile


class ReadingForecasts(Frozen):
    """What each reading of a source is asked to forecast: indicators aggregated by year."""

    years: list[Annotated[int, Field(ge=1900, le=2200)]] = Field(default_factory=list)
    # indicator -> aggregation (``december`` for a stock, ``annual_sum`` for a flow)
    indicators: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> ReadingForecasts:
        known = {i.name for i in indicator_specs()}
        for name, agg in self.indicators.items():
            if name not in known:
                raise ValueError(f"unknown indicator '{name}'; known: {', '.join(sorted(known))}")
            if agg not in ("december", "annual_sum"):
                raise ValueError(f"aggregation '{agg}' of '{name}': a forecast takes "
                                 "'december' (a stock) or 'annual_sum' (a flow)")
        return self


class CalibrationSpec(Frozen):
    """The calibration spec file (calibration/spec.yaml)."""
    scenario: str  # path relative to this file
    targets: str  # path relative to this file
    priors: str = "priors.yaml"  # path relative to this file
    output: str = "fitted.yaml"
    seed: Annotated[int, Field(ge=0)] = 1
    horizon_end: str | None = None  # simulate only up to here while fitting (speed)
    # scenario path -> "growth_series.parameter" fitted by gzsim.calibration.growth (fixed)
    growth_values: dict[str, str] = Field(default_factory=dict)
    reading_forecasts: ReadingForecasts = Field(default_factory=ReadingForecasts)
    full: Settings = Field(default_factory=Settings)
    quick: Settings = Field(default_factory=lambda: Settings(
        population=40, replications=1, max_generations=3, max_walltime_minutes=1,
        predictive_draws=24, reading_draws=8))

    @model_validator(mode="after")
    def _check(self) -> CalibrationSpec:
        if self.horizon_end is not None:
            parse_year_month(self.horizon_end)
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
