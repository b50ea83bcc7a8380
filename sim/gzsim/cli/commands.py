"""What some commands do beyond parsing their options, kept apart so ``cli/app.py`` stays thin.

Each function is usable from Python too: an experiment with ``--set`` values, the sensitivity
report of a sweep, and the list of indicators.
"""

from __future__ import annotations

import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from gzsim.analysis.dose import dose_response
from gzsim.analysis.dose_plots import dose_response_chart
from gzsim.analysis.headline import pm_ratio, ratio_range
from gzsim.analysis.plots import save_figure, sensitivity_chart
from gzsim.analysis.sensitivity import analyse, precision_warning
from gzsim.analysis.tables import LongTable, Section, emit, fmt, title
from gzsim.experiments import load_experiment, read_sweep
from gzsim.indicators import INDICATORS, JOBS, JOBS_WHY
from gzsim.io.fileio import atomic_write_bytes
from gzsim.io.outdir import place_files


def experiment_with_overrides(path: str | Path, overrides: tuple[str, ...] | list[str] = ()):
    """The experiment at ``path`` with ``--set`` values in its ``set:`` (and fingerprint)."""
    return load_experiment(path, overrides)


def sensitivity_report(exp: Any, store: Path, outcomes: list[str], form: str,
                       echo: Callable[[str], None]) -> pd.DataFrame:
    """Indices of each outcome (default: the first), saved next to the store and printed.

    Writes ``sensitivity_<outcome>.csv`` and its chart into the sweep folder; a table whose
    intervals are wider than its indices says so, with the samples that would be needed.
    """
    frames, tables = [], []
    for wanted in outcomes or [None]:
        name, table = analyse(store, wanted)
        with tempfile.TemporaryDirectory(prefix=".sensitivity.", dir=store) as stage:
            atomic_write_bytes(Path(stage) / f"sensitivity_{name}.csv",
                               table.to_csv(index=False).encode())
            save_figure(sensitivity_chart(table, name), Path(stage) / f"sensitivity_{name}")
            place_files(stage, store, "sweep")
        frames.append(table.assign(outcome=name))
        rows = [[v if isinstance(v, str) else f"{v:.3f}" for v in r]
                for r in table.itertuples(index=False)]
        warning = precision_warning(table, int(exp.spec.design.samples or 0))
        tables.append(LongTable(f"Sensitivity of {name} ({exp.spec.design.kind})",
                                list(table.columns), set(range(1, len(table.columns))),
                                [Section("", rows)], [warning] if warning else []))
    frame = pd.concat(frames, ignore_index=True)
    emit(frame, tables, form, echo, extra={"experiment": exp.name})
    return frame


def indicator_frame() -> pd.DataFrame:
    """Every indicator: name, unit, geography, kind (flow or stock) and meaning."""
    return pd.DataFrame([{"name": s.name, "unit": s.unit, "geography": s.geography,
                          "kind": s.kind, "meaning": s.description}
                         for s in INDICATORS.values()])


def print_indicators(form: str, echo: Callable[[str], None]) -> None:
    """The indicators as text (one entry each, by geography, 80 columns), csv, md or json."""
    frame = indicator_frame()
    frame["quote_for"] = ["jobs" if n == JOBS else "" for n in frame["name"]]
    if form == "table":
        echo(f"Which to quote for jobs: {JOBS}\n")
        echo(textwrap.fill(JOBS_WHY, 80, initial_indent="  ", subsequent_indent="  ") + "\n")
        for geo, grp in frame.groupby("geography", sort=False):
            echo(f"{geo.capitalize()} indicators\n")
            for r in grp.itertuples(index=False):
                echo(f"  {r.name}  [{r.unit}, {r.kind}]"
                     + ("  <- quote this for jobs" if r.quote_for else ""))
                echo(textwrap.fill(r.meaning, 80, initial_indent="      ",
                                   subsequent_indent="      "))
            echo("")
        return
    rows = [list(r) for r in frame.astype(str).itertuples(index=False)]
    emit(frame, [LongTable("Indicators", list(frame.columns), set(), [Section("", rows)])],
         form, echo)


def dose_report(store: Path, lever: str | None, indicator: str, year: int, level: float,
                form: str, echo: Callable[[str], None]) -> pd.DataFrame:
    """The dose-response table and figure of a sweep, saved into it and printed."""
    table = dose_response(store, lever, indicator, year, level)
    m = read_sweep(store).manifest
    where = m["experiment"]["base_scenario"]["region"]["name"]
    caption = f"{m['experiment']['spec']['name']}, root seed {m['experiment']['root_seed']}."
    with tempfile.TemporaryDirectory(prefix=".dose.", dir=store) as stage:
        atomic_write_bytes(Path(stage) / "dose_response.csv", table.to_csv(index=False).encode())
        save_figure(dose_response_chart(table, level, caption, where),
                    Path(stage) / "dose_response")
        place_files(stage, store, "sweep")
    emit(table, [dose_table(table, where, level)], form, echo)
    return table


def dose_table(table: pd.DataFrame, where: str, level: float) -> LongTable:
    """The dose-response table for print: effect, per US$ m, per US$ m of present value."""
    unit, year = str(table["unit"].iloc[0]), int(table["year"].iloc[0])

    def rows(tag: str) -> list[list[str]]:
        out = []
        for _, r in table.iterrows():
            if tag == "diff":
                mid = f"{fmt(r.diff_mean, unit, sign=True) or '0'} ± " \
                    f"{fmt((r.ci_high - r.ci_low) / 2, unit)}"
                rng = f"{fmt(r.diff_p05, unit, sign=True) or '0'} to " \
                    f"{fmt(r.diff_p95, unit, sign=True) or '0'}"
            else:
                mid = pm_ratio(r[tag], r[f"{tag}_low"], r[f"{tag}_high"])
                rng = ratio_range(r[f"{tag}_p05"], r[f"{tag}_p95"])
            cost = r.cost_pv_usd_m if tag.endswith("_pv") else r.cost_usd_m
            out.append([f"{r.value:g}", mid, rng, fmt(cost, "US$ m")])
        return out

    ci = f"{level:.0%} CI"
    rate = float(table["discount_rate"].iloc[0])
    return LongTable(
        f"{title_of(table)} ({unit}, {where}) in {year} against {table['lever'].iloc[0]} "
        "(paired with its lowest value)",
        ["value", f"mean ± {ci}", "5-95 % of pairs", f"cost to {year}, US$ m"], {1, 2, 3},
        [Section(f"Extra {unit}", rows("diff")),
         Section(f"{unit} per US$ m of extra public money", rows("per_usd_m")),
         Section(f"{unit} per US$ m of present value ({rate:.0%} a year to the policy's "
                 "start)", rows("per_usd_m_pv"))],
        [f"± : the {ci} of the mean (how sure is the average); 5-95 %: the spread across "
         "replications and swept parameters (how much could it vary)."])


def title_of(table: pd.DataFrame) -> str:
    """The readable name of the table's indicator."""
    return title(str(table["indicator"].iloc[0]))
