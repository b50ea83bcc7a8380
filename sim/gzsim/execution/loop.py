"""The execution layer: every run gzsim does goes to a ``concurrent.futures.Executor``.

Two paths over the same executors (:class:`ExecutionOptions`, :func:`executor_for`) and the
same worker task (:func:`~gzsim.execution.tasks.run_batch`, which records model exceptions
per run): :func:`run_replications`, the short path for one scenario (every batch submitted,
results as they complete), and :func:`execute`, a sweep's loop (about two batches per worker
in flight, ``concurrent.futures.wait`` without polling, batches lost to infrastructure retried
and a worker-killing run isolated). :func:`resolve_workers` is the one worker-count rule.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import logging
import math
import multiprocessing
import os
import shutil
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from gzsim.errors import UserError
from gzsim.execution.lifecycle import signals_deferred, stop_pool
from gzsim.execution.tasks import Batch, Job, RunFn, lost, run_batch, warm
from gzsim.io.readers import regular_file
from gzsim.scenario.schema import Scenario

log = logging.getLogger(__name__)
JOBQUEUE = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster",
            "lsf": "LSFCluster"}
#: how long to wait for a Dask scheduler, and for a batch system's first worker (seconds;
#: environment: GZSIM_CONNECT_TIMEOUT_S, GZSIM_WORKER_TIMEOUT_S)
CONNECT_TIMEOUT_S = 10.0
#: one scenario's replications (:func:`run_replications`): batches in flight per worker slot
#: (enough to keep every worker busy) and replications per batch at most, so the driver holds
#: a few dozen replications' arrays whatever their number (a model run takes 0.1-0.5 s)
REPLICATION_WINDOW = 2
REPLICATION_BATCH_CAP = 8
WORKER_TIMEOUT_S = 300.0
#: process pools in a row found broken before a batch could even be sent: give up, say why
MAX_BROKEN_AT_SUBMIT = 5
_TRANSIENT = {"KilledWorker", "CommClosedError", "StreamClosedError", "FutureCancelledError",
              "CancelledError", "BrokenProcessPool", "FutureLostError"}


class ExecutionError(UserError):
    """The executor could not be used (bad address, missing package, broken task)."""


@dataclass(frozen=True)
class ExecutionOptions:
    """How runs are executed; shared by run, compare, calibrate and sweep.

    ``backend``: ``serial`` (this process), ``processes`` (a ``ProcessPoolExecutor`` of warm
    workers; a sweep's loop rebuilds it if a worker dies), ``dask`` (``client.get_executor()`` of a
    ``LocalCluster``, a ``scheduler`` address or file, a dask-jobqueue ``cluster`` or a
    ``client``) or ``executor`` (any you pass). Default: ``dask`` when a scheduler, cluster or
    client is given, else ``processes`` for more than one worker, else ``serial``. Batch sizes
    are fixed (:func:`batch_size`). ``retries``: of a batch lost to infrastructure, in a sweep.
    ``progress``: a bar (True), nothing (False) or a callable.
    """

    workers: int | None = None
    backend: str | None = None
    scheduler: str | None = None
    cluster: str | None = None
    batch_size: int | None = None
    retries: int = 3
    progress: bool | Callable[..., None] = False
    client: Any = None
    executor: Any = None

    @classmethod
    def of(cls, options: ExecutionOptions | None, **fields: Any) -> ExecutionOptions:
        """``options`` with ``fields`` replaced (``max_retries`` is an alias of ``retries``)."""
        if "max_retries" in fields:
            fields["retries"] = fields.pop("max_retries")
        known = {f.name for f in dataclasses.fields(cls)}
        bad = sorted(set(fields) - known)
        if bad:
            raise TypeError(f"unknown execution option(s) {bad}; known: {sorted(known)}")
        return dataclasses.replace(options or cls(), **fields)

    @property
    def kind(self) -> str:
        """The backend these options select."""
        if self.backend:
            return self.backend
        if self.executor is not None:
            return "executor"
        if self.scheduler or self.cluster or self.client is not None:
            return "dask"
        return "processes" if (self.workers or 1) > 1 else "serial"


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def batch_size(n_runs: int, workers: int, cap: int = 64) -> int:
    """Runs per batch: about 32 batches per worker, at most ``cap``.

    So the last batches end together; a run takes about 0.1 s, a batch's own cost a few ms.
    """
    return max(1, min(cap, math.ceil(n_runs / (32 * max(1, workers)))))


class SerialExecutor(cf.Executor):
    """Runs each task in this process when it is submitted."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        """Run ``fn`` now; return its finished future (Ctrl-C and SIGTERM go to the caller)."""
        f: cf.Future = cf.Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except Exception as e:
            f.set_exception(e)
        return f


def _process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A process pool of warm workers: the model is imported once, not per task.

    Forked from the driver (which has imported it) when no other thread is alive to make fork
    unsafe, else from a forkserver that preloads it.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        ctx = multiprocessing.get_context("fork")
    elif "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["gzsim.execution.tasks", "gzsim.model"])
    else:
        ctx = multiprocessing.get_context("spawn")
    return cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=warm)


@contextlib.contextmanager
def dask_client(opts: ExecutionOptions) -> Iterator[tuple[Any, str]]:
    """A ``distributed.Client`` and its description; closes what it created."""
    try:
        # start-up, and gzsim[cluster] is an optional extra: loaded on use
        import distributed
    except ImportError:
        raise ExecutionError("the Dask backend needs dask and distributed: "
                             "pip install 'gzsim[cluster]'") from None
    if opts.client is not None:
        yield opts.client, f"client {opts.client.scheduler.address}"
        return
    if opts.scheduler and opts.cluster:
        raise ExecutionError("give either --scheduler or --cluster, not both")
    with contextlib.ExitStack() as stack:
        if opts.scheduler:
            client = _connect(distributed, opts.scheduler, stack)
            yield client, f"scheduler {client.scheduler.address}"
            return
        n = resolve_workers(opts.workers)
        with signals_deferred():  # a Ctrl-C during start-up acts once they can be closed
            if opts.cluster:
                cluster, desc = _jobqueue(opts.cluster, n), f"{opts.cluster} (dask-jobqueue)"
                stack.enter_context(cluster)
            else:
                cluster = stack.enter_context(distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                    # a task's error comes back through its future; the workers' own log
                    # would print a traceback of a lost heartbeat when the driver is
                    # interrupted
                    silence_logs=logging.CRITICAL))
                desc = f"LocalCluster ({n} worker{'s' if n > 1 else ''})"
            client = stack.enter_context(distributed.Client(cluster))
        if opts.cluster:
            _first_worker(client, cluster, opts.cluster)
        yield client, desc


def _timeout(name: str, default: float) -> float:
    """A timeout in seconds from the environment variable ``name`` (else ``default``)."""
    try:
        return max(0.1, float(os.environ.get(name, default)))
    except ValueError:
        raise ExecutionError(f"{name} must be a number of seconds, got "
                             f"'{os.environ[name]}'") from None


def _connect(distributed: Any, scheduler: str, stack: contextlib.ExitStack) -> Any:
    """A client of the scheduler at an address or in a scheduler file; fails fast, named."""
    wait = _timeout("GZSIM_CONNECT_TIMEOUT_S", CONNECT_TIMEOUT_S)
    if scheduler.endswith(".json"):
        try:  # a missing or special file: say so now, not after waiting for it to appear
            regular_file(scheduler, "Dask scheduler file")
        except UserError as e:
            raise ExecutionError(f"--scheduler: {e}") from None
    kw = {"scheduler_file": scheduler} if scheduler.endswith(".json") else {"address": scheduler}
    try:
        return stack.enter_context(distributed.Client(**kw, timeout=f"{wait}s"))
    except (OSError, TimeoutError, ValueError) as e:
        raise ExecutionError(
            f"cannot connect to the Dask scheduler at '{scheduler}' within {wait:g} s "
            f"({type(e).__name__}: {e}); is it running and reachable? (the wait is "
            "GZSIM_CONNECT_TIMEOUT_S)") from None


def _first_worker(client: Any, cluster: Any, name: str) -> None:
    """Wait (bounded) for the batch system's first worker; else name the submit command."""
    wait = _timeout("GZSIM_WORKER_TIMEOUT_S", WORKER_TIMEOUT_S)
    try:
        client.wait_for_workers(1, timeout=wait)
    except (TimeoutError, OSError) as e:
        command = getattr(getattr(cluster, "job_cls", None), "submit_command", "?")
        raise ExecutionError(
            f"no {name} worker started within {wait:g} s ({type(e).__name__}): the jobs "
            f"submitted with '{command}' did not start or failed. Check '{command}' by hand "
            "with the job script (cluster.job_script()), the queue and its logs; a busy "
            "queue may need a longer GZSIM_WORKER_TIMEOUT_S") from None


