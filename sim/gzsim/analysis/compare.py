"""Paired comparison of scenarios with common random numbers.

Every scenario runs the same replications with the same seeds, so replication ``k`` of a policy
and of the base share their random numbers; the difference for replication ``k`` isolates the
policy's effect. For each indicator and milestone year we report the mean paired difference
with a t-interval across replications, and say when it is not distinguishable from zero.

Annual values follow :mod:`gzsim.indicators`: a flow is summed over the year (its unit becomes
per year), a stock is its December level. Only replications that succeeded in both scenarios
are paired; how many were dropped is in the table (``n_dropped``) and in
:attr:`Comparison.dropped`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gzsim.aggregate import annual, annual_unit
from gzsim.errors import UserError
from gzsim.io.fileio import atomic_write_bytes
from gzsim.results import Result
from gzsim.run import simulate
from gzsim.scenario import load_scenario
from gzsim.scenario.schema import Scenario

#: Indicators printed by :meth:`Comparison.print` and charted by ``gzsim compare --plot``
#: by default (the table itself holds every indicator of the series).
KEY_INDICATORS = ["investment_usd_m", "committed_usd_m", "jobs_created", "employment",
                  "firms_operating", "expressway_km", "accessibility", "serviced_land_km2",
                  "people_resettled", "poor_people", "fiscal_cost_usd_m"]

TABLE_COLUMNS = ["scenario", "indicator", "unit", "year", "base_mean", "other_mean",
                 "diff_mean", "ci_low", "ci_high", "rel_diff", "distinguishable"]
EXTRA_COLUMNS = ["n_pairs", "n_dropped"]

NOT_INDICATORS = {"replication", "date"}




def indicator_columns(series: pd.DataFrame) -> list[str]:
    """Every indicator column of a series (whatever the model reports, known or new)."""
    return [c for c in series.columns if c not in NOT_INDICATORS
            and pd.api.types.is_numeric_dtype(series[c])]


def attempted(res: Result) -> set[int]:
    """Replications that were run: those recorded in the manifest, else those seen."""
    n = res.manifest.get("replications")
    seen = set(pd.unique(res.series["replication"]).tolist()) if len(res.series) else set()
    if res.failures is not None and len(res.failures):
        seen |= set(res.failures["replication"].astype(int).tolist())
    return set(range(int(n))) | seen if n is not None else seen


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


def paired_rows(base: pd.DataFrame, other: pd.DataFrame, indicator: str, years: list[int],
                level: float, pairs: list[int] | None = None,
                paired: bool = True) -> list[dict]:
    """One row per year: the paired difference other - base over the replications ``pairs``.

    ``paired=False``: each scenario's own successful replications, a Welch interval.
    """
    a, b = annual(base, indicator), annual(other, indicator)
    common = a.index.intersection(b.index)
    if pairs is not None:
        common = common.intersection(pd.Index(pairs))
    rows = []
    for y in years:
        if y not in a.columns or y not in b.columns:
            continue
        av = a.loc[common if paired else a.index, y].to_numpy(dtype=float)
        bv = b.loc[common if paired else b.index, y].to_numpy(dtype=float)
        d = bv - av if paired else bv
        mean, lo, hi = paired_stats(d, level) if paired else unpaired_stats(av, bv, level)
        base_mean = float(av.mean()) if len(av) else float("nan")
        if mean == 0:
            rel = 0.0
        elif base_mean and np.isfinite(base_mean):
            rel = mean / abs(base_mean)
        else:
            rel = float("nan")
        rows.append({"indicator": indicator, "unit": annual_unit(indicator), "year": int(y),
                     "base_mean": base_mean,
                     "other_mean": float(bv.mean()) if len(bv) else float("nan"),
                     "diff_mean": mean, "ci_low": lo, "ci_high": hi, "rel_diff": rel,
                     "distinguishable": bool(lo > 0 or hi < 0), "n_pairs": len(d)})
    return rows


@dataclass
class Comparison:
    """Paired differences of scenarios against a base (see :func:`compare`).

    ``table`` holds every indicator at every compared year; :meth:`headline` the rows that
    answer each policy's question, with relative changes and cost-effectiveness.
    """

    base: str
    results: dict[str, Result]
    table: pd.DataFrame
    level: float
    dropped: dict[str, int]
    chosen: list[str] | None = None  # indicators the user asked for (else the questions')
    paired: bool = True  # False: unpaired (Welch) intervals, scenarios not on common numbers

    def headline(self) -> pd.DataFrame:
        """Per policy scenario: its question's indicators at the compared years (paired)."""
        from gzsim.analysis.headline import headline_frame

        return headline_frame(self)

    def tables(self, headline: pd.DataFrame | None = None) -> list:
        """The headline as :class:`gzsim.analysis.tables.LongTable` objects (print, Markdown)."""
        from gzsim.analysis.headline import headline_tables, questions

        frame = self.headline() if headline is None else headline
        return headline_tables(frame, self.base, self.level, questions(self), self.dropped)

    def save(self, out: str | Path) -> Path:
        """Write ``comparison.csv``, ``headline.csv`` and each scenario's results in ``out``."""
        from gzsim.io.outdir import atomic_folder

        out = Path(out)
        with atomic_folder(out, "comparison") as tmp:  # new, empty or a comparison: replaced
            atomic_write_bytes(tmp / "comparison.csv", self.table.to_csv(index=False).encode())
            atomic_write_bytes(tmp / "headline.csv", self.headline().to_csv(index=False).encode())
            for name, res in self.results.items():
                res.save(tmp / name)
        return out

    def key_indicators(self) -> list[str]:
        """The key indicators the table holds (all of them if none is a key one)."""
        present = list(dict.fromkeys(self.table["indicator"])) if len(self.table) else []
        key = [i for i in KEY_INDICATORS if i in present]
        return key or present

    def print(self, console: Any = None, form: str = "table") -> None:
        """Print the headline (``form``: table, csv, md or json) at most 80 columns wide."""
        import click

        from gzsim.analysis.tables import emit

        frame = self.headline()
        emit(frame, self.tables(frame) if form in ("table", "md") else [], form, click.echo,
             console, extra={"base": self.base, "level": self.level, "dropped": self.dropped})
        if not self.paired:
            click.echo("(unpaired, Welch intervals: the scenarios do not share random numbers)",
                       err=True)


