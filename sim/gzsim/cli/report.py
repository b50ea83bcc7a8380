"""Terminal output: the run summary table and progress bars (rich, on stderr)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import click
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

from gzsim.analysis.tables import LongTable, Section, emit, fmt, geography, geography_label, title
from gzsim.results import SUMMARY_COLUMNS, Result


def summary_table(result: Result, summ: list[dict[str, Any]] | None = None) -> LongTable:
    """Key indicators at milestone years: median and 90 % interval across replications.

    Long (one row per indicator and year) so it fits 80 columns, grouped by geography, one
    number format per unit. ``summ``: :meth:`Result.summary_rows`, when the caller has them.
    """
    summ = result.summary_rows() if summ is None else summ
    by_indicator: dict[str, list[dict[str, Any]]] = {}
    for r in summ:
        by_indicator.setdefault(str(r["indicator"]), []).append(r)
    region = result.manifest.get("scenario", {}).get("region", {})
    sections = []
    for geo in ("district", "province", "other"):
        rows = []
        for name, grp in by_indicator.items():
            if geography(name) != geo:
                continue
            unit = str(grp[0]["unit"])
            for i, r in enumerate(grp):
                rows.append([title(name) if i == 0 else "", unit if i == 0 else "",
                             str(r["year"]), fmt(r["median"], unit),
                             f"[{fmt(r['p05'], unit)}, {fmt(r['p95'], unit)}]"])
        if rows:
            sections.append(Section(geography_label(geo, region.get("name", ""),
                                                    region.get("province", "")), rows))
    return LongTable(f"{result.scenario_name}: median [90 % interval] over "
                     f"{result.replications} replications",
                     ["indicator", "unit", "year", "median", "90 % interval"], {3, 4},
                     sections)


def print_summary(result: Result, console: Console | None = None, form: str = "table",
                  summary: list[dict[str, Any]] | None = None) -> None:
    """Print the summary table (``form``: table, csv, md or json), at most 80 columns.

    ``summary``: ``result.summary_rows()`` when the caller has them already (not computed
    twice). The CSV and JSON forms are built with pandas; the tables need none.
    """
    rows = result.summary_rows() if summary is None else summary
    frame = None
    if form in ("csv", "json"):
        # start-up: pandas loads only when needed (the run path avoids it, issue 13)
        import pandas as pd

        frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
        frame.insert(2, "geography", [geography(str(i)) for i in frame["indicator"]])
    emit(frame, [summary_table(result, rows)], form, click.echo, console,
         extra={"scenario": result.scenario_name})


@contextlib.contextmanager
def progress_bar(label: str, total: int, disable: bool = False
                 ) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with rate and ETA; yields ``advance(done, total)``.

    Redrawn on each advance, not by rich's refresh thread: with no thread alive the process
    pool can fork its workers from this process (milliseconds) instead of starting a
    forkserver that imports the model again (about a second).
    """
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), disable=disable,
                  transient=False, auto_refresh=False, console=Console(stderr=True)) as prog:
        task = prog.add_task(label, total=total)
        prog.refresh()

        def advance(done: int, total_: int) -> None:
            prog.update(task, completed=done, total=total_, refresh=True)

        yield advance


def print_stats(result: Any, console: Any = None) -> None:
    """Final statistics of a sweep session: runs, failures, wall time, time per run, workers."""
    s = result.stats
    rows = {"session": s.get("start"),
            "backend": s.get("backend") and f"{s['backend']}: {s['cluster']}",  # none: no runs
            "shard": s["shard"] and "{}/{}".format(*s["shard"]) + f" ({s['runs_in_scope']} runs)",
            "runs": f"{s['runs_this_session']} this session, {s['runs_done_before']} done "
                    f"before, {s['runs_total']} in the design",
            "failures": f"{s['failed_this_session']} this session",
            "all sessions": f"{s.get('runs_ok_total')} ok, {s.get('runs_failed_total')} "
                            f"failed, {s.get('runs_pending_total')} pending",
            "wall time": f"{s['wall_time_s']:.2f} s",
            "batches": f"{s['tasks']} of up to {s['batch_size']} runs, {s['retries']} "
                       f"retried, {s['lost_runs']} runs lost",
            "time per run": s["time_per_run_s"] is not None and f"{s['time_per_run_s'] * 1000:.1f}"
                            f" ms ({s['runs_per_s']} runs/s overall)",
            "runs per worker": ", ".join(f"{k}: {v}" for k, v in s["runs_per_worker"].items())}
    t = Table(title=f"sweep '{s['experiment']}' -> {result.path}", show_header=False)
    for key, text in rows.items():
        if text:
            t.add_row(key, text)
    (console or Console()).print(t)
