"""A real cluster: sweeps through dask-jobqueue's SLURMCluster on a single-node SLURM.

`.ci/run` (and `make test`) start SLURM with ci/slurm/setup_slurm.sh (Debian's slurm-wlm and
munge, root only) and set GZSIM_SLURM=1. The session fixture runs that script again when
GZSIM_SLURM=1 or `sinfo` already works (it is idempotent and waits for an idle node); otherwise,
or when the script fails, the tests are skipped with the reason, shown in the test summary
(pytest runs with -ra).

Both tests run scenarios/experiments/monte_carlo.yaml (20 runs) on 2 one-core SLURM jobs and
check that the data is identical to a serial run, and that the workers really were SLURM jobs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gzsim.experiments import read_sweep, run_sweep
from tests.conftest import REPO, SCENARIOS, assert_same_sweep

pytestmark = pytest.mark.slurm

SETUP = REPO / "ci" / "slurm" / "setup_slurm.sh"
EXPERIMENT = SCENARIOS / "experiments" / "monte_carlo.yaml"
JOB_NAME = "gzsim-test"
USABLE = ("idle", "mix", "alloc", "comp")


# --- SLURM itself ------------------------------------------------------------------------------

def _run(cmd: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _sinfo_state() -> str | None:
    """The first node's state per `sinfo`, or None when sinfo is missing or fails."""
    if not shutil.which("sinfo"):
        return None
    try:
        res = _run(["sinfo", "-h", "-N", "-o", "%t"], timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    lines = res.stdout.strip().splitlines()
    return lines[0].strip() if lines else ""


def _tail(text: str, n: int = 6) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:]) or "(no output)"


@pytest.fixture(scope="session")
def slurm() -> None:
    """A usable SLURM, or a skip that says why not."""
    try:
        import dask_jobqueue  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as e:
        pytest.skip(f"dask-jobqueue/distributed not installed ({e}): pip install 'gzsim[cluster]'")
    wanted = os.environ.get("GZSIM_SLURM") == "1"
    state = _sinfo_state()
    if not wanted and state is None:
        pytest.skip("SLURM is not available here: `sinfo` is missing or fails, and GZSIM_SLURM "
                    "is not 1 (set GZSIM_SLURM=1, as root with apt, to let the test start a "
                    "single-node SLURM with ci/slurm/setup_slurm.sh; .ci/run does)")
    if os.geteuid() == 0:
        try:
            res = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True,
                                 timeout=900)
        except subprocess.TimeoutExpired as e:
            pytest.skip(f"ci/slurm/setup_slurm.sh timed out after {e.timeout:.0f}s")
        if res.returncode != 0:
            pytest.skip(f"ci/slurm/setup_slurm.sh failed (exit {res.returncode}): "
                        + _tail(res.stderr or res.stdout))
    elif state is None:
        pytest.skip("GZSIM_SLURM=1 but `sinfo` fails and ci/slurm/setup_slurm.sh needs root")
    state = _sinfo_state()
    if state not in USABLE:
        pytest.skip(f"SLURM has no usable node (sinfo state '{state}')")
    for tool in ("sbatch", "squeue", "scancel", "scontrol"):
        if not shutil.which(tool):
            pytest.skip(f"SLURM command '{tool}' not found on PATH")


