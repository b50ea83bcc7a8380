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

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from gzsim.aggregate import annual, annual_unit
from gzsim.analysis.headline import cost_notes, headline_frame, headline_tables, questions
from gzsim.analysis.paired import paired_stats, spread, succeeded, unpaired_stats
from gzsim.analysis.spread import shares_frame, shares_notes
from gzsim.analysis.tables import emit
from gzsim.errors import ScenarioWarning, UserError
from gzsim.io.fileio import atomic_write_bytes
from gzsim.io.outdir import atomic_folder
from gzsim.results import Result
from gzsim.run import simulate
from gzsim.scenario import load_parent, load_scenario, parent_path
from gzsim.scenario.schema import Scenario

TABLE_COLUMNS = ["scenario", "base", "indicator", "unit", "year", "base_mean", "other_mean",
                 "diff_mean", "ci_low", "ci_high", "diff_p05", "diff_p95", "rel_diff",
                 "distinguishable"]
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
        p05, p95 = spread(d) if paired else (float("nan"), float("nan"))
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
                     "diff_mean": mean, "ci_low": lo, "ci_high": hi, "diff_p05": p05,
                     "diff_p95": p95, "rel_diff": rel,
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
    bases: dict[str, str] = field(default_factory=dict)  # scenario -> its base (else base)
    years: list[int] | None = None  # the years compared

    def base_of(self, name: str) -> str:
        """The base ``name`` is compared with (its parent with ``compare_with_parents``)."""
        return self.bases.get(name, self.base)

    def compared(self) -> list[tuple[str, str]]:
        """(scenario, its base) for every scenario that is not a base, in order."""
        own = set(self.bases.values()) | {self.base}
        return [(n, self.base_of(n)) for n in self.results if n not in own]

    def headline(self) -> pd.DataFrame:
        """Per policy scenario: its question's indicators at the compared years (paired)."""
        return headline_frame(self)

    def tables(self, headline: pd.DataFrame | None = None) -> list:
        """The headline as :class:`gzsim.analysis.tables.LongTable` objects (print, Markdown)."""
        frame = self.headline() if headline is None else headline
        spreads = shares_notes(shares_frame(self, frame), frame)
        return headline_tables(frame, self.level, questions(self), self.dropped,
                               cost_notes(self), spreads)

    def save(self, out: str | Path) -> Path:
        """Write ``comparison.csv``, ``headline.csv`` and each scenario's results in ``out``."""
        out = Path(out)
        with atomic_folder(out, "comparison") as tmp:  # new, empty or a comparison: replaced
            atomic_write_bytes(tmp / "comparison.csv", self.table.to_csv(index=False).encode())
            head = self.headline()
            atomic_write_bytes(tmp / "headline.csv", head.to_csv(index=False).encode())
            atomic_write_bytes(tmp / "assumptions.csv",
                               shares_frame(self, head).to_csv(index=False).encode())
            for name, res in self.results.items():
                res.save(tmp / name)
        return out

    def print(self, console: Any = None, form: str = "table") -> None:
        """Print the headline (``form``: table, csv, md or json) at most 80 columns wide."""
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


def _all_pairable(pairs: list[tuple[str, str]], results: dict[str, Result]) -> None:
    for name, base in pairs:
        check_pairable(base, results[base], name, results[name])


def _years(base_res: Result, years: Iterable[int] | None) -> list[int]:
    """The years compared: the given ones (simulated), else the base's milestone years."""
    simulated = set(pd.to_datetime(base_res.series["date"]).dt.year.unique().tolist()) \
        if len(base_res.series) else set()
    if years is None:
        return [int(y) for y in base_res.milestone_years if not simulated or y in simulated]
    ys = [int(y) for y in years]
    missing = [y for y in ys if simulated and y not in simulated]
    if missing:
        raise UserError(f"year(s) {missing} were not simulated (the runs cover "
                        f"{min(simulated)}-{max(simulated)})")
    return ys


