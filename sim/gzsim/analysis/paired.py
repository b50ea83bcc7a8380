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
    """Mean of the paired differences and its t-interval at ``level``.

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
    mean = float(d.mean())
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


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
