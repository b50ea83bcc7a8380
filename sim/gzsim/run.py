"""Replications of one scenario as a :class:`Result`: the Python API behind `gzsim run`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gzsim import discrepancy
from gzsim.aggregate import years_covered
from gzsim.arguments import check_replications, check_seed, check_workers
from gzsim.errors import AllRunsFailed, UserError
from gzsim.execution import ExecutionOptions, resolve_workers, run_replications
from gzsim.execution.failfast import STOP_AFTER, all_failed, check_main_guard, first_line
from gzsim.execution.loop import ReplicationOutput
from gzsim.execution.tasks import RunFn
from gzsim.io.eventfile import EventStream, event_table
from gzsim.io.fileio import library_versions
from gzsim.io.outdir import atomic_folder
from gzsim.io.provenance import describe
from gzsim.model import EVENTS_KEY, ModelRun, month_dates
from gzsim.results import Grid, Result, SeriesStream, write_extras
from gzsim.scenario.loader import check_scenario
from gzsim.scenario.schema import Scenario
from gzsim.uncertainty import plan_draws


def simulate(scenario: Scenario, replications: int | None = None, seed: int | None = None,
             options: ExecutionOptions | None = None, uncertainty: str | None = None, *,
             run_fn: RunFn | None = None, processes: Iterable[type] = (),
             events: bool = False, **fields: Any) -> Result:
    """Run ``replications`` of ``scenario`` from root ``seed``; results as a :class:`Result`.

    ``options`` (or its fields as keywords: ``workers=2``, ``progress=fn(done, total)``, ...)
    say how (:class:`~gzsim.execution.ExecutionOptions`); ``run_fn`` replaces the model (any
    picklable ``(scenario, root_seed, replication) -> arrays``, run without posterior draws);
    workers default to the CPUs (as on the command line), at most one per replication.
    Replication ``k`` uses ``SeedSequence(seed, spawn_key=(k,))``, whatever runs it: same seed,
    identical results. A replication that raises is recorded, not fatal; when every one fails
    (or the first few fail the same way) :class:`~gzsim.errors.AllRunsFailed` quotes the first
    error; its ``result`` holds the failures (``Result.save`` writes them).
    ``uncertainty``: ``posterior`` draws each replication's parameters from the
    scenario's posterior as well as its streams, ``noise`` keeps them fixed; the default is
    posterior when the scenario has one (:mod:`gzsim.uncertainty`). ``processes``: processes
    from outside the package to run with the model's (:class:`gzsim.model.process.Process`
    subclasses, registered with ``@register``). ``events``: keep each replication's entity
    event log (``Result.events``; off by default: it costs time and memory).
    ``assumptions=`` (a keyword, beside the execution fields): ``sampled`` also draws the
    scenario's assumed parameters from their ranges (:mod:`gzsim.assumptions`; what
    comparisons do), ``fixed`` (default) keeps them.
    ``out=`` (a keyword, too): stream the replications into this results folder, as
    :meth:`Result.save` writes it (`gzsim run` does): memory does not grow with
    ``replications``, event logs included; the Result reads its series and event log back
    from the folder on first use.
    """
    assumptions = fields.pop("assumptions", None)
    out = fields.pop("out", None)
    opts = ExecutionOptions.of(options, **fields)
    check_scenario(scenario)  # a Scenario (not a path), with its cross-field checks
    n = check_replications(scenario.run.replications if replications is None else replications,
                           scenario.time.n_months)
    root = check_seed(scenario.run.seed if seed is None else seed)
    workers = 1 if opts.backend == "serial" else check_workers(
        resolve_workers(opts.workers, n))
    opts = ExecutionOptions.of(opts, workers=workers)
    check_main_guard(workers)
    t0 = time.perf_counter()
    processes = tuple(processes)
    if run_fn is not None and (processes or events):
        raise UserError("simulate: give run_fn, or processes/events for the model, not both")
    plan = plan_draws(scenario, n, root, uncertainty, assumptions) if run_fn is None else None
    if plan is not None:
        run_fn = plan.run_fn(processes, events)
    elif processes or events:
        run_fn = ModelRun(processes, events)
    if out is not None:
        return stream(scenario, n, root, opts, run_fn, plan, Path(out), t0)
    try:
        outputs = collect(scenario, n, root, opts, run_fn)
    except AllRunsFailed as e:
        e.result.manifest["uncertainty"] = plan.manifest() if plan else {"mode": "noise"}
        raise
    manifest = plan.manifest() if plan else {"mode": "noise"}
    result = assemble(scenario, root, n, with_discrepancy(scenario, root, outputs, manifest),
                      time.perf_counter() - t0, workers)
    result.manifest["uncertainty"] = manifest
    return result


def with_discrepancy(scenario: Scenario, root: int, outputs: dict, manifest: dict) -> dict:
    """Posterior runs: each replication's arrays with the scenario's model discrepancy.

    (:mod:`gzsim.discrepancy`); recorded in the run's uncertainty ``manifest``.
    """
    described = discrepancy.describe(scenario)
    if manifest.get("mode") != "posterior" or described is None:
        return outputs
    manifest["discrepancy"] = described
    return {k: o._replace(arrays=discrepancy.apply(scenario, root, k, o.arrays))
            if o.error is None else o for k, o in outputs.items()}


def collect(scenario: Scenario, n: int, root: int, opts: ExecutionOptions,
            run_fn: RunFn | None) -> dict[int, ReplicationOutput]:
    """Every replication's output, or :class:`AllRunsFailed` with its failures as ``result``."""
    t0 = time.perf_counter()
    outputs: dict[int, ReplicationOutput] = {}
    runs = run_replications(scenario, n, root, opts, run_fn=run_fn)
    try:
        for out in runs:
            outputs[out.replication] = out
            stop_early(outputs, n, scenario.name)
    except AllRunsFailed as e:  # failures are data: the caller may save them
        e.result = assemble(scenario, root, n, outputs, time.perf_counter() - t0,
                            opts.workers or 1)
        raise
    finally:
        runs.close()
    return outputs


