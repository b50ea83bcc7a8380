"""What keeps `gzsim run`'s process pool cheap to start: no thread alive when it forks.

A live thread (rich's progress-bar refresher was one) makes the execution layer start workers
from a forkserver, which imports the model again (0.5-0.9 s of a 1.5 s budget, issue 13).
Structural checks only; the timing itself is `benchmarks/bench_run.py`'s.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gzsim.cli.report import progress_bar

REPO = Path(__file__).resolve().parents[1]


def test_progress_bar_starts_no_thread():
    before = threading.active_count()
    with progress_bar("replications", 3) as advance:
        assert threading.active_count() == before
        advance(1, 3)
        advance(3, 3)
        assert threading.active_count() == before


#: modules `gzsim run` does not need, each 0.05-1 s to import: a regression fails here (issue 21)
HEAVY = ("pandas", "matplotlib", "scipy.stats", "scipy.optimize", "scipy.interpolate",
         "scipy.integrate", "scipy.sparse", "sklearn", "statsmodels", "SALib", "pyabc", "dask",
         "distributed", "xarray", "IPython", "panel", "solara", "ema_workbench",
         "gzsim.experiments", "gzsim.calibration", "gzsim.explore", "gzsim.ema")


@pytest.mark.parametrize("events", [False, True])
def test_gzsim_run_imports_no_heavy_module(tmp_path, events):
    """`gzsim run` summarises and writes its arrays without pandas (~0.3 s of imports), draws
    posterior parameters without the calibration package (the reader is in gzsim.io), and
    imports nothing else it does not use (HEAVY); its imports are frozen out of the garbage
    collector and its exit skips the collections of module teardown. With --events too: the
    model (here in the driver: one worker) logs, and the driver writes events.parquet, without
    pandas."""
    import json
    import subprocess
    import sys

    flag = ", '--events'" if events else ""
    code = ("import gc, json, sys\nfrom gzsim.cli import main\nfrozen = gc.get_freeze_count()\n"
            "main(['run', 'scenarios/base.yaml', '-n', '2', '-w', '1', '-q', '--out', "
            f"{str(tmp_path / 'out')!r}{flag}], standalone_mode=False)\n"
            "from gzsim.execution import lifecycle\n"
            f"print(json.dumps({{'loaded': [m for m in {HEAVY!r} if m in sys.modules], "
            "'frozen': frozen, 'exit_frozen': lifecycle._exit_frozen}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["loaded"] == []
    assert got["frozen"] > 10_000 and got["exit_frozen"]
    assert (tmp_path / "out" / "series.parquet").is_file()
    assert (tmp_path / "out" / "events.parquet").is_file() == events


def test_fresh_result_matches_its_frame(base_scenario, tmp_path):
    """A fresh run's arrays (no pandas) and its frame give the same summary, series and files."""
    import gzsim

    res = gzsim.simulate(base_scenario, replications=3, seed=4, workers=1)
    rows = res.summary_rows()
    framed = gzsim.Result(series=res.series, manifest=res.manifest)
    assert rows == framed.summary_rows() and len(rows) > 0
    assert len(res.series) == 3 * base_scenario.time.n_months
    back = gzsim.read_results(res.save(tmp_path / "r"))
    assert back.series.equals(res.series)
    assert back.summary_rows() == rows
    assert (tmp_path / "r" / "summary.csv").read_bytes() == \
        back.summary().to_csv(index=False).encode()
    # without a manifest, every simulated year is a milestone, from arrays or from the frame
    bare_grid, bare_frame = gzsim.Result(grid=res.grid), gzsim.Result(series=res.series)
    years = sorted(int(y) for y in res.series["date"].dt.year.unique())
    assert bare_grid.milestone_years == bare_frame.milestone_years == years
    assert bare_grid.summary_rows() == bare_frame.summary_rows()
