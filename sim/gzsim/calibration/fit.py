"""Simulation-based calibration: fit free scenario parameters to published figures with scipy.

The objective is deterministic: every evaluation runs the same R replications with the same
seeds (common random numbers), so differences between parameter values are not drowned in
noise. Residuals are scaled by each target's tolerance (1 = off by exactly the tolerance), and
``scipy.optimize.least_squares`` minimises them within bounds. Uncertainty comes from the
Jacobian at the optimum: the parameter ranges consistent with the targets within tolerance.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from gzsim.calibration.quantities import simulated_values
from gzsim.calibration.spec import CalibrationSpec, Settings, load_spec
from gzsim.errors import Problem, TargetsError
from gzsim.run import simulate
from gzsim.scenario.loader import apply_overrides, resolve_scenario_data, validate_scenario
from gzsim.scenario.schema import Scenario


@dataclass(frozen=True)
class TargetView:
    """What calibration needs of a target, whatever file it came from."""

    id: str
    value: float
    unit: str
    indicator: str | None
    aggregation: str | None
    year: int | None
    period: tuple[int, int] | None
    tolerance: float  # relative (for display); the residual scale is ``scale``
    scale: float  # a miss of this size is exactly "at tolerance"
    weight: float = 1.0
    geography: str = ""
    quarter: int | None = None

    def within(self, simulated: float) -> bool:
        return abs(simulated - self.value) <= self.scale * (1 + 1e-12)


def target_view(t: Any) -> TargetView:
    m = getattr(t, "maps_to", None)
    period = getattr(t, "period", None)
    return TargetView(
        id=t.id, value=float(t.value), unit=str(getattr(t, "unit", "")),
        indicator=getattr(m, "indicator", None) if m is not None else None,
        aggregation=getattr(m, "aggregation", None) if m is not None else None,
        year=getattr(t, "year", None), period=tuple(period) if period else None,
        tolerance=float(t.error_scale() / abs(t.value)) if t.value else 0.0,
        scale=float(t.error_scale()) or 1e-9,
        weight=float(getattr(t, "weight", None) or 1.0),
        geography=str(getattr(t, "geography", "")), quarter=getattr(t, "quarter", None))


def comparable(t: TargetView) -> bool:
    return bool(t.indicator) and t.aggregation not in (None, "none")


def simulated_for(series: pd.DataFrame, t: TargetView) -> np.ndarray:
    return simulated_values(series, t.indicator, t.aggregation, t.year, t.period, t.quarter)


@dataclass
class CalibrationProblem:
    spec: CalibrationSpec
    base_data: dict
    targets: list[TargetView]  # the ones in the objective
    all_targets: list[TargetView]
    executor: Executor | None = None
    evaluations: list[dict] = field(default_factory=list)
    on_evaluation: Callable[[dict], None] | None = None
    growth_fits: dict[str, Any] = field(default_factory=dict)
    growth_values: dict[str, float] = field(default_factory=dict)

    @property
    def lows(self) -> np.ndarray:
        return np.array([p.bounds[0] for p in self.spec.parameters])

    @property
    def highs(self) -> np.ndarray:
        return np.array([p.bounds[1] for p in self.spec.parameters])

    def to_x(self, u: np.ndarray) -> np.ndarray:
        return self.lows + np.asarray(u) * (self.highs - self.lows)

    def to_u(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) - self.lows) / (self.highs - self.lows)

    def scenario_at(self, x: np.ndarray, horizon: bool = True) -> Scenario:
        values: dict[str, Any] = {p.path: float(v) for p, v in zip(self.spec.parameters, x,
                                                                    strict=True)}
        if horizon and self.spec.horizon_end:
            values["time.end"] = self.spec.horizon_end
        return validate_scenario(apply_overrides(self.base_data, {}, values))

    def series_at(self, x: np.ndarray, replications: int, horizon: bool = True) -> pd.DataFrame:
        sc = self.scenario_at(x, horizon)
        return simulate(sc, replications=replications, seed=self.spec.seed,
                        backend="executor" if self.executor else "serial",
                        executor=self.executor).series

    def residuals_from(self, series: pd.DataFrame) -> np.ndarray:
        out = []
        for t in self.targets:
            sim = float(np.mean(simulated_for(series, t)))
            out.append(np.sqrt(t.weight) * (sim - t.value) / t.scale)
        return np.array(out)

    def make_objective(self, replications: int) -> Callable[[np.ndarray], np.ndarray]:
        def objective(u: np.ndarray) -> np.ndarray:
            x = self.to_x(np.clip(u, 0, 1))
            r = self.residuals_from(self.series_at(x, replications))
            rec = {"evaluation": len(self.evaluations) + 1, "cost": float(0.5 * r @ r),
                   **{p.path: float(v) for p, v in zip(self.spec.parameters, x, strict=True)}}
            self.evaluations.append(rec)
            if self.on_evaluation:
                self.on_evaluation(rec)
            return r
        return objective


@dataclass
class CalibrationResult:
    spec: CalibrationSpec
    parameters: pd.DataFrame  # path, value, se, ci90_low, ci90_high, lower, upper, start
    residuals: pd.DataFrame  # target id, scaled residual
    identification: pd.DataFrame  # parameter x target |d residual / d parameter| (scaled)
    success: bool
    message: str
    cost: float
    evaluations: int
    wall_time_s: float
    settings: Settings
    jacobian: np.ndarray

    @property
    def values(self) -> dict[str, float]:
        return dict(zip(self.parameters["path"], self.parameters["value"], strict=True))


def spec_problems(spec: CalibrationSpec, base_data: dict, used: list[TargetView],
                  spec_file: str, targets_file: str) -> list[Problem]:
    """Free parameters that are scenario numbers; used targets in the horizon, tolerance > 0."""
    sc = validate_scenario(base_data, None, spec_file)
    dumped = sc.model_dump()
    out = []
    for i, p in enumerate(spec.parameters):
        v: Any = dumped
        for part in p.path.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            what = "not a field of the scenario" if v is None else "not a number"
            out.append(Problem(f"unknown parameter path '{p.path}' ({what})", spec_file, None,
                               f"parameters.{i}.path"))
    y0 = int(sc.time.start[:4])
    y1 = int((spec.horizon_end or sc.time.end)[:4])
    for t in used:
        years = [t.year] if t.year is not None else list(t.period or ())
        if any(y is not None and not y0 <= y <= y1 for y in years):
            out.append(Problem(f"target '{t.id}' ({', '.join(map(str, years))}) is outside the "
                               f"simulated years {y0}-{y1} (horizon_end or the scenario's "
                               "time.end): it cannot be compared", spec_file, None,
                               "use_targets"))
        if t.scale <= 1e-9:
            out.append(Problem(f"target '{t.id}' has a zero tolerance: every miss would be "
                               "infinitely bad; give tolerance or tolerance_abs > 0",
                               targets_file, None, f"targets.{t.id}.tolerance"))
    return out


def build_problem(spec: CalibrationSpec, spec_dir: Path,
                  load_targets: Callable[[Path], Any] | None = None,
                  spec_file: str | Path | None = None) -> CalibrationProblem:
    """The calibration problem of a spec; every problem with the spec or targets refused."""
    if load_targets is None:
        from gzsim.calibration.targets import load_targets as _lt
        load_targets = _lt
    base_data, _ = resolve_scenario_data(spec_dir / spec.scenario)
    validate_scenario(base_data, None, str(spec_dir / spec.scenario))
    targets_obj = load_targets(spec_dir / spec.targets)
    raw_targets = list(getattr(targets_obj, "targets", targets_obj))
    views = [target_view(t) for t in raw_targets]
    by_id = {t.id: t for t in views}
    spec_file = str(spec_file or spec_dir / "spec.yaml")
    problems = []
    for tid in spec.use_targets:
        if tid not in by_id:
            near = difflib.get_close_matches(tid, list(by_id), n=1)
            problems.append(Problem(f"unknown target id '{tid}' (not in "
                                    f"{spec_dir / spec.targets})"
                                    + (f"; did you mean '{near[0]}'?" if near else ""),
                                    spec_file, None, "use_targets"))
        elif not comparable(by_id[tid]):
            problems.append(Problem(f"target '{tid}' maps to no simulated indicator",
                                    spec_file, None, "use_targets"))
    problems += spec_problems(spec, base_data, [by_id[t] for t in spec.use_targets
                                                if t in by_id], spec_file,
                              str(spec_dir / spec.targets))
    from gzsim.calibration.growth import fit_all

    fits = fit_all(raw_targets)
    growth_values: dict[str, float] = {}
    for path, ref in spec.growth_values.items():
        series, _, param = ref.partition(".")
        if series not in fits or param not in fits[series].params:
            problems.append(Problem(f"'{ref}' is not a fitted growth parameter; fitted: "
                                    + ", ".join(f"{n}.{p}" for n, f in fits.items()
                                                for p in f.params), None, None,
                                    f"growth_values.{path}"))
        else:
            growth_values[path] = fits[series].params[param]
    if problems:
        raise TargetsError(problems)
    if growth_values:
        base_data = apply_overrides(base_data, {}, growth_values)
        validate_scenario(base_data, None, str(spec_dir / spec.scenario))
    return CalibrationProblem(spec, base_data, [by_id[t] for t in spec.use_targets], views,
                              growth_fits=fits, growth_values=growth_values)


def fit(problem: CalibrationProblem, settings: Settings, start: np.ndarray | None = None
        ) -> CalibrationResult:
    """Minimise the tolerance-scaled residuals with ``scipy.optimize.least_squares``."""
    spec = problem.spec
    t0 = time.perf_counter()
    if start is None:
        sc = validate_scenario(problem.base_data)
        data = sc.model_dump()
        start = []
        for p in spec.parameters:
            if p.start is not None:
                start.append(p.start)
                continue
            v: Any = data
            for part in p.path.split("."):
                v = v[part]
            start.append(float(np.clip(v, *p.bounds)))
        start = np.array(start, dtype=float)
    u0 = problem.to_u(start)
    res = least_squares(problem.make_objective(settings.replications), u0, bounds=(0, 1),
                        diff_step=spec.diff_step, max_nfev=settings.max_evaluations,
                        x_scale=1.0, method="trf")
    x = problem.to_x(res.x)
    jac = np.asarray(res.jac)
    scale = problem.highs - problem.lows
    # Residuals are in units of tolerance, so cov(u) = (J'J)^-1; pinv tolerates a parameter the
    # targets do not pin down (its se is then reported as infinite).
    jtj = jac.T @ jac
    cov_u = np.linalg.pinv(jtj)
    se = np.sqrt(np.clip(np.diag(cov_u), 0, None)) * scale
    identified = np.abs(jac).sum(axis=0) > 1e-9
    se = np.where(identified, se, np.inf)
    z90 = 1.6448536269514722
    params = pd.DataFrame({
        "path": [p.path for p in spec.parameters], "value": x, "se": se,
        "ci90_low": np.maximum(x - z90 * se, problem.lows),
        "ci90_high": np.minimum(x + z90 * se, problem.highs),
        "lower": problem.lows, "upper": problem.highs, "start": start,
        "identified": identified})
    resid = pd.DataFrame({"target": [t.id for t in problem.targets], "scaled_residual": res.fun})
    # |d residual / d u|: residual change, in tolerances, over each parameter's whole range
    ident = pd.DataFrame(np.abs(jac), index=[t.id for t in problem.targets],
                         columns=[p.path for p in spec.parameters])
    return CalibrationResult(spec, params, resid, ident, bool(res.success), str(res.message),
                             float(res.cost), int(res.nfev), time.perf_counter() - t0, settings,
                             jac)


def calibrate(spec_path: str | Path, quick: bool = False, workers: int = 1,
              on_evaluation: Callable[[dict], None] | None = None,
              start: np.ndarray | None = None) -> tuple[CalibrationProblem, CalibrationResult]:
    """Load a spec, fit it, and return the problem (for reporting) and the result."""
    spec, spec_dir = load_spec(spec_path)
    problem = build_problem(spec, spec_dir, spec_file=spec_path)
    problem.on_evaluation = on_evaluation
    settings = spec.quick if quick else spec.full
    own = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    problem.executor = own
    try:
        result = fit(problem, settings, start)
    finally:
        if own is not None:
            own.shutdown()
        problem.executor = None
    return problem, result
