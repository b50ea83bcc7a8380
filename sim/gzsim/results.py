"""Results of a scenario run: labelled monthly series with provenance, and their files.

``series`` is a tidy-wide pandas frame: one row per (replication, month), one column per
indicator. ``save`` writes ``series.parquet``, ``summary.csv`` and ``manifest.json``;
``read_results`` reads them back. A fresh run keeps its series as arrays (a :class:`Grid`) and
builds the frame only when asked: `gzsim run` summarises and writes them without pandas, whose
import alone is a fifth of the command's 1.5 s target (issue 13).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gzsim import aggregate
from gzsim.errors import UserError
from gzsim.indicators import INDICATORS
from gzsim.io.eventfile import arrow_of_frame, read_events
from gzsim.io.fileio import (
    arrow_array,
    atomic_write_bytes,
    parquet_appender,
    write_json,
    write_parquet_table,
)
from gzsim.io.outdir import atomic_folder
from gzsim.io.readers import read_csv, read_json, read_parquet

if TYPE_CHECKING:
    import pandas as pd

SUMMARY_COLUMNS = ["indicator", "unit", "year", "median", "p05", "p95", "replications"]
SUMMARY_INDICATORS = [
    "investment_usd_m", "committed_usd_m", "jobs_created", "employment", "labour_force",
    "firms_operating", "expressway_km", "rail_km", "serviced_land_km2", "people_resettled",
    "poor_people", "fiscal_cost_usd_m",
]


def annual(series: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Annual value per replication and year (:func:`gzsim.aggregate.annual`), long form."""
    return aggregate.annual(series, indicator).stack().rename(indicator).reset_index()


def summary_rows(matrix: Callable[[str], tuple[str, np.ndarray]], available: list[str],
                 years: list[int], indicators: list[str] | None = None, lo: float = 0.05,
                 hi: float = 0.95) -> list[dict[str, Any]]:
    """Median and a (hi - lo) interval across replications of each indicator's annual value.

    ``matrix(name)`` gives (first month, replication x month array); each year's value per
    replication is :func:`gzsim.aggregate.aggregate`'s annual rule.
    """
    return rows_of(annual_values(matrix, available, years, indicators), lo, hi)


def annual_values(matrix: Callable[[str], tuple[str, np.ndarray]], available: list[str],
                  years: list[int], indicators: list[str] | None = None
                  ) -> dict[tuple[str, int], np.ndarray]:
    """Each (indicator, year)'s annual value per replication (rows of ``matrix``), in order.

    What the summary needs and all it needs: a streamed run keeps these, not its series.
    """
    out = {}
    have = set(available)
    for name in (i for i in (indicators or SUMMARY_INDICATORS) if i in have):
        start, v = matrix(name)
        for year in sorted(set(years) & set(aggregate.years_covered(start, v.shape[1]))):
            out[name, int(year)] = aggregate.aggregate(v, start, "annual", name, year=year)
    return out


def rows_of(values: dict[tuple[str, int], np.ndarray], lo: float = 0.05,
            hi: float = 0.95) -> list[dict[str, Any]]:
    """Summary rows (median, ``lo`` and ``hi`` quantiles) of :func:`annual_values`."""
    return [{"indicator": name, "unit": aggregate.annual_unit(name), "year": year,
             "median": float(np.median(vals)), "p05": float(np.quantile(vals, lo)),
             "p95": float(np.quantile(vals, hi)), "replications": len(vals)}
            for (name, year), vals in values.items()]


