"""Sweeps: run an experiment's design into a resumable store, and read it back.

::

    from gzsim.experiments import run_sweep, read_sweep
    res = run_sweep("scenarios/experiments/lhs.yaml", "results/lhs", workers=2)
    sw = read_sweep("results/lhs")
    sw.runs        # one row per run: factor values, seed, status, error, wall time, outcomes
    sw.series      # one row per run and month: run_id, point, replication, date, indicators
    sw.scalars     # scalar outcomes of the successful runs, with their factor values
    sw.to_xarray() # series as (point, replication, date), factor values as point coordinates

A run is ``(point, replication)`` with ``run_id = point * replications + replication``; it uses
the root seed and its replication index only (common random numbers across points). Rerunning
into the same folder computes only the runs that are missing (``resume``).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from gzsim.errors import UserError
from gzsim.experiments.design import Design, design_from_frame, make_design
from gzsim.experiments.execute import ExecStats, cpu_count, execute
from gzsim.experiments.spec import Experiment, Factor, FactorSpec, ScalarOutcome, load_experiment
from gzsim.experiments.store import (
    FORMAT,
    PENDING,
    PartWriter,
    StoreError,
    SweepStore,
    new_session_id,
    write_parquet_table,
)
from gzsim.experiments.tasks import FAILED, OK, Job, RunFn
from gzsim.fileio import library_versions
from gzsim.outdir import OutputError, check_target, os_message, write_marker
from gzsim.scenario.schema import Scenario

SEED_SCHEME = ("numpy SeedSequence(entropy=root_seed, spawn_key=(replication,)); per-process "
               "streams add crc32(stream name) to the spawn key. The same replication index "
               "gets the same random numbers at every design point (common random numbers).")


def callable_name(fn: Callable | None) -> str:
    if fn is None:
        return "gzsim.model.simulate_one"
    if isinstance(fn, functools.partial):
        kw = ", ".join(f"{k}={v!r}" for k, v in sorted(fn.keywords.items()))
        args = ", ".join(map(repr, fn.args))
        return f"partial({callable_name(fn.func)}{', ' + args if args else ''}" \
               f"{', ' + kw if kw else ''})"
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def versions() -> dict[str, str]:
    return library_versions(("pyarrow", "pydantic", "SALib", "dask", "distributed",
                             "dask-jobqueue", "xarray"))


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"i/n"`` (0-based: 0 <= i < n) -> ``(i, n)``."""
    if text is None or isinstance(text, tuple):
        if text is not None and not (text[1] >= 1 and 0 <= text[0] < text[1]):
            raise UserError(f"--shard: need 0 <= i < n, got {text[0]}/{text[1]}")
        return text
    try:
        i_s, n_s = str(text).split("/")
        i, n = int(i_s), int(n_s)
    except ValueError:
        raise UserError(f"--shard must look like i/n (0-based, e.g. 0/4 ... 3/4), got "
                        f"'{text}'") from None
    if not (n >= 1 and 0 <= i < n):
        raise UserError(f"--shard: need 0 <= i < n (0-based), got '{text}'")
    return i, n


def shard_range(n_runs: int, shard: tuple[int, int] | None) -> tuple[int, int]:
    """The contiguous run-id slice ``[lo, hi)`` of a shard."""
    if shard is None:
        return 0, n_runs
    i, n = shard
    return i * n_runs // n, (i + 1) * n_runs // n