def stop_early(outputs: dict[int, ReplicationOutput], n: int, name: str) -> bool:
    """Raise when every replication failed, or the first few failed the same way."""
    if any(o[2] is None for o in outputs.values()):
        return False
    return check_failures({k: o[2] for k, o in outputs.items()}, n, name)


def check_failures(errors: dict[int, str], n: int, name: str) -> bool:
    """Raise :class:`AllRunsFailed` when every one of ``n`` replications failed, or the first few.

    ``errors``: the failures so far, no replication having succeeded yet; the first few
    (:data:`STOP_AFTER`) are enough when they failed the same way.
    """
    same = len({first_line(e) for e in errors.values()}) == 1
    if len(errors) == n or (len(errors) >= min(n, STOP_AFTER) and same):
        failures = [{"replication": k, "error": errors[k]} for k in sorted(errors)]
        raise all_failed(name, failures, n, len(errors) < n)
    return False


#: replications per row group of a streamed ``series.parquet`` (the driver holds this many)
STREAM_BATCH = 64


def stream(scenario: Scenario, n: int, root: int, opts: ExecutionOptions,
           run_fn: RunFn | None, plan: Any, out: Path, t0: float) -> Result:
    """:func:`simulate` into the results folder ``out``, streaming (see its ``out``).

    Series and event logs alike: each batch of :data:`STREAM_BATCH` replications becomes row
    groups of ``series.parquet`` and ``events.parquet``, then is dropped.
    """
    dates = month_dates(scenario)
    umanifest = plan.manifest() if plan else {"mode": "noise"}
    adjust = discrepancy_of(scenario, root, umanifest)
    failures: list[dict] = []
    summary: list[dict] = []
    with atomic_folder(out, "run") as tmp:
        with SeriesStream(tmp / "series.parquet", scenario.name, dates,
                          milestone_years(scenario, dates)) as series, \
                EventStream(tmp / "events.parquet", dates) as events:
            try:
                for batch in in_order(run_replications(scenario, n, root, opts, run_fn=run_fn),
                                      failures, scenario.name, n):
                    grid, logs = grid_of(batch, dates, adjust)
                    series.add(grid)
                    events.add(logs)
                    del batch, grid, logs  # gone before the next batch gathers
            except AllRunsFailed as e:  # failures are data: the folder records them
                error = e
            else:
                error, summary = None, series.summary()
        manifest = run_manifest(scenario, root, n, failures, time.perf_counter() - t0,
                                opts.workers or 1)
        manifest["uncertainty"] = umanifest
        result = Result(manifest=manifest, folder=out, summary=summary,
                        failures=failure_frame(failures))
        write_extras(result, tmp, summary)
    if events.written:  # read back from the folder on first use of ``result.events``
        result.events = out / "events.parquet"
    if error is not None:
        error.result = result
        raise error
    return result