def _jobqueue(name: str, workers: int) -> Any:
    sigint = signal.getsignal(signal.SIGINT)
    try:
        # start-up, and gzsim[cluster] is an optional extra: loaded on use
        import dask_jobqueue
    except ImportError:
        raise ExecutionError("--cluster needs dask-jobqueue: pip install 'gzsim[cluster]'") \
            from None
    finally:  # its runner module makes Ctrl-C a silent sys.exit() (exit 0) on import: undone
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, sigint)
    command = getattr(getattr(dask_jobqueue, JOBQUEUE[name]).job_cls, "submit_command", "")
    if command and shutil.which(command.split()[0]) is None:
        raise ExecutionError(f"--cluster {name}: the batch system's submit command "
                             f"'{command}' is not installed here (not on PATH)")
    try:
        cluster = getattr(dask_jobqueue, JOBQUEUE[name])()
    except (ValueError, TypeError, KeyError, OSError, RuntimeError) as e:
        raise ExecutionError(f"cannot start a {name} cluster (configure it in "
                             f"~/.config/dask/jobqueue.yaml or DASK_JOBQUEUE__*): {e}") from None
    cluster.scale(n=workers)
    return cluster


@contextlib.contextmanager
def executor_for(opts: ExecutionOptions) -> Iterator[tuple[Any, str, int]]:
    """``(executor, description, worker slots)`` for the options; shut down on exit."""
    kind = opts.kind
    if kind == "serial":
        yield SerialExecutor(), "this process", 1
    elif kind == "processes":
        n = resolve_workers(opts.workers)
        with _process_pool(n) as pool:
            try:
                yield pool, f"ProcessPoolExecutor ({n} workers)", n
            except BaseException:  # interrupted or abandoned: stop the workers now
                stop_pool(pool)
                raise
    elif kind == "executor":
        yield opts.executor, type(opts.executor).__name__, resolve_workers(opts.workers)
    elif kind == "dask":
        with dask_client(opts) as (client, desc):
            slots = sum(client.nthreads().values()) or opts.workers or 1
            yield client.get_executor(pure=False), desc, slots
    else:
        raise ExecutionError(f"unknown backend '{kind}' (serial, processes, dask, executor)")


