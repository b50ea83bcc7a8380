"""Response surfaces of a sweep: an outcome's mean over replications across two factors.

A grid design (full factorial) gives the surface exactly, one cell per factor combination. A
sampled design (LHS, Monte Carlo, Sobol, Morris) is binned: each factor's range is cut into
``bins`` equal-count bins and each cell holds the mean of the runs that fall in it (NaN where
none does). Dimensions are named without dots (:func:`gzsim.experiments.reader.factor_dims`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gzsim.errors import UserError
from gzsim.experiments.reader import factor_dims


def numeric_factors(sweep: Any) -> list[str]:
    """Factor columns with numeric values (categorical levels have no surface)."""
    d = sweep.design
    return [f.name for f in sweep.factors if pd.api.types.is_numeric_dtype(d[f.name])]


def ranked_factors(sweep: Any, outcome: str) -> list[str]:
    """Numeric factors by the strength of their rank correlation with ``outcome``."""
    s = sweep.scalars
    corr = {f: abs(s[f].corr(s[outcome], method="spearman")) for f in numeric_factors(sweep)
            if s[f].nunique() > 1}
    return sorted(corr, key=lambda f: -np.nan_to_num(corr[f]))


def response_surface(sweep: Any, outcome: str, x: str | None = None, y: str | None = None,
                     bins: int | None = None):
    """Mean of ``outcome`` over factors (x, y) as an ``xarray.DataArray``.

    The factors default to the two most correlated with the outcome; with one factor (or
    only ``x``) it is a curve. ``bins`` per sampled factor defaults to about the square
    root of half the number of design points (2 to 8), so most cells hold a run.
    """
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    import xarray as xr

    if outcome not in sweep.outcome_names:
        raise UserError(f"outcome '{outcome}' is not in the sweep; scalar outcomes: "
                        f"{', '.join(sweep.outcome_names) or 'none'}")
    ranked = ranked_factors(sweep, outcome)
    axes = [a for a in (x, y) if a is not None] or ranked[:2]
    unknown = [a for a in axes if a not in sweep.factor_names]
    if unknown or not axes:
        raise UserError(f"factor(s) {unknown or '(none varies)'} not in the sweep; factors: "
                        f"{', '.join(sweep.factor_names)}")
    s = sweep.scalars
    dims = factor_dims([f.path for f in sweep.factors])
    names = {f.name: dims[f.path] for f in sweep.factors}
    if bins is None:
        bins = int(np.clip(round(np.sqrt(len(sweep.design) / 2)), 2, 8))
    grid = sweep.manifest["design"]["kind"] == "full_factorial"
    keys = []
    for a in axes:
        if grid or s[a].nunique() <= bins:  # a grid factor: its own levels
            keys.append(s[a].rename(names[a]))
        else:
            cut = pd.qcut(s[a], bins, duplicates="drop")
            keys.append(cut.map(lambda iv: iv.mid).astype(float).rename(names[a]))
    mean = s.groupby(keys)[outcome].mean()
    da = xr.DataArray.from_series(mean)
    da.name = outcome
    for a in axes:
        da[names[a]].attrs.update(path=next(f.path for f in sweep.factors if f.name == a))
    da.attrs.update(statistic="mean over replications (and over the runs in each bin)",
                    runs=int(len(s)))
    return da