def in_order(runs: Iterator[ReplicationOutput], failures: list[dict], name: str,
             n: int) -> Iterator[list[ReplicationOutput]]:
    """Successful replications in replication order, :data:`STREAM_BATCH` at a time.

    Completed ones wait for those before them (a window of the batches in flight); failed ones
    go to ``failures``; :class:`AllRunsFailed` as :func:`simulate` raises it.
    """
    waiting: dict[int, ReplicationOutput] = {}
    ready: list[ReplicationOutput] = []
    errors: dict[int, str] = {}
    ok, nxt = 0, 0
    try:
        for o in runs:
            waiting[o.replication] = o
            if o.error is not None:
                errors[o.replication] = o.error
            else:
                ok += 1
            if not ok:
                check_failures(errors, n, name)
            while nxt in waiting:
                o = waiting.pop(nxt)
                nxt += 1
                if o.error is None:
                    ready.append(o)
                else:
                    failures.append({"replication": o.replication, "error": o.error})
                if len(ready) >= STREAM_BATCH:
                    yield ready
                    ready = []
    except AllRunsFailed:
        failures[:] = [{"replication": k, "error": errors[k]} for k in sorted(errors)]
        raise
    finally:
        runs.close()
    if ready:
        yield ready


def grid_of(batch: list[ReplicationOutput], dates: np.ndarray,
            adjust) -> tuple[Grid, list[tuple[int, Any]]]:
    """A :class:`Grid` of consecutive replications, and their event logs (replication, log)."""
    arrays, logs = [], []
    for o in batch:
        a = adjust(o.replication, o.arrays) if adjust else o.arrays
        if EVENTS_KEY in a:
            a = dict(a)
            logs.append((o.replication, a.pop(EVENTS_KEY)))
        arrays.append(a)
    return Grid(np.array([o.replication for o in batch], dtype=np.int64), dates,
                {name: np.array([a[name] for a in arrays], dtype=float)
                 for name in arrays[0]}), logs


def discrepancy_of(scenario: Scenario, root: int, manifest: dict):
    """``fn(replication, arrays)`` adding the model discrepancy of a posterior run, or None.

    (as :func:`with_discrepancy`; recorded in the run's uncertainty ``manifest``)
    """
    described = discrepancy.describe(scenario)
    if manifest.get("mode") != "posterior" or described is None:
        return None
    manifest["discrepancy"] = described
    return lambda k, arrays: discrepancy.apply(scenario, root, k, arrays)


def milestone_years(scenario: Scenario, dates: np.ndarray) -> list[int]:
    """The years a run's summary reports (as :attr:`Result.milestone_years`)."""
    years = scenario.time.milestone_years
    if years is not None:
        return list(years)
    start = str(dates[0].astype("datetime64[M]")) if len(dates) else "2000-01"
    return years_covered(start, len(dates))


def assemble(scenario: Scenario, root: int, n: int, outputs: dict, wall_s: float,
             workers: int) -> Result:
    """Collect replication outputs into a :class:`Result` with its manifest."""
    dates = month_dates(scenario)
    done, failures, logs = [], [], []
    for k in sorted(outputs):
        _, arrays, err, _dt = outputs[k]  # a ReplicationOutput
        if err is not None:
            failures.append({"replication": k, "error": err})
        else:
            if EVENTS_KEY in arrays:
                arrays = dict(arrays)
                logs.append((k, arrays.pop(EVENTS_KEY)))
            done.append((k, arrays))
    names = list(done[0][1]) if done else []
    grid = Grid(np.array([k for k, _ in done], dtype=np.int64), dates,
                {name: np.array([a[name] for _, a in done], dtype=float) for name in names})
    return Result(grid=grid, manifest=run_manifest(scenario, root, n, failures, wall_s, workers),
                  failures=failure_frame(failures),
                  events=event_table(logs, dates) if logs else None)


def run_manifest(scenario: Scenario, root: int, n: int, failures: list[dict], wall_s: float,
                 workers: int) -> dict:
    """A run's manifest: resolved scenario, seeds, versions, wall time, failed replications."""
    return {
        "scenario": scenario.model_dump(mode="json"),
        "root_seed": root,
        "replications": n,
        "seeds": [{"replication": k, "entropy": root, "spawn_key": [k]} for k in range(n)],
        "seed_scheme": "numpy SeedSequence(entropy=root_seed, spawn_key=(replication,)); "
                       "per-process streams add crc32(stream name) to the spawn key",
        "versions": library_versions(),
        "wall_time_s": round(wall_s, 3),
        "workers": workers,
        "failed_replications": [f["replication"] for f in failures],
        "provenance": describe(scenario),
    }


def failure_frame(failures: list[dict]):
    """The failed replications as a frame (None when none failed)."""
    if not failures:
        return None
    # start-up: pandas loads only when needed (the run path avoids it, issue 13)
    import pandas as pd  # only when something failed: a fresh run needs no pandas

    return pd.DataFrame(failures)
