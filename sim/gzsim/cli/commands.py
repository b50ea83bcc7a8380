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

from gzsim.analysis.tables import LongTable, Section, emit


def experiment_with_overrides(path: str | Path, overrides: tuple[str, ...] | list[str] = ()):
    """The experiment at ``path`` with ``--set`` values in its ``set:`` (and fingerprint)."""
    from gzsim.experiments import load_experiment

    return load_experiment(path, overrides)


def sensitivity_report(exp: Any, store: Path, outcomes: list[str], form: str,
                       echo: Callable[[str], None]) -> pd.DataFrame:
    """Indices of each outcome (default: the first), saved next to the store and printed.

    Writes ``sensitivity_<outcome>.csv`` and its chart into the sweep folder; a table whose
    intervals are wider than its indices says so, with the samples that would be needed.
    """
    from gzsim.analysis.plots import save_figure, sensitivity_chart
    from gzsim.analysis.sensitivity import analyse, precision_warning
    from gzsim.io.fileio import atomic_write_bytes
    from gzsim.io.outdir import place_files

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
    from gzsim.indicators import INDICATORS

    return pd.DataFrame([{"name": s.name, "unit": s.unit, "geography": s.geography,
                          "kind": s.kind, "meaning": s.description}
                         for s in INDICATORS.values()])


def print_indicators(form: str, echo: Callable[[str], None]) -> None:
    """The indicators as text (one entry each, by geography, 80 columns), csv, md or json."""
    frame = indicator_frame()
    if form == "table":
        for geo, grp in frame.groupby("geography", sort=False):
            echo(f"{geo.capitalize()} indicators\n")
            for r in grp.itertuples(index=False):
                echo(f"  {r.name}  [{r.unit}, {r.kind}]")
                echo(textwrap.fill(r.meaning, 80, initial_indent="      ",
                                   subsequent_indent="      "))
            echo("")
        return
    rows = [list(r) for r in frame.astype(str).itertuples(index=False)]
    emit(frame, [LongTable("Indicators", list(frame.columns), set(), [Section("", rows)])],
         form, echo)