def is_transient(exc: BaseException) -> bool:
    """Errors that come from infrastructure (worker death, network), not from the task."""
    return isinstance(exc, (cf.CancelledError, TimeoutError, OSError, EOFError)) or \
        any(t.__name__ in _TRANSIENT for t in type(exc).__mro__)


class _Loop:
    """The loop: a bounded window of batches in flight, retries, isolation of worker killers.

    A process pool that breaks (a worker process died) fails every task in flight without
    saying whose worker died. Those batches become *suspects*, rerun one at a time: one that
    completes was innocent; one that breaks the pool alone is retried, then split into single
    runs, and a run that still kills its worker is recorded as failed (an infrastructure fault,
    which a later resume retries).
    """

    def __init__(self, job: Job, executor: Any, opts: ExecutionOptions, stats: dict, slots: int):
        self.job, self.ex, self.opts, self.stats = job, executor, opts, stats
        self.window = 2 * slots
        self.slots = slots
        self.pending: dict[cf.Future, Batch] = {}
        self.queue: deque[Batch] = deque()
        self.suspects: deque[Batch] = deque()
        self.pieces: dict[int, tuple[Batch, list]] = {}  # split batches being reassembled
        self.own_pool = False
        self.broken_at_submit = 0

    def submit(self, b: Batch) -> None:
        try:
            self.pending[self.ex.submit(run_batch, self.job, b, b.whole)] = b
        except cf.process.BrokenProcessPool:  # broke since the last wait: rebuild, rerun
            self.suspects.appendleft(b)
            self.broken_at_submit += 1
            if self.broken_at_submit > MAX_BROKEN_AT_SUBMIT:
                raise ExecutionError(
                    f"the process pool broke {self.broken_at_submit} times in a row before a "
                    "batch could be sent (its workers die as they start: out of memory, or a "
                    "start-up error?); results so far are kept") from None
            self.rebuild()
            return
        self.broken_at_submit = 0
        self.stats["tasks"] = self.stats.get("tasks", 0) + 1

    def fill(self, batches: Iterator[Batch]) -> None:
        """Top up the window; suspects go first, one at a time.

        A submit can find the pool broken (a batch just sent killed its worker) and move every
        batch in flight to the suspects: the loop re-checks them before taking new batches, so
        it never returns with nothing in flight and suspects still waiting.
        """
        while True:
            if self.suspects:
                if self.pending:
                    return
                self.submit(self.suspects.popleft())
                continue
            if len(self.pending) >= self.window:
                return
            b = self.queue.popleft() if self.queue else next(batches, None)
            if b is None:
                return
            self.submit(b)

    def charge(self, b: Batch, exc: BaseException, into: deque[Batch]) -> list:
        """A batch lost to infrastructure: retry it, split it, or record its run as lost."""
        b.attempt += 1
        self.stats["retries"] = self.stats.get("retries", 0) + 1
        if b.attempt <= self.opts.retries:
            log.warning("batch %d..%d lost (%s: %s); retry %d/%d", b.lo, b.hi,
                        type(exc).__name__, exc, b.attempt, self.opts.retries)
            into.append(b)
        elif len(b.runs) > 1:
            self.pieces.setdefault(b.lo, (b, []))
            into.extend(Batch([r], b.overrides, b.lo, b.hi, 0, False) for r in b.runs)
        else:
            self.stats["lost_runs"] = self.stats.get("lost_runs", 0) + 1
            return self.deliver(b, lost(b, self.job, exc, b.attempt))
        return []

    def deliver(self, b: Batch, out: Any) -> list:
        """The output of a whole batch, once all its pieces (if it was split) are in."""
        if not b.whole:
            parent, got = self.pieces[b.lo]
            got.extend(out)
            if len(got) < len(parent.runs):
                return []
            del self.pieces[b.lo]
            b, out = parent, got
        return [self.job.encoder(self.job, b, out) if self.job.encoder and isinstance(out, list)
                else out]

    def run(self, batches: Iterator[Batch]) -> Iterator[Any]:
        while True:
            self.fill(batches)
            if not self.pending:
                return
            alone = len(self.pending) == 1
            done, _ = cf.wait(self.pending, return_when=cf.FIRST_COMPLETED)
            broken = False
            for f in done:
                b = self.pending.pop(f)
                try:
                    exc = f.exception()
                except cf.CancelledError as e:
                    exc = e
                if exc is None:
                    yield from self.deliver(b, f.result())
                elif not is_transient(exc):
                    raise ExecutionError(f"a task failed outside the model ({type(exc).__name__}"
                                         f": {exc}); results so far are kept") from exc
                elif isinstance(exc, cf.process.BrokenProcessPool):
                    broken = True
                    if alone:
                        yield from self.charge(b, exc, self.suspects)
                    else:
                        self.suspects.append(b)
                else:
                    yield from self.charge(b, exc, self.queue)
            if broken:
                self.rebuild()

    def rebuild(self) -> None:
        """Every batch still in flight on a broken pool is lost with it: rerun them alone."""
        self.stats["retries"] = self.stats.get("retries", 0) + len(self.pending)
        self.suspects.extend(self.pending.values())
        self.pending.clear()
        if not isinstance(self.ex, cf.ProcessPoolExecutor):
            raise ExecutionError("the executor broke; results so far are kept")
        # Python 3.11 leaves the surviving workers of a broken pool running (blocked on its
        # queue); as non-daemon children they would hang the interpreter's exit
        stop_pool(self.ex, grace_s=0.0)
        self.ex, self.own_pool = _process_pool(self.slots), True

    def close(self, abort: bool = False) -> None:
        """Cancel what is queued; ``abort`` (an interruption): stop running batches too."""
        for f in self.pending:
            f.cancel()
        if self.own_pool:
            if abort:
                stop_pool(self.ex)
            else:
                self.ex.shutdown(wait=True, cancel_futures=True)


