"""The dose-response figure: a lever's effect, and its effect per US$ m, with both bands.

Left: the paired effect by the year against the lever's value; right: the effect per US$ m of
extra public money (undiscounted, and present values as a dashed line). Each panel shows the
mean, the interval of the mean (dark band: how sure is the average) and the 5-95 % spread of
the pairs (light band: how much it could vary across replications and swept parameters).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gzsim.analysis.plots import _plt, add_caption, thousands
from gzsim.analysis.tables import title


def _bands(ax: Any, x: np.ndarray, d: pd.DataFrame, mid: str, ci: tuple[str, str],
           runs: tuple[str, str], colour: str, level: float) -> None:
    ax.fill_between(x, d[runs[0]], d[runs[1]], color=colour, alpha=0.15, lw=0,
                    label="5-95 % of pairs (how much it could vary)")
    ax.fill_between(x, d[ci[0]], d[ci[1]], color=colour, alpha=0.45, lw=0,
                    label=f"{level:.0%} CI of the mean (how sure is the average)")
    ax.plot(x, d[mid], "o-", color=colour, label="mean effect")


def dose_response_chart(table: pd.DataFrame, level: float = 0.90, caption: str = "",
                        where: str = ""):
    """Two panels from :func:`gzsim.analysis.dose.dose_response`'s table (see the module docstring).

    ``where``: the geography named in the titles (e.g. the district's name).
    """
    plt = _plt()
    d = table.sort_values("value")
    lever, ind = str(d["lever"].iloc[0]), str(d["indicator"].iloc[0])
    unit, year = str(d["unit"].iloc[0]), int(d["year"].iloc[0])
    x = d["value"].to_numpy(dtype=float)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6))
    _bands(a, x, d, "diff_mean", ("ci_low", "ci_high"), ("diff_p05", "diff_p95"), "C0", level)
    a.axhline(0, color="black", lw=0.8)
    at = f" in {where}" if where else ""
    fig.suptitle(f"{title(ind)}{at}, {year}, against the {lever.replace('_', ' ')}",
                 fontsize=11)
    a.set_title(f"Effect: extra {unit} over {lever.replace('_', ' ')} {x.min():g}",
                fontsize=10)
    a.set_ylabel(f"extra {unit}")
    cost = d[np.isfinite(d["per_usd_m"].to_numpy(dtype=float))]
    xc = cost["value"].to_numpy(dtype=float)
    _bands(b, xc, cost, "per_usd_m", ("per_usd_m_low", "per_usd_m_high"),
           ("per_usd_m_p05", "per_usd_m_p95"), "C1", level)
    b.plot(xc, cost["per_usd_m_pv"], "s--", color="C2", ms=4,
           label=f"mean per US$ m of present value ({caption_rate(table)})")
    if (cost["per_usd_m_p05"] >= 0).all():
        b.set_ylim(bottom=0)
    else:
        b.axhline(0, color="black", lw=0.8)
    b.set_title(f"Per US$ m of extra public money spent to {year}", fontsize=10)
    b.set_ylabel(f"{unit.split('/')[0]} per US$ m")
    for ax in (a, b):
        ax.set_xlabel(lever.replace("_", " "))
        ax.grid(alpha=0.3)
        thousands(ax.yaxis)
    a.legend(fontsize=8, frameon=False, loc="upper left")
    b.legend(fontsize=8, frameon=False, loc="upper right")
    fig.tight_layout()
    n = int(d["n_pairs"].max())
    add_caption(fig, f"Paired differences from the lowest {lever} at the same swept "
                f"parameters and replication seeds (common random numbers), {n} pairs per "
                f"value. {caption}")
    return fig


def caption_rate(table: pd.DataFrame) -> str:
    """How the present values were discounted (from the table's ``discount_rate``)."""
    r = table["discount_rate"].iloc[0] if "discount_rate" in table else None
    return f"{r:.0%} a year" if r is not None and np.isfinite(r) else "discounted"
