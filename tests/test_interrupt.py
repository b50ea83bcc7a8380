"""Fault injection: SIGINT, SIGTERM and SIGKILL at random moments of a sweep, a run, a
comparison and a calibration.

Each interrupted driver must stop promptly, leave no worker process alive (checked by pid:
every descendant of the driver seen before the signal), release the sweep's lock, and a rerun
must say whether it resumes or starts clean and finish with exactly what an uninterrupted run
gives. The moments are drawn from a seeded generator over the uninterrupted run's duration.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from gzsim.execution.lifecycle import POLL_S, Interrupted, terminating
from gzsim.execution.loop import ExecutionOptions, dask_client
from gzsim.experiments import read_sweep
from gzsim.experiments.store import SweepStore
from tests.conftest import REPO, SCENARIOS, assert_same_sweep

psutil = pytest.importorskip("psutil")

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)

SWEEP = """
import functools, sys
from gzsim.cli.app import user_errors
from gzsim.experiments import run_sweep
from gzsim.execution.standin import standin_model

@user_errors
def main():
    run_sweep(sys.argv[1], sys.argv[2], backend="processes", workers=2, progress=True,
              run_fn=functools.partial(standin_model, sleep_s=0.04), batch_size=2)

main()
"""


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    """5 x 4 points x 2 replications = 40 runs of the stand-in model (about 1 s on 2 workers)."""
    p = tmp_path_factory.mktemp("interrupt") / "exp.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: interrupt
        base: {SCENARIOS / 'base.yaml'}
        seed: 3
        replications: 2
        factors:
          investment.growth_rate_per_year: {{range: [0.05, 0.15], levels: 5}}
          investment.realisation_share: {{levels: [0.4, 0.5, 0.6, 0.7]}}
        design: {{kind: full_factorial}}
        outcomes:
          series: [employment, jobs_created]
          scalars: [{{name: jobs_2014, indicator: jobs_created, year: 2014}}]
        set: {{time.end: 2015-12}}
        """))
    return p


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def descendants(pid: int) -> set[int]:
    try:
        return {c.pid for c in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.add(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def interrupt(proc: subprocess.Popen, sig: int, delay_s: float) -> tuple[set[int], str]:
    """Send ``sig`` ``delay_s`` after the driver's workers are up (SIGKILL: after its start).

    Return the worker pids seen and the driver's stderr. (Before gzsim's command starts, while
    Python imports it, SIGINT and SIGTERM have Python's default effect: nothing has started.)
    """
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    seen: set[int] = set()
    started = None
    while proc.poll() is None:
        seen |= descendants(proc.pid)
        begun = {"run", "compare"} & set(proc.args) or any(  # the others say when they begin
            ln.startswith(("gzsim: starting", "gzsim: resuming")) for ln in lines)
        if started is None and (sig == signal.SIGKILL or (seen and begun)):
            started = time.monotonic()
        if started is not None and time.monotonic() - started >= delay_s:
            proc.send_signal(sig)
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    reader.join(timeout=10)
    return seen, "".join(lines)


def assert_no_survivor(pids: set[int]) -> None:
    """Every worker is gone within a few watchdog periods (no orphan, no stale lock)."""
    deadline = time.monotonic() + 10 * POLL_S + 2
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = alive(pids)
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"worker process(es) {sorted(left)} survived their driver"


@pytest.fixture(scope="module")
def reference(experiment, tmp_path_factory) -> tuple[Path, float]:
    out = tmp_path_factory.mktemp("interrupt") / "ref"
    t0 = time.monotonic()
    proc = start(["-c", SWEEP, str(experiment), str(out)])
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out, time.monotonic() - t0


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_sweep_interrupted_at_a_random_moment_then_rerun(sig, experiment, reference, tmp_path):
    ref, duration = reference
    rng = random.Random(int(sig))
    out = tmp_path / "sweep"
    for _ in range(2):  # two interruptions of the same folder, then a rerun to the end
        proc = start(["-c", SWEEP, str(experiment), str(out)])
        seen, err = interrupt(proc, sig, rng.uniform(0.0, 0.6 * duration))
        assert "Traceback" not in err, err
        if proc.returncode == -sig and sig != signal.SIGKILL:  # at the exit, once done
            assert read_sweep(out).complete, err
        elif sig != signal.SIGKILL and proc.returncode != 0:
            assert proc.returncode == 128 + sig and "interrupted" in err, err
        assert_no_survivor(seen)
    proc = start(["-c", SWEEP, str(experiment), str(out)])
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err  # the lock was released: the rerun is not refused
    assert "resuming" in err or "starting clean" in err, err
    assert_same_sweep(ref, out)
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["status"]) == {"ok"}
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def gzsim_run(out: Path) -> list[str]:
    return ["-m", "gzsim", "run", str(SCENARIOS / "base.yaml"), "-n", "4", "--seed", "5",
            "--workers", "2", "-q", "--out", str(out), "--set", "time.end=2016-12"]


def test_run_interrupted_at_random_moments_leaves_nothing_half_written(tmp_path):
    ref = tmp_path / "ref"
    t0 = time.monotonic()
    proc = start(gzsim_run(ref))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    duration = time.monotonic() - t0
    rng = random.Random(7)
    for sig in SIGNALS:
        out = tmp_path / f"run-{signal.Signals(sig).name}"
        proc = start(gzsim_run(out))
        seen, err = interrupt(proc, sig, rng.uniform(0.0, 0.5 * duration))
        assert "Traceback" not in err, err
        assert_no_survivor(seen)
        if proc.returncode != 0:  # interrupted: the folder is absent, never half written
            assert not out.exists() or (out / "manifest.json").exists()
        proc = start(gzsim_run(out))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        pd.testing.assert_frame_equal(pd.read_parquet(ref / "series.parquet"),
                                      pd.read_parquet(out / "series.parquet"))
        assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".gzsim-tmp")]