def execute(job: Job, batches: Iterable[Batch], opts: ExecutionOptions,
            stats: dict) -> Iterator[Any]:
    """Run ``batches`` on the executor the options name; yield outputs as they complete.

    An output is what ``job.encoder`` makes of a batch, else its list of run results.
    ``stats`` receives backend, cluster, slots, tasks, retries, lost runs.
    """
    with executor_for(opts) as (ex, desc, slots):
        stats.update(backend=opts.kind, cluster=desc, slots=slots, tasks=0, retries=0,
                     lost_runs=0)
        loop = _Loop(job, ex, opts, stats, slots)
        try:
            yield from loop.run(iter(batches))
        except BaseException:  # Ctrl-C, SIGTERM, an error, or the consumer stopped early
            loop.close(abort=True)
            raise
        loop.close()


class ReplicationOutput(NamedTuple):
    """One replication: its arrays, or the error that stopped it."""
    replication: int
    arrays: dict | None
    error: str | None  # one-line message, then the traceback
    wall_time_s: float


def resolve_workers(workers: int | None, tasks: int | None = None) -> int:
    """The one rule for a worker count: as asked, else every CPU this process may use.

    With ``tasks``, the default is also no more workers than tasks.
    """
    if workers is not None:
        return int(workers)
    return max(1, min(cpu_count(), tasks)) if tasks is not None else cpu_count()


