"""`gzsim backtest`: calibrate on the figures up to an origin, forecast the later ones.

For each origin ``Y`` (``calibration/backtest.yaml``): the calibration problem is built from the
targets dated up to ``Y`` only (:func:`gzsim.calibration.problem.build_problem` with
``last_year``: the growth fits too), ABC-SMC runs on it, and posterior predictive draws (fresh
seeds) forecast every fitted observed figure dated after ``Y`` up to ``window_end``. Each
forecast is set beside the naive forecasts of :mod:`gzsim.calibration.naive` made from the same
figures. Per figure: median, 90 % band, covered or not, error, PIT (the share of draws below
the figure). Summary: mean absolute percentage error of the model and of each naive rule on the
figures both could forecast, coverage, a PIT histogram.

When the bands hold fewer than ``coverage_goal`` of the figures, a model-discrepancy term is
estimated from the misses, by indicator (in the manner of Kennedy and O'Hagan): on the log scale
each miss ``r = log(observed / median)`` of a level figure is read as the sum of the predictive
spread ``s`` (from the band) and a discrepancy ``d ~ N(0, delta^2 h)`` growing with the horizon
``h`` (years after the origin), so ``delta^2 = max(0, mean((r^2 - s^2) / h))``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError

from gzsim.calibration.abc import run_abc
from gzsim.calibration.naive import METHODS, PlanPath, forecasts
from gzsim.calibration.predictive import predictive
from gzsim.calibration.problem import CalibrationProblem, TargetView, build_problem, target_view
from gzsim.calibration.spec import Settings
from gzsim.calibration.targets import TargetsFile, load_targets
from gzsim.errors import TargetsError
from gzsim.io.posterior import Posterior, write_posterior
from gzsim.io.yamlio import load_yaml, problems_from_validation
from gzsim.scenario.types import Frozen

Z90 = 1.6448536269514722  # the standard normal's 95th percentile


class Fallback(Frozen):
    """A growth value that stands in where no figure up to an origin determines it."""
    value: float
    note: Annotated[str, Field(min_length=10)]


class SeriesPoint(Frozen):
    """An observation naive series use: a target's figure, or a figure with its source."""
    indicator: str
    aggregation: str
    target: str | None = None
    year: int | None = None
    value: float | None = None
    source: str = ""


class PlanEntry(Frozen):
    """The plan in force for a level (the plan-and-record rule)."""
    indicator: str
    base_year: int
    base_value: float
    plan_year: int
    plan_value: float
    source: Annotated[str, Field(min_length=10)]


class BacktestConfig(Frozen):
    """``calibration/backtest.yaml``."""
    spec: str = "spec.yaml"
    window_end: int = 2015
    origins: Annotated[list[int], Field(min_length=1)]
    growth_fallbacks: dict[str, Fallback] = Field(default_factory=dict)
    series_points: list[SeriesPoint] = Field(default_factory=list)
    plans: list[PlanEntry] = Field(default_factory=list)
    coverage_goal: Annotated[float, Field(gt=0, le=1)] = 0.8
    quick: Settings
    full: Settings


def load_config(path: str | Path) -> BacktestConfig:
    """Read and validate the backtest file (located errors)."""
    data, origins = load_yaml(path, what="backtest file")
    try:
        return BacktestConfig.model_validate(data)
    except ValidationError as e:
        raise TargetsError(problems_from_validation(e, origins, BacktestConfig, str(path))
                           ) from None


def later_targets(every: TargetsFile, origin: int, window_end: int) -> list[TargetView]:
    """The fitted observed figures dated after ``origin`` up to ``window_end``."""
    out = []
    for t in every.fitted:
        last = t.period[1] if t.period else t.year
        if t.kind == "observed" and origin < last <= window_end:
            out.append(target_view(t))
    return out