def _pair_rows(name: str, base: str, results: dict[str, Result], wanted: list[str] | None,
               ys: list[int], level: float, unpaired: bool) -> tuple[list[dict], int]:
    """The table rows of one scenario against its base, and how many replications dropped."""
    base_res, other = results[base], results[name]
    shared = [c for c in indicator_columns(base_res.series) if c in other.series.columns]
    if wanted is not None:
        unknown = [i for i in wanted if i not in shared]
        if unknown:
            raise UserError(f"indicator(s) {unknown} not in the results of both {base} "
                            f"and {name}; available: {', '.join(shared)}")
    pairs = sorted(succeeded(base_res) & succeeded(other))
    n_dropped = len((attempted(base_res) | attempted(other)) - set(pairs))
    rows = []
    for ind in wanted if wanted is not None else shared:
        rows += [{"scenario": name, "base": base, **r, "n_dropped": n_dropped}
                 for r in paired_rows(base_res.series, other.series, ind, ys, level,
                                      pairs, paired=not unpaired)]
    return rows, n_dropped


def compare_results(results: dict[str, Result], base: str | None = None,
                    indicators: Iterable[str] | None = None, years: Iterable[int] | None = None,
                    level: float = 0.90, unpaired: bool = False,
                    bases: dict[str, str] | None = None) -> Comparison:
    """Paired differences of already-run results (same seeds) against ``base``.

    ``base`` defaults to the first entry; ``bases`` maps a scenario to its own base instead
    (each policy against the scenario it extends, :func:`compare_with_parents`);
    ``indicators`` defaults to every indicator column that the base and the other scenario
    share; ``years`` to the base's milestone years (those that were simulated).
    """
    if not 0 < level < 1:
        raise UserError(f"confidence level must be between 0 and 1, not {level}")
    names = list(results)
    if len(names) < 2:
        raise UserError("give the base scenario and at least one other to compare")
    base = base or names[0]
    bases = dict(bases or {})
    for b in {base, *bases.values()}:
        if b not in results:
            raise UserError(f"base '{b}' is not among the results: {', '.join(names)}")
    ys = _years(results[base], years)
    cmp = Comparison(base, results, pd.DataFrame(), level, {}, None, paired=not unpaired,
                     bases=bases, years=ys)
    if not unpaired:
        _all_pairable(cmp.compared(), results)
    wanted = list(indicators) if indicators is not None else None
    rows: list[dict] = []
    for name, b in cmp.compared():
        more, cmp.dropped[name] = _pair_rows(name, b, results, wanted, ys, level, unpaired)
        rows += more
    cmp.table = pd.DataFrame(rows, columns=TABLE_COLUMNS + EXTRA_COLUMNS)
    cmp.chosen = wanted
    return cmp


def _as_scenario(s: Scenario | str | Path) -> Scenario:
    if isinstance(s, Scenario):
        return s
    p = Path(s)
    if not p.is_file():
        raise UserError(f"{p}: scenario file not found")
    return load_scenario(p)


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def warn_other_parent(base: Scenario, others: list[Scenario]) -> None:
    """Warn, naming the parent, when a scenario extends another scenario than ``base``."""
    for sc in others:
        parent = load_parent(sc)
        if parent is None or parent.name == base.name:
            continue
        own = Path(sc._provenance["files"][0]["path"])
        warnings.warn(ScenarioWarning(
            f"{sc.name} extends {parent.name} ({_shown(parent_path(sc))}), not {base.name}: "
            f"its difference from {base.name} mixes the policy with what {parent.name} "
            f"changes. Compare it with its parent: gzsim compare {_shown(own)}"), stacklevel=3)


def _run_all(scenarios: dict[str, Scenario], replications: int, root: int,
             progress: Any, run_options: dict) -> dict[str, Result]:
    """Every scenario's replications from the same root seed (common random numbers)."""
    results: dict[str, Result] = {}
    total = replications * len(scenarios)
    for i, (name, sc) in enumerate(scenarios.items()):
        step = None if progress is None else \
            (lambda done, _n, i=i: progress(i * replications + done, total))
        results[name] = simulate(sc, replications=replications, seed=root, progress=step,
                                 **run_options)
    return results


def _check_pairs(named: dict[str, Scenario], pairs: list[tuple[str, str]]) -> None:
    """Before running anything: the same check :func:`compare_results` makes."""
    def key(sc: Scenario) -> Result:
        return Result(pd.DataFrame(), {"scenario": sc.model_dump(mode="json")})

    for name, base in pairs:
        check_pairable(base, key(named[base]), name, key(named[name]))


