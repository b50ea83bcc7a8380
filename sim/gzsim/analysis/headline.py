"""The answer to a policy's question: headline rows and cost-effectiveness, paired.

A policy names the indicators that answer its question (``indicators:`` in its YAML); a
spending policy (one with a ``cost:``) also gets the jobs indicator to quote
(:data:`gzsim.indicators.JOBS`). For each at the compared years the headline gives the paired
difference against the policy's base with its interval (how sure the average effect is) and
the 5-95 % spread of the difference across replications and their parameter draws (how much
the effect could vary), and the relative change (difference / base mean) with its interval.
Where the policy has a public cost (:mod:`gzsim.analysis.costs`) it adds the effect per
US$ m: a flow's cumulative extra amount, or a stock's extra level, by a year, divided by the
cumulative extra public cost to that year, undiscounted and in present values.

Both ratios use the paired replications: replication ``k`` of the policy and of the base share
their random numbers, and the interval of a ratio of means ``mean(x) / mean(y)`` comes from
the delta method with the covariance of the pairs (x_k, y_k), a t quantile on n - 1 degrees of
freedom. Rows whose difference is zero in every replication (years before the policy starts,
indicators it cannot touch) are flagged ``zero``; the printed table collapses them into one
line. A policy's ``not_modelled:`` (what the model cannot say) is carried next to its figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gzsim.aggregate import annual, annual_unit
from gzsim.analysis.costs import PolicyCost, cost_note, policy_cost
from gzsim.analysis.paired import paired_stats, spread, succeeded
from gzsim.analysis.spread import shares_frame, shares_text
from gzsim.analysis.tables import LongTable, Section, fmt, title
from gzsim.errors import UserError
from gzsim.indicators import INDICATORS, JOBS

#: The headline's indicators for a policy whose question names none (the comparison table
#: itself holds every indicator of the series).
KEY_INDICATORS = ["investment_usd_m", "committed_usd_m", "jobs_created", "employment",
                  "firms_operating", "expressway_km", "accessibility", "serviced_land_km2",
                  "people_resettled", "poor_people", "public_cost_usd_m"]

COST_COLUMNS = ["cost_usd_m", "cost_pv_usd_m", "discount_rate", "per_usd_m", "per_usd_m_low",
                "per_usd_m_high", "per_usd_m_p05", "per_usd_m_p95", "per_usd_m_pv",
                "per_usd_m_pv_low", "per_usd_m_pv_high", "per_usd_m_pv_p05",
                "per_usd_m_pv_p95"]
HEADLINE_COLUMNS = ["scenario", "base", "policy", "indicator", "unit", "geography", "year",
                    "base_mean", "diff_mean", "ci_low", "ci_high", "diff_p05", "diff_p95",
                    "rel_diff", "rel_low", "rel_high", "distinguishable", "zero", "n_pairs",
                    *COST_COLUMNS, "per_usd_m_unit", "not_modelled", "assumption_shares"]
LEGEND = ("± : the {ci} of the mean effect (how sure is the average); 5-95 %: the effect's "
          "spread across replications, i.e. random streams, posterior and assumption draws "
          "(how much could it vary).")
NAN = float("nan")


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


def ratio_spread(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """5-95 % of the per-replication ratios ``num_k / den_k`` (replications with a cost)."""
    ok = den > 0
    if ok.sum() < max(2, len(den) // 2):
        return NAN, NAN
    return spread(num[ok] / den[ok])


def _per_usd_m(row: dict, effect: np.ndarray, effect_pv: np.ndarray, cost: PolicyCost,
               y: int, level: float, unit: str) -> None:
    """Add the cost columns of one headline row (cost to ``y``: undiscounted and PV)."""
    c, cpv = cost.total[y].to_numpy(dtype=float), cost.pv[y].to_numpy(dtype=float)
    row.update(cost_usd_m=float(c.mean()), cost_pv_usd_m=float(cpv.mean()),
               discount_rate=cost.rate)
    if c.mean() <= 0:
        return
    r, lo, hi = ratio_interval(effect, c, level)
    p05, p95 = ratio_spread(effect, c)
    rpv = ratio_interval(effect_pv, cpv, level)
    pv05, pv95 = ratio_spread(effect_pv, cpv)
    row.update(per_usd_m_pv_p05=pv05, per_usd_m_pv_p95=pv95,
               per_usd_m=r, per_usd_m_low=lo, per_usd_m_high=hi, per_usd_m_p05=p05,
               per_usd_m_p95=p95, per_usd_m_pv=rpv[0], per_usd_m_pv_low=rpv[1],
               per_usd_m_pv_high=rpv[2],
               per_usd_m_unit=f"{unit.split('/')[0].strip() or 'units'} per US$ m")


def indicator_rows(base: pd.DataFrame, other: pd.DataFrame, indicator: str, years: list[int],
                   pairs: list[int], level: float, cost: PolicyCost | None) -> list[dict]:
    """Headline rows of one indicator: difference, spread, relative change, per US$ m."""
    a, b = annual(base, indicator).loc[pairs], annual(other, indicator).loc[pairs]
    d = b - a
    spec = INDICATORS.get(indicator)
    flow = spec is not None and spec.kind == "flow"
    effect = d.cumsum(axis=1) if flow else d
    effect_pv = cost.discounted(base, other, indicator, pairs, list(d.columns)) \
        if flow and cost is not None else effect
    unit = annual_unit(indicator)
    rows = []
    for y in years:
        if y not in d.columns:
            continue
        dy, ay = d[y].to_numpy(dtype=float), a[y].to_numpy(dtype=float)
        mean, lo, hi = paired_stats(dy, level)
        p05, p95 = spread(dy)
        rel = ratio_interval(dy, ay, level) if mean != 0 else (0.0, 0.0, 0.0)
        row = {"indicator": indicator, "unit": unit,
               "geography": spec.geography if spec else "", "year": int(y),
               "base_mean": float(ay.mean()) if len(ay) else NAN,
               "diff_mean": mean, "ci_low": lo, "ci_high": hi, "diff_p05": p05,
               "diff_p95": p95, "rel_diff": rel[0], "rel_low": rel[1], "rel_high": rel[2],
               "distinguishable": bool(lo > 0 or hi < 0),
               "zero": bool(len(dy) and np.all(dy == 0)), "n_pairs": len(dy),
               **dict.fromkeys(COST_COLUMNS, NAN), "per_usd_m_unit": ""}
        if cost is not None and y in cost.total.columns:
            _per_usd_m(row, effect[y].to_numpy(dtype=float),
                       effect_pv[y].to_numpy(dtype=float), cost, y, level, unit)
        rows.append(row)
    return rows


def scenario_indicators(comparison: Any, other: Any, pols: list[dict]) -> list[str]:
    """What the headline shows for one scenario.

    The user's choice, else its question's indicators, with the jobs indicator first for a
    spending policy.
    """
    if comparison.chosen:
        return list(comparison.chosen)
    available = list(comparison.table["indicator"].unique()) if len(comparison.table) else []
    inds = question_indicators(pols, [c for c in available if c in other.series])
    if any(p.get("cost") for p in pols) and JOBS in available and JOBS not in inds:
        inds = [JOBS, *inds]
    return inds


def scenario_cost(comparison: Any, name: str, pairs: list[int], years: list[int],
                  pols: list[dict]) -> PolicyCost | None:
    """The public cost of scenario ``name`` against its base (None without cost lines).

    None for an unpaired comparison too: a cost is a paired difference over the same months.
    """
    if not comparison.paired:
        return None
    base = comparison.results[comparison.base_of(name)]
    sc = base.manifest.get("scenario", {})
    rate = float((sc.get("fiscal") or {}).get("discount_rate_per_year") or 0.0)
    start = str((sc.get("time") or {}).get("start") or "")
    return policy_cost(base.series, comparison.results[name].series, pairs, years, pols,
                       rate, start)


def headline_frame(comparison: Any) -> pd.DataFrame:
    """Every policy scenario's headline rows (see the module docstring)."""
    years = sorted(int(y) for y in comparison.table["year"].unique()) \
        if len(comparison.table) else list(comparison.results[comparison.base].milestone_years)
    rows: list[dict] = []
    for name, base_name in comparison.compared():
        base, other = comparison.results[base_name], comparison.results[name]
        pairs = sorted(succeeded(base) & succeeded(other))
        if not pairs:
            continue
        pols = new_policies(base.manifest, other.manifest)
        cost = scenario_cost(comparison, name, pairs, years, pols)
        label = ", ".join(p.get("name", "") for p in pols) or "(no new policy)"
        caveat = " ".join(str(p.get("not_modelled") or "") for p in pols).strip()
        for ind in scenario_indicators(comparison, other, pols):
            rows += [{"scenario": name, "base": base_name, "policy": label, **r,
                      "not_modelled": caveat}
                     for r in indicator_rows(base.series, other.series, ind, years, pairs,
                                             comparison.level, cost)]
    frame = pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
    shares = shares_frame(comparison, frame)
    if len(shares):
        text = {k: shares_text(g) for k, g in
                shares.groupby(["scenario", "indicator", "year"], sort=False)}
        frame["assumption_shares"] = [text.get((r.scenario, r.indicator, r.year), "")
                                      for r in frame.itertuples()]
    else:
        frame["assumption_shares"] = ""
    return frame


