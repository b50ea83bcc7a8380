"""The answer to a policy's question: headline rows and cost-effectiveness, paired.

A policy names the indicators that answer its question (``indicators:`` in its YAML). For each
at the milestone years the headline gives the paired difference against the base with its
interval, and the relative change (difference / base mean) with its own interval. Where the
policy has a fiscal cost (``fiscal_cost_usd_m`` above the base's), it adds the effect per
US$ m of cost: a flow's cumulative extra amount, or a stock's extra level, by a year, divided
by the cumulative extra fiscal cost to that year.

Both ratios use the paired replications: replication ``k`` of the policy and of the base share
their random numbers, and the interval of a ratio of means ``mean(x) / mean(y)`` comes from
the delta method with the covariance of the pairs (x_k, y_k), a t quantile on n - 1 degrees of
freedom. Rows whose difference is zero in every replication (years before the policy starts,
indicators it cannot touch) are flagged ``zero``; the printed table collapses them into one
line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gzsim.aggregate import annual, annual_unit
from gzsim.analysis.compare import KEY_INDICATORS, paired_stats, succeeded
from gzsim.analysis.tables import LongTable, Section, fmt, title
from gzsim.errors import UserError
from gzsim.indicators import INDICATORS

COST = "fiscal_cost_usd_m"
HEADLINE_COLUMNS = ["scenario", "policy", "indicator", "unit", "geography", "year",
                    "base_mean", "diff_mean", "ci_low", "ci_high", "rel_diff", "rel_low",
                    "rel_high", "distinguishable", "zero", "n_pairs", "cost_usd_m",
                    "per_usd_m", "per_usd_m_low", "per_usd_m_high", "per_usd_m_unit"]


def ratio_interval(num: np.ndarray, den: np.ndarray, level: float) -> tuple[float, float, float]:
    """``mean(num) / mean(den)`` with a delta-method t-interval over paired samples."""
    n = len(num)
    if n == 0 or not np.isfinite(den.mean()) or den.mean() == 0:
        return float("nan"), float("nan"), float("nan")
    r = float(num.mean() / den.mean())
    if n < 2:
        return r, float("nan"), float("nan")
    cov = np.cov(num, den, ddof=1)
    var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (n * den.mean() ** 2)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * np.sqrt(max(var, 0.0)))
    return r, r - half, r + half


def new_policies(base_manifest: dict, other_manifest: dict) -> list[dict]:
    """The policies of the other scenario that the base does not have (by name)."""
    have = {p.get("name") for p in base_manifest.get("scenario", {}).get("policies", [])}
    return [p for p in other_manifest.get("scenario", {}).get("policies", [])
            if p.get("name") not in have]


def question_indicators(policies: list[dict], available: list[str]) -> list[str]:
    """What the policies' questions name, else the key indicators the results hold."""
    named = list(dict.fromkeys(i for p in policies for i in p.get("indicators") or []))
    unknown = [i for i in named if i not in available]
    if unknown:
        names = ", ".join(p.get("name", "?") for p in policies)
        raise UserError(f"policy {names}: indicator(s) {unknown} named for its question are "
                        f"not in the results; available: {', '.join(available)}")
    return named or [i for i in KEY_INDICATORS if i in available]


def _cumulative_cost(base: pd.DataFrame, other: pd.DataFrame, pairs: list[int]) -> pd.DataFrame:
    """Replication x year: the policy's extra fiscal cost summed from the start to each year."""
    a, b = annual(base, COST), annual(other, COST)
    return (b.loc[pairs] - a.loc[pairs]).cumsum(axis=1)


def indicator_rows(base: pd.DataFrame, other: pd.DataFrame, indicator: str, years: list[int],
                   pairs: list[int], level: float, cost: pd.DataFrame | None) -> list[dict]:
    """Headline rows of one indicator: difference, relative change, effect per US$ m."""
    a, b = annual(base, indicator).loc[pairs], annual(other, indicator).loc[pairs]
    d = b - a
    spec = INDICATORS.get(indicator)
    flow = spec is not None and spec.kind == "flow"
    effect = d.cumsum(axis=1) if flow else d
    unit = annual_unit(indicator)
    per_unit = f"{unit.split('/')[0].strip() or 'units'} per US$ m"
    rows = []
    for y in years:
        if y not in d.columns:
            continue
        dy, ay = d[y].to_numpy(dtype=float), a[y].to_numpy(dtype=float)
        mean, lo, hi = paired_stats(dy, level)
        rel = ratio_interval(dy, ay, level) if mean != 0 else (0.0, 0.0, 0.0)
        row = {"indicator": indicator, "unit": unit,
               "geography": spec.geography if spec else "", "year": int(y),
               "base_mean": float(ay.mean()) if len(ay) else float("nan"),
               "diff_mean": mean, "ci_low": lo, "ci_high": hi, "rel_diff": rel[0],
               "rel_low": rel[1], "rel_high": rel[2], "distinguishable": bool(lo > 0 or hi < 0),
               "zero": bool(len(dy) and np.all(dy == 0)), "n_pairs": len(dy),
               "cost_usd_m": float("nan"), "per_usd_m": float("nan"),
               "per_usd_m_low": float("nan"), "per_usd_m_high": float("nan"),
               "per_usd_m_unit": ""}
        if cost is not None and y in cost.columns and cost[y].mean() > 0:
            c = cost[y].to_numpy(dtype=float)
            r = ratio_interval(effect[y].to_numpy(dtype=float), c, level)
            row.update(cost_usd_m=float(c.mean()), per_usd_m=r[0], per_usd_m_low=r[1],
                       per_usd_m_high=r[2], per_usd_m_unit=per_unit)
        rows.append(row)
    return rows


