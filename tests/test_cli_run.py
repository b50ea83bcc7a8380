"""`gzsim run` end to end, as a user runs it, and reading the results back."""

from __future__ import annotations

import json

import pandas as pd

import gzsim
from tests.conftest import BASE

SKELETON_INDICATORS = ["investment_usd_m", "committed_usd_m", "firms_operating", "jobs_direct",
                       "jobs_construction", "jobs_indirect", "jobs_created", "employment",
                       "vacancies", "labour_force"]


def test_run_end_to_end(cli, tmp_path):
    out = tmp_path / "res"
    proc = cli("run", BASE, "--replications", "3", "--seed", "5", "--out", out, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert "median [90 % interval]" in proc.stdout
    for f in ("series.parquet", "summary.csv", "manifest.json"):
        assert (out / f).exists()
    series = pd.read_parquet(out / "series.parquet")
    assert list(series.columns[:2]) == ["replication", "date"]
    assert set(SKELETON_INDICATORS) <= set(series.columns)
    assert series["replication"].nunique() == 3
    assert len(series) == 3 * 19 * 12
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 5
    assert manifest["scenario"]["name"] == "base"
    assert {"gzsim", "numpy", "simpy", "python"} <= set(manifest["versions"])
    assert len(manifest["seeds"]) == 3
    summary = pd.read_csv(out / "summary.csv")
    assert {"indicator", "year", "median", "p05", "p95"} <= set(summary.columns)

    back = gzsim.read_results(out)
    pd.testing.assert_frame_equal(back.series, series)
    ds = back.to_xarray()
    assert ds["investment_usd_m"].attrs["units"].startswith("US$")
    # The saved run is reproducible from its manifest alone.
    sc = gzsim.Scenario.model_validate(manifest["scenario"])
    again = gzsim.simulate(sc, replications=3, seed=manifest["root_seed"])
    pd.testing.assert_frame_equal(again.series.reset_index(drop=True),
                                  series.reset_index(drop=True), check_dtype=False)


def test_help_has_examples(cli):
    for cmd in ("run", "check"):
        proc = cli(cmd, "--help")
        assert proc.returncode == 0 and "Example" in proc.stdout
