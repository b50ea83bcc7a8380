"""Readings of a source (``choice`` priors): each reading's weight, fit and forecast (issue 22).

A source that reads two ways is a discrete parameter with prior weights. For each reading the
posterior is restricted to the particles that take it (their weights renormalised); the
reading's posterior weight is the weight of those particles. ``reading_draws`` posterior
predictive draws from the restriction (:func:`gzsim.calibration.predictive.predictive`, one
replication each with the predictive checks' fresh seeds, so that two readings differ by their
parameters and not by their noise) run to the scenario's end. From them:

- **fit**: the root mean square over the fitted targets of (predictive median - observed) /
  tolerance (the predictive checks' "miss" column, summarised), and the mean over draws of each
  draw's own RMS miss (the ABC distance, comparable with epsilon);
- **covered**: how many fitted targets up to :data:`HISTORY_END` the reading's 90 % band holds;
- **forecasts**: median and 90 % band of the spec's ``reading_forecasts``.

A reading no particle takes (posterior weight 0) has no draws: its row says so (``draws`` 0,
fit and forecasts missing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gzsim.calibration.predictive import predictive
from gzsim.calibration.problem import CalibrationProblem, TargetView
from gzsim.errors import Problem, TargetsError
from gzsim.io.posterior import Posterior, weighted_quantile
from gzsim.model.processes import indicator_specs
from gzsim.scenario.types import parse_year_month

#: the last year of the published record the fit counts in "covered" (as the predictive checks)
HISTORY_END = 2015


@dataclass(frozen=True)
class Reading:
    """One reading of a source: a value of a ``choice`` parameter and its weights."""

    path: str
    value: float
    prior_weight: float
    posterior_weight: float


def readings_of(problem: CalibrationProblem, post: Posterior) -> list[Reading]:
    """Every reading of every ``choice`` prior, with its prior and posterior weight."""
    out = []
    for p in problem.priors.priors:
        if not p.discrete:
            continue
        d = p.frozen()
        x = post.columns[p.path].astype(float)
        for value, w in zip(d.xk, d.pk, strict=True):
            pw = float(np.sum(post.weights[np.isclose(x, value)]))
            out.append(Reading(p.path, float(value), float(w), pw))
    return out


def restricted(post: Posterior, path: str, value: float) -> Posterior | None:
    """The posterior given the reading ``path = value`` (None: no particle takes it)."""
    keep = np.isclose(post.columns[path].astype(float), value)
    if not keep.any() or not np.asarray(post.columns["weight"], float)[keep].sum() > 0:
        return None
    return Posterior({k: v[keep] for k, v in post.columns.items()}, post.meta)


def forecast_views(problem: CalibrationProblem) -> list[TargetView]:
    """The spec's forecast quantities as targets without a value (id ``indicator_year``)."""
    fc = problem.spec.reading_forecasts
    units = {i.name: i.unit for i in indicator_specs()}
    start, end = (parse_year_month(str(problem.base_data["time"][k]))[0]
                  for k in ("start", "end"))
    if late := [y for y in fc.years if not start <= y <= end]:
        raise TargetsError([Problem(f"forecast year {y} is outside the scenario's years "
                                    f"{start}-{end}", str(problem.spec_path), None,
                                    "reading_forecasts.years") for y in late])
    return [TargetView(f"{ind}_{y}", float("nan"), 1.0, ind, agg, y, None, None, "forecast",
                       units[ind].replace("/month", "/year") if agg == "annual_sum"
                       else units[ind])
            for ind, agg in fc.indicators.items() for y in fc.years]


def summarise(reading: Reading, draws: pd.DataFrame | None, fitted: list[TargetView],
              forecasts: list[TargetView]) -> dict:
    """One row: the reading's weights, its fit to ``fitted`` and its ``forecasts``."""
    row = {"path": reading.path, "reading": reading.value,
           "prior_weight": reading.prior_weight, "posterior_weight": reading.posterior_weight}
    ids = [t.id for t in fitted]
    ok = draws.dropna(subset=ids) if draws is not None else pd.DataFrame(columns=ids)
    history = [t for t in fitted if t.last_year <= HISTORY_END]
    row.update(draws=len(ok), fit_rms_median=np.nan, fit_rms_draw=np.nan, covered=0,
               covered_of=len(history))
    if len(ok):
        obs = np.array([t.value for t in fitted])
        scale = np.array([t.scale for t in fitted])
        miss = (ok[ids].to_numpy(float) - obs) / scale
        band = {t.id: _band(ok[t.id]) for t in fitted}
        med = np.array([band[i][1] for i in ids])
        row["fit_rms_median"] = float(np.sqrt(np.mean(((med - obs) / scale) ** 2)))
        row["fit_rms_draw"] = float(np.mean(np.sqrt(np.mean(miss ** 2, axis=1))))
        row["covered"] = sum(band[t.id][0] <= t.value <= band[t.id][2] for t in history)
    for f in forecasts:
        v = _band(ok[f.id]) if len(ok) else (np.nan,) * 3
        row.update({f"{f.id}_p05": v[0], f"{f.id}_median": v[1], f"{f.id}_p95": v[2]})
    return row


def _band(values: pd.Series) -> tuple[float, float, float]:
    """The 5 %, 50 % and 95 % points of the draws (unweighted: they are drawn by weight)."""
    v = values.dropna().to_numpy(float)
    if not len(v):
        return (np.nan,) * 3
    return tuple(float(q) for q in weighted_quantile(v, np.ones_like(v), (0.05, 0.5, 0.95)))


def readings_table(problem: CalibrationProblem, post: Posterior, workers: int = 1,
                   draws: int | None = None) -> pd.DataFrame:
    """One row per reading of every ``choice`` prior (see the module docstring).

    ``draws``: predictive draws per reading (default: the settings' ``reading_draws``; 0 gives
    the weights only and simulates nothing).
    """
    draws = problem.settings.reading_draws if draws is None else draws
    fitted, forecasts = problem.fitted, forecast_views(problem)
    rows = []
    for r in readings_of(problem, post):
        sub = restricted(post, r.path, r.value) if draws else None
        frame = None if sub is None else predictive(
            problem, sub, draws, workers, targets=fitted + forecasts, to_end=True)
        rows.append(summarise(r, frame, fitted, forecasts))
    return pd.DataFrame(rows, columns=_columns(forecasts))


def _columns(forecasts: list[TargetView]) -> list[str]:
    return ["path", "reading", "prior_weight", "posterior_weight", "draws", "fit_rms_median",
            "fit_rms_draw", "covered", "covered_of",
            *(f"{f.id}_{q}" for f in forecasts for q in ("p05", "median", "p95"))]