def summary_csv(rows: list[dict[str, Any]]) -> bytes:
    """The summary rows as CSV (what ``summary.csv`` holds)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, SUMMARY_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


@dataclass(frozen=True)
class Grid:
    """Replications x months arrays of a fresh run (rows in replication order)."""

    replications: np.ndarray  # int64, one per replication
    dates: np.ndarray  # datetime64 (as `model.month_dates`), the month starts
    values: dict[str, np.ndarray]  # indicator -> replications x months

    @property
    def start(self) -> str:
        """The first month, 'YYYY-MM'."""
        return str(self.dates[0].astype("datetime64[M]")) if len(self.dates) else "2000-01"

    def columns(self) -> dict[str, np.ndarray]:
        """The tidy layout of ``Result.series``: one entry per (replication, month)."""
        n, m = len(self.replications), len(self.dates)
        return {"replication": np.repeat(self.replications.astype(np.int64), m),
                "date": np.tile(self.dates, n),
                **{k: v.reshape(n * m) for k, v in self.values.items()}}


def annotated_table(frame: pd.DataFrame | Grid, scenario: str = ""):
    """The series as a pyarrow table whose columns carry unit, geography, kind and meaning."""
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    if isinstance(frame, Grid):
        cols = frame.columns()
        table = pa.Table.from_arrays([arrow_array(v) for v in cols.values()], names=list(cols))
    else:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    return describe_columns(table, scenario)


def describe_columns(table, scenario: str = ""):
    """A pyarrow table whose indicator columns carry unit, geography, kind and meaning.

    Any Parquet reader sees them (``pyarrow.parquet.read_schema(path).field(name).metadata``),
    and the schema's ``gzsim`` metadata holds the same as JSON for the whole table. Run results
    and sweep series parts both go through here.
    """
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    fields, described = [], {}
    for f in table.schema:
        spec = INDICATORS.get(f.name)
        if spec is not None:
            meta = {"unit": spec.unit, "geography": spec.geography, "kind": spec.kind,
                    "description": spec.description}
            described[f.name] = meta
            f = f.with_metadata({k: v.encode() for k, v in meta.items()})
        fields.append(f)
    gz = {"scenario": scenario, "indicators": described,
          "index": {"replication": "replication number (seed spawn key)",
                    "date": "first day of the simulated month"}}
    meta = {**(table.schema.metadata or {}), b"gzsim": json.dumps(gz).encode()}
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields, metadata=meta))


class SeriesStream:
    """A run's series written batch by batch, keeping only what the summary needs.

    Each :meth:`add` (a :class:`Grid` of the next replications, in order) becomes row groups
    of ``series.parquet`` and its annual values at ``years`` (:func:`annual_values`); the
    arrays themselves are dropped. So a run's memory does not grow with its replications, and
    the file and summary equal those :meth:`Result.save` writes for the same replications.
    """

    def __init__(self, path: Path, scenario: str, dates: np.ndarray, years: list[int]):
        self.path, self.scenario, self.dates, self.years = Path(path), scenario, dates, years
        self.values: dict[tuple[str, int], list[np.ndarray]] = {}
        self.replications = 0
        self._append: Callable[[Any], None] | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> SeriesStream:
        self._append = self._stack.enter_context(parquet_appender(self.path))
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None and self.replications == 0:  # every replication failed
            self._append(annotated_table(Grid(np.zeros(0, np.int64), self.dates, {}),
                                         self.scenario))
        self._stack.__exit__(*exc)

    def add(self, grid: Grid) -> None:
        """Write the next replications (rows in replication order) and keep their summary."""
        if not len(grid.replications):
            return
        self._append(annotated_table(grid, self.scenario))
        got = annual_values(lambda name: (grid.start, grid.values[name]), list(grid.values),
                            self.years)
        for key, vals in got.items():
            self.values.setdefault(key, []).append(vals)
        self.replications += len(grid.replications)

    def summary(self) -> list[dict[str, Any]]:
        """The summary rows of every replication added (as :meth:`Result.summary_rows`)."""
        return rows_of({k: np.concatenate(v) for k, v in self.values.items()})


class Result:
    """Replications of one scenario: the series, the resolved scenario and the manifest.

    Built from a ``series`` frame, or (a fresh run) from a :class:`Grid`, in which case the
    frame is made on first use of ``series``, or (a run streamed to its folder,
    ``simulate(..., out=...)``) from the ``folder`` it wrote, whose ``series.parquet`` is read
    on first use of ``series``; ``summary``: the streamed run's summary rows. ``events``: the
    entity event log, as a frame or as the path of its ``events.parquet`` (read on first use).
    """

    def __init__(self, series: pd.DataFrame | None = None, manifest: dict | None = None,
                 failures: pd.DataFrame | None = None, *, grid: Grid | None = None,
                 events: pd.DataFrame | Path | None = None, folder: Path | None = None,
                 summary: list[dict[str, Any]] | None = None):
        if sum(x is not None for x in (series, grid, folder)) != 1:
            raise TypeError("Result needs a series frame, a grid or a folder (one of them)")
        self._series, self.grid, self.folder = series, grid, folder
        self._summary = summary
        self.manifest: dict[str, Any] = {} if manifest is None else manifest
        self.failures = failures
        self._events = events

    def __repr__(self) -> str:
        return f"Result({self.scenario_name!r}, {self.replications} replication(s))"

    @property
    def series(self) -> pd.DataFrame:
        """One row per (replication, month), one column per indicator."""
        if self._series is None and self.grid is None:  # streamed: read back on first use
            self._series = read_parquet(self.folder / "series.parquet", what="results series")
        if self._series is None:
            # start-up: pandas loads only when needed (the run path avoids it, issue 13)
            import pandas as pd

            self._series = pd.DataFrame(self.grid.columns())
        return self._series

    @property
    def events(self) -> pd.DataFrame | None:
        """The entity event log, when the run kept it (``events=True``, `gzsim run --events`).

        A streamed or read-back run's is read from its ``events.parquet`` on first use (a
        base replication logs about 11,000 events: the file can outgrow memory).
        """
        if isinstance(self._events, Path):
            self._events = read_events(self._events)
        return self._events

    @events.setter
    def events(self, events: pd.DataFrame | Path | None) -> None:
        self._events = events

    @property
    def _fresh(self) -> bool:
        """The series are the run's arrays (a :class:`Grid`), not yet a frame."""
        return self._series is None and self.grid is not None

    @property
    def replications(self) -> int:
        """How many replications the series holds."""
        if self._summary is not None and self.folder is not None:  # streamed: counted on the way
            return int(self.manifest["replications"]) - len(
                self.manifest.get("failed_replications", []))
        if self._fresh:
            return len(self.grid.replications)
        return int(self._series["replication"].nunique()) if len(self._series) else 0

    @property
    def scenario_name(self) -> str:
        """The scenario's name, from the manifest."""
        return self.manifest.get("scenario", {}).get("name", "scenario")

    @property
    def milestone_years(self) -> list[int]:
        """The years summaries and comparisons report (the scenario's, else every year)."""
        years = self.manifest.get("scenario", {}).get("time", {}).get("milestone_years")
        if years is not None:
            return list(years)
        if self._fresh:
            return aggregate.years_covered(self.grid.start, len(self.grid.dates))
        if self.series.empty:
            return []
        # start-up: pandas loads only when needed (the run path avoids it, issue 13)
        import pandas as pd

        return sorted(pd.to_datetime(self.series["date"]).dt.year.unique().tolist())

    def _matrix(self, indicator: str) -> tuple[str, np.ndarray]:
        """(first month, replication x month array) of one indicator."""
        if self._fresh:
            return self.grid.start, self.grid.values[indicator]
        return aggregate.matrix(self.series, indicator)[1:]

    def _indicators(self) -> list[str]:
        """The indicators the series holds (none when every replication failed)."""
        if self._fresh:
            return list(self.grid.values) if len(self.grid.replications) else []
        return [] if self.series.empty else list(self.series.columns)

    def summary_rows(self, years: list[int] | None = None,
                     indicators: list[str] | None = None) -> list[dict[str, Any]]:
        """:meth:`summary` as rows (no pandas needed for a fresh run)."""
        if self._summary is not None and years is None and indicators is None:
            return self._summary
        return summary_rows(self._matrix, self._indicators(), years or self.milestone_years,
                            indicators)

    def summary(self, years: list[int] | None = None,
                indicators: list[str] | None = None) -> pd.DataFrame:
        """Median and 90 % interval of each indicator's annual value at the milestone years."""
        # start-up: pandas loads only when needed (the run path avoids it, issue 13)
        import pandas as pd

        return pd.DataFrame(self.summary_rows(years, indicators), columns=SUMMARY_COLUMNS)

    def annual(self, indicator: str) -> pd.DataFrame:
        """Annual values of ``indicator`` per replication (flows summed, stocks December)."""
        return annual(self.series, indicator)

    def to_xarray(self):
        """The series as an ``xarray.Dataset`` with dims (replication, date) and units."""
        # start-up, and gzsim[analysis] is an optional extra: loaded on use
        import xarray as xr

        ds = xr.Dataset.from_dataframe(self.series.set_index(["replication", "date"]))
        for name in ds.data_vars:
            spec = INDICATORS.get(str(name))
            if spec:
                ds[name].attrs.update(units=spec.unit, geography=spec.geography,
                                      kind=spec.kind, description=spec.description)
        ds.attrs["scenario"] = self.scenario_name
        return ds

    def save(self, out_dir: str | Path, summary: list[dict[str, Any]] | None = None) -> Path:
        """Write the results folder atomically (see :mod:`gzsim.io.outdir`).

        ``out_dir`` must be new, empty, or a previous run folder (which is replaced whole, so
        no file of an older run, e.g. a stale ``failures.csv``, survives). ``summary``: this
        result's :meth:`summary_rows`, when the caller has them already.
        """
        out = Path(out_dir)
        rows = self.summary_rows() if summary is None else summary
        with atomic_folder(out, "run") as tmp:
            write_parquet_table(annotated_table(self.grid if self._fresh
                                                else self.series, self.scenario_name),
                                tmp / "series.parquet")
            write_extras(self, tmp, rows)
        return out


