"""Paired comparison of scenarios with common random numbers.

Every scenario runs the same replications with the same seeds, so replication ``k`` of a policy
and of the base share their random numbers; the difference for replication ``k`` isolates the
policy's effect. For each indicator and milestone year we report the mean paired difference
with a t-interval across replications, and say when it is not distinguishable from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gzsim.indicators import INDICATORS
from gzsim.results import Result, atomic_write_bytes
from gzsim.run import simulate
from gzsim.scenario import load_scenario
from gzsim.scenario.schema import Scenario

KEY_INDICATORS = ["investment_usd_m", "jobs_created", "employment", "firms_operating",
                  "expressway_km", "accessibility", "serviced_land_km2", "people_resettled",
                  "poor_people", "fiscal_cost_usd_m"]


def annual_frame(series: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """replication x year: a flow summed over the year, a stock in December."""
    kind = INDICATORS[indicator].kind if indicator in INDICATORS else "stock"
    g = series.groupby([series["replication"], series["date"].dt.year])[indicator]
    return (g.sum() if kind == "flow" else g.last()).unstack()


@dataclass
class Comparison:
    base: str
    results: dict[str, Result]
    table: pd.DataFrame
    level: float
    dropped: dict[str, int]

    def save(self, out: str | Path) -> Path:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / "comparison.csv", self.table.to_csv(index=False).encode())
        for name, res in self.results.items():
            res.save(out / name)
        return out

    def print(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.table import Table

        console = console or Console(width=max(Console().width, 140))
        for other, df in self.table.groupby("scenario", sort=False):
            t = Table(title=f"{other} - {self.base} (paired over replications, "
                      f"{self.level:.0%} CI)")
            for col in ("indicator", "year", "base mean", "difference", "CI", "relative", ""):
                t.add_column(col, justify="left" if col in ("indicator", "") else "right")
            for r in df.itertuples():
                note = "" if r.distinguishable else "not distinguishable from zero"
                t.add_row(f"{r.indicator} ({r.unit})", str(r.year), f"{r.base_mean:,.4g}",
                          f"{r.diff_mean:+,.4g}", f"[{r.ci_low:+,.4g}, {r.ci_high:+,.4g}]",
                          "" if not np.isfinite(r.rel_diff) else f"{r.rel_diff:+.1%}", note)
            console.print(t)
            if self.dropped.get(other):
                console.print(f"{self.dropped[other]} replication(s) failed in one of the pair "
                              "and were left out of the pairing")


def paired_rows(base: pd.DataFrame, other: pd.DataFrame, indicator: str, years: list[int],
                level: float) -> list[dict]:
    a, b = annual_frame(base, indicator), annual_frame(other, indicator)
    common = a.index.intersection(b.index)
    rows = []
    for y in years:
        if y not in a.columns or y not in b.columns:
            continue
        d = (b.loc[common, y] - a.loc[common, y]).to_numpy(dtype=float)
        n = len(d)
        mean = float(d.mean()) if n else float("nan")
        if n > 1 and np.any(d != d[0]):
            half = float(stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n))
        else:
            half = 0.0  # identical differences (e.g. a scenario against itself): exact
        lo, hi = mean - half, mean + half
        base_mean = float(a.loc[common, y].mean())
        rows.append({"indicator": indicator, "unit": INDICATORS[indicator].unit
                     if indicator in INDICATORS else "", "year": int(y), "n_pairs": n,
                     "base_mean": base_mean, "other_mean": float(b.loc[common, y].mean()),
                     "diff_mean": mean, "ci_low": lo, "ci_high": hi,
                     "rel_diff": mean / base_mean if base_mean else float("nan"),
                     "distinguishable": bool(lo > 0 or hi < 0)})
    return rows


def compare(base: Scenario | str | Path, others: list[Scenario | str | Path], *,
            replications: int = 20, seed: int | None = None,
            indicators: list[str] | None = None, years: list[int] | None = None,
            workers: int = 1, level: float = 0.90, progress: Any = None) -> Comparison:
    """Run ``base`` and each of ``others`` with the same seeds and compare them pairwise."""
    scenarios = [s if isinstance(s, Scenario) else load_scenario(s) for s in [base, *others]]
    root = scenarios[0].run.seed if seed is None else int(seed)
    results: dict[str, Result] = {}
    for sc in scenarios:
        name = sc.name
        while name in results:  # the base compared with itself
            name += "_again"
        results[name] = simulate(sc, replications=replications, seed=root, workers=workers,
                                 progress=progress)
    names = list(results)
    base_res = results[names[0]]
    years = years or scenarios[0].time.milestone_years
    rows, dropped = [], {}
    for name in names[1:]:
        other = results[name]
        cols = [i for i in (indicators or KEY_INDICATORS)
                if i in base_res.series.columns and i in other.series.columns]
        ok_a = set(base_res.series["replication"].unique())
        ok_b = set(other.series["replication"].unique())
        dropped[name] = replications - len(ok_a & ok_b)
        for ind in cols:
            rows += [{"scenario": name, **r} for r in
                     paired_rows(base_res.series, other.series, ind, years, level)]
    return Comparison(names[0], results, pd.DataFrame(rows), level, dropped)