def _pairing_key(res: Result) -> dict[str, Any]:
    sc = res.manifest.get("scenario", {})
    return {"region": (sc.get("region") or {}).get("name"),
            "calendar": (sc.get("time") or {}).get("start"),
            "horizon end": (sc.get("time") or {}).get("end"),
            "seed scheme": res.manifest.get("seed_scheme"),
            "root seed": res.manifest.get("root_seed")}


def check_pairable(base: str, base_res: Result, name: str, other: Result) -> None:
    """Refuse to pair results whose replications do not share their random numbers."""
    ka, kb = _pairing_key(base_res), _pairing_key(other)
    diff = [f"{k} ({ka[k]} vs {kb[k]})" for k in ka if ka[k] != kb[k]]
    if diff:
        raise UserError(
            f"{name} and {base} differ in {', '.join(diff)}: their replications do not share "
            "random numbers, so paired intervals would be wrong. Compare them with --unpaired "
            "(unpaired=True: Welch intervals over each scenario's own replications).")


def _all_pairable(base: str, results: dict[str, Result]) -> None:
    for name, res in results.items():
        if name != base:
            check_pairable(base, results[base], name, res)


def compare_results(results: dict[str, Result], base: str | None = None,
                    indicators: Iterable[str] | None = None, years: Iterable[int] | None = None,
                    level: float = 0.90, unpaired: bool = False) -> Comparison:
    """Paired differences of already-run results (same seeds) against ``base``.

    ``base`` defaults to the first entry; ``indicators`` to every indicator column that the
    base and the other scenario share; ``years`` to the base's milestone years (those that were
    simulated).
    """
    if not 0 < level < 1:
        raise UserError(f"confidence level must be between 0 and 1, not {level}")
    names = list(results)
    if len(names) < 2:
        raise UserError("give the base scenario and at least one other to compare")
    base = base or names[0]
    if base not in results:
        raise UserError(f"base '{base}' is not among the results: {', '.join(names)}")
    base_res = results[base]
    simulated = set(pd.to_datetime(base_res.series["date"]).dt.year.unique().tolist()) \
        if len(base_res.series) else set()
    if years is None:
        ys = [int(y) for y in base_res.milestone_years if not simulated or y in simulated]
    else:
        ys = [int(y) for y in years]
        missing = [y for y in ys if simulated and y not in simulated]
        if missing:
            raise UserError(f"year(s) {missing} were not simulated (the runs cover "
                            f"{min(simulated)}-{max(simulated)})")
    if not unpaired:
        _all_pairable(base, results)
    wanted = list(indicators) if indicators is not None else None
    rows, dropped = [], {}
    for name in names:
        if name == base:
            continue
        other = results[name]
        shared = [c for c in indicator_columns(base_res.series)
                  if c in other.series.columns]
        if wanted is not None:
            unknown = [i for i in wanted if i not in shared]
            if unknown:
                raise UserError(f"indicator(s) {unknown} not in the results of both {base} "
                                f"and {name}; available: {', '.join(shared)}")
        cols = wanted if wanted is not None else shared
        pairs = sorted(succeeded(base_res) & succeeded(other))
        n_dropped = len((attempted(base_res) | attempted(other)) - set(pairs))
        dropped[name] = n_dropped
        for ind in cols:
            rows += [{"scenario": name, **r, "n_dropped": n_dropped}
                     for r in paired_rows(base_res.series, other.series, ind, ys, level,
                                          pairs, paired=not unpaired)]
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS + EXTRA_COLUMNS)
    return Comparison(base, results, table, level, dropped, wanted, paired=not unpaired)


