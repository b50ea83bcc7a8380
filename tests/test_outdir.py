"""The results-folder contract: no writing command loses a user's file (see gzsim.io.outdir)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gzsim.cli.app import calibration_targets, main
from gzsim.io.outdir import MARKER, OutputError, atomic_folder, check_target, place_files
from tests.conftest import BASE, REPO

SHORT = ["--set", "time.end=2013-12", "--set", "time.milestone_years=[2013]"]


def gz(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), \
        r.exception
    return r.exit_code, r.output + (r.stderr if hasattr(r, "stderr") else "")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def users_folder(tmp_path: Path) -> Path:
    d = tmp_path / "mine"
    d.mkdir()
    (d / "summary.csv").write_text("my own work\n")
    (d / "notes.txt").write_text("do not lose me\n")
    return d


# --- gzsim run ------------------------------------------------------------------------------

def test_run_refuses_a_users_folder_and_changes_nothing(tmp_path):
    d = users_folder(tmp_path)
    before = snapshot(d)
    code, out = gz("run", BASE, "-n", "1", "-q", "--out", d, *SHORT)
    assert code == 2
    assert str(d) in out and "not a gzsim run folder" in out and "--out" in out
    assert snapshot(d) == before


def test_run_refuses_a_sweep_folder(tmp_path):
    d = tmp_path / "sweep"
    d.mkdir()
    (d / MARKER).write_text(json.dumps({"kind": "sweep"}))
    (d / "manifest.json").write_text('{"fingerprint": "x"}')
    before = snapshot(d)
    code, out = gz("run", BASE, "-n", "1", "-q", "--out", d, *SHORT)
    assert code == 2 and "gzsim sweep folder, not a run folder" in out
    assert snapshot(d) == before


def test_run_refuses_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    for out in ("", ".", str(tmp_path / "sub" / "..")):
        code, msg = gz("run", BASE, "-n", "1", "-q", "--out", out, *SHORT)
        assert code == 2 and "current folder" in msg, msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_rerun_replaces_the_whole_run_folder_no_stale_failures(tmp_path):
    out = tmp_path / "res"
    assert gz("run", BASE, "-n", "1", "-q", "--out", out, *SHORT)[0] == 0
    (out / "failures.csv").write_text("replication,error\n0,old failure\n")
    assert gz("run", BASE, "-n", "2", "-q", "--out", out, *SHORT)[0] == 0
    assert not (out / "failures.csv").exists()
    assert pd.read_parquet(out / "series.parquet")["replication"].nunique() == 2
    assert json.loads((out / MARKER).read_text())["kind"] == "run"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_out_under_a_file_and_too_long_names_are_messages(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    code, out = gz("run", BASE, "-n", "1", "-q", "--out", f / "sub", *SHORT)
    assert code == 2 and "is a file, not a folder" in out
    code, out = gz("run", BASE, "-n", "1", "-q", "--out", tmp_path / ("n" * 5000), *SHORT)
    assert code == 2 and "too long" in out and "Traceback" not in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_a_message(tmp_path):  # pragma: no cover - CI runs as root
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, out = gz("run", BASE, "-n", "1", "-q", "--out", ro / "res", *SHORT)
        assert code == 2 and "permission denied" in out
    finally:
        ro.chmod(0o755)


def test_oserror_while_writing_becomes_an_output_error(tmp_path, monkeypatch):
    """Read-only folders as root: the rename fails with EACCES and the message says so."""
    import errno

    import gzsim.io.outdir as od

    def deny(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(od, "_swap_in", deny)
    with pytest.raises(OutputError, match="permission denied"), \
            atomic_folder(tmp_path / "x", "run") as tmp:
        (tmp / "a").write_text("1")
    assert not (tmp_path / "x").exists()
    assert list(tmp_path.iterdir()) == []


def test_result_save_onto_a_file_and_with_every_replication_failed(tmp_path):
    import gzsim
    from gzsim.results import Result

    f = tmp_path / "existing.csv"
    f.write_text("mine")
    res = Result(series=pd.DataFrame(columns=["replication", "date"]),
                 manifest={"replications": 2, "failed_replications": [0, 1]},
                 failures=pd.DataFrame({"replication": [0, 1], "error": ["boom", "boom"]}))
    with pytest.raises(gzsim.UserError, match="is a file, not a folder"):
        res.save(f)
    assert f.read_text() == "mine"
    res.save(tmp_path / "failed")
    back = gzsim.read_results(tmp_path / "failed")
    assert back.series.empty and len(back.failures) == 2


# --- gzsim sweep ------------------------------------------------------------------------------

def test_sweep_overwrite_refuses_a_run_folder_before_touching_it(tmp_path):
    out = tmp_path / "res"
    assert gz("run", BASE, "-n", "1", "-q", "--out", out, *SHORT)[0] == 0
    before = snapshot(out)
    code, msg = gz("sweep", REPO / "scenarios/experiments/full_factorial.yaml", "--out", out,
                   "--overwrite", "-q", "--workers", "1")
    assert code == 2 and "run folder, not a sweep folder" in msg
    assert snapshot(out) == before


# --- gzsim compare, plot, sensitivity, calibrate ----------------------------------------------

def test_compare_default_folders_are_unique_and_a_users_folder_is_refused(tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ("compare", BASE, BASE, "-n", "2", "--no-plot", "-w", "1", *SHORT)
    assert gz(*args)[0] == 0
    time.sleep(1.1)
    assert gz(*args)[0] == 0
    made = sorted((tmp_path / "results").iterdir())
    assert len(made) == 2 and all(p.name.startswith("compare-") for p in made)
    d = users_folder(tmp_path)
    before = snapshot(d)
    code, msg = gz(*args, "--out", d)
    assert code == 2 and "not a gzsim comparison folder" in msg
    assert snapshot(d) == before


def test_plot_refuses_a_users_folder(tmp_path):
    out = tmp_path / "res"
    assert gz("run", BASE, "-n", "2", "-q", "--out", out, *SHORT)[0] == 0
    d = users_folder(tmp_path)
    before = snapshot(d)
    code, msg = gz("plot", out, "--out", d, "-i", "employment")
    assert code == 2 and "not a gzsim plots folder" in msg
    assert snapshot(d) == before
    assert gz("plot", out, "-i", "employment")[0] == 0
    assert (out / "plots" / "fan_employment.png").exists()
    assert gz("plot", out, "-i", "jobs_created")[0] == 0  # replaces its own plots folder
    assert sorted(p.name for p in (out / "plots").iterdir() if p.name != MARKER) == \
        ["fan_jobs_created.png", "fan_jobs_created.svg"]


def test_quick_calibration_never_targets_the_calibration_folder():
    spec = REPO / "calibration" / "spec.yaml"
    out = calibration_targets(spec, quick=True, out=None)
    assert out.parent == Path("results") and out.name.startswith("calibration-quick-")
    assert calibration_targets(spec, quick=False, out=None) == spec.parent  # the full fit


def test_calibration_files_replace_only_owned_files(tmp_path):
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "report.md").write_text("new")
    shared = tmp_path / "calibration"
    shared.mkdir()
    (shared / "targets.yaml").write_text("mine")
    (shared / "report.md").write_text("my own report")
    with pytest.raises(OutputError, match="not written by gzsim"):
        place_files(stage, shared, "calibration")
    assert (shared / "report.md").read_text() == "my own report"
    (shared / "report.md").unlink()
    place_files(stage, shared, "calibration")
    place_files(stage, shared, "calibration")  # now listed in the marker: replaced
    assert (shared / "report.md").read_text() == "new"
    assert (shared / "targets.yaml").read_text() == "mine"
    assert json.loads((shared / MARKER).read_text())["files"] == ["report.md"]
    with pytest.raises(OutputError):  # a folder shared with user files is never replaced whole
        check_target(shared, "calibration")


def test_sensitivity_writes_only_into_a_sweep_folder(tmp_path):
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "sensitivity_x.csv").write_text("a")
    run = tmp_path / "run"
    run.mkdir()
    (run / MARKER).write_text(json.dumps({"kind": "run"}))
    with pytest.raises(OutputError, match="run folder, not a sweep folder"):
        place_files(stage, run, "sweep")


# --- crash consistency ------------------------------------------------------------------------

CRASHER = """
import sys, time
from pathlib import Path
import pandas as pd
import gzsim.io.fileio as fio
import gzsim.results as results
from gzsim.results import Result

