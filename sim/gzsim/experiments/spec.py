"""Experiment files: a base scenario, factors, a design, replications, a seed, outcomes.

An experiment file (YAML, usually in ``scenarios/experiments/``) looks like::

    name: growth_x_realisation
    base: ../base.yaml               # relative to this file
    seed: 20170716                   # root seed (default: the base scenario's run.seed)
    replications: 2                  # per design point
    set:                             # constant overrides applied at every point
      time.end: 2020-12
    factors:                         # dotted scenario path -> range, levels or distribution
      investment.growth_rate_per_year: {range: [0.05, 0.15], levels: 3}
      investment.realisation_share:    {levels: [0.4, 0.6, 0.8]}
      jobs.indirect_jobs_per_direct_job:
        distribution: {name: triang, c: 0.5, loc: 0.3, scale: 0.4}
    design: {kind: full_factorial}   # or latin_hypercube, sobol_sequence, monte_carlo,
                                     #    sobol (SALib, for Sobol indices), morris (SALib)
    outcomes:
      series: true                   # keep every monthly indicator of every run
      scalars:                       # and/or scalar KPIs computed on the workers
        - {name: jobs_2017, indicator: jobs_created, year: 2017, aggregation: annual_sum}

Errors name the file, the line and the field path (:class:`gzsim.errors.ExperimentError`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gzsim.aggregate import AGGREGATIONS, WHOLE_RUN
from gzsim.errors import ExperimentError, InputError, Problem, ScenarioError
from gzsim.indicators import INDICATORS
from gzsim.scenario.loader import apply_overrides, resolve_scenario_data, validate_scenario
from gzsim.scenario.paths import check_scenario_path
from gzsim.scenario.schema import Scenario
from gzsim.yamlio import Origins, load_yaml, origin_of, problems_from_validation

DesignKind = Literal["full_factorial", "latin_hypercube", "sobol_sequence", "monte_carlo",
                     "sobol", "morris"]
DESIGN_ALIASES = {"ff": "full_factorial", "factorial": "full_factorial",
                  "lhs": "latin_hypercube", "mc": "monte_carlo", "saltelli": "sobol",
                  "qmc_sobol": "sobol_sequence"}
Aggregation = Literal[AGGREGATIONS]  # type: ignore[valid-type]  # gzsim.aggregate's vocabulary
Scalar = bool | int | float | str
RESERVED_COLUMNS = {"run_id", "point", "replication", "seed_entropy", "status", "error",
                    "traceback", "wall_time_s", "worker", "date"}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactorSpec(_Frozen):
    """One uncertain or varied parameter: exactly one of range, levels (a list) or distribution.

    ``levels`` as an integer together with ``range`` (or ``distribution``) gives that many evenly
    spaced values (quantiles for a distribution) for a full factorial design.
    """

    name: Annotated[str, Field(min_length=1)] | None = None  # column name (default: the path)
    range: tuple[float, float] | None = None
    levels: Annotated[int, Field(ge=1, le=10_000)] | list[Scalar] | None = None
    distribution: dict[str, Any] | None = None  # {name: <scipy.stats name>, **parameters}
    integer: bool = False  # round sampled values to whole numbers (months, classes...)

    @field_validator("range")
    @classmethod
    def _range(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None:
            lo, hi = v
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError("range bounds must be finite numbers")
            if hi < lo:
                raise ValueError(f"range must be [low, high] with low <= high, got [{lo}, {hi}]")
        return v

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: Any) -> Any:
        if isinstance(v, list):
            if not v:
                raise ValueError("levels must not be empty")
            kinds = {"number" if isinstance(x, (int, float)) and not isinstance(x, bool)
                     else type(x).__name__ for x in v}
            if len(kinds) > 1:
                raise ValueError(f"levels must all be of one type (numbers, strings or "
                                 f"booleans), got {sorted(kinds)}")
            if len(set(v)) != len(v):
                raise ValueError("levels must not repeat")
        return v

    @field_validator("distribution")
    @classmethod
    def _distribution(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:
            return v
        frozen_distribution(v)  # raises ValueError with a readable message
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> FactorSpec:
        explicit = isinstance(self.levels, list)
        given = [k for k, on in (("range", self.range is not None), ("levels", explicit),
                                 ("distribution", self.distribution is not None)) if on]
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
        if self.range is not None:
            return "range"
        if self.distribution is not None:
            return "distribution"
        return "levels"


def frozen_distribution(spec: dict[str, Any]):
    """A frozen ``scipy.stats`` distribution from ``{name: norm, loc: 0, scale: 1}``."""
    import scipy.stats as st

    if "name" not in spec:
        raise ValueError("distribution needs a 'name' (a scipy.stats distribution, e.g. "
                         "'uniform', 'norm', 'triang', 'lognorm', 'truncnorm', 'beta')")
    name = str(spec["name"])
    params = {k: v for k, v in spec.items() if k != "name"}
    dist = getattr(st, name, None)
    if not isinstance(dist, (st.rv_continuous, st.rv_discrete)):
        known = [n for n in dir(st) if isinstance(getattr(st, n, None),
                                                  (st.rv_continuous, st.rv_discrete))]
        near = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ValueError(f"unknown scipy.stats distribution '{name}'{hint}")
    try:
        frozen = dist(**params)
        med = float(frozen.ppf(0.5))
    except Exception as e:  # scipy raises TypeError / ValueError for bad parameters
        raise ValueError(f"bad parameters for scipy.stats.{name}({params}): {e}") from None
    if not math.isfinite(med):
        raise ValueError(f"scipy.stats.{name}({params}) is not a valid distribution")
    return frozen


class DesignSpec(_Frozen):
    """How points are chosen.

    ``samples`` means: points (latin_hypercube, sobol_sequence, monte_carlo); the base sample N
    (sobol: N*(D+2) points, N*(2D+2) with second_order); trajectories (morris: N*(D+1)
    points). full_factorial takes every combination of levels.
    """

    kind: DesignKind
    samples: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    # sampling seed (default: the root seed)
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    scramble: bool = True  # latin_hypercube, sobol_sequence, sobol
    optimization: Literal["random-cd", "lloyd"] | None = None  # latin_hypercube, sobol_sequence
    strength: Literal[1, 2] = 1  # latin_hypercube (2 = orthogonal-array based)
    second_order: bool = False  # sobol: also sample for second-order indices
    num_levels: Annotated[int, Field(ge=2, le=1000)] = 4  # morris grid levels
    optimal_trajectories: Annotated[int, Field(ge=2)] | None = None  # morris (Campolongo)

    @field_validator("kind", mode="before")
    @classmethod
    def _alias(cls, v: Any) -> Any:
        return DESIGN_ALIASES.get(v, v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _samples(self) -> DesignSpec:
        if self.kind != "full_factorial" and self.samples is None:
            raise ValueError(f"design '{self.kind}' needs 'samples'")
        if self.kind == "full_factorial" and self.samples is not None:
            raise ValueError("full_factorial takes no 'samples' (its size is the product of "
                             "the factors' levels)")
        if self.kind == "sobol_sequence" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol_sequence needs a power of 2 for samples (balance "
                             f"properties), got {self.samples}")
        if self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol (Saltelli sampling) needs a power of 2 for samples, got "
                             f"{self.samples}")
        if self.kind == "morris" and self.optimal_trajectories is not None \
                and self.optimal_trajectories >= self.samples:
            raise ValueError("morris: optimal_trajectories must be below samples")
        return self


class ScalarOutcome(_Frozen):
    """A scalar KPI of one run, computed on the worker (keeps outputs small)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    indicator: str
    year: int | None = None
    aggregation: Aggregation = "annual"  # annual = sum of a flow, December of a stock
    quarter: Annotated[int, Field(ge=1, le=4)] | None = None  # quarter_sum only

    @field_validator("indicator")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in INDICATORS:
            near = difflib.get_close_matches(v, list(INDICATORS), n=1, cutoff=0.5)
            hint = f" (did you mean '{near[0]}'?)" if near else \
                f"; indicators are {', '.join(INDICATORS)}"
            raise ValueError(f"unknown indicator '{v}'{hint}")
        return v

    @property
    def unit(self) -> str:
        """The value's unit: a flow summed over a year is per year, over the run a total."""
        spec = INDICATORS[self.indicator]
        agg = self.aggregation
        if agg == "annual":
            agg = "annual_sum" if spec.kind == "flow" else "december"
        if spec.kind == "flow" and agg == "annual_sum":
            return spec.unit.replace("/month", "/year")
        if agg == "total":
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


