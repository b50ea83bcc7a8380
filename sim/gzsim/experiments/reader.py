"""Reading a sweep folder: ``runs``, ``series``, ``scalars``, the design, xarray views.

Any Parquet reader (DuckDB, polars) reads the folder as well; this one knows what is done.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from gzsim.errors import UserError
from gzsim.execution.tasks import FAILED, OK
from gzsim.experiments.design import X_PREFIX
from gzsim.experiments.spec import FactorSpec, ScalarOutcome, factors_of
from gzsim.experiments.store import Scan, SweepStore
from gzsim.indicators import INDICATORS
from gzsim.io.fileio import write_parquet_stream
from gzsim.io.readers import read_parquet

PENDING = "pending"
#: what a run's record adds to its plan (run_id, point, replication, factors)
RUN_COLUMNS = ["seed_entropy", "status", "error", "traceback", "fault", "wall_time_s", "worker"]


def factor_dims(paths: list[str]) -> dict[str, str]:
    """A dimension name without dots for each factor path: its last part, made unique."""
    out: dict[str, str] = {}
    for p in paths:
        parts, k = p.split("."), 1
        while (name := "_".join(parts[-k:])) in out.values() and k < len(parts):
            k += 1
        out[p] = name
    return out


class Sweep:
    """A sweep folder, read: ``runs``, ``series``, ``scalars``, ``design``, ``problem``, ``X``."""

    def __init__(self, path: str | Path):
        self.store = SweepStore(path)
        self.path = self.store.root
        self.manifest = m = self.store.read_manifest()
        self.factors = factors_of({p: FactorSpec.model_validate(f)
                                   for p, f in m["experiment"]["spec"]["factors"].items()})
        self.factor_names = [f.name for f in self.factors]
        self.replications = int(m["runs"]["replications"])
        self.problem: dict = m["design"]["problem"]  # SALib's (names, num_vars, bounds)
        self.outcome_names = [s["name"] for s in m["outcomes"]["scalars"]]
        self.scan = self.store.scan()
        if self.scan.damaged:
            warnings.warn(f"{self.path}: {len(self.scan.damaged)} batch(es) do not count as "
                          f"done and their runs read as pending; `gzsim sweep` into this "
                          f"folder recomputes them: {'; '.join(self.scan.damaged.values())}",
                          stacklevel=2)

    def __repr__(self) -> str:
        counts = self.runs["status"].value_counts().to_dict()
        return f"<Sweep {self.manifest['experiment']['spec']['name']!r} at {self.path}: " \
               f"{len(self.runs)} runs {counts}>"

    @cached_property
    def _design(self) -> pd.DataFrame:
        return read_parquet(self.path / "design.parquet", "sweep design (rerun the same `gzsim "
                            "sweep` into this folder to rebuild it)")

    @property
    def design(self) -> pd.DataFrame:
        """One row per design point: ``point`` and the factor values."""
        return self._design[["point", *self.factor_names]]

    @property
    def X(self) -> np.ndarray:
        """The design as sampled, in the problem's space (rows = points)."""
        return self._design[[X_PREFIX + n for n in self.factor_names]].to_numpy(float)

    @cached_property
    def runs(self) -> pd.DataFrame:
        """Every planned run; ``status`` is ``ok``, ``failed`` or ``pending`` (not done yet)."""
        return self._runs_between(0, self.n_runs, self.store.read(self.scan,
                                                                  self.store.runs_dir))

    @property
    def n_runs(self) -> int:
        """Runs in the design (points x replications)."""
        return len(self._design) * self.replications

    def _runs_between(self, lo: int, hi: int, done: pd.DataFrame) -> pd.DataFrame:
        """The planned runs ``lo``..``hi - 1`` joined with the records ``done`` of those done."""
        ids = np.arange(lo, hi, dtype=np.int64)
        plan = pd.DataFrame({"run_id": ids, "point": ids // self.replications,
                             "replication": ids % self.replications})
        runs = plan.join(self.design.set_index("point"), on="point").join(
            done.set_index("run_id").reindex(columns=RUN_COLUMNS + self.outcome_names),
            on="run_id")
        return runs.assign(seed_entropy=np.int64(self.manifest["seeds"]["root_seed"]),
                           status=runs["status"].fillna(PENDING))

    def write_runs(self, path: str | Path, rows_per_chunk: int = 2_000) -> dict[str, int]:
        """Write :attr:`runs` to one Parquet file, a chunk of batches at a time (flat memory).

        Returns the runs ``ok``, ``failed`` and ``pending``, counted chunk by chunk.
        """
        size, text = int(self.manifest["runs"]["batch_size"]), {"status", "error", "traceback",
                                                                "fault", "worker"}
        design = pa.Schema.from_pandas(self.design, preserve_index=False)
        schema = pa.schema(
            [(c, pa.int64()) for c in ("run_id", "point", "replication")]
            + [design.field(n) for n in self.factor_names]
            + [(c, pa.int64() if c == "seed_entropy" else pa.string() if c in text
                else pa.float64()) for c in RUN_COLUMNS + self.outcome_names])
        step = max(1, rows_per_chunk // size) * size  # whole batches per chunk
        counts = dict.fromkeys((OK, FAILED, PENDING), 0)

        def chunks() -> Iterator[pa.Table]:
            for lo in range(0, self.n_runs, step):
                hi = min(self.n_runs, lo + step)
                part = Scan({k: v for k, v in self.scan.intact.items() if lo <= k < hi}, {})
                frame = self._runs_between(lo, hi, self.store.read(part, self.store.runs_dir))
                for status, n in frame["status"].value_counts().items():
                    counts[status] = counts.get(status, 0) + int(n)
                yield pa.Table.from_pandas(frame, schema=schema, preserve_index=False)

        write_parquet_stream(chunks(), schema, Path(path))
        return counts

    @property
    def failures(self) -> pd.DataFrame:
        """The failed runs."""
        return self.runs[self.runs["status"] == FAILED].reset_index(drop=True)

    @property
    def missing(self) -> np.ndarray:
        """Run ids not done yet."""
        return self.runs.loc[self.runs["status"] == PENDING, "run_id"].to_numpy()

    @property
    def complete(self) -> bool:
        """Whether every run is done (ok or failed)."""
        return len(self.missing) == 0

    @cached_property
    def series(self) -> pd.DataFrame:
        """Monthly series of the successful runs: run_id, point, replication, date, indicators."""
        df = self.store.read(self.scan, self.store.series_dir)
        return df.sort_values(["run_id", "date"], kind="stable").reset_index(drop=True)

    @cached_property
    def outcome_specs(self) -> dict[str, ScalarOutcome]:
        """The scalar outcomes as declared (indicator, year, aggregation, ``unit``) by name."""
        return {s["name"]: ScalarOutcome.model_validate(s)
                for s in self.manifest["experiment"]["spec"]["outcomes"]["scalars"]}

    @property
    def outcome_units(self) -> dict[str, str]:
        """Unit of each scalar outcome, e.g. ``{"jobs_created_2017": "jobs/year"}``."""
        return {n: s.unit for n, s in self.outcome_specs.items()}

    @property
    def scalars(self) -> pd.DataFrame:
        """Scalar outcomes of the successful runs with their factor values (EMA-style table).

        ``.attrs["units"]`` holds each outcome's unit.
        """
        out = self.runs.loc[self.runs["status"] == OK, ["run_id", "point", "replication",
                                                        *self.factor_names,
                                                        *self.outcome_names]]
        out = out.reset_index(drop=True)
        out.attrs["units"] = self.outcome_units
        return out

    def to_xarray(self, what: str = "series", by_factor: bool = False):
        """``series``: dims (point, replication, date); ``scalars``: dims (point, replication).

        Factor values are coordinates along ``point``, named by :func:`factor_dims` (the dotted
        path is the coordinate's ``path`` attribute). ``by_factor``: a grid design (full
        factorial) gets one dimension per factor instead of ``point``; for sampled designs see
        :func:`gzsim.analysis.surface.response_surface`.
        """
        # start-up, and gzsim[analysis] is an optional extra: loaded on use
        import xarray as xr

        if what not in ("series", "scalars"):
            raise ValueError("what must be 'series' or 'scalars'")
        df = self.series.drop(columns=["run_id"]) if what == "series" else \
            self.scalars.drop(columns=["run_id", *self.factor_names])
        index = ["point", "replication", *(["date"] if what == "series" else [])]
        ds = xr.Dataset.from_dataframe(df.set_index(index))
        pts = self.design.set_index("point")
        pts = pts.loc[pts.index.isin(ds["point"].values)]
        dims = factor_dims([f.path for f in self.factors])
        for f in self.factors:
            ds = ds.assign_coords({dims[f.path]: ("point", pts[f.name].to_numpy())})
            ds[dims[f.path]].attrs.update(path=f.path, column=f.name)
        for name in ds.data_vars:
            if (spec := INDICATORS.get(str(name))) is not None:
                ds[name].attrs.update(units=spec.unit, geography=spec.geography, kind=spec.kind,
                                      description=spec.description)
            elif (s := self.outcome_specs.get(str(name))) is not None:
                ds[name].attrs.update(units=s.unit, indicator=s.indicator,
                                      aggregation=s.aggregation, year=s.year or "")
        ds.attrs.update(experiment=self.manifest["experiment"]["spec"]["name"],
                        design=self.manifest["design"]["kind"],
                        root_seed=self.manifest["seeds"]["root_seed"])
        if not by_factor:
            return ds
        cols = pts[self.factor_names]
        if len(cols.drop_duplicates()) != len(pts) or \
                int(np.prod(cols.nunique().to_numpy())) != len(pts):
            raise UserError("by_factor needs a grid design (each factor combination once); "
                            "use gzsim.analysis.surface.response_surface for sampled designs")
        return ds.set_index(point=list(dims.values())).unstack("point")


def read_sweep(path: str | Path) -> Sweep:
    """Read a sweep folder written by :func:`run_sweep` / ``gzsim sweep``."""
    return Sweep(path)