HANG = """
import functools, sys
from gzsim.cli.app import user_errors
from gzsim.experiments import run_sweep
from gzsim.execution.standin import standin_model

user_errors(lambda: run_sweep(
    sys.argv[1], sys.argv[2], backend="processes", workers=2, progress=False,
    run_fn=functools.partial(standin_model, sleep_s=float(sys.argv[3])), batch_size=2))()
"""


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_busy_workers_stop_at_once_and_free_the_folder(sig, experiment, tmp_path):
    """Workers in the middle of a long batch (60 s) are gone within a second or so of the
    signal to their driver (SIGKILL: within watchdog periods), and a new session may use the
    folder at once (no lock held by an orphan)."""
    out = tmp_path / "busy"
    proc = start(["-c", HANG, str(experiment), str(out), "60"])
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    while len(seen) < 2 and time.monotonic() < deadline:  # both workers started
        seen |= descendants(proc.pid)
        time.sleep(0.05)
    time.sleep(0.5)  # each now in the middle of its first run
    t_signal = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - t_signal < 5, "the driver did not stop promptly"
    assert proc.returncode == (-sig if sig == signal.SIGKILL else 128 + sig), err
    store = SweepStore(out)
    store.lock(None)  # at once: not "another gzsim session is already computing a sweep"
    store.unlock()
    t0 = time.monotonic()
    while alive(seen) and time.monotonic() - t0 < 2 * POLL_S:
        time.sleep(0.02)
    assert_no_survivor(seen)


def gzsim_compare(out: Path) -> list[str]:
    return ["-m", "gzsim", "compare", str(SCENARIOS / "policy_tax_incentives.yaml"), "-n", "4",
            "--seed", "5", "--workers", "2", "-q", "--no-plot", "--out", str(out),
            "--set", "time.end=2016-12"]


