"""Results of a scenario run: labelled monthly series with provenance, and their files.

``series`` is a tidy-wide pandas frame: one row per (replication, month), one column per
indicator. ``save`` writes ``series.parquet``, ``summary.csv`` and ``manifest.json``;
``read_results`` reads them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gzsim import aggregate
from gzsim.errors import UserError
from gzsim.fileio import atomic_write_bytes, write_parquet_table
from gzsim.indicators import INDICATORS

SUMMARY_INDICATORS = [
    "investment_usd_m", "committed_usd_m", "jobs_created", "employment", "labour_force",
    "firms_operating", "expressway_km", "rail_km", "serviced_land_km2", "people_resettled",
    "poor_people", "fiscal_cost_usd_m",
]


def annual(series: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Annual value per replication and year (:func:`gzsim.aggregate.annual`), long form."""
    return aggregate.annual(series, indicator).stack().rename(indicator).reset_index()


def summarise(series: pd.DataFrame, years: list[int], indicators: list[str] | None = None,
              lo: float = 0.05, hi: float = 0.95) -> pd.DataFrame:
    """Median and a (hi - lo) interval across replications of each indicator's annual value."""
    names = [i for i in (indicators or SUMMARY_INDICATORS) if i in series.columns]
    rows = []
    if series.empty:  # every replication failed: an empty table, not an error
        names = []
    wanted = set(years)
    for name in names:
        wide = aggregate.annual(series, name)  # replication x year, years ascending
        for year in (y for y in wide.columns if y in wanted):
            v = wide[year].to_numpy()
            rows.append({"indicator": name, "unit": aggregate.annual_unit(name), "year": int(year),
                         "median": float(np.median(v)), "p05": float(np.quantile(v, lo)),
                         "p95": float(np.quantile(v, hi)), "replications": len(v)})
    return pd.DataFrame(rows, columns=["indicator", "unit", "year", "median", "p05", "p95",
                                       "replications"])


def annotated_table(frame: pd.DataFrame, scenario: str = ""):
    """The frame as a pyarrow table whose columns carry unit, geography, kind and meaning."""
    import pyarrow as pa

    return describe_columns(pa.Table.from_pandas(frame, preserve_index=False), scenario)


def describe_columns(table, scenario: str = ""):
    """A pyarrow table whose indicator columns carry unit, geography, kind and meaning.

    Any Parquet reader sees them (``pyarrow.parquet.read_schema(path).field(name).metadata``),
    and the schema's ``gzsim`` metadata holds the same as JSON for the whole table. Run results
    and sweep series parts both go through here.
    """
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


@dataclass
class Result:
    """Replications of one scenario: the series, the resolved scenario and the manifest."""

    series: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    failures: pd.DataFrame | None = None

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
        if self.series.empty:
            return []
        return sorted(pd.to_datetime(self.series["date"]).dt.year.unique().tolist())

    def summary(self, years: list[int] | None = None,
                indicators: list[str] | None = None) -> pd.DataFrame:
        """Median and 90 % interval of each indicator's annual value (see :func:`summarise`)."""
        return summarise(self.series, years or self.milestone_years, indicators)

    def annual(self, indicator: str) -> pd.DataFrame:
        """Annual values of ``indicator`` per replication (flows summed, stocks December)."""
        return annual(self.series, indicator)

    def to_xarray(self):
        """The series as an ``xarray.Dataset`` with dims (replication, date) and units."""
        import xarray as xr

        ds = xr.Dataset.from_dataframe(self.series.set_index(["replication", "date"]))
        for name in ds.data_vars:
            spec = INDICATORS.get(str(name))
            if spec:
                ds[name].attrs.update(units=spec.unit, geography=spec.geography,
                                      kind=spec.kind, description=spec.description)
        ds.attrs["scenario"] = self.scenario_name
        return ds

    def save(self, out_dir: str | Path, summary: pd.DataFrame | None = None) -> Path:
        """Write the results folder atomically (see :mod:`gzsim.outdir`).

        ``out_dir`` must be new, empty, or a previous run folder (which is replaced whole, so
        no file of an older run, e.g. a stale ``failures.csv``, survives). ``summary``: this
        result's :meth:`summary`, when the caller has it already (it is not computed twice).
        """
        from gzsim.outdir import atomic_folder

        out = Path(out_dir)
        with atomic_folder(out, "run") as tmp:
            write_parquet_table(annotated_table(self.series, self.scenario_name),
                                tmp / "series.parquet")
            summ = self.summary() if summary is None else summary
            atomic_write_bytes(tmp / "summary.csv", summ.to_csv(index=False).encode())
            if self.failures is not None and len(self.failures):
                atomic_write_bytes(tmp / "failures.csv",
                                   self.failures.to_csv(index=False).encode())
            atomic_write_bytes(tmp / "manifest.json",
                               json.dumps(self.manifest, indent=2, default=str).encode())
        return out


def read_results(path: str | Path) -> Result:
    """Read a results folder written by :meth:`Result.save` (or ``gzsim run``).

    Every file goes through :mod:`gzsim.readers`: a missing, empty or corrupt file is a
    :class:`UserError` naming it, never a library traceback.
    """
    from gzsim.readers import read_csv, read_json, read_parquet

    p = Path(path)
    if not p.is_dir():
        raise UserError(f"{p}: not a gzsim results folder (no such folder)")
    if not (p / "series.parquet").exists():
        raise UserError(f"{p}: not a gzsim results folder (no series.parquet)")
    series = read_parquet(p / "series.parquet", what="results series")
    missing = [c for c in ("replication", "date") if c not in series.columns]
    if missing:
        raise UserError(f"{p / 'series.parquet'}: not a gzsim series (no column(s) "
                        f"{', '.join(missing)})")
    manifest = read_json(p / "manifest.json", what="results manifest") \
        if (p / "manifest.json").exists() else {}
    if not isinstance(manifest, dict):
        raise UserError(f"{p / 'manifest.json'}: expected a JSON object, got "
                        f"{type(manifest).__name__}")
    _check_manifest(manifest, p / "manifest.json")
    failures = read_csv(p / "failures.csv", what="failures table") \
        if (p / "failures.csv").exists() else None
    return Result(series=series, manifest=manifest, failures=failures)


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
