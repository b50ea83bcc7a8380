"""One execution layer for every run gzsim does: serially, on local processes, on Dask.

:func:`execute` takes a job (model, base scenario, outcomes) and the runs to do, batches the
runs into tasks of about ``target_task_seconds`` of work (sized from measured run times), keeps a
bounded window of tasks in flight, retries tasks lost to infrastructure (a worker process that
died, a lost connection), and yields each batch's output as it completes. Model exceptions never
reach this layer: :func:`gzsim.experiments.tasks.run_batch` records them per run.

Backends
--------
``serial``     in this process (no pickling; what ``--shard`` with one worker uses)
``processes``  a ``concurrent.futures.ProcessPoolExecutor`` (rebuilt if a worker process dies)
``executor``   any ``concurrent.futures.Executor`` you pass (``executor=``)
``dask``       Dask distributed: a ``LocalCluster`` sized to the machine (one thread per worker:
               SimPy holds the GIL), an existing scheduler (``scheduler=`` address or scheduler
               file), a dask-jobqueue cluster (``cluster='slurm'|'pbs'|'sge'|'lsf'``, configured
               the dask-jobqueue way: ``~/.config/dask/jobqueue.yaml`` or ``DASK_JOBQUEUE__*``),
               or a ``distributed.Client`` you pass (``client=``).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import math
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gzsim.errors import UserError
from gzsim.experiments.tasks import FAILED, Batch, BatchOutput, Job, RunKey, run_batch

log = logging.getLogger(__name__)

BACKENDS = ("serial", "processes", "executor", "dask")
JOBQUEUE_CLUSTERS = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster",
                     "lsf": "LSFCluster", "htcondor": "HTCondorCluster", "oar": "OARCluster",
                     "moab": "MoabCluster"}


class ExecutionError(UserError):
    """The execution backend could not be used (bad address, missing package, broken task)."""


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass
class ExecStats:
    """What the execution layer did: tasks, retries, worker slots, where runs ran."""

    backend: str = ""
    description: str = ""
    slots: int = 1
    tasks: int = 0
    retries: int = 0
    splits: int = 0
    lost_runs: int = 0  # runs recorded as failed because their worker kept dying
    submitted_runs: int = 0
    max_batch_runs: int = 0

    def submitted(self, batch: Batch) -> None:
        self.tasks += 1
        self.submitted_runs += len(batch)
        self.max_batch_runs = max(self.max_batch_runs, len(batch))

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "cluster": self.description, "slots": self.slots,
                "tasks": self.tasks, "retries": self.retries, "splits": self.splits,
                "lost_runs": self.lost_runs,
                "mean_batch_runs": round(self.submitted_runs / self.tasks, 2) if self.tasks
                else 0, "max_batch_runs": self.max_batch_runs}


class Batcher:
    """Cuts the ordered list of runs into batches of about ``target_s`` seconds of work.

    The first batches (one per slot) hold a single run each to measure the run time; after
    that a batch holds ``target_s / mean run time`` runs, capped so that the tail still spreads
    over every slot. Batches keep runs of a point together (each is validated once).
    """

    def __init__(self, runs: Sequence[RunKey], overrides_of: Callable[[int], Mapping[str, Any]],
                 target_s: float, slots: int, max_runs: int = 5000,
                 fixed_size: int | None = None):
        self._runs = runs
        self._next = 0
        self._overrides_of = overrides_of
        self.target_s = target_s
        self.slots = max(1, slots)
        self.max_runs = max_runs
        self.fixed_size = fixed_size
        self._seconds = 0.0
        self._measured = 0

    @property
    def remaining(self) -> int:
        return len(self._runs) - self._next

    def observe(self, out: BatchOutput) -> None:
        self._seconds += sum(r["wall_time_s"] for r in out.records)
        self._measured += len(out.records)

    def size(self) -> int:
        if self.fixed_size:
            return self.fixed_size
        if self._measured == 0:  # probe: one run per task until a run time is known
            return 1
        per_run = max(self._seconds / self._measured, 1e-6)
        n = max(1, int(self.target_s / per_run))
        tail = math.ceil(self.remaining / (2 * self.slots))
        return max(1, min(n, self.max_runs, tail))

    def next(self) -> Batch | None:
        if self._next >= len(self._runs):
            return None
        n = self.size()
        runs = list(self._runs[self._next:self._next + n])
        self._next += len(runs)
        points = {r[1] for r in runs}
        return Batch(runs, {p: dict(self._overrides_of(p)) for p in points})


_TRANSIENT_NAMES = {"KilledWorker", "CommClosedError", "CommError", "StreamClosedError",
                    "FutureCancelledError", "CancelledError", "FutureLostError"}


def is_transient(exc: BaseException) -> bool:
    """Errors that come from infrastructure (worker death, network), not from the task."""
    if isinstance(exc, (cf.CancelledError, TimeoutError, OSError, EOFError,
                        cf.process.BrokenProcessPool)):
        return True
    return any(t.__name__ in _TRANSIENT_NAMES for t in type(exc).__mro__)


def _lost(batch: Batch, exc: BaseException, attempts: int) -> BatchOutput:
    """Records for the runs of a batch whose worker died every time it ran them."""
    msg = (f"worker lost while running this run ({attempts} attempts): "
           f"{type(exc).__name__}: {exc}")
    recs = [{"run_id": r, "point": p, "replication": k, "status": FAILED, "error": msg,
             "traceback": None, "wall_time_s": float("nan"), "worker": ""}
            for r, p, k in batch.runs]
    return BatchOutput(recs)


class _Retrier:
    """Decides what to do with a task lost to infrastructure: resubmit, split, give up."""

    def __init__(self, stats: ExecStats, max_retries: int):
        self.stats = stats
        self.max_retries = max_retries

    def handle(self, batch: Batch, exc: BaseException) -> tuple[list[Batch], BatchOutput | None]:
        batch.attempt += 1
        self.stats.retries += 1
        if batch.attempt <= self.max_retries:
            log.warning("task of %d run(s) lost (%s: %s); retry %d/%d", len(batch),
                        type(exc).__name__, exc, batch.attempt, self.max_retries)
            return [batch], None
        if len(batch) > 1:  # isolate the run that kills its worker
            self.stats.splits += 1
            parts = batch.split()
            for p in parts:
                p.attempt = 0
            return parts, None
        self.stats.lost_runs += 1
        return [], _lost(batch, exc, batch.attempt)


# --- backends -----------------------------------------------------------------------------------

def _serial(job: Job, batcher: Batcher, stats: ExecStats) -> Iterator[BatchOutput]:
    stats.slots = 1
    while (b := batcher.next()) is not None:
        stats.submitted(b)
        out = run_batch(job, b)
        batcher.observe(out)
        yield out


def _mp_context() -> multiprocessing.context.BaseContext:
    # forkserver: no fork of a multi-threaded driver (progress bar, Dask), cheap workers.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["gzsim.experiments.tasks", "gzsim.model"])
        return ctx
    return multiprocessing.get_context("spawn")


def _executor_loop(job: Job, batcher: Batcher, stats: ExecStats, make_pool: Callable[[], Any],
                   window: int, retrier: _Retrier, rebuild: bool) -> Iterator[BatchOutput]:
    """Bounded window of tasks on a concurrent.futures executor.

    A process pool that breaks (a worker process died) fails every task in flight, without
    saying whose worker died. Those tasks become *suspects* and are rerun one at a time, alone
    on a fresh pool: a suspect that completes was innocent; one that breaks the pool alone is
    the culprit, and is retried, split, and finally recorded as failed run by run.
    """
    pool = make_pool()
    pending: dict[cf.Future, Batch] = {}
    queue: deque[Batch] = deque()  # to resubmit (transient errors)
    suspects: deque[Batch] = deque()  # in flight when a pool broke: rerun alone
    try:
        while True:
            if suspects:
                if not pending:
                    b = suspects.popleft()
                    stats.submitted(b)
                    pending[pool.submit(run_batch, job, b)] = b
            else:
                while len(pending) < window:
                    b = queue.popleft() if queue else batcher.next()
                    if b is None:
                        break
                    stats.submitted(b)
                    pending[pool.submit(run_batch, job, b)] = b
            if not pending:
                return
            alone = len(pending) == 1
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            broken: BaseException | None = None
            for f in done:
                b = pending.pop(f)
                exc = f.exception()
                if exc is None:
                    out = f.result()
                    batcher.observe(out)
                    yield out
                    continue
                if not is_transient(exc):
                    raise ExecutionError(f"a task failed outside the model ({type(exc).__name__}"
                                         f": {exc}); results so far are kept") from exc
                if isinstance(exc, cf.process.BrokenProcessPool):
                    broken = exc
                    if not alone:  # blame unknown: rerun alone
                        stats.retries += 1
                        suspects.append(b)
                        continue
                    again, lost = retrier.handle(b, exc)
                    suspects.extendleft(reversed(again))  # keep isolating it
                else:
                    again, lost = retrier.handle(b, exc)
                    queue.extend(again)
                if lost is not None:
                    yield lost
            if broken is not None:
                if not rebuild:
                    raise ExecutionError(f"the executor broke ({broken}); results so far are "
                                         "kept") from broken
                # every task still pending on the broken pool is lost with it
                stats.retries += len(pending)
                suspects.extend(pending.values())
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = make_pool()
    finally:
        for f in pending:
            f.cancel()
        if rebuild:
            pool.shutdown(wait=True, cancel_futures=True)


def _dask_loop(job: Job, batcher: Batcher, stats: ExecStats, client: Any, window: int | None,
               retrier: _Retrier) -> Iterator[BatchOutput]:
    from distributed import as_completed

    def slots() -> int:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # pragma: no cover - scheduler briefly unreachable
            return stats.slots

    stats.slots = slots()
    batcher.slots = stats.slots
    last_check = time.monotonic()
    ac = as_completed()
    pending: dict[str, tuple[Any, Batch]] = {}
    queue: deque[Batch] = deque()

    def fill() -> None:
        limit = window or max(4, 2 * stats.slots)
        while len(pending) < limit:
            b = queue.popleft() if queue else batcher.next()
            if b is None:
                return
            stats.submitted(b)
            fut = client.submit(run_batch, job, b, pure=False)
            pending[fut.key] = (fut, b)
            ac.add(fut)

    try:
        fill()
        for fut in ac:
            _, b = pending.pop(fut.key)
            if fut.status == "finished":
                out = fut.result()
                fut.release()
                batcher.observe(out)
                yield out
            else:
                try:
                    exc = fut.exception()
                except BaseException as e:  # cancelled futures raise instead of returning
                    exc = e
                fut.release()
                if not is_transient(exc):
                    raise ExecutionError(f"a task failed outside the model ({type(exc).__name__}"
                                         f": {exc}); results so far are kept") from exc
                again, lost = retrier.handle(b, exc)
                queue.extend(again)
                if lost is not None:
                    yield lost
            if time.monotonic() - last_check > 2.0:  # workers come and go (adaptive clusters)
                stats.slots = slots()
                batcher.slots = stats.slots
                last_check = time.monotonic()
            fill()
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for f, _ in pending.values()])


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                cluster: str | None = None) -> Iterator[tuple[Any, str]]:
    """A ``distributed.Client``: local cluster, existing scheduler, or dask-jobqueue cluster.

    Yields ``(client, description)``; closes what it created.
    """
    try:
        import distributed
    except ImportError:
        raise ExecutionError("the Dask backend needs dask and distributed: "
                             "pip install 'gzsim[cluster]'") from None
    if scheduler and cluster:
        raise ExecutionError("give either --scheduler or --cluster, not both")
    if scheduler:
        is_file = scheduler.endswith(".json") or Path(scheduler).is_file()
        try:
            if is_file:
                if not Path(scheduler).is_file():
                    raise ExecutionError(f"scheduler file '{scheduler}' not found")
                client = distributed.Client(scheduler_file=scheduler, timeout="30s")
            else:
                client = distributed.Client(scheduler, timeout="30s")
        except ExecutionError:
            raise
        except (OSError, TimeoutError, ValueError) as e:
            raise ExecutionError(f"cannot connect to the Dask scheduler at '{scheduler}': {e}") \
                from None
        try:
            yield client, f"scheduler {client.scheduler.address}"
        finally:
            client.close()
        return
    if cluster:
        kind = cluster.lower()
        if kind not in JOBQUEUE_CLUSTERS:
            raise ExecutionError(f"unknown cluster kind '{cluster}'; expected one of "
                                 f"{', '.join(JOBQUEUE_CLUSTERS)}")
        try:
            import dask_jobqueue
        except ImportError:
            raise ExecutionError("--cluster needs dask-jobqueue: pip install 'gzsim[cluster]'") \
                from None
        cls = getattr(dask_jobqueue, JOBQUEUE_CLUSTERS[kind])
        try:
            jq = cls()  # configured the dask-jobqueue way (config files / DASK_JOBQUEUE__*)
        except ValueError as e:
            raise ExecutionError(
                f"dask-jobqueue could not set up a {cls.__name__}: {e}. Configure it in "
                f"~/.config/dask/jobqueue.yaml (jobqueue.{kind}: cores, memory, processes, "
                f"queue, account, walltime...) or with DASK_JOBQUEUE__{kind.upper()}__* "
                "environment variables. Use processes = cores: SimPy holds the GIL.") from None
        try:
            jq.scale(n=workers or 1)
            client = distributed.Client(jq)
            try:
                yield client, f"{cls.__name__} ({workers or 1} worker(s) requested)"
            finally:
                client.close()
        finally:
            jq.close()
        return
    n = workers or cpu_count()
    lc = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR)
    try:
        client = distributed.Client(lc)
        try:
            yield client, f"LocalCluster ({n} worker(s) x 1 thread)"
        finally:
            client.close()
    finally:
        lc.close()


def execute(job: Job, runs: Sequence[RunKey], overrides_of: Callable[[int], Mapping[str, Any]],
            *, backend: str = "serial", workers: int | None = None,
            scheduler: str | None = None, cluster: str | None = None, client: Any = None,
            executor: cf.Executor | None = None, target_task_seconds: float = 1.0,
            max_in_flight: int | None = None, max_retries: int = 3,
            batch_size: int | None = None, stats: ExecStats | None = None
            ) -> Iterator[BatchOutput]:
    """Run ``runs`` (``(run_id, point, replication)``) and yield batch outputs as they finish.

    ``overrides_of(point)`` gives a point's ``{dotted.path: value}``. Every run appears in
    exactly one yielded output (ok, failed in the model, or failed because its worker kept
    dying). Closing the generator cancels what is still in flight.
    """
    if backend not in BACKENDS:
        raise ExecutionError(f"unknown backend '{backend}'; expected one of {', '.join(BACKENDS)}")
    stats = stats if stats is not None else ExecStats()
    stats.backend = backend
    retrier = _Retrier(stats, max_retries)
    n_slots = workers or cpu_count()
    if backend == "serial":
        stats.description = "this process"
        batcher = Batcher(runs, overrides_of, target_task_seconds, 1, fixed_size=batch_size)
        yield from _serial(job, batcher, stats)
        return
    if backend == "processes":
        stats.description = f"ProcessPoolExecutor ({n_slots} processes)"
        stats.slots = n_slots
        batcher = Batcher(runs, overrides_of, target_task_seconds, n_slots, fixed_size=batch_size)
        ctx = _mp_context()
        yield from _executor_loop(
            job, batcher, stats,
            lambda: cf.ProcessPoolExecutor(max_workers=n_slots, mp_context=ctx),
            max_in_flight or 2 * n_slots, retrier, rebuild=True)
        return
    if backend == "executor":
        if executor is None:
            raise ExecutionError("backend 'executor' needs executor=")
        slots = getattr(executor, "_max_workers", None) or n_slots
        stats.description = type(executor).__name__
        stats.slots = slots
        batcher = Batcher(runs, overrides_of, target_task_seconds, slots, fixed_size=batch_size)
        yield from _executor_loop(job, batcher, stats, lambda: executor,
                                  max_in_flight or 2 * slots, retrier, rebuild=False)
        return
    # dask
    batcher = Batcher(runs, overrides_of, target_task_seconds, n_slots, fixed_size=batch_size)
    if client is not None:
        stats.description = f"scheduler {client.scheduler.address}"
        yield from _dask_loop(job, batcher, stats, client, max_in_flight, retrier)
        return
    with dask_client(workers, scheduler, cluster) as (cl, desc):
        stats.description = desc
        yield from _dask_loop(job, batcher, stats, cl, max_in_flight, retrier)