out = Path(sys.argv[1])
def res(tag, n):
    return Result(series=pd.DataFrame({"replication": list(range(n)),
                                       "date": pd.to_datetime(["2012-01-01"] * n),
                                       "employment": [1.0] * n}),
                  manifest={"tag": tag})
res("old", 2).save(out)
real = fio.atomic_write_bytes
def slow(path, data):
    real(path, data)
    if path.name == "summary.csv":
        Path(sys.argv[2]).write_text("writing")
        time.sleep(60)
results.atomic_write_bytes = slow
res("new", 3).save(out)
"""


def test_a_run_killed_mid_write_leaves_the_old_results_whole(tmp_path):
    out, flag = tmp_path / "res", tmp_path / "flag"
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(out), str(flag)], cwd=REPO)
    try:
        for _ in range(600):
            if flag.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert flag.exists(), "the writer never reached the middle of its write"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert json.loads((out / "manifest.json").read_text()) == {"tag": "old"}
    assert len(pd.read_parquet(out / "series.parquet")) == 2
    # the next save into the same folder succeeds and replaces it whole
    from gzsim.results import Result

    stale = [p for p in tmp_path.iterdir() if p.name.endswith(".gzsim-tmp")]
    assert len(stale) == 1  # the killed writer's half-built folder, beside the target
    Result(series=pd.DataFrame(columns=["replication", "date"]), manifest={"tag": "next"}) \
        .save(out)
    assert json.loads((out / "manifest.json").read_text()) == {"tag": "next"}
    assert not stale[0].exists()  # removed: its process is gone


def test_sensitivity_and_calibrate_refuse_a_users_folder_before_running(tmp_path):
    d = users_folder(tmp_path)
    (d / "report.md").write_text("my report")
    before = snapshot(d)
    code, msg = gz("sensitivity", REPO / "scenarios/experiments/morris.yaml", "--out", d, "-q")
    assert code == 2 and "not a gzsim sweep folder" in msg
    code, msg = gz("calibrate", REPO / "calibration/spec.yaml", "--quick", "--out", d)
    assert code == 2 and "report.md" in msg and "not written by gzsim" in msg
    assert snapshot(d) == before