@pytest.mark.faults
@pytest.mark.slow
def test_compare_interrupted_at_random_moments_then_rerun(tmp_path):
    """A comparison is written whole or not at all: an interrupted one leaves no folder (nor a
    temporary one), no worker, and its rerun starts clean and gives the uninterrupted tables."""
    ref = tmp_path / "ref"
    t0 = time.monotonic()
    proc = start(gzsim_compare(ref))
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    duration = time.monotonic() - t0
    rng = random.Random(11)
    for sig in SIGNALS:
        out = tmp_path / f"cmp-{signal.Signals(sig).name}"
        proc = start(gzsim_compare(out))
        seen, err = interrupt(proc, sig, rng.uniform(0.0, 0.6 * duration))
        assert "Traceback" not in err, err
        if proc.returncode == -sig and sig != signal.SIGKILL:  # at the exit, once written
            assert (out / "comparison.csv").exists(), err
        elif sig != signal.SIGKILL and proc.returncode != 0:
            assert proc.returncode == 128 + sig and "redoes" in err, err
        assert_no_survivor(seen)
        if proc.returncode != 0:  # interrupted: the folder is absent, never half written
            assert not out.exists() or (out / "comparison.csv").exists()
        proc = start(gzsim_compare(out))
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        for name in ("comparison.csv", "headline.csv"):
            pd.testing.assert_frame_equal(pd.read_csv(ref / name), pd.read_csv(out / name))
        assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".gzsim-tmp")]


@pytest.fixture(scope="module")
def calibration_spec(tmp_path_factory) -> Path:
    """The two-parameter problem of tests/test_calibration.py, its quick budget tiny."""
    import yaml

    from tests.test_calibration import small_problem

    spec = small_problem(tmp_path_factory.mktemp("cal") / "spec", population=12, generations=3)
    doc = yaml.safe_load(spec.read_text())
    doc["quick"] = {**doc["full"], "predictive_draws": 4}
    spec.write_text(yaml.safe_dump(doc))
    return spec


def gzsim_calibrate(spec: Path, out: Path) -> list[str]:
    return ["-m", "gzsim", "calibrate", str(spec), "--quick", "--out", str(out), "-w", "2"]


@pytest.fixture(scope="module")
def calibration_reference(calibration_spec, tmp_path_factory) -> tuple[Path, float]:
    """An uninterrupted calibration and how long it took."""
    ref = tmp_path_factory.mktemp("cal") / "ref"
    t0 = time.monotonic()
    proc = start(gzsim_calibrate(calibration_spec, ref))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return ref, time.monotonic() - t0


def generations(db: Path) -> list[tuple]:
    """(t, epsilon, samples) of each generation committed to pyabc's database."""
    import contextlib
    import sqlite3

    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
            return c.execute("SELECT t, epsilon, nr_samples FROM populations WHERE t >= 0 "
                             "ORDER BY t").fetchall()
    except sqlite3.Error:  # killed while the database was being created
        return []


@pytest.mark.faults
@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_calibrate_interrupted_at_a_random_moment_then_resumed(sig, calibration_spec,
                                                               calibration_reference, tmp_path):
    """Two interruptions of one calibration folder, then a rerun to the end.

    What holds (pyabc's multi-core sampler is not bit-reproducible, so the final posterior is
    not compared with an uninterrupted run's): no worker survives; the folder is never locked
    by the dead session; each rerun says whether it resumes (after how many generations) or
    starts clean, and a resumed one keeps every generation committed before, unchanged; the
    final posterior is complete (the budget's particles, weights summing to 1) and of the same
    problem (fingerprint) as an uninterrupted run's.
    """
    from gzsim.io.posterior import read_posterior

    ref, duration = calibration_reference
    rng = random.Random(int(sig) + 100)
    out = tmp_path / "out"
    for attempt in range(3):  # two interruptions, then a rerun to the end
        before = generations(out / "abc.db")
        proc = start(gzsim_calibrate(calibration_spec, out))
        if attempt < 2:
            seen, err = interrupt(proc, sig, rng.uniform(0.0, 0.8 * duration))
            assert_no_survivor(seen)
        else:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
        assert "Traceback" not in err and "already computing" not in err, err
        if proc.returncode == -sig and sig != signal.SIGKILL:  # at the exit, once written
            assert (out / "posterior.parquet").exists(), err
        elif sig != signal.SIGKILL and proc.returncode not in (0, None):
            assert proc.returncode == 128 + sig and "resum" in err, err
        said = [ln for ln in err.splitlines() if ln.startswith(("gzsim: resuming",
                                                                 "gzsim: starting clean"))]
        if attempt == 2:
            assert said, err  # a session that got going says which
        if said and before:  # resumes, says after which generation, keeps what was committed
            assert said[0] == f"gzsim: resuming {out / 'abc.db'} after generation " \
                f"{len(before) - 1} ({len(before)} done)", err
        elif said:
            assert said[0].startswith("gzsim: starting clean"), err
        assert generations(out / "abc.db")[:len(before)] == before
    post, want = read_posterior(out / "posterior.parquet"), read_posterior(
        ref / "posterior.parquet")
    assert len(post.particles) == 12 and np.isclose(post.weights.sum(), 1)
    assert post.meta["fingerprint"] == want.meta["fingerprint"]
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