def write_extras(result: Result, folder: Path, summary: list[dict[str, Any]]) -> None:
    """Everything of a results folder but its series: summary, events, failures, manifest."""
    atomic_write_bytes(folder / "summary.csv", summary_csv(summary))
    events = result._events  # a file not yet read is copied, not loaded
    if isinstance(events, Path):
        shutil.copyfile(events, folder / "events.parquet")
    elif events is not None:
        write_parquet_table(arrow_of_frame(events), folder / "events.parquet")
    if result.failures is not None and len(result.failures):
        atomic_write_bytes(folder / "failures.csv", result.failures.to_csv(index=False).encode())
    write_json(result.manifest, folder / "manifest.json")


def read_results(path: str | Path) -> Result:
    """Read a results folder written by :meth:`Result.save` (or ``gzsim run``).

    Every file goes through :mod:`gzsim.io.readers`: a missing, empty or corrupt file is a
    :class:`UserError` naming it, never a library traceback.
    """
    p = Path(path)
    if not p.is_dir():
        raise UserError(f"{p}: not a gzsim results folder (no such folder)")
    for name in ("series.parquet", "manifest.json"):
        if not (p / name).exists():
            raise UserError(f"{p}: not a gzsim results folder (no {name}); {REBUILD}")
    series = read_parquet(p / "series.parquet", what="results series")
    _check_series(series, p)
    manifest = read_json(p / "manifest.json", what="results manifest")
    if not isinstance(manifest, dict):
        raise UserError(f"{p / 'manifest.json'}: expected a JSON object, got "
                        f"{type(manifest).__name__}")
    _check_manifest(manifest, p / "manifest.json")
    failures = read_csv(p / "failures.csv", what="failures table") \
        if (p / "failures.csv").exists() else None
    events = p / "events.parquet" if (p / "events.parquet").exists() else None  # read on use
    return Result(series=series, manifest=manifest, failures=failures, events=events)


