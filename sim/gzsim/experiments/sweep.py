"""Sweeps: run what is not done of an experiment's design into its store (:func:`run_sweep`).

A run is ``(point, replication)`` with ``run_id = point * replications + replication``; it uses
the root seed and its replication index only (common random numbers across points). Rerunning
into the same folder computes only what is not done (resume).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import sys
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn

from gzsim.errors import UserError
from gzsim.execution import ExecutionOptions, batch_size, execute, resolve_workers
from gzsim.execution.tasks import OK, Batch, Job, RunFn
from gzsim.experiments.design import Design, make_design
from gzsim.experiments.reader import Sweep
from gzsim.experiments.spec import Experiment, load_experiment
from gzsim.experiments.store import FORMAT, StoreError, SweepStore, code_fingerprint, encode_part
from gzsim.io.fileio import library_versions
from gzsim.io.outdir import OutputError, check_target, os_message, write_marker
from gzsim.scenario.loader import check_design_points

MAX_CHECKED_POINTS = 5_000  # design points validated before a sweep starts (~1.5 ms each)
SEED_SCHEME = ("numpy SeedSequence(entropy=root_seed, spawn_key=(replication,)); per-process "
               "streams add crc32(stream name) to the spawn key. The same replication index "
               "gets the same random numbers at every design point (common random numbers).")


def callable_name(fn: Any) -> str:
    """A readable name of the model callable (stable across processes), for the manifest."""
    if isinstance(fn, functools.partial):
        args = [repr(a) for a in fn.args] + [f"{k}={v!r}" for k, v in sorted(fn.keywords.items())]
        return f"partial({', '.join([callable_name(fn.func), *args])})"
    return "gzsim.model.simulate_one" if fn is None else \
        f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"i/n"`` (0-based: 0 <= i < n) -> ``(i, n)``."""
    if text is None:
        return None
    try:
        i, n = text if isinstance(text, tuple) else (int(x) for x in str(text).split("/"))
    except ValueError:
        raise UserError(f"--shard must look like i/n (0-based, e.g. 0/4 ... 3/4), got "
                        f"'{text}'") from None
    if not (n >= 1 and 0 <= i < n):
        raise UserError(f"--shard: need 0 <= i < n (0-based), got '{i}/{n}'")
    return i, n


def shard_range(n: int, shard: tuple[int, int] | None) -> tuple[int, int]:
    """The contiguous slice ``[lo, hi)`` of ``n`` items (a sweep's batches) that a shard does."""
    i, k = shard or (0, 1)
    return i * n // k, (i + 1) * n // k


@dataclass
class SweepResult:
    """What :func:`run_sweep` did (session statistics) and where the results are."""

    path: Path
    stats: dict[str, Any] = field(default_factory=dict)


def run_sweep(experiment: str | Path | Experiment, out_dir: str | Path | None = None,
              options: ExecutionOptions | None = None, *, run_fn: RunFn | None = None,
              shard: tuple[int, int] | str | None = None, overwrite: bool = False,
              **fields: Any) -> SweepResult:
    """Run what is not done yet of an experiment into ``out_dir``; return session statistics.

    ``options`` (or its fields as keywords) say how (:class:`~gzsim.execution.ExecutionOptions`;
    ``progress`` defaults to a bar, a callable gets ``(done, total, failed)``).
    ``shard=(i, n)`` or ``"i/n"``: only the i-th of n slices of the batches (job arrays);
    shards write into the same folder. ``run_fn``: the model (default
    ``gzsim.model.simulate_one``), any picklable ``(scenario, root_seed, replication) ->
    {indicator: array}``. Each batch is committed when it completes.
    """
    for legacy in ("resume", "flush_seconds", "flush_rows", "target_task_seconds",
                   "max_in_flight"):  # always resumes; batches are fixed and committed at once
        fields.pop(legacy, None)
    if options is None:
        fields.setdefault("progress", True)
    opts = ExecutionOptions.of(options, **fields)
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    shard_t = parse_shard(shard)
    store = SweepStore(Path(out_dir) if out_dir is not None else Path("results") / exp.name)
    try:  # the results-folder contract (gzsim.io.outdir): a new, empty or sweep folder
        check_target(store.root, "sweep", overwrite=overwrite)
        store.lock(shard_t)
    except OutputError as e:
        raise StoreError(str(e)) from None
    except OSError as e:
        raise StoreError(os_message(e, store.root)) from None
    try:
        if overwrite:
            if shard_t is not None:
                raise StoreError("--overwrite cannot be combined with --shard (other shards may "
                                 "be writing into the folder)")
            store.wipe()
        return _session(exp, store, opts, run_fn, shard_t)
    finally:
        store.unlock()