class Outcomes(_Frozen):
    """What to keep from every run: the monthly series (all or some indicators), scalars."""

    series: bool | list[str] = True
    scalars: list[ScalarOutcome] = Field(default_factory=list)

    @field_validator("series")
    @classmethod
    def _names(cls, v: bool | list[str]) -> bool | list[str]:
        if isinstance(v, list):
            bad = [n for n in v if n not in INDICATORS]
            if bad:
                raise ValueError(f"unknown indicator(s) {bad}; indicators are "
                                 f"{', '.join(INDICATORS)}")
        return v

    @model_validator(mode="after")
    def _something(self) -> Outcomes:
        if self.series is False and not self.scalars:
            raise ValueError("nothing to keep: set 'series: true' or list 'scalars'")
        names = [s.name for s in self.scalars]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"scalar outcome names must be unique, repeated: {dup}")
        return self


class ExperimentSpec(_Frozen):
    """An experiment file as written (paths unresolved)."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]
    description: str = ""
    base: Annotated[str, Field(min_length=1)]  # scenario file, relative to the experiment file
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    replications: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    set: dict[str, Any] = Field(default_factory=dict)
    factors: dict[str, FactorSpec]
    design: DesignSpec
    outcomes: Outcomes = Field(default_factory=Outcomes)

    @field_validator("outcomes", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if v == "series":
            return {"series": True}
        if v == "scalars":
            raise ValueError("'outcomes: scalars' needs the list: outcomes: {scalars: [...]}")
        return v

    @field_validator("factors")
    @classmethod
    def _some(cls, v: dict[str, FactorSpec]) -> dict[str, FactorSpec]:
        if not v:
            raise ValueError("at least one factor is needed")
        names = [f.name or p for p, f in v.items()]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"factor names must be unique, repeated: {dup}")
        return v

    @model_validator(mode="after")
    def _names_free(self) -> ExperimentSpec:
        factor_names = {f.name or p for p, f in self.factors.items()}
        for n in sorted(factor_names):
            if n in RESERVED_COLUMNS or n.startswith("x:"):
                raise ValueError(f"factor name '{n}' is reserved for a column gzsim writes; "
                                 "give the factor another 'name'")
        for s in self.outcomes.scalars:
            if s.name in RESERVED_COLUMNS or s.name in factor_names:
                raise ValueError(f"outcome name '{s.name}' clashes with a factor or a column "
                                 "gzsim writes")
        return self

    @model_validator(mode="after")
    def _design_fits(self) -> ExperimentSpec:
        for path, f in self.factors.items():
            if self.design.kind == "full_factorial" and f.kind != "levels" \
                    and not isinstance(f.levels, int):
                raise ValueError(f"full_factorial: factor '{path}' needs levels (a list, or "
                                 "an integer number of evenly spaced levels with its range)")
            if self.design.kind != "full_factorial" and isinstance(f.levels, int):
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


@dataclass
class Experiment:
    """A loaded experiment: the spec, where it came from, and its validated base scenario.

    ``base_data`` is the base scenario mapping with the experiment's ``set`` overrides applied
    (not yet the factors); points apply their factor values to it and validate.
    """

    spec: ExperimentSpec
    file: Path | None
    base_file: Path
    base_data: dict
    base_origins: Origins
    base_scenario: Scenario
    factors: list[Factor] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.spec.name

    @property
    def root_seed(self) -> int:
        """Root seed of the runs (default: the base scenario's)."""
        return int(self.spec.seed if self.spec.seed is not None else self.base_scenario.run.seed)

    @property
    def design_seed(self) -> int:
        """Seed of the design sampler (default: the root seed)."""
        d = self.spec.design.seed
        return int(d if d is not None else self.root_seed)

    @property
    def replications(self) -> int:
        """Replications per design point."""
        return self.spec.replications

    def resolved(self) -> dict:
        """The experiment as resolved: spec, seeds, and the base scenario as validated."""
        return {
            "spec": self.spec.model_dump(mode="json"),
            "file": str(self.file) if self.file else None,
            "base_file": str(self.base_file),
            "root_seed": self.root_seed,
            "design_seed": self.design_seed,
            "factors": [{"name": f.name, "path": f.path,
                         **f.spec.model_dump(mode="json", exclude_none=True)}
                        for f in self.factors],
            "base_scenario": self.base_scenario.model_dump(mode="json"),
        }

    def fingerprint(self) -> str:
        """Hash of everything that determines the runs (not the description or file names)."""
        r = self.resolved()
        r["spec"] = {k: v for k, v in r["spec"].items() if k not in ("description", "base")}
        r.pop("file")
        r.pop("base_file")
        return hashlib.sha256(json.dumps(r, sort_keys=True, default=str).encode()).hexdigest()


# --- loading ------------------------------------------------------------------------------------

def load_experiment(path: str | Path) -> Experiment:
    """Read, validate and resolve an experiment file (its base scenario included).

    Raises :class:`ExperimentError` (a :class:`gzsim.errors.UserError`) naming file, line and
    field for any mistake, including mistakes in the base scenario or the factor paths.
    """
    p = Path(path)
    try:
        data, origins = load_yaml(p, what="experiment")
    except InputError as e:
        raise ExperimentError(e.problems) from None
    if not isinstance(data, dict):
        raise ExperimentError([Problem(f"expected a mapping of experiment fields, got "
                                       f"{type(data).__name__}", str(p), 1)])
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

    def where(*key: Any) -> tuple[str | None, int | None]:
        f, line = origin_of(origins, key)
        return f or fname, line

    base_file = (Path(file).parent if file is not None else Path(".")) / spec.base
    if not base_file.exists():
        raise ExperimentError([Problem(f"base scenario '{spec.base}' not found (looked for "
                                       f"{base_file})", *where("base"), "base")])
    try:
        base_data, base_origins = resolve_scenario_data(base_file)
    except ScenarioError as e:
        raise ExperimentError(e.problems) from None
    factors = _factors(spec, base_data, where)
    base_data = apply_overrides(base_data, base_origins, spec.set)
    try:
        base_scenario = validate_scenario(base_data, base_origins, str(base_file))
    except ScenarioError as e:
        for pr in e.problems:  # point 'set' problems at the experiment file
            if pr.file and pr.file.startswith("--set"):
                pr.file, pr.line = where("set", pr.path or "")
                pr.path = f"set.{pr.path}"
        raise ExperimentError(e.problems) from None
    _check_years(spec, base_scenario, where)
    return Experiment(spec=spec, file=Path(file) if file is not None else None,
                      base_file=base_file, base_data=base_data, base_origins=base_origins,
                      base_scenario=base_scenario, factors=factors)


def _factors(spec: ExperimentSpec, base_data: dict, where: Any) -> list[Factor]:
    """The factors, after checking every ``set`` and factor path against the base scenario."""
    problems: list[Problem] = []
    for key in spec.set:
        why = check_scenario_path(key, base_data)
        if why:
            problems.append(Problem(why, *where("set", key), f"set.{key}"))
    factors = []
    for key, fs in spec.factors.items():
        why = check_scenario_path(key, base_data)
        if why:
            problems.append(Problem(why, *where("factors", key), f"factors.{key}"))
        elif key in spec.set:
            problems.append(Problem(f"'{key}' is both a factor and in 'set'",
                                    *where("factors", key), f"factors.{key}"))
        factors.append(Factor(fs.name or key, key, fs))
    if problems:
        raise ExperimentError(problems)
    return factors


def _check_years(spec: ExperimentSpec, base: Scenario, where: Any) -> None:
    problems = []
    for i, s in enumerate(spec.outcomes.scalars):
        if s.year is not None and not 0 <= base.time.month_index(s.year, 12) < \
                base.time.n_months:
            problems.append(Problem(
                f"year {s.year} (its December) is outside the simulated period "
                f"{base.time.start} .. {base.time.end}",
                *where("outcomes", "scalars", i, "year"), f"outcomes.scalars.{i}.year"))
    if problems:
        raise ExperimentError(problems)