class _Runs(Sequence):
    """Run keys ``(run_id, point, replication)`` of an array of run ids, built lazily."""

    def __init__(self, ids: np.ndarray, replications: int):
        self.ids = ids
        self.r = replications

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [(int(x), int(x) // self.r, int(x) % self.r) for x in self.ids[i]]
        x = int(self.ids[i])
        return x, x // self.r, x % self.r


# --- reading ------------------------------------------------------------------------------------

def _factors_from_manifest(manifest: dict) -> list[Factor]:
    out = []
    for f in manifest["experiment"]["factors"]:
        spec = {k: v for k, v in f.items() if k not in ("name", "path")}
        out.append(Factor(f["name"], f["path"], FactorSpec.model_validate({**spec,
                                                                           "name": f["name"]})))
    return out


class Sweep:
    """A sweep folder, read: ``runs``, ``series``, ``scalars``, ``design``, ``problem``, ``X``.

    Everything is plain Parquet; see :mod:`gzsim.experiments.store` for the layout.
    """

    def __init__(self, path: str | Path):
        self.store = SweepStore(path)
        self.path = self.store.root
        self.manifest = self.store.read_manifest()
        if self.manifest.get("format") != FORMAT:
            raise StoreError(f"{self.path}: unknown sweep format {self.manifest.get('format')!r}")
        self.factors = _factors_from_manifest(self.manifest)
        self.factor_names = [f.name for f in self.factors]
        self.replications = int(self.manifest["runs"]["replications"])
        self.outcome_names = [s["name"] for s in
                              self.manifest["experiment"]["spec"]["outcomes"]["scalars"]]

    def __repr__(self) -> str:
        r = self.runs
        counts = r["status"].value_counts().to_dict()
        return (f"<Sweep {self.manifest['experiment']['spec']['name']!r} at {self.path}: "
                f"{len(r)} runs {counts}>")

    @cached_property
    def design_(self) -> Design:
        d = self.manifest["design"]
        return design_from_frame(self.store.read_design(), self.factors, d["kind"],
                                 d["problem"], d["params"])

    @property
    def design(self) -> pd.DataFrame:
        """One row per design point: ``point`` and the factor values."""
        return self.design_.points

    @property
    def problem(self) -> dict:
        """The SALib problem dict (names, num_vars, bounds) the design was drawn in."""
        return self.design_.problem

    @property
    def X(self) -> np.ndarray:
        """The design as sampled, in the problem's space (rows = points)."""
        return self.design_.X

    @cached_property
    def _records(self) -> pd.DataFrame:
        return self.store.read_records()

    @cached_property
    def runs(self) -> pd.DataFrame:
        """Every planned run; ``status`` is ``ok``, ``failed`` or ``pending`` (not run yet)."""
        return all_runs(self._records, self.design, self.replications,
                        int(self.manifest["seeds"]["root_seed"]), self.outcome_names)

    @property
    def failures(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == FAILED].reset_index(drop=True)

    @property
    def missing(self) -> np.ndarray:
        return self.runs.loc[self.runs["status"] == PENDING, "run_id"].to_numpy()

    @property
    def complete(self) -> bool:
        return len(self.missing) == 0

    @cached_property
    def series(self) -> pd.DataFrame:
        """Monthly series of the successful runs: run_id, point, replication, date, indicators."""
        return self.read_series()

    def read_series(self, indicators: list[str] | None = None) -> pd.DataFrame:
        cols = None if indicators is None else ["run_id", "point", "replication", "date",
                                                *indicators]
        return self.store.read_series(self._records, cols)

    @property
    def outcome_specs(self) -> list[ScalarOutcome]:
        """The scalar outcomes as declared (indicator, year, aggregation, ``unit``)."""
        return [ScalarOutcome.model_validate(s) for s in
                self.manifest["experiment"]["spec"]["outcomes"]["scalars"]]

    @property
    def outcome_units(self) -> dict[str, str]:
        """Unit of each scalar outcome, e.g. ``{"jobs_created_2017": "jobs/year"}``."""
        return {s.name: s.unit for s in self.outcome_specs}

    @property
    def scalars(self) -> pd.DataFrame:
        """Scalar outcomes of the successful runs with their factor values (EMA-style table).

        ``.attrs["units"]`` holds each outcome's unit.
        """
        ok = self.runs[self.runs["status"] == OK]
        out = ok[["run_id", "point", "replication", *self.factor_names,
                  *self.outcome_names]].reset_index(drop=True)
        out.attrs["units"] = self.outcome_units
        return out

    def to_xarray(self, what: str = "series", by_factor: bool = False):
        """``series``: dims (point, replication, date); ``scalars``: dims (point, replication).

        Factor values are coordinates along ``point``, named without dots (the path's last
        part, see :func:`factor_dims`; the dotted path is in the coordinate's ``path``
        attribute). ``by_factor``: a grid design (full factorial) gets one dimension per factor
        instead of ``point``; for sampled designs see :func:`gzsim.surface.response_surface`.
        """
        import xarray as xr

        from gzsim.indicators import INDICATORS

        if what == "series":
            df = self.series.drop(columns=["run_id"]).set_index(["point", "replication", "date"])
        elif what == "scalars":
            df = self.scalars.drop(columns=["run_id", *self.factor_names]) \
                .set_index(["point", "replication"])
        else:
            raise ValueError("what must be 'series' or 'scalars'")
        ds = xr.Dataset.from_dataframe(df)
        pts = self.design.set_index("point")
        pts = pts.loc[pts.index.isin(ds["point"].values)]
        dims = factor_dims([f.path for f in self.factors])
        ds = ds.assign_coords({dims[f.path]: ("point", pts[f.name].to_numpy())
                               for f in self.factors})
        for f in self.factors:
            ds[dims[f.path]].attrs.update(path=f.path, column=f.name)
        scalars = {s.name: s for s in self.outcome_specs}
        for name in ds.data_vars:
            spec = INDICATORS.get(str(name))
            if spec:
                ds[name].attrs.update(units=spec.unit, geography=spec.geography, kind=spec.kind,
                                      description=spec.description)
            elif str(name) in scalars:
                s = scalars[str(name)]
                ds[name].attrs.update(units=s.unit, indicator=s.indicator,
                                      aggregation=s.aggregation, year=s.year or "")
        ds.attrs.update(experiment=self.manifest["experiment"]["spec"]["name"],
                        design=self.manifest["design"]["kind"],
                        root_seed=self.manifest["seeds"]["root_seed"])
        if by_factor:
            names = list(dims.values())
            cols = pts[[f.name for f in self.factors]]
            if len(cols.drop_duplicates()) != len(pts) or \
                    int(np.prod(cols.nunique().to_numpy())) != len(pts):
                raise UserError("by_factor needs a grid design (each factor combination once); "
                                "use gzsim.surface.response_surface for sampled designs")
            ds = ds.set_index(point=names).unstack("point")
        return ds


def factor_dims(paths: list[str]) -> dict[str, str]:
    """A dimension name without dots for each factor path: its last part, made unique."""
    out: dict[str, str] = {}
    for p in paths:
        parts = p.split(".")
        k = 1
        while (name := "_".join(parts[-k:])) in out.values() and k < len(parts):
            k += 1
        out[p] = name
    return out


def read_sweep(path: str | Path) -> Sweep:
    """Read a sweep folder written by :func:`run_sweep` / ``gzsim sweep``."""
    return Sweep(path)


def pending_frame(missing: np.ndarray, points: pd.DataFrame, replications: int,
                  root_seed: int, outcome_names: list[str]) -> pd.DataFrame:
    """Rows of ``runs.parquet`` for planned runs not committed yet (status ``pending``)."""
    missing = np.asarray(missing, dtype=np.int64)
    pend = pd.DataFrame({"run_id": missing, "point": missing // replications,
                         "replication": missing % replications})
    pend = pd.concat([pend, points.set_index("point").loc[pend["point"].to_numpy()]
                      .reset_index(drop=True)], axis=1)
    pend["seed_entropy"] = np.int64(root_seed)
    pend["status"] = PENDING
    for c in ("error", "traceback", "worker"):
        pend[c] = None
    pend["wall_time_s"] = np.nan
    for c in outcome_names:
        pend[c] = np.nan
    return pend


def all_runs(records: pd.DataFrame, points: pd.DataFrame, replications: int, root_seed: int,
             outcome_names: list[str]) -> pd.DataFrame:
    """Committed records plus a ``pending`` row for every planned run not committed yet."""
    n = len(points) * replications
    done = records["run_id"].to_numpy(np.int64) if len(records) else np.empty(0, np.int64)
    rest = np.setdiff1d(np.arange(n, dtype=np.int64), done)
    pend = pending_frame(rest, points, replications, root_seed, outcome_names)
    recs = records.drop(columns=["_part"], errors="ignore")
    if not len(recs):
        return pend.reset_index(drop=True)
    if not len(pend):
        return recs.reset_index(drop=True)
    pend = pend[list(recs.columns)]
    out = pd.concat([recs, pend], ignore_index=True)
    return out.sort_values("run_id", kind="stable").reset_index(drop=True)


# --- running ------------------------------------------------------------------------------------

@dataclass
class SweepResult:
    """What :func:`run_sweep` did (session statistics) and where the results are."""

    path: Path
    stats: dict[str, Any] = field(default_factory=dict)

    def read(self) -> Sweep:
        return read_sweep(self.path)


def _manifest(exp: Experiment, design: Design, run_fn: Callable | None, fp: str) -> dict:
    text = None
    if exp.file is not None:
        with contextlib.suppress(OSError):
            text = Path(exp.file).read_text(encoding="utf-8")
    return {
        "format": FORMAT,
        "fingerprint": fp,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "experiment": exp.resolved(),
        "experiment_yaml": text,
        "model": callable_name(run_fn),
        "design": design.describe(),
        "runs": {"n_points": design.n_points, "replications": exp.replications,
                 "n_runs": design.n_points * exp.replications,
                 "run_id": "point * replications + replication"},
        "seeds": {"root_seed": exp.root_seed, "design_seed": exp.design_seed,
                  "scheme": SEED_SCHEME},
        "outcomes": exp.spec.outcomes.model_dump(mode="json"),
        "versions": versions(),
    }


def _fingerprint(exp: Experiment, run_fn: Callable | None) -> str:
    import hashlib

    return hashlib.sha256(f"{exp.fingerprint()}|{callable_name(run_fn)}".encode()).hexdigest()


def _wipe(store: SweepStore) -> None:
    import shutil

    for d in (store.runs_dir, store.series_dir, store.sessions_dir):
        shutil.rmtree(d, ignore_errors=True)
    for f in (store.runs_path, store.design_path, store.manifest_path):
        f.unlink(missing_ok=True)


MAX_CHECKED_POINTS = 5_000  # about 1.5 ms each


def _check_points(exp: Experiment, design: Design) -> None:
    """Refuse the first design point whose scenario is invalid.

    Above MAX_CHECKED_POINTS points: each factor's extremes and an even spread of points.
    """
    from gzsim.scenario.loader import check_design_points

    n = design.n_points
    if exp.base_data is None or not design.factors:
        return
    idx = np.arange(n)
    if n > MAX_CHECKED_POINTS:
        ext = [int(f(design.points[fac.name].to_numpy())) for fac in design.factors
               for f in (np.argmin, np.argmax)]
        idx = np.unique(np.r_[ext, np.linspace(0, n - 1, MAX_CHECKED_POINTS).astype(int)])
    check_design_points(exp.base_data, ((int(i), design.overrides(int(i))) for i in idx))


def _claim(folder: Path, overwrite: bool) -> None:
    """The results-folder contract (:mod:`gzsim.outdir`): only a new, empty or sweep folder."""
    try:
        check_target(folder, "sweep", overwrite=overwrite)
    except OutputError as e:
        raise StoreError(str(e)) from None


def _prepare(store: SweepStore, exp: Experiment, run_fn: Callable | None, resume: bool,
             overwrite: bool, sharded: bool) -> Design:
    fp = _fingerprint(exp, run_fn)
    _claim(store.root, overwrite)  # before anything is wiped
    if store.exists() and overwrite:
        if sharded:
            raise StoreError("--overwrite cannot be combined with --shard (other shards may be "
                             "writing into the folder)")
        _wipe(store)
    if store.exists():
        man = store.read_manifest()
        if man.get("fingerprint") != fp:
            raise StoreError(
                f"{store.root} holds another experiment (or the same one with a different base "
                f"scenario, design, seed, outcomes or model: '{man.get('model')}'). Use another "
                "--out folder, or --overwrite to replace it.")
        if not resume and len(store.committed()):
            raise StoreError(f"{store.root} already holds runs of this experiment; resume it "
                             "(resume=True; gzsim sweep resumes on a rerun) or overwrite it")
        d = man["design"]
        return design_from_frame(store.read_design(), exp.factors, d["kind"], d["problem"],
                                 d["params"])
    if store.root.exists():
        ours = {"runs", "series", "sessions", "design.parquet", "runs.parquet"}
        stray = [p.name for p in store.root.iterdir()
                 if p.name not in ours and not p.name.startswith(".")]
        if stray:
            raise StoreError(f"{store.root} exists and is not a gzsim sweep folder (it holds "
                             f"{', '.join(sorted(stray)[:5])}); choose another --out")
    design = make_design(exp)
    _check_points(exp, design)  # refuse the first invalid point before anything runs
    store.write_design(design.to_frame())
    store.write_manifest(_manifest(exp, design, run_fn, fp))  # last: marks the folder as ours
    write_marker(store.root, "sweep")
    return design


@contextlib.contextmanager
def _progress(progress: bool | Callable, label: str, total: int, done0: int,
              console: Any = None) -> Iterator[Callable[[int, int], None]]:
    """Yields ``update(done_in_session, failed_in_session)``."""
    if callable(progress) and not isinstance(progress, bool):
        yield lambda done, failed: progress(done0 + done, total, failed)
        return
    if not progress:
        yield lambda done, failed: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = console or Console(stderr=True)
    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]} runs/s"), TextColumn("{task.fields[failed]}"),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                  console=console, transient=False) as prog:
        task = prog.add_task(label, total=total, completed=done0, rate="-", failed="")

        def update(done: int, failed: int) -> None:
            dt = time.perf_counter() - t0
            prog.update(task, completed=done0 + done,
                        rate=f"{done / dt:.1f}" if dt > 0 else "-",
                        failed=f"[red]{failed} failed[/red]" if failed else "")

        yield update