def _check_points(exp: Experiment, design: Design) -> None:
    """Refuse the first design point whose scenario is invalid, before anything runs.

    Above MAX_CHECKED_POINTS points: each factor's extremes and an even spread of points.
    """
    n, idx = design.n_points, np.arange(design.n_points)
    if n > MAX_CHECKED_POINTS:
        ext = [int(f(design.points[fac.name].to_numpy())) for fac in design.factors
               for f in (np.argmin, np.argmax)]
        idx = np.unique(np.r_[ext, np.linspace(0, n - 1, MAX_CHECKED_POINTS).astype(int)])
    check_design_points(exp.base_data, ((int(i), design.overrides(int(i))) for i in idx))


def _manifest(exp: Experiment, design: Design, run_fn: RunFn | None, size: int) -> dict:
    text = None
    if exp.file is not None:
        with contextlib.suppress(OSError):
            text = Path(exp.file).read_text(encoding="utf-8")
    model = callable_name(run_fn)
    return {
        "format": FORMAT,
        "fingerprint": hashlib.sha256(f"{exp.fingerprint()}|{model}".encode()).hexdigest(),
        "code": code_fingerprint(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "experiment": exp.resolved(), "experiment_yaml": text, "model": model,
        "design": design.describe(),
        "runs": {"n_points": design.n_points, "replications": exp.replications,
                 "n_runs": design.n_points * exp.replications,
                 "run_id": "point * replications + replication", "batch_size": size},
        "seeds": {"root_seed": exp.root_seed, "design_seed": exp.design_seed,
                  "scheme": SEED_SCHEME},
        "outcomes": exp.spec.outcomes.model_dump(mode="json"),
        "versions": library_versions(("pyarrow", "pydantic", "SALib", "dask", "distributed",
                                      "dask-jobqueue", "xarray")),
    }


def _batches(design: Design, reps: int, size: int, todo: list[int]) -> Iterator[Batch]:
    """The grid batches starting at ``todo`` (lazily: the driver's memory stays flat)."""
    n = design.n_points * reps
    for lo in todo:
        hi = min(lo + size, n)
        points = range(lo // reps, (hi - 1) // reps + 1)
        yield Batch(list(range(lo, hi)), {p: design.overrides(p) for p in points}, lo, hi)


def _session(exp: Experiment, store: SweepStore, opts: ExecutionOptions, run_fn: RunFn | None,
             shard: tuple[int, int] | None) -> SweepResult:
    """One driver session: create or check the store, then compute the batches not done."""
    design = make_design(exp)
    if not store.manifest_path.exists():
        _check_points(exp, design)
    reps, n = exp.replications, design.n_points * exp.replications
    workers = 1 if opts.kind == "serial" else resolve_workers(opts.workers)
    man = store.create(_manifest(exp, design, run_fn, opts.batch_size or batch_size(n, workers)),
                       design.to_frame())
    write_marker(store.root, "sweep")
    size = int(man["runs"]["batch_size"])
    starts = list(range(0, n, size))
    starts = starts[slice(*shard_range(len(starts), shard))]
    scope = (starts[0], min(starts[-1] + size, n)) if starts else (0, 0)
    scan = store.scan()
    store.clean(scan, scope, exclusive=shard is None)
    outcomes = exp.spec.outcomes
    job = Job(root_seed=exp.root_seed, replications=reps, run_fn=run_fn,
              base_data=exp.base_data, token=man["fingerprint"], scalars=tuple(outcomes.scalars),
              series=tuple(outcomes.series) if isinstance(outcomes.series, list)
              else outcomes.series, factors=tuple((f.name, f.path) for f in exp.factors),
              encoder=encode_part)
    tag = "s{}of{}".format(*shard) if shard else "all"
    stats: dict[str, Any] = {
        "session": f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{tag}-{uuid.uuid4().hex[:8]}",
        "experiment": exp.name, "out": str(store.root), "shard": list(shard) if shard else None,
        "runs_total": n, "runs_in_scope": scope[1] - scope[0], "batch_size": size,
        "tasks": 0, "retries": 0, "lost_runs": 0,
        "runs_done_before": sum(scan.intact[lo] - lo for lo in starts
                                if lo in scan.intact and lo not in scan.retry)}
    todo = [lo for lo in starts if lo not in scan.intact or lo in scan.retry]
    stats["start"] = start = _start_message(store, stats, len(scan.damaged))
    print(f"gzsim: {start}", file=sys.stderr) if opts.progress is True else None
    label = exp.name + (" shard {}/{}".format(*shard) if shard else "")
    _drive(store, job, _batches(design, reps, size, todo) if todo else None, opts, stats,
           label)
    return SweepResult(store.root, stats)


def _start_message(store: SweepStore, stats: dict, damaged: int) -> str:
    """Whether this session resumes the folder or starts clean, said in one line."""
    before, scope = stats["runs_done_before"], stats["runs_in_scope"]
    return (f"resuming {store.root}: {before} of {scope} runs already done" if before else
            f"starting clean in {store.root}: {scope} runs to compute") + \
        (f" ({damaged} damaged batch file(s) to recompute)" if damaged else "")


@contextlib.contextmanager
def _progress(progress: Any, label: str, total: int, done0: int) -> Iterator[Any]:
    """Yields ``update(done_in_session, failed_in_session)``."""
    if callable(progress) or not progress:
        yield lambda done, failed: progress and progress(done0 + done, total, failed)
        return

    # refreshed on each update, no thread: the driver stays single-threaded (and can fork)
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), TimeElapsedColumn(),
                  auto_refresh=False) as prog:
        task = prog.add_task(label, total=total, completed=done0)
        yield lambda done, failed: prog.update(
            task, completed=done0 + done, refresh=True,
            description=f"{label} [red]{failed} failed[/red]" if failed else label)