def _as_scenario(s: Scenario | str | Path) -> Scenario:
    if isinstance(s, Scenario):
        return s
    p = Path(s)
    if not p.is_file():
        raise UserError(f"{p}: scenario file not found")
    return load_scenario(p)


def compare(base: Scenario | str | Path,
            others: Scenario | str | Path | Iterable[Scenario | str | Path],
            replications: int = 20, seed: int | None = None,
            indicators: Iterable[str] | None = None, years: Iterable[int] | None = None,
            level: float = 0.90, unpaired: bool = False, **run_options: Any) -> Comparison:
    """Run ``base`` and each of ``others`` with the same seeds and compare them pairwise.

    Scenarios may be :class:`Scenario` objects or YAML paths. Every scenario runs
    ``replications`` from the same root ``seed`` (default: the base's ``run.seed``), so
    replication ``k`` uses the same random numbers everywhere (common random numbers).
    ``run_options`` go to :func:`gzsim.run.simulate` (``workers``, default all CPUs as on the
    command line; ``backend``; ``uncertainty``: with ``posterior``, the default when the base
    has a posterior, replication ``k`` also uses the same posterior draw in every scenario, see
    :mod:`gzsim.uncertainty`); ``progress(done, total)`` counts replications over all
    scenarios. A scenario whose name is already taken (e.g. the base against itself) gets
    ``_2``, ``_3``...
    """
    progress = run_options.pop("progress", None)
    if isinstance(others, (Scenario, str, Path)):
        others = [others]
    scenarios = [_as_scenario(s) for s in [base, *others]]
    root = scenarios[0].run.seed if seed is None else int(seed)
    if not unpaired:  # before running anything: the same check compare_results makes
        keys = [Result(pd.DataFrame(), {"scenario": sc.model_dump(mode="json")}) for sc in
                scenarios]
        for sc, k in zip(scenarios[1:], keys[1:], strict=True):
            check_pairable(scenarios[0].name, keys[0], sc.name, k)
    results: dict[str, Result] = {}
    total = replications * len(scenarios)
    for i, sc in enumerate(scenarios):
        name, k = sc.name, 1
        while name in results:
            k += 1
            name = f"{sc.name}_{k}"
        step = None if progress is None else \
            (lambda done, _n, i=i: progress(i * replications + done, total))
        results[name] = simulate(sc, replications=replications, seed=root, progress=step,
                                 **run_options)
    return compare_results(results, base=next(iter(results)), indicators=indicators,
                           years=years, level=level, unpaired=unpaired)