def run_sweep(experiment: str | Path | Experiment, out_dir: str | Path | None = None, *,
              backend: str = "dask", workers: int | None = None, scheduler: str | None = None,
              cluster: str | None = None, client: Any = None, executor: Any = None,
              shard: tuple[int, int] | str | None = None, resume: bool = True,
              overwrite: bool = False, progress: bool | Callable[[int, int, int], None] = True,
              run_fn: RunFn | None = None, target_task_seconds: float = 1.0,
              max_in_flight: int | None = None, max_retries: int = 3,
              batch_size: int | None = None, flush_seconds: float = 10.0,
              flush_rows: int = 200_000, console: Any = None) -> SweepResult:
    """Run (the missing runs of) an experiment into ``out_dir``; return session statistics.

    ``backend``: ``dask`` (default: a LocalCluster with ``workers`` single-threaded workers, or
    ``scheduler=`` address/scheduler file, or ``cluster='slurm'|...`` via dask-jobqueue, or a
    ``client=``), ``processes``, ``serial``, or ``executor`` (any concurrent.futures executor).
    ``shard=(i, n)`` or ``"i/n"``: only the i-th of n contiguous slices of the runs (job arrays);
    shards write into the same folder. ``progress``: a rich progress bar (True), none (False), or
    a callable ``(done, total, failed)``. ``run_fn``: the model (default
    ``gzsim.model.simulate_one``), any picklable ``(scenario, root_seed, replication) -> dict``.
    Results are committed every ``flush_seconds`` (or ``flush_rows`` series rows), so the
    driver's memory stays bounded and a killed driver loses at most that much work.
    """
    t0 = time.perf_counter()
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    shard_t = parse_shard(shard)
    out = Path(out_dir) if out_dir is not None else Path("results") / exp.name
    store = SweepStore(out)
    _claim(out, overwrite)
    try:
        store.lock(shared=shard_t is not None)
    except OSError as e:
        raise StoreError(os_message(e, out)) from None
    session = new_session_id(shard_t)
    try:
        with store.init_lock():
            design = _prepare(store, exp, run_fn, resume, overwrite, shard_t is not None)
            store.remove_orphans(any_age=shard_t is None)
        reps = exp.replications
        n_runs = design.n_points * reps
        lo, hi = shard_range(n_runs, shard_t)
        done = store.done_run_ids()
        done_in_scope = done[(done >= lo) & (done < hi)]
        todo = np.setdiff1d(np.arange(lo, hi, dtype=np.int64), done_in_scope,
                            assume_unique=True)
        spec = exp.spec.outcomes
        job = Job(root_seed=exp.root_seed, run_fn=run_fn, base_data=exp.base_data,
                  series=tuple(spec.series) if isinstance(spec.series, list) else spec.series,
                  scalars=tuple(spec.scalars))
        writer = PartWriter(store, session, design.points, exp.root_seed,
                            [s.name for s in spec.scalars], flush_seconds=flush_seconds,
                            flush_rows=flush_rows)
        xstats = ExecStats()
        per_worker: Counter[str] = Counter()
        n_done = n_failed = 0
        compute_s = 0.0
        error: BaseException | None = None
        label = f"{exp.name}" + (f" shard {shard_t[0]}/{shard_t[1]}" if shard_t else "")
        try:
            with _progress(progress, label, hi - lo, len(done_in_scope), console) as update:
                if len(todo):
                    outputs = contextlib.closing(execute(
                        job, _Runs(todo, reps), design.overrides, backend=backend,
                        workers=workers, scheduler=scheduler, cluster=cluster, client=client,
                        executor=executor, target_task_seconds=target_task_seconds,
                        max_in_flight=max_in_flight, max_retries=max_retries,
                        batch_size=batch_size, stats=xstats))
                    with outputs as it:
                        for outp in it:
                            writer.add(outp)
                            for r in outp.records:
                                per_worker[r["worker"] or "(lost)"] += 1
                                if r["status"] != OK:
                                    n_failed += 1
                                if r["wall_time_s"] == r["wall_time_s"]:
                                    compute_s += r["wall_time_s"]
                            n_done += len(outp.records)
                            update(n_done, n_failed)
        except BaseException as e:
            error = e
            raise
        finally:
            try:
                writer.flush()
            finally:
                wall = time.perf_counter() - t0
                stats = {
                    "session": session, "experiment": exp.name, "out": str(out),
                    "shard": list(shard_t) if shard_t else None,
                    **xstats.as_dict(),
                    "runs_total": n_runs, "runs_in_scope": hi - lo,
                    "runs_done_before": int(len(done_in_scope)),
                    "runs_this_session": n_done, "failed_this_session": n_failed,
                    "wall_time_s": round(wall, 3), "compute_time_s": round(compute_s, 3),
                    "time_per_run_s": round(compute_s / n_done, 6) if n_done else None,
                    "runs_per_s": round(n_done / wall, 3) if wall > 0 else None,
                    "runs_per_worker": dict(sorted(per_worker.items())),
                    "interrupted": error is not None,
                    "error": f"{type(error).__name__}: {error}" if error is not None else None,
                }
                with contextlib.suppress(Exception):
                    store.write_session(session, stats)
                if error is None or isinstance(error, (KeyboardInterrupt, UserError)):
                    stats.update(_consolidate(store, design, exp))
    finally:
        store.unlock()
    return SweepResult(out, stats)