def run_replications(scenario: Scenario, replications: int, root_seed: int,
                     options: ExecutionOptions | None = None, *, run_fn: RunFn | None = None,
                     **fields: Any) -> Iterator[ReplicationOutput]:
    """Replications ``0..replications-1`` of one scenario, as they complete (any order).

    The short path of ``gzsim run``, ``gzsim.simulate`` and compare: batches of replications
    (:data:`REPLICATION_WINDOW` per worker in flight, of at most
    :data:`REPLICATION_BATCH_CAP`, so a consumer that streams them holds only those) go
    straight to the executor the options name (serial, processes, Dask, any
    ``concurrent.futures`` executor), without the retries and worker-fault isolation of a
    sweep's loop (:func:`execute`). A replication that raises is recorded with its error; one
    whose worker process died is recorded as lost with that fault. Replication ``k`` uses
    ``SeedSequence(root_seed, spawn_key=(k,))`` whatever runs it. ``fields`` override
    ``options``; a callable ``progress`` gets ``(done, total)``.
    """
    opts = ExecutionOptions.of(options, **fields)
    n = int(replications)
    job = Job(root_seed=int(root_seed), replications=n, run_fn=run_fn, base_scenario=scenario)
    with executor_for(opts) as (ex, _desc, slots):
        size = opts.batch_size or batch_size(n, slots, cap=REPLICATION_BATCH_CAP)
        batches = iter([Batch(list(range(lo, min(lo + size, n))), {}, lo, min(lo + size, n))
                        for lo in range(0, n, size)])
        futures: dict[cf.Future, Batch] = {}
        done = [0]
        pool = _ShortPathPool(ex, slots)
        try:
            while _top_up(futures, batches, pool, job, REPLICATION_WINDOW * slots):
                yield from _finished(futures, job, opts.progress, done, n)
        except BaseException:  # interrupted, an error, or the consumer stopped early
            pool.close(abort=True)
            raise
        finally:
            for fut in futures:
                fut.cancel()
        pool.close()


