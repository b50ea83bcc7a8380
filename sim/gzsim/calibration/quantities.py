"""Simulated counterparts of published figures: an indicator aggregated over a year or period.

Aggregations (per replication):
- ``annual_sum``: a flow summed over calendar year ``year``;
- ``december``: a stock at the end of ``year``;
- ``annual_growth``: annual_sum(year) / annual_sum(year - 1) - 1;
- ``change``: stock at end of ``year`` minus stock at end of ``year - 1`` (over a period
  [y0, y1]: end of y1 minus end of y0 - 1);
- ``quarter_sum``: a flow summed over one quarter of ``year``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AGGREGATIONS = ("annual_sum", "december", "annual_growth", "change", "quarter_sum")


def _by_year(series: pd.DataFrame, indicator: str, how: str) -> pd.DataFrame:
    df = series[["replication", "date", indicator]]
    years = df["date"].dt.year
    g = df.groupby([df["replication"], years])[indicator]
    wide = (g.sum() if how == "sum" else g.last()).unstack()
    return wide  # index replication, columns year


def simulated_values(series: pd.DataFrame, indicator: str, aggregation: str,
                     year: int | None = None, period: tuple[int, int] | None = None,
                     quarter: int | None = None) -> np.ndarray:
    """One value per replication of ``indicator`` aggregated as the figure is defined."""
    if indicator not in series.columns:
        raise KeyError(f"indicator '{indicator}' is not in the simulated series")
    y0, y1 = period if period else (year, year)
    if y1 is None:
        raise ValueError("a year or a period is needed")
    if aggregation == "annual_sum":
        w = _by_year(series, indicator, "sum")
        return w.loc[:, y0:y1].sum(axis=1).to_numpy()
    if aggregation == "december":
        return _by_year(series, indicator, "last")[y1].to_numpy()
    if aggregation == "annual_growth":
        w = _by_year(series, indicator, "sum")
        return (w[y1] / w[y0 - 1] - 1).to_numpy()
    if aggregation == "quarter_sum":
        df = series[["replication", "date", indicator]]
        months = range(3 * (quarter or 1) - 2, 3 * (quarter or 1) + 1)
        sel = df[(df["date"].dt.year == y1) & df["date"].dt.month.isin(months)]
        return sel.groupby("replication")[indicator].sum().to_numpy()
    if aggregation == "change":
        w = _by_year(series, indicator, "last")
        return (w[y1] - w[y0 - 1]).to_numpy()
    raise ValueError(f"unknown aggregation '{aggregation}'; expected one of {AGGREGATIONS}")