@pytest.fixture(scope="module")
def serial_store(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("slurm_serial") / "serial"
    res = run_sweep(EXPERIMENT, out, backend="serial", progress=False)
    assert res.stats["failed_this_session"] == 0
    return out


def assert_same(a: Path, b: Path) -> None:
    assert_same_sweep(a, b)


def job_info(job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict (finished jobs stay visible for MinJobAge, 300 s)."""
    res = _run(["scontrol", "show", "job", "-o", str(job_id)])
    assert res.returncode == 0, f"scontrol show job {job_id}: {res.stderr}"
    return dict(tok.split("=", 1) for tok in res.stdout.split() if "=" in tok)


# --- the Python API: SLURMCluster + Client -----------------------------------------------------

def test_sweep_on_slurm_cluster_matches_serial(slurm, serial_store, tmp_path):
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    logs = tmp_path / "logs"
    out = tmp_path / "slurm"
    cluster = SLURMCluster(
        cores=1, processes=1, memory="1GB", walltime="00:10:00", python=sys.executable,
        job_name=JOB_NAME, log_directory=str(logs), local_directory=str(tmp_path / "dask"),
        job_extra_directives=[f"--chdir={tmp_path}"],
        scheduler_options={"dashboard_address": ":0"})
    try:
        cluster.scale(jobs=2)
        with Client(cluster) as client:
            try:
                client.wait_for_workers(2, timeout=120)
            except TimeoutError:
                q = _run(["squeue", "-o", "%i %j %T %R"]).stdout
                pytest.fail(f"the 2 SLURM jobs did not give 2 workers within 120 s:\n{q}")
            job_ids = {job.job_id for job in cluster.workers.values()}
            assert len(job_ids) == 2 and all(job_ids), job_ids

            # the workers are processes inside those SLURM jobs
            env = client.run(lambda: os.environ.get("SLURM_JOB_ID"))
            assert set(env.values()) == job_ids, (env, job_ids)
            pids = client.run(lambda: f"{socket.gethostname()}:{os.getpid()}")
            running = _run(["squeue", "-h", "-n", JOB_NAME, "-t", "RUNNING", "-o", "%i"])
            assert job_ids <= set(running.stdout.split()), running.stdout

            res = run_sweep(EXPERIMENT, out, backend="dask", client=client, progress=False)
            assert res.stats["failed_this_session"] == 0
            assert res.stats["runs_this_session"] == 20
    finally:
        cluster.close()

    assert_same(serial_store, out)
    # every run was computed by one of the SLURM-job workers
    workers = set(read_sweep(out).runs["worker"])
    assert workers and workers <= set(pids.values()), (workers, pids)
    assert f"{socket.gethostname()}:{os.getpid()}" not in workers
    for job_id in job_ids:
        info = job_info(job_id)
        assert info["JobName"] == JOB_NAME and info["NumCPUs"] == "1", info
        assert (logs / f"{JOB_NAME}-{job_id}.err").is_file()


# --- the CLI: gzsim sweep --cluster slurm, configured by DASK_JOBQUEUE__SLURM__* ---------------

def test_cli_sweep_cluster_slurm_from_env(slurm, serial_store, tmp_path):
    logs = tmp_path / "logs"
    out = tmp_path / "slurm_cli"
    env = {**os.environ,
           "DASK_JOBQUEUE__SLURM__CORES": "1", "DASK_JOBQUEUE__SLURM__PROCESSES": "1",
           "DASK_JOBQUEUE__SLURM__MEMORY": "1GB", "DASK_JOBQUEUE__SLURM__WALLTIME": "00:10:00",
           "DASK_JOBQUEUE__SLURM__PYTHON": sys.executable,
           "DASK_JOBQUEUE__SLURM__NAME": JOB_NAME,
           "DASK_JOBQUEUE__SLURM__LOG_DIRECTORY": str(logs),
           "DASK_JOBQUEUE__SLURM__LOCAL_DIRECTORY": str(tmp_path / "dask")}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "gzsim", "sweep", str(EXPERIMENT),
                             "--out", str(out), "--cluster", "slurm", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=tmp_path)
    try:
        stdout, stderr = proc.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        q = _run(["squeue", "-o", "%i %j %T %R"]).stdout
        pytest.fail(f"gzsim sweep --cluster slurm did not finish in 150 s; squeue:\n{q}\n"
                    f"stderr tail: {_tail(stderr, 20)}")
    assert proc.returncode == 0, f"exit {proc.returncode}\n{stdout[-2000:]}\n{stderr[-3000:]}"
    assert time.monotonic() - t0 < 150

    assert_same(serial_store, out)
    workers = set(read_sweep(out).runs["worker"])
    assert workers and f"{socket.gethostname()}:{proc.pid}" not in workers

    # the workers ran as SLURM jobs: dask-jobqueue's job logs, named after the job ids, and the
    # jobs themselves as SLURM still reports them
    err_logs = sorted(logs.glob(f"{JOB_NAME}-*.err"))
    assert err_logs, f"no SLURM job logs in {logs}: workers did not run under SLURM"
    job_ids = [p.stem.rsplit("-", 1)[1] for p in err_logs]
    assert 1 <= len(job_ids) <= 2
    registered = 0
    for job_id, log in zip(job_ids, err_logs, strict=True):
        info = job_info(job_id)
        assert info["JobName"] == JOB_NAME and info["NumCPUs"] == "1", info
        assert info["JobState"] not in ("PENDING", "RUNNING"), info  # cancelled on exit
        registered += "Registered to" in log.read_text()
    assert registered >= 1, "no SLURM job's worker registered with the scheduler"