def _consolidate(store: SweepStore, design: Design, exp: Experiment) -> dict[str, int]:
    """Rewrite ``runs.parquet`` from the committed parts: every planned run, with its status.

    Works on Arrow tables (compact strings), so it stays cheap for very large sweeps.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tables = [t for t in (pq.read_table(p) for p in store.committed().values()) if t.num_rows]
    n = design.n_points * exp.replications
    done_ids = np.unique(np.concatenate([t.column("run_id").to_numpy() for t in tables])) \
        if tables else np.empty(0, np.int64)
    missing = np.setdiff1d(np.arange(n, dtype=np.int64), done_ids, assume_unique=True)
    pend = pa.Table.from_pandas(pending_frame(missing, design.points, exp.replications,
                                              exp.root_seed,
                                              [s.name for s in exp.spec.outcomes.scalars]),
                                preserve_index=False)
    if tables:
        done = pa.concat_tables(tables, promote_options="permissive")
        table = pa.concat_tables([done, pend.select(done.column_names)],
                                 promote_options="permissive")
    else:
        table = pend
    table = table.sort_by("run_id")
    write_parquet_table(table, store.runs_path)
    counts = {d["values"]: d["counts"] for d in pc.value_counts(table["status"]).to_pylist()}
    return {"runs_ok_total": int(counts.get(OK, 0)),
            "runs_failed_total": int(counts.get(FAILED, 0)),
            "runs_pending_total": int(counts.get(PENDING, 0))}


def print_stats(result: SweepResult, console: Any = None) -> None:
    """Final statistics of a sweep session: runs, failures, wall time, time per run, workers."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    s = result.stats
    t = Table(title=f"sweep '{s.get('experiment')}' -> {result.path}", show_header=False)
    t.add_column("", style="bold")
    t.add_column("")
    if s.get("backend"):  # a resumed sweep with nothing left to run started no backend
        t.add_row("backend", f"{s['backend']}: {s.get('cluster') or ''}".rstrip(": "))
    if s.get("shard"):
        t.add_row("shard", f"{s['shard'][0]}/{s['shard'][1]} ({s['runs_in_scope']} runs)")
    t.add_row("runs", f"{s.get('runs_this_session')} this session, "
              f"{s.get('runs_done_before')} done before, {s.get('runs_total')} in the design")
    fails = s.get("failed_this_session", 0)
    t.add_row("failures", f"[red]{fails}[/red] this session" if fails else "0 this session")
    if "runs_ok_total" in s:
        t.add_row("all sessions", f"{s['runs_ok_total']} ok, {s['runs_failed_total']} failed, "
                  f"{s['runs_pending_total']} pending")
    t.add_row("wall time", f"{s.get('wall_time_s', 0):.2f} s")
    if s.get("time_per_run_s") is not None:
        t.add_row("time per run", f"{s['time_per_run_s'] * 1000:.1f} ms "
                  f"({s.get('runs_per_s')} runs/s overall)")
    t.add_row("tasks", f"{s.get('tasks')} (mean {s.get('mean_batch_runs')} runs/task), "
              f"{s.get('retries')} retried")
    per = s.get("runs_per_worker") or {}
    if per:
        t.add_row("runs per worker", ", ".join(f"{k}: {v}" for k, v in per.items()))
    console.print(t)
    if fails:
        console.print(f"[red]{fails} run(s) failed[/red]; see read_sweep('{result.path}')"
                      ".failures (status, error, traceback in runs.parquet)")


