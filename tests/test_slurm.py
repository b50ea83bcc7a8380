"""A real cluster: a small sweep through dask-jobqueue's SLURMCluster on a single-node SLURM.

`.ci/run` starts SLURM with ci/slurm/setup_slurm.sh (Debian's slurm-wlm and munge) and sets
GZSIM_SLURM=1. Where SLURM cannot be started the test is skipped with the reason, shown in the
test summary (pytest runs with -rs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from gzsim.experiments import read_sweep, run_sweep
from tests.conftest import REPO, SCENARIOS

pytestmark = pytest.mark.slurm
SETUP = REPO / "ci" / "slurm" / "setup_slurm.sh"


def _sinfo_idle() -> bool:
    if not shutil.which("sinfo"):
        return False
    res = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True)
    return res.returncode == 0 and res.stdout.strip().split("\n")[0] in ("idle", "mix", "alloc")


@pytest.fixture(scope="module")
def slurm():
    if _sinfo_idle():
        return
    if os.environ.get("GZSIM_SLURM") != "1":
        pytest.skip("SLURM is not running here (set GZSIM_SLURM=1 to let the test start it "
                    "with ci/slurm/setup_slurm.sh; .ci/run does)")
    res = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=600)
    if res.returncode != 0 or not _sinfo_idle():
        tail = (res.stderr or res.stdout).strip().splitlines()[-5:]
        pytest.skip("SLURM could not be started: " + " | ".join(tail))


EXPERIMENT = """
name: slurm_mc
base: {base}
seed: 3
replications: 2
factors:
  investment.realisation_share: {{range: [0.4, 0.8]}}
design: {{kind: monte_carlo, samples: 4}}
outcomes:
  series: [employment]
  scalars:
    - {{name: jobs_created_2017, indicator: jobs_created, year: 2017}}
"""


def canonical(path):
    sw = read_sweep(path)
    runs = sw.runs.drop(columns=["wall_time_s", "worker"]).sort_values("run_id")
    series = sw.series.sort_values(["run_id", "date"]).reset_index(drop=True)
    return runs.reset_index(drop=True), series


def jobqueue_env(tmp_path) -> dict[str, str]:
    return {"DASK_JOBQUEUE__SLURM__CORES": "1", "DASK_JOBQUEUE__SLURM__PROCESSES": "1",
            "DASK_JOBQUEUE__SLURM__MEMORY": "2GB", "DASK_JOBQUEUE__SLURM__WALLTIME": "00:15:00",
            "DASK_JOBQUEUE__SLURM__PYTHON": sys.executable,
            "DASK_JOBQUEUE__SLURM__LOG_DIRECTORY": str(tmp_path / "logs"),
            "DASK_JOBQUEUE__SLURM__LOCAL_DIRECTORY": str(tmp_path / "dask-local")}


def test_sweep_on_slurm_cluster_matches_serial(slurm, tmp_path):
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXPERIMENT.format(base=SCENARIOS / "base.yaml"))
    run_sweep(exp, tmp_path / "serial", backend="serial", progress=False)
    res = subprocess.run([sys.executable, "-m", "gzsim", "sweep", str(exp), "--out",
                          str(tmp_path / "slurm"), "--cluster", "slurm", "--workers", "2", "-q"],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, **jobqueue_env(tmp_path)})
    assert res.returncode == 0, res.stderr[-2000:]
    a, b = canonical(tmp_path / "serial"), canonical(tmp_path / "slurm")
    assert a[0].equals(b[0]) and a[1].equals(b[1])
    # the workers really were SLURM jobs: dask-jobqueue wrote their logs
    logs = list((tmp_path / "logs").glob("*"))
    assert logs, "no SLURM job logs: workers did not run under SLURM"
    workers = set(read_sweep(tmp_path / "slurm").runs["worker"])
    assert workers and all(w for w in workers)
