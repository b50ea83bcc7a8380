"""What a paired comparison is made of: the pairs and their intervals.

Shared by :mod:`gzsim.analysis.compare` (the table) and :mod:`gzsim.analysis.headline` (the
policy question's answer), so neither imports the other's internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from gzsim.results import Result


def succeeded(res: Result) -> set[int]:
    """Replications with a series (the others failed)."""
    return set(pd.unique(res.series["replication"]).astype(int).tolist()) \
        if len(res.series) else set()


def paired_stats(d: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean of the paired differences and its t-interval at ``level`` (``scipy.stats``).

    All differences equal (e.g. a scenario against itself): the difference is exact and the
    interval has no width. Fewer than two pairs with a non-zero difference: no interval (NaN).
    """
    n = len(d)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    if np.all(d == d[0]):
        v = float(d[0])
        if n == 1 and v != 0:
            return v, float("nan"), float("nan")
        return v, v, v
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(level)
    return float(d.mean()), float(ci.low), float(ci.high)


def spread(d: np.ndarray, low: float = 5, high: float = 95) -> tuple[float, float]:
    """Percentiles of the paired differences: how much the effect varies.

    Between replications (random streams, posterior and assumption draws), as opposed to how
    sure its mean is (the interval of :func:`paired_stats`).
    """
    if len(d) == 0:
        return float("nan"), float("nan")
    lo, hi = np.percentile(d, [low, high])
    return float(lo), float(hi)


def unpaired_stats(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float]:
    """Difference of means ``b - a`` and its Welch t-interval (no common random numbers)."""
    if len(a) == 0 or len(b) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return mean, float("nan"), float("nan")
    if a.std() == 0 and b.std() == 0:
        return mean, mean, mean
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(level)
    return mean, float(ci.low), float(ci.high)
