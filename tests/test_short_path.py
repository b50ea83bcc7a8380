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
