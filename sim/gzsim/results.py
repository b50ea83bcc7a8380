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
from gzsim.fileio import atomic_write_bytes
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
    for name in names:
        a = annual(series, name)
        a = a[a["year"].isin(years)]
        for year, grp in a.groupby("year"):
            v = grp[name].to_numpy()
            rows.append({"indicator": name, "unit": aggregate.annual_unit(name), "year": int(year),
                         "median": float(np.median(v)), "p05": float(np.quantile(v, lo)),
                         "p95": float(np.quantile(v, hi)), "replications": len(v)})
    return pd.DataFrame(rows, columns=["indicator", "unit", "year", "median", "p05", "p95",
                                       "replications"])


@dataclass
class Result:
    """Replications of one scenario: the series, the resolved scenario and the manifest."""

    series: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    failures: pd.DataFrame | None = None

    @property
    def scenario_name(self) -> str:
        return self.manifest.get("scenario", {}).get("name", "scenario")

    @property
    def milestone_years(self) -> list[int]:
        return list(self.manifest.get("scenario", {}).get("time", {}).get(
            "milestone_years", sorted(self.series["date"].dt.year.unique())))

    def summary(self, years: list[int] | None = None,
                indicators: list[str] | None = None) -> pd.DataFrame:
        return summarise(self.series, years or self.milestone_years, indicators)

    def annual(self, indicator: str) -> pd.DataFrame:
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

    def save(self, out_dir: str | Path) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        import io

        buf = io.BytesIO()
        self.series.to_parquet(buf, index=False)
        atomic_write_bytes(out / "series.parquet", buf.getvalue())
        atomic_write_bytes(out / "summary.csv", self.summary().to_csv(index=False).encode())
        if self.failures is not None and len(self.failures):
            atomic_write_bytes(out / "failures.csv", self.failures.to_csv(index=False).encode())
        atomic_write_bytes(out / "manifest.json",
                           json.dumps(self.manifest, indent=2, default=str).encode())
        return out


def read_results(path: str | Path) -> Result:
    """Read a results folder written by :meth:`Result.save` (or ``gzsim run``)."""
    p = Path(path)
    if not (p / "series.parquet").exists():
        raise UserError(f"{p}: not a gzsim results folder (no series.parquet)")
    series = pd.read_parquet(p / "series.parquet")
    manifest = json.loads((p / "manifest.json").read_text()) if (p / "manifest.json").exists() \
        else {}
    failures = pd.read_csv(p / "failures.csv") if (p / "failures.csv").exists() else None
    return Result(series=series, manifest=manifest, failures=failures)
