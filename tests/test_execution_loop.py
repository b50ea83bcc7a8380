"""The sweep loop over a process pool whose workers die: every batch comes back exactly once,
either computed or recorded as lost, whatever the moment the pool is found broken.

The pool here is a stand-in (no processes): it runs a batch when it is submitted, and a batch
holding a "killer" run breaks it, as ``os._exit`` in a worker breaks a real
``ProcessPoolExecutor``: that batch's future fails with ``BrokenProcessPool`` and so does the
next submit. The timing a loaded machine produces at random (a worker dying between two
submits) is produced here every time.
"""

from __future__ import annotations

import concurrent.futures as cf

import pytest

from gzsim.execution import loop
from gzsim.execution.loop import ExecutionOptions, execute
from gzsim.execution.tasks import FAILED, Batch, Job, RunResult


class BreakablePool(cf.ProcessPoolExecutor):
    """Runs each batch at once; a batch with a run in ``killers`` breaks the pool."""

    def __init__(self, killers: set[int], log: list):  # no worker processes: nothing to start
        self.killers, self.log, self.broken = killers, log, False
        self._processes = {}

    def submit(self, fn, /, *args, **kwargs):
        if self.broken:
            raise cf.process.BrokenProcessPool("a worker died (stand-in)")
        batch = args[1]
        self.log.append(tuple(batch.runs))
        f: cf.Future = cf.Future()
        if self.killers & set(batch.runs):
            self.broken = True
            f.set_exception(cf.process.BrokenProcessPool("a worker died (stand-in)"))
        else:
            f.set_result([("ok", r) for r in batch.runs])
        return f

    def shutdown(self, wait=True, *, cancel_futures=False):
        pass


def run_loop(n_runs: int, killers: set[int], monkeypatch, retries: int = 1):
    submitted: list = []
    monkeypatch.setattr(loop, "_process_pool", lambda slots: BreakablePool(killers, submitted))
    opts = ExecutionOptions(backend="executor", executor=BreakablePool(killers, submitted),
                            workers=2, retries=retries)
    stats: dict = {}
    outs = list(execute(Job(root_seed=1), (Batch([r], {}, r, r + 1) for r in range(n_runs)),
                        opts, stats))
    runs = {}
    for out in outs:
        for item in out:
            run, status = (item.run_id, item.status) if isinstance(item, RunResult) \
                else (item[1], item[0])
            assert run not in runs, f"run {run} delivered twice"
            runs[run] = status
    return runs, stats, submitted


@pytest.mark.parametrize("killers", [{1}, {2}, {1, 2}, {0, 2}, {4, 5}, {5}],
                         ids=lambda k: "killers=" + ",".join(map(str, sorted(k))))
def test_every_run_comes_back_once_when_workers_die_between_submits(killers, monkeypatch):
    """The last batches sent break the pool before the next submit: they and every batch in
    flight are rerun alone; innocent runs complete, killers are recorded as lost."""
    runs, stats, _ = run_loop(6, killers, monkeypatch)
    assert sorted(runs) == list(range(6))
    assert {r for r, s in runs.items() if s == FAILED} == killers
    assert all(runs[r] == "ok" for r in set(range(6)) - killers)
    assert stats["lost_runs"] == len(killers)


def test_a_pool_broken_before_any_batch_can_be_sent_is_an_error_not_a_loop(monkeypatch):
    """Pools that are broken before anything is sent (workers dying as they start) end the
    sweep with an ExecutionError after a few rebuilds, not an endless loop."""
    class DeadPool(BreakablePool):
        def submit(self, fn, /, *args, **kwargs):
            raise cf.process.BrokenProcessPool("workers die at start (stand-in)")

    monkeypatch.setattr(loop, "_process_pool", lambda slots: DeadPool(set(), []))
    opts = ExecutionOptions(backend="executor", executor=DeadPool(set(), []), workers=2)
    with pytest.raises(loop.ExecutionError, match="broke .* times in a row"):
        list(execute(Job(root_seed=1), iter([Batch([0], {}, 0, 1)]), opts, {}))
