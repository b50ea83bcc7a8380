"""Terminal output: summary tables and progress bars (rich)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gzsim.results import Result


def _fmt(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def print_summary(result: Result, console: Console | None = None) -> None:
    """Key indicators at milestone years: median [5 %, 95 %] across replications."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
    summ = result.summary()
    n = result.series["replication"].nunique() if len(result.series) else 0
    table = Table(title=f"{result.scenario_name}: median [90 % interval] over {n} replications")
    table.add_column("indicator")
    table.add_column("unit")
    years = sorted(summ["year"].unique()) if len(summ) else []
    for y in years:
        table.add_column(str(y), justify="right")
    for name, grp in summ.groupby("indicator", sort=False):
        cells = {int(r.year): f"{_fmt(r.median)} [{_fmt(r.p05)}, {_fmt(r.p95)}]"
                 for r in grp.itertuples()}
        table.add_row(str(name), str(grp["unit"].iloc[0]), *[cells.get(y, "") for y in years])
    console.print(table)


@contextlib.contextmanager
def progress_bar(label: str, total: int, disable: bool = False
                 ) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with rate and ETA; yields ``advance(done, total)``."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(),
                  TimeRemainingColumn(), disable=disable, transient=False) as prog:
        task = prog.add_task(label, total=total)

        def advance(done: int, total_: int) -> None:
            prog.update(task, completed=done, total=total_)

        yield advance