def cost_notes(comparison: Any) -> dict[str, str]:
    """Scenario -> its public cost, line by line, to the last compared year."""
    out = {}
    years = comparison.years or sorted(int(y) for y in comparison.table["year"].unique())
    for name, base_name in comparison.compared():
        base, other = comparison.results[base_name], comparison.results[name]
        pairs = sorted(succeeded(base) & succeeded(other))
        pols = new_policies(base.manifest, other.manifest)
        cost = scenario_cost(comparison, name, pairs, years, pols) if years else None
        if cost is not None and (cost.total[years[-1]].abs().max() > 0 or
                                 any(p.get("cost") for p in pols)):
            out[name] = cost_note(cost, years[-1])
    return out


def questions(comparison: Any) -> dict[str, str]:
    """Scenario -> the questions of its new policies, joined."""
    out = {}
    for name, base_name in comparison.compared():
        base, other = comparison.results[base_name], comparison.results[name]
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


def _range(lo: float, hi: float, unit: str) -> str:
    """``+10 to +25``: the spread of the effect across replications."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if unit == "ratio":
        return f"{_sig(lo)} to {_sig(hi)}"
    return f"{fmt(lo, unit, sign=True) or '0'} to {fmt(hi, unit, sign=True) or '0'}"


def ratio_range(lo: float, hi: float) -> str:
    """The 5-95 % spread of a ratio (effect per US$ m)."""
    return _range(lo, hi, "ratio")


def _decimals(v: float) -> int | None:
    """Decimals for a ratio by its magnitude; None: scientific (below 0.001)."""
    a = abs(v)
    return None if 0 < a < 1e-3 else 1 if a >= 10 else 2 if a >= 1 else 3


def _sig(v: float, decimals: int | None = -1, sign: bool = True) -> str:
    """A ratio with decimals by its magnitude (or ``decimals``; None: scientific).

    Effects per US$ m span 1e-6 to 100s; below 1e-9 a value is rounding noise, 0.
    """
    if v == 0 or abs(v) < 1e-9:
        return "0"
    d = _decimals(v) if decimals == -1 else decimals
    spec = ".1e" if d is None else f",.{d}f"
    return f"{v:+{spec}}" if sign else f"{v:{spec}}"


def pm_ratio(mid: float, lo: float, hi: float) -> str:
    """``+27.4 ± 1.4``: a ratio and the half-width of its interval (same decimals)."""
    if not np.isfinite(mid):
        return "n/a"
    if np.isfinite(lo) and hi == lo:
        return f"{_sig(mid)} (exact)"
    if not np.isfinite(lo):
        return _sig(mid)
    half = (hi - lo) / 2
    d = _decimals(mid) if abs(mid) >= 1e-9 else _decimals(half)
    return f"{_sig(mid)} ± {_sig(half, d, False) if half >= 1e-9 else '0'}"


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


def effect_table(scen: str, df: pd.DataFrame, level: float, asked: str,
                 notes: list[str]) -> LongTable:
    """One scenario's effects: per indicator (and geography), by year."""
    ci = f"{level:.0%} CI"
    sections = []
    for ind, g in df[~df["zero"]].groupby("indicator", sort=False):
        unit = str(g["unit"].iloc[0])
        head = f"{title(ind)} ({unit}, {g['geography'].iloc[0]})"
        rows = [[str(r.year), fmt(r.base_mean, unit),
                 _pm(r.diff_mean, r.ci_low, r.ci_high, unit),
                 _range(r.diff_p05, r.diff_p95, unit),
                 _pm_pct(r.rel_diff, r.rel_low, r.rel_high),
                 "yes" if r.distinguishable else "no"] for r in g.itertuples()]
        sections.append(Section(head, rows))
    n = int(df["n_pairs"].max()) if len(df) else 0
    base = str(df["base"].iloc[0])
    return LongTable(
        f"{scen} vs {base}" + (f": {asked}" if asked else "") + f" (paired, {n} replications)",
        ["year", "base", f"diff ± {ci}", "5-95 % of runs", f"rel. ± {ci}", "≠ 0?"],
        {1, 2, 3, 4}, sections, notes)


