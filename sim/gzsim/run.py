"""Replications of one scenario as a :class:`Result`: the Python API behind `gzsim run`."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from gzsim import discrepancy
from gzsim.arguments import check_replications, check_seed, check_workers
from gzsim.errors import AllRunsFailed, UserError
from gzsim.execution import ExecutionOptions, resolve_workers, run_replications
from gzsim.execution.failfast import STOP_AFTER, all_failed, check_main_guard, first_line
from gzsim.execution.loop import ReplicationOutput
from gzsim.execution.tasks import RunFn
from gzsim.io.fileio import library_versions
from gzsim.io.provenance import describe
from gzsim.model import EVENTS_KEY, ModelRun, month_dates
from gzsim.results import Grid, Result
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
    """
    assumptions = fields.pop("assumptions", None)
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
    errors = [o[2] for o in outputs.values()]
    same = len({first_line(e) for e in errors}) == 1
    if len(outputs) == n or (len(outputs) >= min(n, STOP_AFTER) and same):
        failures = [{"replication": k, "error": outputs[k][2]} for k in sorted(outputs)]
        raise all_failed(name, failures, n, len(outputs) < n)
    return False



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
    manifest = {
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
    failed = None
    if failures:
        # start-up: pandas loads only when needed (the run path avoids it, issue 13)
        import pandas as pd  # only when something failed: a fresh run needs no pandas

        failed = pd.DataFrame(failures)
    return Result(grid=grid, manifest=manifest, failures=failed,
                  events=event_table(logs, dates) if logs else None)


def event_table(logs: list, dates: np.ndarray):
    """The replications' event logs as one frame: replication, time, date, then the rest."""
    import pandas as pd  # start-up: `gzsim run` without --events imports no pandas

    frame = pd.concat([log.assign(replication=k) for k, log in logs], ignore_index=True)
    month = np.clip(frame["time"].to_numpy().astype(int), 0, len(dates) - 1)
    frame.insert(0, "replication", frame.pop("replication").astype(np.int64))
    frame.insert(2, "date", dates[month])
    for c in ("kind", "event", "sector", "type"):  # categories that differ across replications
        frame[c] = frame[c].astype("category")
    return frame