class _ShortPathPool:
    """The short path's executor; a process pool a worker's death broke is replaced.

    The batches in flight when it broke are recorded as lost (no retry on the short path);
    those not sent yet go to a new pool, as they would have to a sound one (before, the next
    submit raised ``BrokenProcessPool`` out of the run, and every replication done was lost).
    """

    def __init__(self, ex: Any, slots: int):
        self.ex, self.slots, self.made = ex, slots, []

    def submit(self, job: Job, b: Batch) -> cf.Future:
        for _ in range(MAX_BROKEN_AT_SUBMIT + 1):
            try:
                return self.ex.submit(run_batch, job, b, False)
            except cf.process.BrokenProcessPool:
                if not isinstance(self.ex, cf.ProcessPoolExecutor):
                    raise
                stop_pool(self.ex, grace_s=0.0)  # its surviving workers (see _Loop.rebuild)
                self.ex = _process_pool(self.slots)
                self.made.append(self.ex)
        raise ExecutionError(
            f"the process pool broke {MAX_BROKEN_AT_SUBMIT + 1} times in a row before a batch "
            "could be sent (its workers die as they start: out of memory, or a start-up "
            "error?)") from None

    def close(self, abort: bool = False) -> None:
        """Stop the pools made here (the first is its ``executor_for``'s)."""
        for p in self.made:
            if abort:
                stop_pool(p)
            else:
                p.shutdown(wait=True, cancel_futures=True)


def _finished(futures: dict[cf.Future, Batch], job: Job, progress: Any, done: list[int],
              n: int) -> Iterator[ReplicationOutput]:
    """The outputs of the batches finished by now (at least one), taken out of ``futures``.

    A generator of its own: when it ends, nothing refers to those futures and their arrays
    any longer (a streaming consumer's memory stays flat).
    """
    finished, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
    for fut in sorted(finished, key=lambda f: futures[f].lo):
        batch = futures.pop(fut)
        for r in _batch_results(fut, batch, job):
            err = f"{r.error}\n{r.traceback}" if r.error and r.traceback else r.error
            yield ReplicationOutput(r.replication, r.arrays, err, r.wall_time_s)
        done[0] += len(batch.runs)
        if callable(progress):
            progress(done[0], n)


def _top_up(futures: dict, batches: Iterator[Batch], pool: _ShortPathPool, job: Job,
            window: int) -> bool:
    """Submit batches until ``window`` are in flight; False when none is left to wait for."""
    while len(futures) < window:
        b = next(batches, None)
        if b is None:
            break
        futures[pool.submit(job, b)] = b
    return bool(futures)


def _batch_results(fut: cf.Future, batch: Batch, job: Job) -> list:
    """A finished batch's run results; runs lost with their worker are recorded as lost."""
    try:
        exc = fut.exception()
    except cf.CancelledError as e:
        exc = e
    if exc is None:
        return fut.result()
    if not is_transient(exc):
        raise ExecutionError(f"a task failed outside the model ({type(exc).__name__}: {exc})"
                             "; results so far are kept") from exc
    return lost(batch, job, exc, 1)