def compare(base: Scenario | str | Path,
            others: Scenario | str | Path | Iterable[Scenario | str | Path] | None = None,
            replications: int = 20, seed: int | None = None,
            indicators: Iterable[str] | None = None, years: Iterable[int] | None = None,
            level: float = 0.90, unpaired: bool = False, **run_options: Any) -> Comparison:
    """Run ``base`` and each of ``others`` with the same seeds and compare them pairwise.

    Scenarios may be :class:`Scenario` objects or YAML paths. Without ``others``, ``base`` is
    a policy compared with the scenario it extends (its parent). A scenario that extends
    another scenario than ``base`` gets a warning naming its parent. Every scenario runs
    ``replications`` from the same root ``seed`` (default: the base's ``run.seed``), so
    replication ``k`` uses the same random numbers everywhere (common random numbers).
    ``run_options`` go to :func:`gzsim.run.simulate` (``workers``, default all CPUs as on the
    command line; ``backend``; ``uncertainty``: with ``posterior``, the default when the base
    has a posterior, replication ``k`` also uses the same posterior draw in every scenario, see
    :mod:`gzsim.uncertainty`; ``assumptions``: ``sampled``, the default, also draws the
    assumed parameters from their ranges, the same in every scenario, ``fixed`` keeps them,
    see :mod:`gzsim.assumptions`); ``progress(done, total)`` counts replications over all
    scenarios. A scenario whose name is already taken (e.g. the base against itself) gets
    ``_2``, ``_3``...
    """
    run_options.setdefault("assumptions", "sampled")
    if others is None or (not isinstance(others, (Scenario, str, Path)) and not list(others)):
        return compare_with_parents([base], replications, seed, indicators, years, level,
                                    unpaired, **run_options)
    progress = run_options.pop("progress", None)
    if isinstance(others, (Scenario, str, Path)):
        others = [others]
    scenarios = [_as_scenario(s) for s in [base, *others]]
    warn_other_parent(scenarios[0], scenarios[1:])
    root = scenarios[0].run.seed if seed is None else int(seed)
    named: dict[str, Scenario] = {}
    for sc in scenarios:
        name, k = sc.name, 1
        while name in named:
            k += 1
            name = f"{sc.name}_{k}"
        named[name] = sc
    first = next(iter(named))
    if not unpaired:
        _check_pairs(named, [(n, first) for n in list(named)[1:]])
    results = _run_all(named, replications, root, progress, run_options)
    return compare_results(results, base=first, indicators=indicators, years=years,
                           level=level, unpaired=unpaired)


def compare_with_parents(policies: Iterable[Scenario | str | Path], replications: int = 20,
                         seed: int | None = None, indicators: Iterable[str] | None = None,
                         years: Iterable[int] | None = None, level: float = 0.90,
                         unpaired: bool = False, **run_options: Any) -> Comparison:
    """Each policy against the scenario it extends (its parent), all on the same seeds.

    A parent shared by several policies runs once. Same options as :func:`compare`; the root
    seed defaults to the first policy's ``run.seed``.
    """
    progress = run_options.pop("progress", None)
    run_options.setdefault("assumptions", "sampled")
    scs = [_as_scenario(s) for s in policies]
    if not scs:
        raise UserError("give at least one policy scenario")
    named: dict[str, Scenario] = {}
    bases: dict[str, str] = {}
    for sc in scs:
        parent = load_parent(sc)
        if parent is None:
            raise UserError(f"{sc.name} extends no scenario, so it has no parent to be "
                            "compared with; give the base explicitly (gzsim compare BASE "
                            f"{sc.name}.yaml)")
        if parent.name in named and named[parent.name] != parent:
            raise UserError(f"two different parents are named {parent.name}")
        named.setdefault(parent.name, parent)
        bases[sc.name] = parent.name
    for sc in scs:
        if sc.name in named:
            raise UserError(f"{sc.name} is given twice, or is also another policy's parent")
        named[sc.name] = sc
    if not unpaired:
        _check_pairs(named, list(bases.items()))
    root = scs[0].run.seed if seed is None else int(seed)
    results = _run_all(named, replications, root, progress, run_options)
    return compare_results(results, base=bases[scs[0].name], indicators=indicators,
                           years=years, level=level, unpaired=unpaired, bases=bases)