#: how a damaged results folder is rebuilt (said with every refusal)
REBUILD = ("rebuild it by rerunning the `gzsim run` that wrote it (its command line is in "
           "manifest.json, provenance.command_line) into a new --out")


def _check_series(series: pd.DataFrame, folder: Path) -> None:
    """The series has its index columns and types, and every indicator its summary names.

    A column dropped or retyped by hand is refused, naming the file and the column, rather
    than read as missing data.
    """
    file = folder / "series.parquet"

    def refuse(what: str) -> None:
        raise UserError(f"{file}: {what}; the results folder was changed by hand or damaged: "
                        f"{REBUILD}")

    missing = [c for c in ("replication", "date") if c not in series.columns]
    if missing:
        refuse(f"not a gzsim series (no column(s) {', '.join(missing)})")
    kinds = {"replication": "iu", "date": "M"}
    for col in series.columns if len(series) else ():  # (no rows: every replication failed)
        kind = series[col].dtype.kind
        if kind not in kinds.get(col, "fiu"):
            want = {"replication": "integers", "date": "dates"}.get(col, "numbers")
            refuse(f"column '{col}' holds {series[col].dtype} values, expected {want}")
    summary = folder / "summary.csv"
    if summary.exists() and len(series):
        named = {r["indicator"] for r in read_csv(summary, what="results summary").to_dict(
            "records") if "indicator" in r}
        gone = sorted(named - set(series.columns))
        if gone:
            refuse(f"no column(s) {', '.join(map(str, gone))}, which summary.csv reports")


def _check_manifest(manifest: dict, file: Path) -> None:
    """The fields a reader relies on have their types (a hand-edited manifest is a user error)."""
    sc = manifest.get("scenario", {})
    time = sc.get("time", {}) if isinstance(sc, dict) else None
    years = time.get("milestone_years", []) if isinstance(time, dict) else None
    checks = [("scenario", isinstance(sc, dict), "an object"),
              ("scenario.name", not isinstance(sc, dict) or isinstance(sc.get("name", ""), str),
               "a string"),
              ("scenario.time", isinstance(time, dict), "an object"),
              ("scenario.time.milestone_years", isinstance(years, list) and all(
                  isinstance(y, int) and not isinstance(y, bool) for y in years),
               "a list of years"),
              ("replications", isinstance(manifest.get("replications", 0), int), "an integer"),
              ("failed_replications", isinstance(manifest.get("failed_replications", []), list),
               "a list")]
    for field_, ok, what in checks:
        if not ok:
            raise UserError(f"{file}: field '{field_}' should be {what}; the manifest was "
                            "changed by hand or damaged")
