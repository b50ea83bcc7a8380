"""Experiment files: a base scenario, factors, a design, replications, a seed, outcomes.

The files in ``scenarios/experiments/`` show every field in use. Errors name the file, the line
and the field path (:class:`gzsim.errors.ExperimentError`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    FiniteFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from gzsim.aggregate import AGGREGATIONS, WHOLE_RUN, annual_unit
from gzsim.errors import ExperimentError, InputError, Problem, ScenarioError
from gzsim.indicators import INDICATORS
from gzsim.io.yamlio import Origins, load_yaml, origin_of, problems_from_validation
from gzsim.scenario.loader import (
    apply_overrides,
    parse_override,
    resolve_scenario_data,
    validate_scenario,
)
from gzsim.scenario.paths import check_scenario_path
from gzsim.scenario.schema import Scenario
from gzsim.scenario.types import Frozen
from gzsim.uncertainty import experiment_posterior_factors

Aggregation = Literal[AGGREGATIONS]  # type: ignore[valid-type]  # gzsim.aggregate's vocabulary
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
RESERVED_COLUMNS = {"run_id", "point", "replication", "seed_entropy", "status", "error",
                    "traceback", "fault", "wall_time_s", "worker", "date"}


def frozen_distribution(spec: dict[str, Any]):
    """A frozen ``scipy.stats`` distribution from ``{name: norm, loc: 0, scale: 1}``."""
    # start-up: scipy loads only when needed (the run path avoids it, issue 13)
    import scipy.stats as st

    if "name" not in spec:
        raise ValueError("distribution needs a 'name' (a scipy.stats distribution, e.g. "
                         "uniform, norm, triang, lognorm, beta)")
    name, params = str(spec["name"]), {k: v for k, v in spec.items() if k != "name"}
    dist = getattr(st, name, None)
    if not isinstance(dist, st.rv_continuous | st.rv_discrete):
        near = difflib.get_close_matches(name, [n for n in dir(st) if isinstance(
            getattr(st, n, None), st.rv_continuous | st.rv_discrete)], n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ValueError(f"unknown scipy.stats distribution '{name}'{hint}")
    try:
        frozen = dist(**params)
        ok = math.isfinite(float(frozen.ppf(0.5)))
    except Exception as e:  # scipy raises TypeError / ValueError for bad parameters
        raise ValueError(f"bad parameters for scipy.stats.{name}({params}): {e}") from None
    if not ok:
        raise ValueError(f"scipy.stats.{name}({params}) is not a valid distribution")
    return frozen


def _distribution(spec: dict[str, Any]) -> dict[str, Any]:
    frozen_distribution(spec)  # raises ValueError with a readable message
    return spec


def _indicator(name: str) -> str:
    if name not in INDICATORS:
        near = difflib.get_close_matches(name, list(INDICATORS), n=1, cutoff=0.5)
        hint = f" (did you mean '{near[0]}'?)" if near else \
            f"; indicators are {', '.join(INDICATORS)}"
        raise ValueError(f"unknown indicator '{name}'{hint}")
    return name


IndicatorName = Annotated[str, AfterValidator(_indicator)]


def _distinct(v: list, what: str) -> list:
    """Refuse repeated names or values."""
    dup = sorted({str(n) for n in v if v.count(n) > 1})
    if dup:
        raise ValueError(f"{what} must not repeat: {dup}")
    return v


class FactorSpec(Frozen):
    """One varied parameter: exactly one of range, levels (a list) or distribution.

    An integer ``levels`` with a ``range`` (or ``distribution``) gives that many evenly spaced
    values (quantiles) for a full factorial design.
    """

    name: Annotated[str, Field(min_length=1)] | None = None  # column name (default: the path)
    range: tuple[FiniteFloat, FiniteFloat] | None = None
    levels: Annotated[int, Field(ge=1, le=10_000)] | list[bool | int | float | str] | None = None
    # {name: <scipy.stats distribution>, **parameters}
    distribution: Annotated[dict[str, Any], AfterValidator(_distribution)] | None = None
    integer: bool = False  # round sampled values to whole numbers (months, classes...)

    @field_validator("range")
    @classmethod
    def _range(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and v[1] < v[0]:
            raise ValueError(f"range must be [low, high] with low <= high, got {list(v)}")
        return v

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: Any) -> Any:
        if isinstance(v, list):
            kinds = {"number" if type(x) in (int, float) else type(x).__name__ for x in v}
            if len(kinds) != 1:
                raise ValueError(f"levels must be a non-empty list of one type (numbers, "
                                 f"strings or booleans), got {sorted(kinds)}")
            _distinct(v, "levels")
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> FactorSpec:
        given = [k for k in ("range", "distribution") if getattr(self, k) is not None]
        given += ["levels"] if isinstance(self.levels, list) else []
        if len(given) != 1:
            if not given and isinstance(self.levels, int):
                raise ValueError("an integer 'levels' needs a 'range' or 'distribution' to "
                                 "place them in; or give levels as a list of values")
            raise ValueError("give exactly one of 'range: [low, high]', 'levels: [values...]' "
                             f"or 'distribution: {{name: ..., ...}}' (got {given or 'none'})")
        return self

    @property
    def kind(self) -> str:
        """``range``, ``levels`` or ``distribution``."""
        return "range" if self.range is not None else \
            "distribution" if self.distribution is not None else "levels"


class DesignSpec(Frozen):
    """How points are chosen (the sampler's settings are passed to it and kept in the manifest).

    ``samples``: points (latin_hypercube, sobol_sequence, monte_carlo); the base sample N
    (sobol: N*(D+2) points, N*(2D+2) with second_order); trajectories (morris: N*(D+1)).
    """

    kind: Literal["full_factorial", "latin_hypercube", "sobol_sequence", "monte_carlo",
                  "sobol", "morris"]
    samples: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    seed: Seed | None = None  # sampling seed (default: the root seed)
    scramble: bool = True  # latin_hypercube, sobol_sequence, sobol
    second_order: bool = False  # sobol: also sample for second-order indices
    num_levels: Annotated[int, Field(ge=2, le=1000)] = 4  # morris grid levels

    @model_validator(mode="after")
    def _samples(self) -> DesignSpec:
        if (self.kind == "full_factorial") != (self.samples is None):
            raise ValueError(f"design '{self.kind}' needs 'samples'" if self.samples is None
                             else "full_factorial takes no 'samples' (its size is the product "
                             "of the factors' levels)")
        if self.kind in ("sobol_sequence", "sobol") and self.samples & (self.samples - 1):
            raise ValueError(f"{self.kind} needs a power of 2 for samples (balance "
                             f"properties), got {self.samples}")
        return self


class ScalarOutcome(Frozen):
    """A scalar KPI of one run, computed on the worker (keeps outputs small)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    indicator: IndicatorName
    year: int | None = None
    aggregation: Aggregation = "annual"  # annual = sum of a flow, December of a stock
    quarter: Annotated[int, Field(ge=1, le=4)] | None = None  # quarter_sum only

    @property
    def unit(self) -> str:
        """The value's unit: a flow summed over a year is per year, over the run a total."""
        spec = INDICATORS[self.indicator]
        if self.aggregation in ("annual", "annual_sum"):
            return annual_unit(self.indicator)
        if self.aggregation == "total":
            return spec.unit.replace("/month", "") if spec.kind == "flow" else \
                f"{spec.unit} x months"
        return spec.unit

    @model_validator(mode="after")
    def _year(self) -> ScalarOutcome:
        if self.aggregation in WHOLE_RUN and self.year is not None:
            raise ValueError(f"aggregation '{self.aggregation}' covers the whole run; "
                             "drop 'year' or use annual/annual_sum/annual_mean/december")
        if self.aggregation not in WHOLE_RUN and self.year is None:
            raise ValueError(f"aggregation '{self.aggregation}' needs a 'year'")
        if (self.aggregation == "quarter_sum") != (self.quarter is not None):
            raise ValueError("'quarter' (1-4) goes with aggregation quarter_sum, and only with it")
        return self


class Outcomes(Frozen):
    """What to keep from every run: the monthly series (all or some indicators), scalars."""

    series: bool | list[IndicatorName] = True
    scalars: list[ScalarOutcome] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> Outcomes:
        if self.series is False and not self.scalars:
            raise ValueError("nothing to keep: set 'series: true' or list 'scalars'")
        _distinct([s.name for s in self.scalars], "scalar outcome names")
        return self


class PosteriorFactors(Frozen):
    """One range factor per posterior parameter: its weighted ``level`` interval."""
    posterior: Annotated[str, Field(min_length=1)] | None = None  # default: the base's posterior
    level: Annotated[float, Field(gt=0, lt=1)] = 0.90
    paths: Annotated[list[str], Field(min_length=1)] | None = None  # default: all of them
    levels: Annotated[int, Field(ge=2, le=100)] | None = None  # N values each: full_factorial


class ExperimentSpec(Frozen):
    """An experiment file as written (paths unresolved)."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]
    description: str = ""
    base: Annotated[str, Field(min_length=1)]  # scenario file, relative to the experiment file
    seed: Seed | None = None
    replications: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    set: dict[str, Any] = Field(default_factory=dict)
    factors: dict[str, FactorSpec] = Field(default_factory=dict)
    posterior_factors: PosteriorFactors | None = None  # adds factors (experiment_from_data)
    design: DesignSpec
    outcomes: Outcomes = Field(default_factory=Outcomes)

    @field_validator("outcomes", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if v == "scalars":
            raise ValueError("'outcomes: scalars' needs the list: outcomes: {scalars: [...]}")
        return {"series": True} if v == "series" else v

    @model_validator(mode="after")
    def _names_free(self) -> ExperimentSpec:
        names = _distinct([*(f.name or p for p, f in self.factors.items()),
                           *(s.name for s in self.outcomes.scalars)], "factor and outcome names")
        taken = [n for n in names if n in RESERVED_COLUMNS or n.startswith("x:")]
        if taken:
            raise ValueError(f"{taken} are names of columns gzsim writes; give the factor or "
                             "outcome another 'name'")
        return self

    @model_validator(mode="after")
    def _design_fits(self) -> ExperimentSpec:
        grid = self.design.kind == "full_factorial"
        pf = self.posterior_factors
        if not self.factors and not pf or pf and grid != bool(pf.levels):
            raise ValueError("give 'factors' or 'posterior_factors'" if not pf else "posterior_"
                             "factors are ranges: use a sampling design, or 'levels: N' for "
                             "full_factorial" if grid else "posterior_factors: 'levels' only "
                             "applies to full_factorial")
        for path, f in self.factors.items():
            if grid and f.kind != "levels" and not isinstance(f.levels, int):
                raise ValueError(f"full_factorial: factor '{path}' needs levels (a list, or "
                                 "an integer number of evenly spaced levels with its range)")
            if not grid and isinstance(f.levels, int):
                raise ValueError(f"factor '{path}': an integer 'levels' only applies to "
                                 f"full_factorial; design '{self.design.kind}' samples the "
                                 "whole range")
        return self


@dataclass(frozen=True)
class Factor:
    """A factor as used by designs and runs: its column name, scenario path and spec."""

    name: str
    path: str
    spec: FactorSpec


def factors_of(factors: dict[str, FactorSpec]) -> list[Factor]:
    """The factors (``{path: spec}``) in the order the file gives them."""
    return [Factor(f.name or path, path, f) for path, f in factors.items()]


@dataclass
class Experiment:
    """A loaded experiment: the spec, where it came from, its validated base scenario, seeds.

    ``base_data`` is the base scenario mapping with the experiment's ``set`` overrides applied
    (not yet the factors); points apply their factor values to it and validate. ``root_seed``
    defaults to the base scenario's, ``design_seed`` (the sampler's) to the root seed.
    """

    spec: ExperimentSpec
    file: Path | None
    base_file: Path
    base_data: dict
    base_scenario: Scenario
    factors: list[Factor]
    root_seed: int
    design_seed: int
    posterior_source: dict | None = None  # where posterior_factors' ranges came from

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.spec.name

    @property
    def replications(self) -> int:
        """Replications per design point."""
        return self.spec.replications

    def resolved(self) -> dict:
        """The experiment as resolved: spec, seeds, and the base scenario as validated."""
        return {"spec": self.spec.model_dump(mode="json"),
                "file": str(self.file) if self.file else None, "base_file": str(self.base_file),
                "root_seed": self.root_seed, "design_seed": self.design_seed,
                "posterior_factors": self.posterior_source,
                "base_scenario": self.base_scenario.model_dump(mode="json")}

    def fingerprint(self) -> str:
        """Hash of everything that determines the runs (not the description or file names)."""
        r = {k: v for k, v in self.resolved().items() if k not in ("file", "base_file")}
        r["spec"] = {k: v for k, v in r["spec"].items() if k not in ("description", "base")}
        return hashlib.sha256(json.dumps(r, sort_keys=True, default=str).encode()).hexdigest()


def load_experiment(path: str | Path, overrides: Iterable[str] = ()) -> Experiment:
    """Read, validate and resolve an experiment file (its base scenario included).

    ``overrides`` (``key.path=value``, as ``--set`` gives them) join its ``set:`` mapping, and
    so its fingerprint. Raises :class:`ExperimentError` naming file, line and field for any
    mistake, including mistakes in the base scenario or the factor paths.
    """
    p = Path(path)
    try:
        data, origins = load_yaml(p, what="experiment")
    except InputError as e:
        raise ExperimentError(e.problems) from None
    if not isinstance(data, dict):
        raise ExperimentError([Problem(f"expected a mapping of experiment fields, got "
                                       f"{type(data).__name__}", str(p), 1)])
    if overrides and isinstance(data.get("set") or {}, dict):
        data = {**data, "set": {**(data.get("set") or {}), **{
            ".".join(k): v for k, v in map(parse_override, overrides)}}}
    return experiment_from_data(data, origins, file=p)


def experiment_from_data(data: dict, origins: Origins | None = None,
                         file: str | Path | None = None) -> Experiment:
    """Validate an experiment mapping (e.g. built in a notebook).

    ``base`` is relative to ``file``'s folder (or the current folder).
    """
    origins = origins or {}
    fname = str(file) if file is not None else None
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as e:
        raise ExperimentError(problems_from_validation(e, origins, ExperimentSpec, fname)) \
            from None

    def where(*key: Any) -> tuple[str | None, int | None, str]:
        f, line = origin_of(origins, key)
        return f or fname, line, ".".join(map(str, key))

    base_file = (folder := Path(file).parent if file is not None else Path(".")) / spec.base
    if not base_file.exists():
        raise ExperimentError([Problem(f"base scenario '{spec.base}' not found (looked for "
                                       f"{base_file})", *where("base"))])
    try:
        base_data, base_origins = resolve_scenario_data(base_file)
    except ScenarioError as e:
        raise ExperimentError(e.problems) from None
    found, source = experiment_posterior_factors(spec.posterior_factors, base_data, folder, where,
                                                 {"factors": spec.factors, "set": spec.set})
    spec = spec.model_copy(update={"factors": {**spec.factors, **{
        p: FactorSpec(**f) for p, f in found.items()}}})
    _check_paths(spec, base_data, where)
    base_data = apply_overrides(base_data, base_origins, spec.set)
    try:
        base_scenario = validate_scenario(base_data, base_origins, str(base_file))
    except ScenarioError as e:
        for pr in e.problems:  # point 'set' problems at the experiment file
            if pr.file and pr.file.startswith("--set"):
                pr.file, pr.line, pr.path = where("set", pr.path or "")
        raise ExperimentError(e.problems) from None
    _check_years(spec, base_scenario, where)
    root = int(spec.seed if spec.seed is not None else base_scenario.run.seed)
    return Experiment(spec, Path(file) if file is not None else None, base_file, base_data,
                      base_scenario, factors_of(spec.factors), root,
                      int(spec.design.seed if spec.design.seed is not None else root), source)


def _check_paths(spec: ExperimentSpec, base_data: dict, where: Any) -> None:
    """Every ``set`` and factor path must name a scenario value, and only once."""
    problems = [Problem(why, *where("set", key)) for key in spec.set
                if (why := check_scenario_path(key, base_data))]
    for key in spec.factors:
        why = check_scenario_path(key, base_data) or \
            (f"'{key}' is both a factor and in 'set'" if key in spec.set else None)
        if why:
            problems.append(Problem(why, *where("factors", key)))
    if problems:
        raise ExperimentError(problems)


def _check_years(spec: ExperimentSpec, base: Scenario, where: Any) -> None:
    """Each scalar outcome's year must be simulated (its December)."""
    t = base.time
    problems = [Problem(f"year {s.year} (its December) is outside the simulated period "
                        f"{t.start} .. {t.end}", *where("outcomes", "scalars", i, "year"))
                for i, s in enumerate(spec.outcomes.scalars)
                if s.year is not None and not 0 <= t.month_index(s.year, 12) < t.n_months]
    if problems:
        raise ExperimentError(problems)
