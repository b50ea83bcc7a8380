"""One rule for a year's value of an indicator, and one vocabulary of aggregations.

The annual value of a *flow* (an amount per month) is its sum over the year's months; the annual
value of a *stock* (an end-of-month level) is its December level (the last simulated month of
the year). Which is which comes from the indicator registry :mod:`gzsim.indicators`; an
indicator it does not know is read as a stock. Results, comparisons, calibration targets and
sweep outcomes all aggregate through :func:`aggregate`, so they cannot disagree.

Aggregations (one value per row of a replication x month array):

- ``annual``: the rule above for ``year`` (or summed / December over ``period`` for a flow /
  stock); ``annual_sum``, ``december``, ``annual_mean``: that explicitly;
- ``annual_growth``: annual_sum(year) / annual_sum(year - 1) - 1;
- ``change``: December of ``year`` (or the period's last year) minus December of the year before
  (the period's first year); ``fall``: the same with the sign turned (a net fall of a stock, as
  official "reduced" and "lifted out" figures are published);
- ``quarter_sum``: a flow summed over quarter ``quarter`` of ``year``;
- ``final``, ``total``, ``mean``, ``max``, ``min``: over the whole run (no year).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gzsim.indicators import INDICATORS

if TYPE_CHECKING:  # the frame helpers import pandas when called: workers and `gzsim run`
    import pandas as pd  # aggregate arrays only, and pandas' import is ~0.3 s (issue 13)

AGGREGATIONS = ("annual", "annual_sum", "annual_mean", "december", "annual_growth", "change",
                "fall", "quarter_sum", "final", "total", "mean", "max", "min")
WHOLE_RUN = ("final", "total", "mean", "max", "min")


def kind(indicator: str) -> str:
    """``flow`` or ``stock`` (an indicator the registry does not know counts as a stock)."""
    spec = INDICATORS.get(indicator)
    return spec.kind if spec is not None else "stock"


def annual_unit(indicator: str) -> str:
    """The unit of an indicator's annual value (a flow per month becomes per year)."""
    spec = INDICATORS.get(indicator)
    if spec is None:
        return ""
    return spec.unit.replace("/month", "/year") if spec.kind == "flow" else spec.unit


def years_covered(start: str, n: int) -> list[int]:
    """The calendar years with at least one of ``n`` months from ``start`` ('YYYY-MM')."""
    y0, m0 = (int(x) for x in str(start)[:7].split("-"))
    return list(range(y0, y0 + (m0 - 1 + n - 1) // 12 + 1)) if n > 0 else []


def _months(start: str, year: int, n: int, months: range = range(1, 13)) -> np.ndarray:
    """Column indices of ``months`` of ``year`` within a run of ``n`` months from ``start``."""
    y0, m0 = (int(x) for x in str(start)[:7].split("-"))
    idx = np.array([(year - y0) * 12 + (m - m0) for m in months])
    idx = idx[(idx >= 0) & (idx < n)]
    if not len(idx):
        raise ValueError(f"year {year} is outside the simulated period (from {start}, "
                         f"{n} months)")
    return idx


def aggregate(values: np.ndarray, start: str, aggregation: str, indicator: str = "",
              year: int | None = None, period: tuple[int, int] | None = None,
              quarter: int | None = None) -> np.ndarray:
    """One value per row of ``values`` (replications x months, first month ``start``)."""
    v = np.atleast_2d(np.asarray(values, dtype=float))
    n = v.shape[1]
    if aggregation in WHOLE_RUN:
        return v[:, -1] if aggregation == "final" else \
            getattr(np, {"total": "sum"}.get(aggregation, aggregation))(v, axis=1)
    y0, y1 = period if period else (year, year)
    if y1 is None or y0 is None:
        raise ValueError(f"aggregation '{aggregation}' needs a year or a period")
    if aggregation == "annual":
        aggregation = "annual_sum" if kind(indicator) == "flow" else "december"

    def total(a: int, b: int) -> np.ndarray:
        return sum(v[:, _months(start, y, n)].sum(axis=1) for y in range(a, b + 1))

    def december(y: int) -> np.ndarray:
        return v[:, _months(start, y, n)[-1]]

    if aggregation == "annual_sum":
        return total(y0, y1)
    if aggregation == "december":
        return december(y1)
    if aggregation == "annual_mean":
        return np.concatenate([v[:, _months(start, y, n)] for y in range(y0, y1 + 1)],
                              axis=1).mean(axis=1)
    if aggregation == "annual_growth":
        return total(y1, y1) / total(y0 - 1, y0 - 1) - 1
    if aggregation in ("change", "fall"):
        sign = 1.0 if aggregation == "change" else -1.0
        return sign * (december(y1) - december(y0 - 1))
    if aggregation == "quarter_sum":
        q = quarter or 1
        return v[:, _months(start, y1, n, range(3 * q - 2, 3 * q + 1))].sum(axis=1)
    raise ValueError(f"unknown aggregation '{aggregation}'; expected one of "
                     f"{', '.join(AGGREGATIONS)}")


def _grid(series: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(replications, dates, row of each record, column of each record), both sorted.

    ``None`` unless the frame is a plain grid (integer replications, datetimes, no missing key,
    no (replication, date) twice): then a cell holds at most one record, and placing records
    by index is what the pivot below computes, some ten times faster (``gzsim run``'s summary).
    """
    # start-up: pandas loads only when needed (the run path avoids it, issue 13)
    import pandas as pd

    if not len(series) or "replication" not in series.columns or "date" not in series.columns:
        return None
    rep, date = series["replication"], series["date"]
    if not (pd.api.types.is_integer_dtype(rep.dtype)
            and pd.api.types.is_datetime64_dtype(date.dtype)) or date.isna().any():
        return None
    reps, rows = np.unique(rep.to_numpy(), return_inverse=True)
    dates, cols = np.unique(date.to_numpy(), return_inverse=True)
    if len(np.unique(rows * len(dates) + cols)) != len(series):
        return None
    return reps, dates, rows, cols


def matrix(series: pd.DataFrame, indicator: str) -> tuple[pd.Index, str, np.ndarray]:
    """A tidy series frame as (replications, first month 'YYYY-MM', replication x month array)."""
    # start-up: pandas loads only when needed (the run path avoids it, issue 13)
    import pandas as pd

    if indicator not in series.columns:
        raise KeyError(f"indicator '{indicator}' is not in the simulated series")
    grid = _grid(series)
    if grid is not None:
        reps, dates, rows, cols = grid
        v = np.full((len(reps), len(dates)), np.nan)
        v[rows, cols] = series[indicator].to_numpy(dtype=float)
        return (pd.Index(reps, name="replication"), pd.Timestamp(dates[0]).strftime("%Y-%m"),
                v)
    wide = series.pivot_table(index="replication", columns="date", values=indicator,
                              aggfunc="first", dropna=False).sort_index(axis=1)
    start = pd.Timestamp(wide.columns[0]).strftime("%Y-%m") if len(wide.columns) else "2000-01"
    return wide.index, start, wide.to_numpy(dtype=float)


def annual(series: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Replication x year: each year's value by the rule above (columns are the years)."""
    # start-up: pandas loads only when needed (the run path avoids it, issue 13)
    import pandas as pd

    reps, start, v = matrix(series, indicator)
    years = sorted(pd.to_datetime(series["date"]).dt.year.unique().tolist())
    data = {y: aggregate(v, start, "annual", indicator, year=y) for y in years}
    out = pd.DataFrame(data, index=reps)
    out.columns.name = "year"
    return out
