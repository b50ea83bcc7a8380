"""Execution: how the runs of a scenario or a sweep are done, on any executor.

Below both :mod:`gzsim.run` and :mod:`gzsim.experiments`: :class:`ExecutionOptions` (shared by
run, compare, calibrate and sweep), :func:`run_replications` (the one function that runs a
scenario's replications), :func:`execute` (the one loop over a ``concurrent.futures``
executor) and, in :mod:`~gzsim.execution.tasks`, what a worker does with a batch of runs.
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