def headline_frame(comparison: Any) -> pd.DataFrame:
    """Every policy scenario's headline rows (see the module docstring)."""
    base = comparison.results[comparison.base]
    years = sorted(int(y) for y in comparison.table["year"].unique()) \
        if len(comparison.table) else list(base.milestone_years)
    rows: list[dict] = []
    for name, other in comparison.results.items():
        if name == comparison.base:
            continue
        pairs = sorted(succeeded(base) & succeeded(other))
        if not pairs:
            continue
        available = [c for c in comparison.table["indicator"].unique()] \
            if len(comparison.table) else []
        pols = new_policies(base.manifest, other.manifest)
        inds = list(comparison.chosen) if comparison.chosen else \
            question_indicators(pols, [c for c in available if c in other.series])
        has_cost = COST in base.series and COST in other.series
        cost = _cumulative_cost(base.series, other.series, pairs) if has_cost else None
        label = ", ".join(p.get("name", "") for p in pols) or "(no new policy)"
        for ind in inds:
            rows += [{"scenario": name, "policy": label, **r}
                     for r in indicator_rows(base.series, other.series, ind, years, pairs,
                                             comparison.level, cost)]
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


def questions(comparison: Any) -> dict[str, str]:
    """Scenario -> the questions of its new policies, joined."""
    base = comparison.results[comparison.base]
    out = {}
    for name, other in comparison.results.items():
        if name != comparison.base:
            qs = [p.get("question", "") for p in new_policies(base.manifest, other.manifest)]
            out[name] = " ".join(q for q in qs if q)
    return out


def _pm(mid: float, lo: float, hi: float, unit: str) -> str:
    """``+1,234 ± 56`` (the t-intervals here are symmetric); no interval: the value alone."""
    if not np.isfinite(mid):
        return "n/a"
    text = fmt(mid, unit, sign=True)
    if np.isfinite(lo) and hi == lo:
        return f"{text} (exact)"  # the same difference in every replication
    return f"{text} ± {fmt((hi - lo) / 2, unit)}" if np.isfinite(lo) else text


def _pm_pct(mid: float, lo: float, hi: float) -> str:
    if not np.isfinite(mid):
        return "n/a"
    f = "{:+.2%}" if abs(mid) < 0.01 else "{:+.1%}"
    text = f.format(mid)
    if np.isfinite(lo) and hi == lo:
        return f"{text} (exact)"
    return f"{text} ± {f.format((hi - lo) / 2)[1:]}" if np.isfinite(lo) else text


def _zero_note(df: pd.DataFrame) -> str:
    zero = df[df["zero"]]
    if zero.empty:
        return ""
    parts = [f"{title(ind)} {', '.join(str(y) for y in g['year'])}"
             for ind, g in zero.groupby("indicator", sort=False)]
    return "Identical in every replication (difference exactly 0, not shown): " \
        + "; ".join(parts) + "."


def headline_tables(frame: pd.DataFrame, base: str, level: float,
                    asked: dict[str, str] | None = None,
                    dropped: dict[str, int] | None = None) -> list[LongTable]:
    """The headline as tables: per scenario, its indicators by geography, then per US$ m."""
    out = []
    ci = f"{level:.0%} CI"
    for scen, df in frame.groupby("scenario", sort=False):
        q = (asked or {}).get(str(scen), "")
        sections = []
        for ind, g in df[~df["zero"]].groupby("indicator", sort=False):
            unit = str(g["unit"].iloc[0])
            head = f"{title(ind)} ({unit}, {g['geography'].iloc[0]})"
            rows = [[str(r.year), fmt(r.base_mean, unit),
                     _pm(r.diff_mean, r.ci_low, r.ci_high, unit),
                     _pm_pct(r.rel_diff, r.rel_low, r.rel_high),
                     "yes" if r.distinguishable else "no"] for r in g.itertuples()]
            sections.append(Section(head, rows))
        notes = [n for n in [_zero_note(df)] if n]
        if (dropped or {}).get(str(scen)):
            notes.append(f"{dropped[str(scen)]} replication(s) failed in {scen} or in {base} "
                         "and were left out of the pairing.")
        n = int(df["n_pairs"].max()) if len(df) else 0
        out.append(LongTable(
            f"{scen} vs {base}" + (f": {q}" if q else "") + f" (paired, {n} replications)",
            ["year", "base", f"difference ± {ci}", f"relative ± {ci}", "≠ 0?"],
            {1, 2, 3}, sections, notes))
        cost = df[np.isfinite(df["per_usd_m"].to_numpy(dtype=float))]
        if len(cost):
            sections = []
            for ind, g in cost.groupby("indicator", sort=False):
                unit = str(g["per_usd_m_unit"].iloc[0])
                what = "cumulative extra" if "/year" in str(g["unit"].iloc[0]) else "extra"
                rows = [[str(r.year), fmt(r.cost_usd_m, "US$ m"),
                         _pm(r.per_usd_m, r.per_usd_m_low, r.per_usd_m_high, "ratio")]
                        for r in g.itertuples()]
                sections.append(Section(f"{title(ind)}: {what} {unit} of fiscal cost", rows))
            out.append(LongTable(
                f"{scen}: cost-effectiveness (effect per US$ m of extra fiscal cost to the "
                f"year, paired, {ci})",
                ["year", "fiscal cost to date (US$ m)", "effect per US$ m"], {1, 2}, sections))
    return out