def sweep_command_impl(experiment_path: str | Path, out: str | Path | None = None,
                       workers: int | None = None, scheduler: str | None = None,
                       cluster: str | None = None, shard: str | None = None,
                       resume: bool = False, overwrite: bool = False, quiet: bool = False,
                       backend: str | None = None, console: Any = None) -> SweepResult:
    """What ``gzsim sweep EXPERIMENT.yaml [...]`` does; raises UserError subclasses.

    Backend: Dask (``--scheduler``/``--cluster``, else a LocalCluster of ``--workers``); with
    ``--shard i/n`` and no scheduler, local processes (or this process if one worker). Rerunning
    into the same folder always resumes (``--resume`` says so explicitly).
    """
    from rich.console import Console

    console = console or Console()
    shard_t = parse_shard(shard)
    exp = experiment_path if isinstance(experiment_path, Experiment) \
        else load_experiment(experiment_path)
    if backend is None:
        if scheduler or cluster:
            backend = "dask"
        elif shard_t is not None:
            backend = "serial" if (workers or cpu_count()) <= 1 else "processes"
        else:
            backend = "dask"
    out_path = Path(out) if out is not None else Path("results") / exp.name
    if resume and not (out_path / "manifest.json").exists():
        console.print(f"--resume: {out_path} holds no sweep yet; starting it")
    result = run_sweep(exp, out_path, backend=backend, workers=workers, scheduler=scheduler,
                       cluster=cluster, shard=shard_t, resume=True, overwrite=overwrite,
                       progress=not quiet)
    if not quiet:
        print_stats(result, console)
    console.print(f"Results in {out_path}/ (runs.parquet, series/*.parquet, manifest.json); "
                  f"read them with gzsim.read_sweep('{out_path}')")
    return result


