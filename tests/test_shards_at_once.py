"""Three ``--shard`` sessions started at once into one folder leave a consistent
``runs.parquet``: the snapshot is rewritten under a lock from a fresh scan, so the last session
to write it has seen every other's commits (no done run says ``pending``)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from gzsim.experiments import read_sweep
from tests.conftest import REPO, SCENARIOS

SHARD = """
import functools, sys
from gzsim.experiments import run_sweep
from gzsim.execution.standin import standin_model
run_sweep(sys.argv[1], sys.argv[2], backend="serial", shard=sys.argv[3], progress=False,
          run_fn=functools.partial(standin_model, sleep_s=float(sys.argv[4])), batch_size=2)
"""


def test_three_shards_at_once_leave_no_done_run_pending(tmp_path):
    out = tmp_path / "shards"
    exp = SCENARIOS / "experiments" / "full_factorial.yaml"  # 12 runs, 6 batches
    procs = [subprocess.Popen([sys.executable, "-c", SHARD, str(exp), str(out), f"{i}/3",
                               "0.05"], cwd=REPO, stderr=subprocess.PIPE, text=True)
             for i in range(3)]  # equal shards: they finish (and write runs.parquet) together
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 12 and set(runs["status"]) == {"ok"}
    pd.testing.assert_frame_equal(runs, read_sweep(out).runs.reset_index(drop=True),
                                  check_dtype=False)
