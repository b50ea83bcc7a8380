"""Execution: how the runs of a scenario or a sweep are done, on any executor.

Below both :mod:`gzsim.run` and :mod:`gzsim.experiments`: :class:`ExecutionOptions` (shared by
run, compare, calibrate and sweep), :func:`resolve_workers` (the one worker-count rule),
:func:`run_replications` (the short path that runs one scenario's replications),
:func:`execute` (a sweep's loop, with retries and worker-fault isolation), in
:mod:`~gzsim.execution.tasks` what a worker does with a batch of runs, and in
:mod:`~gzsim.execution.failfast` the clear errors when replications cannot run.
"""

from gzsim.execution.loop import (
    ExecutionError,
    ExecutionOptions,
    ReplicationOutput,
    batch_size,
    cpu_count,
    execute,
    resolve_workers,
    run_replications,
)

__all__ = ["ExecutionError", "ExecutionOptions", "ReplicationOutput", "batch_size", "cpu_count",
           "execute", "resolve_workers", "run_replications"]
