"""Simulated counterparts of published figures: an indicator aggregated over a year or period.

The aggregations and the annual rule are :mod:`gzsim.aggregate`'s (the one vocabulary); a
target names one of :data:`AGGREGATIONS` (``annual_sum``, ``december``, ``annual_growth``,
``change``, ``fall``, ``quarter_sum``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gzsim.aggregate import aggregate, matrix

AGGREGATIONS = ("annual_sum", "december", "annual_growth", "change", "fall", "quarter_sum")


def simulated_values(series: pd.DataFrame, indicator: str, aggregation: str,
                     year: int | None = None, period: tuple[int, int] | None = None,
                     quarter: int | None = None) -> np.ndarray:
    """One value per replication of ``indicator`` aggregated as the figure is defined."""
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation '{aggregation}'; expected one of {AGGREGATIONS}")
    _, start, values = matrix(series, indicator)
    return aggregate(values, start, aggregation, indicator, year, period, quarter)
