"""One scenario takes the short path: its batches go straight to the executor (issue 20).

No sweep retries: a batch lost to infrastructure is recorded as lost, once, and the other
replications are exactly what any executor gives for the same seed.
"""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np

from gzsim import load_scenario, simulate
from tests.conftest import BASE

SHORT = ["time.end=2013-12"]


class FirstBatchLost(cf.ThreadPoolExecutor):
    """An executor whose first task is lost as a dead node loses it (an OSError)."""

    def __init__(self):
        super().__init__(2)
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        if self.submitted == 1:
            lost = cf.Future()
            lost.set_exception(OSError("node went away"))
            return lost
        return super().submit(fn, *args, **kwargs)


def test_a_lost_batch_is_recorded_not_retried():
    sc = load_scenario(BASE, overrides=SHORT)
    ex = FirstBatchLost()
    res = simulate(sc, replications=4, seed=3, executor=ex, workers=2, batch_size=1,
                   uncertainty="noise")
    ex.shutdown()
    assert ex.submitted == 4  # one task per batch, none resubmitted
    assert res.manifest["failed_replications"] == [0]
    assert "worker lost" in res.failures["error"].iloc[0]
    assert "OSError: node went away" in res.failures["error"].iloc[0]
    serial = simulate(sc, replications=4, seed=3, backend="serial", uncertainty="noise")
    ok = serial.series[serial.series["replication"] > 0].reset_index(drop=True)
    got = res.series.sort_values(["replication", "date"]).reset_index(drop=True)
    assert np.array_equal(ok.drop(columns="date").to_numpy(), got.drop(columns="date").to_numpy())


class DyingWorkerPool(cf.ProcessPoolExecutor):
    """Runs each batch in this process when it is submitted; the batch holding replication
    ``killer`` breaks the pool as a worker's death does: its future fails with
    ``BrokenProcessPool``, and so does every later submit to this pool."""

    def __init__(self, killer: int | None, made: list):  # no worker processes
        self.killer, self.broken, self._processes = killer, False, {}
        made.append(self)

    def submit(self, fn, /, *args, **kwargs):
        if self.broken:
            raise cf.process.BrokenProcessPool("a worker died (stand-in)")
        f: cf.Future = cf.Future()
        if self.killer in args[1].runs:
            self.broken = True
            f.set_exception(cf.process.BrokenProcessPool("a worker died (stand-in)"))
        else:
            f.set_result(fn(*args, **kwargs))
        return f

    def shutdown(self, wait=True, *, cancel_futures=False):
        pass


def test_a_worker_death_midway_loses_its_batch_not_the_run(monkeypatch):
    """A replication that kills its worker midway (a segfault, the OOM killer) breaks the
    process pool: its batch is recorded as lost and the replications not sent yet run on a new
    pool. (The next submit used to raise BrokenProcessPool out of the run: a traceback, and every
    replication already done lost.)"""
    from gzsim.execution import loop
    from gzsim.execution.standin import standin_model

    made: list = []
    monkeypatch.setattr(loop, "_process_pool", lambda slots: DyingWorkerPool(None, made))
    sc = load_scenario(BASE, overrides=SHORT)
    outs = list(loop.run_replications(sc, 12, 3, backend="executor",
                                      executor=DyingWorkerPool(5, made), workers=2,
                                      batch_size=1, run_fn=standin_model))
    assert sorted(o.replication for o in outs) == list(range(12))
    assert [o.replication for o in outs if o.error] == [5]
    assert "worker lost" in next(o.error for o in outs if o.error)
    assert len(made) == 2  # the broken pool and the one that replaced it
