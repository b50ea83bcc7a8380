"""Dose-response of a policy lever swept in an experiment: effect and effect per US$ m.

A sweep that crosses a lever (``policies.NAME.levers.LEVER``) with other factors (posterior
parameters, assumptions) holds, for every combination of the other factors, a point at the
lever's lowest level: the paired baseline. Replication ``k`` of every point shares its random
numbers (common random numbers), so for each other-factor combination and replication the
effect of a lever value is the difference from that baseline, and its public cost the
difference of ``public_cost_usd_m`` cumulated to the year (:mod:`gzsim.analysis.costs`).

For each lever value the table gives, over all (combination, replication) pairs, the mean
effect with its t-interval (how sure is the average over the swept parameters) and the 5-95 %
spread of the pairs (how much it could vary), and the same for the effect per US$ m
(delta-method interval of the ratio of means; spread of the per-pair ratios), undiscounted
and in present values at the base's ``fiscal.discount_rate_per_year`` from the policy start.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gzsim.aggregate import annual_unit, kind
from gzsim.analysis.costs import TOTAL, cumulative_by_year, discount
from gzsim.analysis.headline import ratio_interval, ratio_spread
from gzsim.analysis.paired import paired_stats, spread
from gzsim.errors import UserError
from gzsim.experiments import read_sweep
from gzsim.indicators import JOBS

DOSE_COLUMNS = ["lever", "value", "indicator", "unit", "year", "discount_rate", "n_pairs",
                "diff_mean",
                "ci_low", "ci_high", "diff_p05", "diff_p95", "cost_usd_m", "cost_pv_usd_m",
                "per_usd_m", "per_usd_m_low", "per_usd_m_high", "per_usd_m_p05",
                "per_usd_m_p95", "per_usd_m_pv", "per_usd_m_pv_low", "per_usd_m_pv_high",
                "per_usd_m_pv_p05", "per_usd_m_pv_p95"]


def _run_values(series: pd.DataFrame, indicator: str, year: int, origin: str,
                rate: float) -> pd.DataFrame:
    """Per run: the indicator's value by ``year``, and the public cost to it (plain, PV)."""
    out = {}
    for run_id, g in series.groupby("run_id", sort=True):
        g = g.sort_values("date")
        start = pd.Timestamp(g["date"].iloc[0]).strftime("%Y-%m")
        v = g[indicator].to_numpy(dtype=float)[None, :]
        c = g[TOTAL].to_numpy(dtype=float)[None, :]
        f = discount(start, c.shape[1], origin, rate)
        flow = kind(indicator) == "flow"
        out[run_id] = {
            "value": float(cumulative_by_year(v, start, [year])[0, 0]) if flow else
            float(v[0, min(int((year - int(start[:4])) * 12 + 12 - int(start[5:7])),
                           v.shape[1] - 1)]),
            "value_pv": float(cumulative_by_year(v * f, start, [year])[0, 0]) if flow else
            np.nan, "cost": float(cumulative_by_year(c, start, [year])[0, 0]),
            "cost_pv": float(cumulative_by_year(c * f, start, [year])[0, 0])}
    frame = pd.DataFrame.from_dict(out, orient="index")
    if not flow:
        frame["value_pv"] = frame["value"]
    return frame


def _paired(runs: pd.DataFrame, lever: str, context: list[str]) -> pd.DataFrame:
    """Each run minus the baseline run (lowest lever value, same context and replication)."""
    low = runs[lever].min()
    keys = [*context, "replication"]
    base = runs[runs[lever] == low][[*keys, "value", "value_pv", "cost", "cost_pv"]]
    joined = runs.merge(base, on=keys, suffixes=("", "_base"), how="inner")
    for c in ("value", "value_pv", "cost", "cost_pv"):
        joined[f"d_{c}"] = joined[c] - joined[f"{c}_base"]
    return joined


def _row(g: pd.DataFrame, level: float) -> dict:
    """The statistics of one lever value over its (context, replication) pairs."""
    d = g["d_value"].to_numpy(dtype=float)
    c, cpv = g["d_cost"].to_numpy(dtype=float), g["d_cost_pv"].to_numpy(dtype=float)
    mean, lo, hi = paired_stats(d, level)
    p05, p95 = spread(d)
    row = {"n_pairs": len(d), "diff_mean": mean, "ci_low": lo, "ci_high": hi,
           "diff_p05": p05, "diff_p95": p95, "cost_usd_m": float(c.mean()),
           "cost_pv_usd_m": float(cpv.mean())}
    for tag, num, den in (("", d, c), ("_pv", g["d_value_pv"].to_numpy(dtype=float), cpv)):
        r = ratio_interval(num, den, level) if den.mean() > 0 else (np.nan,) * 3
        s = ratio_spread(num, den) if den.mean() > 0 else (np.nan,) * 2
        row.update({f"per_usd_m{tag}": r[0], f"per_usd_m{tag}_low": r[1],
                    f"per_usd_m{tag}_high": r[2], f"per_usd_m{tag}_p05": s[0],
                    f"per_usd_m{tag}_p95": s[1]})
    return row


def dose_response(path: str | Path, lever: str | None = None, indicator: str = JOBS,
                  year: int = 2025, level: float = 0.90) -> pd.DataFrame:
    """The dose-response table of a sweep folder (see the module docstring).

    ``lever`` is a factor name (default: the first factor).
    """
    sweep = read_sweep(path)
    lever = lever or sweep.factor_names[0]
    if lever not in sweep.factor_names:
        raise UserError(f"{path}: no factor named '{lever}'; factors are "
                        f"{', '.join(sweep.factor_names)}")
    series = sweep.series
    for need in (indicator, TOTAL):
        if need not in series.columns:
            raise UserError(f"{path}: the sweep kept no '{need}' series (outcomes: "
                            "series: true, and a model that reports it)")
    sc = sweep.manifest["experiment"]["base_scenario"]
    path_of = next(f.path for f in sweep.factors if f.name == lever)
    starts = [p["start"] for p in sc.get("policies", []) if path_of.startswith(
        f"policies.{p['name']}.")] or [sc["time"]["start"]]
    rate = float((sc.get("fiscal") or {}).get("discount_rate_per_year") or 0.0)
    runs = sweep.runs[sweep.runs["status"] == "ok"].set_index("run_id")
    runs = runs.join(_run_values(series[series["run_id"].isin(runs.index)], indicator, year,
                                 starts[0], rate))
    context = [f for f in sweep.factor_names if f != lever]
    pairs = _paired(runs.reset_index(), lever, context)
    rows = [{"lever": lever, "value": float(v), "indicator": indicator,
             "unit": annual_unit(indicator), "year": int(year), "discount_rate": rate,
             **_row(g, level)}
            for v, g in pairs.groupby(lever, sort=True)]
    return pd.DataFrame(rows, columns=DOSE_COLUMNS)