def cost_table(scen: str, cost: pd.DataFrame, level: float, notes: list[str]) -> LongTable:
    """One scenario's effect per US$ m of extra public money.

    Per year, a row undiscounted and a row of present values.
    """
    ci = f"{level:.0%} CI"
    rate = float(cost["discount_rate"].iloc[0])
    sections = []
    for ind, g in cost.groupby("indicator", sort=False):
        unit = str(g["per_usd_m_unit"].iloc[0])
        what = "cumulative extra" if "/year" in str(g["unit"].iloc[0]) else "extra"
        rows = []
        for _, r in g.iterrows():
            for label, pv in ((str(r["year"]), ""), (f"  PV {rate:.0%}", "_pv")):
                rows.append([label, f"{r['cost' + pv + '_usd_m']:,.0f}", *(
                    ["no mechanism (note)", ""] if silent(r) else [
                        pm_ratio(r[f"per_usd_m{pv}"], r[f"per_usd_m{pv}_low"],
                                 r[f"per_usd_m{pv}_high"]),
                        _range(r[f"per_usd_m{pv}_p05"], r[f"per_usd_m{pv}_p95"], "ratio")])])
        sections.append(Section(f"{title(ind)}: {what} {unit} of public money", rows))
    return LongTable(
        f"{scen}: effect per US$ m of extra public cost to the year (paired, {ci}; PV: "
        f"cost and flows discounted at {rate:.0%} a year to the policy's start)",
        ["year", "cost US$ m", "per US$ m ± CI", "5-95 % of runs"], {1, 2, 3}, sections,
        notes)