DASK = """
import functools, sys
from gzsim.cli.app import user_errors
from gzsim.experiments import run_sweep
from gzsim.execution.standin import standin_model

user_errors(lambda: run_sweep(
    sys.argv[1], sys.argv[2], backend="dask", workers=2, progress=False,
    run_fn=functools.partial(standin_model, sleep_s=float(sys.argv[3])), batch_size=2))()
"""


@pytest.mark.faults
@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_dask_local_cluster_dies_with_its_driver(sig, experiment, tmp_path):
    """A sweep on a Dask LocalCluster (nanny and worker processes), its workers busy: after
    SIGINT, SIGTERM or SIGKILL of the driver no nanny or worker survives (Dask's own parent
    monitor, and gzsim closing the cluster on the way out), and the folder is free at once."""
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    proc = start(["-c", DASK, str(experiment), str(out), "30"])
    seen: set[int] = set()
    deadline = time.monotonic() + 90
    while len(seen) < 3 and time.monotonic() < deadline and proc.poll() is None:
        seen |= descendants(proc.pid)  # two worker processes (their nannies run in the
        time.sleep(0.1)  # driver) and multiprocessing's resource tracker
    assert len(seen) >= 3, f"the cluster did not start: {seen}"
    time.sleep(1.0)  # the workers are in the middle of their first runs
    seen |= descendants(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert proc.returncode == (-sig if sig == signal.SIGKILL else 128 + sig), err
    assert_no_survivor(seen)
    store = SweepStore(out)
    store.lock(None)  # not "another gzsim session is already computing a sweep"
    store.unlock()


@pytest.fixture
def python_signal_handlers():
    """SIGINT and SIGTERM as a fresh Python process has them, for the in-process tests below
    (whatever an earlier test or a library imported by it left; restored afterwards)."""
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for s, h in old.items():
        signal.signal(s, h)


@pytest.mark.usefixtures("python_signal_handlers")
@pytest.mark.parametrize("sig", SIGNALS[:2], ids=lambda s: signal.Signals(s).name)
def test_a_signal_while_the_dask_cluster_starts_acts_once_it_can_be_closed(sig, monkeypatch):
    """Ctrl-C or SIGTERM in the middle of a LocalCluster's start-up (a loaded machine takes
    seconds): distributed does not close a cluster interrupted in its constructor, and its
    ``atexit`` hook then fails on the half-started workers with a traceback. The signal is
    held until the cluster and its client exist, then acts, and both are closed. A stand-in
    cluster receives the signal inside its constructor, every time."""
    distributed = pytest.importorskip("distributed")

    events: list[str] = []

    class Managed:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            events.append(f"{type(self).__name__} closed")

    class StartingCluster(Managed):
        def __init__(self, **kw):
            signal.raise_signal(sig)  # arrives while the workers start
            events.append("cluster started")

    class StandInClient(Managed):
        def __init__(self, cluster):
            events.append("client started")

        def nthreads(self):
            return {"w0": 1, "w1": 1}

    monkeypatch.setattr(distributed, "LocalCluster", StartingCluster)
    monkeypatch.setattr(distributed, "Client", StandInClient)
    with terminating(), pytest.raises(Interrupted if sig == signal.SIGTERM else KeyboardInterrupt):
        with dask_client(ExecutionOptions(backend="dask", workers=2)):
            events.append("used")
    assert events == ["cluster started", "client started", "StandInClient closed",
                      "StartingCluster closed"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


LATE_WORKERS = """
import os, time
from gzsim.execution import loop

DRIVER = os.getpid()
pool = loop._process_pool(2)  # forked workers (this driver has no other thread)
initializer, initargs = pool._initializer, pool._initargs


def after_the_driver_died(*args):
    while os.getppid() == DRIVER:  # the driver is killed before the worker is set up
        time.sleep(0.01)
    initializer(*args)


pool._initializer = after_the_driver_died
pool.submit(int, "1")
print("forked", flush=True)
time.sleep(60)
"""


def test_workers_of_a_driver_killed_before_they_are_set_up_exit_too(tmp_path):
    """A driver killed (SIGKILL) between forking its pool's workers and their initializer (on a
    loaded machine a forked worker may wait tens of ms to run): the workers were re-parented
    before their watchdog noted their parent, so a watchdog that waits for the parent to
    change waits forever, and the worker blocks on its task queue for good (holding any lock
    file it inherited). The watchdog also checks that the driver, whose pid the pool passes,
    still exists. The initializer here runs only once its driver is dead, every time."""
    proc = subprocess.Popen([sys.executable, "-c", LATE_WORKERS], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "forked\n", proc.stderr.read()
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    while len(seen) < 2 and time.monotonic() < deadline:
        seen |= descendants(proc.pid)
        time.sleep(0.02)
    assert len(seen) == 2, seen
    proc.kill()  # reaped only once its pipes close: the workers must not wait for that
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=10 * POLL_S + 2)
    assert_no_survivor(seen)
    proc.communicate(timeout=30)


@pytest.mark.usefixtures("python_signal_handlers")
@pytest.mark.parametrize("sig", SIGNALS[:2], ids=lambda s: signal.Signals(s).name)
def test_an_interruption_that_lands_in_a_finalizer_still_interrupts(sig, capsys):
    """Python runs a signal's handler wherever the main thread is, also in a ``__del__`` or a
    weakref callback (SQLAlchemy's, under pyabc, run all the time), and drops what it raises
    there after printing "Exception ignored ... Traceback ... KeyboardInterrupt": the
    calibration then ran to its end (test_calibrate_interrupted_at_a_random_moment_then_resumed,
    SIGINT, 1 run in 2 under load). Within a command the signal is delivered again. A
    finalizer receives the signal here, every time."""

    class Finalized:
        def __del__(self):
            signal.raise_signal(sig)  # its handler runs inside the finalizer

    went_on = []
    with pytest.raises(Interrupted if sig == signal.SIGTERM else KeyboardInterrupt), \
            terminating():
        Finalized()  # collected at once
        for _ in range(300):  # the command goes on: it must be interrupted
            time.sleep(0.01)
        went_on.append(True)
    assert not went_on
    assert "Exception ignored" not in capsys.readouterr().err


def test_an_interruption_in_pyabcs_database_commit_stays_an_interruption(tmp_path,
                                                                         monkeypatch):
    """Ctrl-C in the middle of a generation's commit to abc.db: SQLAlchemy rolls the session
    back, pyabc's clean-up (``ABCSMC.run`` closes its history in a ``finally``) then raises
    PendingRollbackError, and the interruption used to end in that traceback (exit 1; seen in
    test_calibrate_interrupted_at_a_random_moment_then_resumed[SIGINT] under load). A
    stand-in ABCSMC, wrapped in pyabc's own clean-up, is interrupted in its commit every time."""
    pytest.importorskip("pyabc")
    from pyabc.inference.smc import run_cleanup

    import gzsim.calibration.abc as abc_mod
    from gzsim.calibration.problem import build_problem
    from tests.test_calibration import small_problem

    class PendingRollbackError(Exception):
        pass

    class History:
        def done(self, end_time=None):
            raise PendingRollbackError("This Session's transaction has been rolled back")

    class InterruptedInACommit:
        history, sampler = History(), SimpleNamespace(stop=lambda: None)

        def new(self, *args, **kwargs):
            pass

        @run_cleanup
        def run(self, **kwargs):
            raise KeyboardInterrupt  # while the generation is being committed

    monkeypatch.setattr(abc_mod, "_make_abc", lambda problem, workers: InterruptedInACommit())
    problem = build_problem(small_problem(tmp_path / "spec", population=10, generations=1))
    with pytest.raises(KeyboardInterrupt):
        abc_mod.run_abc(problem, tmp_path / "out")


STOPPED_BEFORE_SET_UP = """
import sys, time
from gzsim.execution import loop
from gzsim.execution.lifecycle import stop_pool, terminating

with terminating():  # as every gzsim command's driver
    pool = loop._process_pool(2)
    pool._initializer = lambda *args: time.sleep(30)  # the workers are not set up yet
    pool.submit(int, "1")
    time.sleep(0.3)
    stop_pool(pool)  # as an interrupted driver does: SIGTERM to its workers
print("stopped", file=sys.stderr)
"""


def test_workers_stopped_before_their_set_up_end_quietly():
    """A worker is forked with its driver's signal handlers; its own (SIGTERM ends it, SIGINT
    is its driver's business) were set only by its initializer. A driver interrupted while its
    pool starts stops workers still in that window: each raised the driver's Interrupted and
    printed its traceback onto the driver's stderr ("Exception in initializer: Traceback").
    The handlers are now reset at the fork. The workers here never get past that window."""
    proc = subprocess.run([sys.executable, "-c", STOPPED_BEFORE_SET_UP], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr.endswith("stopped\n"), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.usefixtures("python_signal_handlers")
@pytest.mark.parametrize("sig", SIGNALS[:2], ids=lambda s: signal.Signals(s).name)
def test_an_interruption_turned_into_another_error_stays_an_interruption(sig):
    """C code interrupted by a signal may report another error and drop the interruption:
    matplotlib's SVG path converter raised ``ValueError: Invalid affine transformation
    matrix`` when SIGTERM reached `gzsim calibrate` drawing its figures (a traceback, exit 1;
    1 of 14 SIGTERMs under load). An error that ends a command which received the signal is
    raised as the interruption. Here the signal always lands in such code."""

    def drawing():  # as the C++ converter does with the interruption it receives
        try:
            signal.raise_signal(sig)
        except KeyboardInterrupt:
            pass
        raise ValueError("Invalid affine transformation matrix")

    with pytest.raises(Interrupted if sig == signal.SIGTERM else KeyboardInterrupt), \
            terminating():
        drawing()
    with pytest.raises(ValueError), terminating():  # the next command, no signal: the error
        raise ValueError("Invalid affine transformation matrix")


def test_a_database_killed_before_its_first_population_is_started_clean(tmp_path):
    """SIGKILL inside pyabc's ABCSMC.new(): abc.db holds the run but not even its
    pre-calibration population, so pyabc's History.max_t is None; the rerun refused the folder
    as a 'damaged pyabc database' (exit 2; test_calibrate_interrupted_at_a_random_moment_then_
    resumed[SIGKILL], once in the merged branch's run). It holds nothing to keep: the rerun
    starts clean. The population rows are removed here, as the kill left them."""
    pytest.importorskip("pyabc")
    import sqlite3

    import gzsim.calibration.abc as abc_mod
    from gzsim.calibration.problem import build_problem
    from tests.test_calibration import small_problem

    problem = build_problem(small_problem(tmp_path / "spec", population=10, generations=1))
    db = tmp_path / "abc.db"
    url, fp = f"sqlite:///{db}", abc_mod.fingerprint(problem)
    abc_mod._make_abc(problem, 1).new(url, problem.observed, meta_info={"fingerprint": fp})
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute("DELETE FROM populations")
        c.commit()
    assert abc_mod._resume(abc_mod._make_abc(problem, 1), db, url, fp) is None
    assert not db.exists()  # removed: the run starts clean
