"""Where an effect's spread comes from: the share of each sampled assumption.

When a comparison samples the scenario's assumptions (:mod:`gzsim.assumptions`), replication
``k`` of the policy and of its base used the same assumed values; the effect of replication
``k`` (the paired difference) then varies with them. For each headline row this module gives
each assumption's share of that variance (first-order, linear: r² of the effect on the drawn
value, :func:`variance_shares`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gzsim.aggregate import annual
from gzsim.indicators import JOBS

SHARE_COLUMNS = ["scenario", "base", "indicator", "year", "assumption", "variance_share",
                 "n_pairs"]


def assumption_draws(manifest: dict, pairs: list[int]) -> dict[str, np.ndarray]:
    """Assumption path -> its drawn value in each of ``pairs`` (empty when not sampled)."""
    a = (manifest.get("uncertainty") or {}).get("assumptions")
    if not a or not a.get("draws"):
        return {}
    by_rep = {int(d["replication"]): d["values"] for d in a["draws"]}
    paths = list(a["draws"][0]["values"])
    return {p: np.array([by_rep[k][p] for k in pairs], dtype=float) for p in paths}


def shares_frame(comparison: Any, headline: pd.DataFrame) -> pd.DataFrame:
    """Each headline row's variance share per sampled assumption (tidy)."""
    rows = []
    for (name, base_name, ind), g in headline.groupby(["scenario", "base", "indicator"],
                                                      sort=False):
        base, other = comparison.results[base_name], comparison.results[name]
        pairs = sorted(set(annual(base.series, ind).index) & set(annual(other.series,
                                                                        ind).index))
        draws = assumption_draws(base.manifest, pairs)
        if not draws:
            continue
        d = annual(other.series, ind).loc[pairs] - annual(base.series, ind).loc[pairs]
        for y in g["year"]:
            for path, share in variance_shares(d[int(y)].to_numpy(dtype=float),
                                               draws).items():
                rows.append({"scenario": name, "base": base_name, "indicator": ind,
                             "year": int(y), "assumption": path, "variance_share": share,
                             "n_pairs": len(pairs)})
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)


def shares_text(shares: pd.DataFrame) -> str:
    """``incentive elasticity 62 %; reach share 3 %`` (largest first, NaN left out)."""
    s = shares.dropna(subset=["variance_share"]).sort_values("variance_share",
                                                              ascending=False)
    return "; ".join(f"{r.assumption.split('.')[-1].replace('_', ' ')} "
                     f"{r.variance_share:.0%}" for r in s.itertuples())


def shares_notes(shares: pd.DataFrame, headline: pd.DataFrame) -> dict[str, str]:
    """Scenario -> how much of an effect's spread each assumption explains, in one sentence.

    The effect is the jobs indicator's (else the first indicator that moves) at the last year.
    """
    out = {}
    for name, g in shares.groupby("scenario", sort=False):
        live = headline[(headline["scenario"] == name) & ~headline["zero"]]
        if live.empty:
            continue
        ind = JOBS if JOBS in set(live["indicator"]) else str(live["indicator"].iloc[0])
        year = int(live[live["indicator"] == ind]["year"].max())
        sel = g[(g["indicator"] == ind) & (g["year"] == year)]
        text = shares_text(sel)
        if text:
            out[str(name)] = (f"Share of the spread of the {ind} effect in {year} across "
                              f"replications explained by each sampled assumption (r², "
                              f"{int(sel['n_pairs'].iloc[0])} pairs): {text}.")
    return out


def variance_shares(effect: np.ndarray, draws: dict[str, np.ndarray]) -> dict[str, float]:
    """Share of the effect's variance across replications each assumption explains.

    First-order and linear: the squared Pearson correlation (``scipy.stats.pearsonr``) of the
    per-replication effect with the assumption's drawn value. With independent uniform draws
    these shares estimate each assumption's first-order share of a linear response; their
    sum is not forced to 1 (the rest is the posterior draw, the model's randomness and
    interactions). NaN when the effect does not vary.
    """
    out = {}
    for path, x in draws.items():
        if len(effect) < 3 or np.ptp(effect) == 0 or np.ptp(x) == 0:
            out[path] = float("nan")
            continue
        out[path] = float(stats.pearsonr(x, effect).statistic ** 2)
    return out