def series(cfg: BacktestConfig, every: TargetsFile, indicator: str, aggregation: str,
           origin: int) -> dict[int, float]:
    """The figures of one quantity known at ``origin`` (``{year: value}``, model units)."""
    out: dict[int, float] = {}
    for t in every.targets:
        m = t.maps_to
        if (m is not None and m.indicator == indicator and m.aggregation == aggregation
                and t.kind == "observed" and t.year is not None and t.year <= origin
                and t.pending is None):
            out[t.year] = float(t.model_value)
    by_id = every.by_id
    for p in cfg.series_points:
        if p.indicator != indicator or p.aggregation != aggregation:
            continue
        year, value = ((by_id[p.target].year, by_id[p.target].model_value) if p.target
                       else (p.year, p.value))
        if year is not None and value is not None and year <= origin:
            out.setdefault(int(year), float(value))
    return dict(sorted(out.items()))


def naive_row(cfg: BacktestConfig, every: TargetsFile, t: TargetView,
              origin: int) -> dict[str, float]:
    """Each naive rule's forecast of target ``t`` from the figures known at ``origin``."""
    level = t.aggregation in ("change", "fall", "december")
    agg = "december" if level else t.aggregation
    known = series(cfg, every, t.indicator, agg, origin)
    plan = next((PlanPath(p.base_year, p.base_value, p.plan_year, p.plan_value)
                 for p in cfg.plans if p.indicator == t.indicator and level), None)
    return forecasts(known, t.last_year, t.aggregation, plan, origin)


def origin_problem(cfg: BacktestConfig, spec_path: Path, origin: int,
                   settings: Settings) -> CalibrationProblem:
    """The calibration problem as it stood at the end of ``origin`` (later figures dropped)."""
    fallbacks = {k: f.value for k, f in cfg.growth_fallbacks.items()}
    problem = build_problem(spec_path, last_year=origin, growth_fallbacks=fallbacks)
    return dataclasses.replace(problem, settings=settings)


def forecast_rows(problem: CalibrationProblem, post: Posterior, cfg: BacktestConfig,
                  every: TargetsFile, origin: int, draws: int, workers: int) -> list[dict]:
    """Predictive draws of the later figures, each beside the naive forecasts."""
    later = later_targets(every, origin, cfg.window_end)
    window = dataclasses.replace(problem, spec=problem.spec.model_copy(
        update={"horizon_end": f"{cfg.window_end}-12"}))
    sims = predictive(window, post, draws, workers, targets=later)
    rows = []
    for t in later:
        v = sims[t.id].dropna().to_numpy(float)
        p05, med, p95 = np.quantile(v, [0.05, 0.5, 0.95]) if len(v) else (np.nan,) * 3
        row = {"origin": origin, "id": t.id, "indicator": t.indicator,
               "aggregation": t.aggregation, "year": t.last_year, "horizon": t.last_year - origin,
               "unit": t.unit, "observed": t.value, "median": med, "p05": p05, "p95": p95,
               "covered": bool(p05 <= t.value <= p95), "error": med - t.value,
               "ape": abs(med - t.value) / abs(t.value),
               "pit": float(np.mean(v <= t.value)) if len(v) else np.nan,
               "draws": len(v)}
        for m, f in naive_row(cfg, every, t, origin).items():
            row[m] = f
            row[f"{m}_ape"] = abs(f - t.value) / abs(t.value) if np.isfinite(f) else np.nan
        rows.append(row)
    return rows