# --- replications of one scenario (gzsim run / gzsim.simulate) ---------------------------------

class ReplicationOutput(NamedTuple):
    replication: int
    arrays: dict[str, np.ndarray] | None
    error: str | None  # one-line message, then the traceback
    wall_time_s: float


def run_replications(scenario: Scenario, replications: int, root_seed: int, *,
                     workers: int = 1, backend: str | None = None, run_fn: RunFn | None = None,
                     progress: Callable[[int, int], None] | None = None, **execute_kwargs: Any
                     ) -> Iterator[ReplicationOutput]:
    """Replications ``0..replications-1`` of one scenario through the sweep execution layer.

    A run is a sweep of one point: same batching, retries and failure capture. Yields one
    :class:`ReplicationOutput` per replication as they complete (any order). ``backend``
    defaults to ``serial`` for one worker, ``processes`` otherwise; ``dask`` works too.
    """
    backend = backend or ("serial" if workers <= 1 else "processes")
    job = Job(root_seed=int(root_seed), run_fn=run_fn, base_scenario=scenario, raw=True)
    runs = [(k, 0, k) for k in range(int(replications))]
    done = 0
    for out in execute(job, runs, lambda p: {}, backend=backend, workers=workers,
                       **execute_kwargs):
        for rec in out.records:
            s = out.series.get(rec["run_id"])
            err = rec["error"]
            if err is not None and rec.get("traceback"):
                err = f"{err}\n{rec['traceback']}"
            yield ReplicationOutput(int(rec["replication"]), s.arrays if s else None, err,
                                    float(rec["wall_time_s"]))
        done += len(out.records)
        if progress is not None:
            progress(done, int(replications))


__all__ = ["ReplicationOutput", "Sweep", "SweepResult", "parse_shard", "print_stats",
           "read_sweep", "run_replications", "run_sweep", "sweep_command_impl"]