def _drive(store: SweepStore, job: Job, batches: Iterator[Batch] | None, opts: ExecutionOptions,
           stats: dict, label: str) -> None:
    """Execute the batches, committing each as it completes; statistics into ``stats``."""
    t0 = time.perf_counter()
    per_worker: Counter[str] = Counter()
    n_done = n_failed = 0
    compute_s = 0.0
    try:
        with _progress(opts.progress, label, stats["runs_in_scope"],
                       stats["runs_done_before"]) as update:
            for part in execute(job, batches, opts, stats) if batches else ():  # none: no pool
                store.commit(part.lo, part.hi, part.runs, part.series)
                for r in part.results:
                    per_worker[r.worker or "(lost)"] += 1
                    n_failed += r.status != OK
                    compute_s += r.wall_time_s if r.wall_time_s == r.wall_time_s else 0.0
                n_done += len(part.results)
                update(n_done, n_failed)
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise StoreError(f"no space left on the device of {store.root} ({e.strerror}): the "
                         f"{n_done} runs committed in this session are safe. Free some space "
                         "and rerun the same command; it resumes where this one stopped") \
            from None
    finally:
        wall = time.perf_counter() - t0
        stats.update(runs_this_session=n_done, failed_this_session=n_failed,
                     wall_time_s=round(wall, 3), compute_time_s=round(compute_s, 3),
                     time_per_run_s=round(compute_s / n_done, 6) if n_done else None,
                     runs_per_s=round(n_done / wall, 3) if wall > 0 else None,
                     runs_per_worker=dict(sorted(per_worker.items())))
        with contextlib.suppress(Exception):  # statistics must not hide the real error
            store.write_session(stats["session"], stats)
            stats.update({f"runs_{s}_total": n for s, n in snapshot(store).items()})


def snapshot(store: SweepStore) -> dict[str, int]:
    """Rewrite ``runs.parquet`` (streamed: flat memory) from what the store holds now.

    Under a lock and from a fresh scan: of shard sessions finishing together, the last to
    write has seen every other's commits. Returns the status counts.
    """
    with store.snapshot_lock(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # damaged batches: said when the sweep is read
        return Sweep(store.root).write_runs(store.root / "runs.parquet")
