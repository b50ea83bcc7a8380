"""The explorer's figures: fan charts of each scenario, and the paired difference with two bands.

The difference chart draws, per year, the mean paired difference (policy minus baseline,
replication by replication) with two bands that answer two questions: the interval of the mean
(a t-interval, as in the headline: how well the runs pin down the average effect) and the spread
across replications (5 % to 95 %: how much the effect varies from one possible future to another).
"""

from __future__ import annotations

import io
import threading
from typing import Any

import numpy as np
import pandas as pd

from gzsim.aggregate import annual, annual_unit
from gzsim.analysis.compare import Comparison
from gzsim.analysis.paired import paired_stats, succeeded
from gzsim.analysis.plots import (
    _plt,
    add_caption,
    caption_of,
    fan_chart,
    heading,
    legend_outside,
    thousands,
)

#: pyplot keeps global state: one figure at a time across the server's sessions.
PLOT_LOCK = threading.Lock()


def paired_differences(cmp: Comparison, name: str, indicator: str) -> pd.DataFrame:
    """Replication x year: ``name`` minus the baseline, over the pairs that both ran."""
    base, other = cmp.results[cmp.base], cmp.results[name]
    pairs = sorted(succeeded(base) & succeeded(other))
    a = annual(base.series, indicator).loc[pairs]
    b = annual(other.series, indicator).loc[pairs]
    return b - a


def difference_bands(d: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per year: mean, interval of the mean (``ci_low``, ``ci_high``), spread (``p05``, ``p95``)."""
    rows = []
    for y in d.columns:
        v = d[y].to_numpy(dtype=float)
        mean, lo, hi = paired_stats(v, level)
        p05, p95 = np.quantile(v, [0.05, 0.95]) if len(v) else (np.nan, np.nan)
        rows.append({"year": int(y), "mean": mean, "ci_low": lo, "ci_high": hi,
                     "p05": float(p05), "p95": float(p95), "n_pairs": len(v)})
    return pd.DataFrame(rows)


def paired_difference_chart(cmp: Comparison, indicator: str) -> Any:
    """Mean paired difference by year, its interval and the spread across replications."""
    plt = _plt()
    from matplotlib.ticker import MaxNLocator  # start-up: matplotlib only when drawing

    fig, ax = plt.subplots(figsize=(9, 4.5))
    ci = f"{cmp.level:.0%}"
    for i, name in enumerate(n for n in cmp.results if n != cmp.base):
        band = difference_bands(paired_differences(cmp, name, indicator), cmp.level)
        c, x = f"C{i + 1}", band["year"]
        ax.fill_between(x, band["p05"], band["p95"], color=c, alpha=0.15,
                        label=f"{name}: 90 % of replications (spread)")
        ax.fill_between(x, band["ci_low"].fillna(band["mean"]),
                        band["ci_high"].fillna(band["mean"]), color=c, alpha=0.4,
                        label=f"{name}: {ci} interval of the mean")
        ax.plot(x, band["mean"], color=c, lw=1.5, marker="o", ms=3,
                label=f"{name}: mean difference (n={int(band['n_pairs'].max())})")
    ax.axhline(0, color="black", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel(f"policy minus baseline [{annual_unit(indicator)}]")
    thousands(ax.yaxis)
    ax.set_title(f"{heading(indicator)}: paired difference from {cmp.base}")
    ax.grid(alpha=0.3)
    legend_outside(ax)
    add_caption(fig, "Paired over common random numbers and posterior draws. "
                + caption_of(cmp.results))
    return fig


def fan(cmp: Comparison, indicator: str) -> Any:
    """Fan chart of the baseline and every policy (median, 50 % and 90 % of replications)."""
    return fan_chart(cmp.results, indicator)


def png_bytes(fig: Any, dpi: int = 90) -> bytes:
    """The figure as PNG (closed afterwards)."""
    plt = _plt()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()