def headline_tables(frame: pd.DataFrame, level: float, asked: dict[str, str] | None = None,
                    dropped: dict[str, int] | None = None,
                    costs: dict[str, str] | None = None,
                    spreads: dict[str, str] | None = None) -> list[LongTable]:
    """The headline as tables: per scenario, its indicators by geography, then per US$ m."""
    out = []
    for scen, df in frame.groupby("scenario", sort=False):
        notes = [n for n in [_zero_note(df)] if n]
        if (dropped or {}).get(str(scen)):
            notes.append(f"{dropped[str(scen)]} replication(s) failed in {scen} or in "
                         f"{df['base'].iloc[0]} and were left out of the pairing.")
        caveat = str(df["not_modelled"].iloc[0] or "")
        if caveat:
            notes.append(f"Not in the model: {caveat}")
        notes.append(LEGEND.format(ci=f"{level:.0%} CI"))
        if (spreads or {}).get(str(scen)):
            notes.append(spreads[str(scen)])
        out.append(effect_table(str(scen), df, level, (asked or {}).get(str(scen), ""),
                                notes))
        cost = df[np.isfinite(df["per_usd_m"].to_numpy(dtype=float))]
        cnotes = [n for n in [(costs or {}).get(str(scen), "")] if n]
        if caveat and len(cost):
            cnotes.append(f"Not in the model: {caveat}")
        if len(cost):
            out.append(cost_table(str(scen), cost, level, cnotes))
        elif cnotes and cnotes[0]:
            out[-1].notes.append(cnotes[0])
    ranking = ranking_table(frame, level)
    return out + ([ranking] if ranking is not None else [])


def silent(row: Any) -> bool:
    """No mechanism for the policy's question, and no effect distinguishable from zero.

    Then the figure would read as an answer it is not.
    """
    return bool(row["not_modelled"]) and not bool(row["distinguishable"])


def ranking_table(frame: pd.DataFrame, level: float) -> LongTable | None:
    """The spending policies side by side: jobs per US$ m of public money, the last year.

    A policy whose question the model has no mechanism for (its ``not_modelled:``) shows
    that instead of a figure, unless its effect is distinguishable from zero.
    """
    jobs = frame[(frame["indicator"] == JOBS) & frame["per_usd_m"].notna()]
    if jobs.empty:
        return None
    year = int(jobs["year"].max())
    top = jobs[jobs["year"] == year].sort_values("per_usd_m", ascending=False)
    strip = "policy_" if all(str(n).startswith("policy_") for n in top["scenario"]) else ""

    def rows(pv: str) -> list[list[str]]:
        return [[str(r["scenario"]).removeprefix(strip), f"{r['cost' + pv + '_usd_m']:,.0f}",
                 *(["no mechanism (note)", ""] if silent(r) else [
                     pm_ratio(r[f"per_usd_m{pv}"], r[f"per_usd_m{pv}_low"],
                              r[f"per_usd_m{pv}_high"]),
                     _range(r[f"per_usd_m{pv}_p05"], r[f"per_usd_m{pv}_p95"], "ratio")])]
                for _, r in top.iterrows()]

    rate = float(top["discount_rate"].iloc[0])
    bases = "; ".join(f"{r.scenario} vs {r.base}" for r in top.itertuples())
    caveats = [f"{r.scenario}: not in the model: {r.not_modelled}" for r in top.itertuples()
               if r.not_modelled]
    return LongTable(
        f"{title(JOBS)} ({top['unit'].iloc[0]}, {top['geography'].iloc[0]}) in {year} per "
        f"US$ m of extra public money, by policy (paired, {level:.0%} CI)",
        [f"{strip}..." if strip else "scenario", "US$ m", "per US$ m ± CI", "5-95 % of runs"],
        {1, 2, 3},
        [Section("Undiscounted: cost to the year", rows("")),
         Section(f"Present values: cost discounted at {rate:.0%} a year to the policy's "
                 "start", rows("_pv"))],
        [f"Each policy against its base: {bases}. US$ m: its extra public cost to {year}.",
         LEGEND.format(ci=f"{level:.0%} CI"), *caveats])