def run_origin(cfg: BacktestConfig, spec_path: Path, origin: int, settings: Settings,
               folder: Path, workers: int = 1) -> tuple[list[dict], dict[str, Any]]:
    """Calibrate at ``origin`` into ``folder/origin-Y``; forecast the later figures."""
    problem = origin_problem(cfg, spec_path, origin, settings)
    problem.screen()
    out = folder / f"origin-{origin}"
    abc = run_abc(problem, out, workers=workers)
    post = write_posterior(abc.particles, {"origin": origin, "fingerprint": abc.fingerprint,
                                           "fitted_targets": [t.id for t in problem.fitted]},
                           out / "posterior.parquet")
    every = load_targets(spec_path.parent / problem.spec.targets)
    rows = forecast_rows(problem, post, cfg, every, origin, settings.predictive_draws, workers)
    info = {"origin": origin, "fitted": [t.id for t in problem.fitted],
            "input_only": dict(problem.input_only), "parameters": len(problem.priors.paths),
            "generations": len(abc.generations), "simulations": abc.total_simulations,
            "epsilon": float(abc.generations["epsilon"].iloc[-1]), "ess": post.ess,
            "stop_reason": abc.stop_reason, "growth_values": dict(problem.growth_values)}
    return rows, info


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """MAPE of the model and of each naive rule on the figures both forecast; coverage."""
    rows = [{"method": "model", "n": len(table), "mape": table["ape"].mean(),
             "model_mape_same": table["ape"].mean(), "coverage": table["covered"].mean()}]
    for m in METHODS:
        ok = table[f"{m}_ape"].notna()
        rows.append({"method": m, "n": int(ok.sum()),
                     "mape": table.loc[ok, f"{m}_ape"].mean() if ok.any() else np.nan,
                     "model_mape_same": table.loc[ok, "ape"].mean() if ok.any() else np.nan,
                     "coverage": np.nan})
    return pd.DataFrame(rows)


LEVELS = ("december", "annual_sum")  # figures of an indicator's own level or annual flow


def _delta(t: pd.DataFrame) -> float:
    r = np.log(t["observed"] / t["median"])
    s = (np.log(t["p95"]) - np.log(t["p05"])) / (2 * Z90)
    return float(math.sqrt(max(0.0, float(np.mean((r ** 2 - s ** 2) / t["horizon"])))))


def discrepancy(table: pd.DataFrame) -> dict[str, float]:
    """Relative discrepancy per sqrt(year of horizon), log scale, by indicator (the module).

    Estimated from the figures of an indicator's level or annual flow; a change or fall between
    two years derives from the levels, so it carries their term and adds no estimate of its own.
    """
    ok = ((table["median"] > 0) & (table["observed"] > 0) & (table["p05"] > 0)
          & table["aggregation"].isin(LEVELS))
    return {str(ind): _delta(g) for ind, g in table[ok].groupby("indicator")}


def with_discrepancy(table: pd.DataFrame, deltas: dict[str, float]) -> pd.DataFrame:
    """The bands of level figures widened by their indicator's discrepancy (lognormal)."""
    t = table.copy()
    delta = np.array([deltas.get(i, 0.0) if a in LEVELS else 0.0
                      for i, a in zip(t["indicator"], t["aggregation"], strict=True)])
    s = (np.log(t["p95"].clip(lower=1e-12)) - np.log(t["p05"].clip(lower=1e-12))) / (2 * Z90)
    total = np.sqrt(s ** 2 + delta ** 2 * t["horizon"])
    centre = np.log(t["median"].clip(lower=1e-12))
    t["p05_d"] = np.where(delta > 0, np.exp(centre - Z90 * total), t["p05"])
    t["p95_d"] = np.where(delta > 0, np.exp(centre + Z90 * total), t["p95"])
    t["covered_d"] = (t["p05_d"] <= t["observed"]) & (t["observed"] <= t["p95_d"])
    return t


def cross_validated_coverage(table: pd.DataFrame) -> float:
    """Coverage of the bands widened by a discrepancy estimated without the figure's origin.

    Leave one origin out: each origin's bands take the term estimated from the other origins'
    misses only, so the figure is not used to widen its own band (an out-of-sample check of
    the term; ``nan`` with fewer than two origins).
    """
    origins = sorted(table["origin"].unique())
    if len(origins) < 2:
        return float("nan")
    parts = [with_discrepancy(table[table["origin"] == o],
                              discrepancy(table[table["origin"] != o]))
             for o in origins]
    return float(pd.concat(parts)["covered_d"].mean())
