"""`gzsim sweep` from the command line as a user runs it: shards, resume, errors."""

from __future__ import annotations

from gzsim.experiments import read_sweep
from tests.conftest import REPO, SCENARIOS

LHS = SCENARIOS / "experiments" / "lhs.yaml"


def test_sweep_in_two_shards_then_resume_completes_the_store(cli, tmp_path):
    out = tmp_path / "lhs"
    first = cli("sweep", LHS, "--out", out, "--shard", "0/2", "--workers", "1", "-q")
    assert first.returncode == 0, first.stderr
    part = read_sweep(out)
    assert 0 < (part.runs["status"] == "ok").sum() < len(part.runs) + len(part.missing)
    assert not part.complete

    second = cli("sweep", LHS, "--out", out, "--shard", "1/2", "--workers", "1", "-q")
    assert second.returncode == 0, second.stderr
    sw = read_sweep(out)
    assert sw.complete
    assert len(sw.runs) == 16 and (sw.runs["status"] == "ok").all()
    assert sw.runs["run_id"].is_unique

    again = cli("sweep", LHS, "--out", out, "--workers", "1")  # a rerun resumes
    assert again.returncode == 0, again.stderr
    assert "0 this session" in again.stdout
    assert "backend" not in again.stdout  # nothing ran: no empty 'backend │ :' row
    assert read_sweep(out).runs.equals(sw.runs)


def test_bad_experiment_and_bad_shard_are_user_errors(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(LHS.read_text().replace("investment.growth_rate_per_year",
                                           "investment.growth_rate")
                   .replace("../base.yaml", str(SCENARIOS / "base.yaml")))
    res = cli("sweep", bad, "--out", tmp_path / "o")
    assert res.returncode == 2
    assert "investment.growth_rate" in res.stderr and "Traceback" not in res.stderr
    res = cli("sweep", LHS, "--out", tmp_path / "o", "--shard", "3/2")
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_sensitivity_over_posterior_parameters_end_to_end(cli, tmp_path):
    """The posterior example runs through `gzsim sensitivity` (short horizon) and says where
    its ranges came from; a bad posterior path is a located user error."""
    import json

    import pandas as pd

    example = SCENARIOS / "experiments" / "sobol_posterior.yaml"
    out = tmp_path / "sp"
    res = cli("sensitivity", example, "-i", "poor_people_2018", "--out", out,
              "--set", "time.end=2025-12", "--workers", "1", "-q")
    assert res.returncode == 0, res.stderr
    sw = read_sweep(out)
    from gzsim.io.posterior import read_posterior

    lever_and_posterior = 1 + len(read_posterior(REPO / "calibration" / "posterior.parquet").paths)
    assert sw.complete and len(sw.runs) == 4 * (lever_and_posterior + 2)  # Saltelli, N = 4
    assert (sw.runs["status"] == "ok").all()
    src = json.loads((out / "manifest.json").read_text())["experiment"]["posterior_factors"]
    assert src["posterior"].endswith("posterior.parquet") and len(src["sha256"]) == 64
    indices = pd.read_csv(out / "sensitivity_poor_people_2018.csv")
    assert "poverty.growth_elasticity" in set(indices.iloc[:, 0])

    bad = tmp_path / "bad.yaml"
    bad.write_text(example.read_text().replace("level: 0.9 ", "paths: [jobs.nope]")
                   .replace("../base.yaml", str(SCENARIOS / "base.yaml")))
    res = cli("sweep", bad, "--out", tmp_path / "o")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1)
                if "jobs.nope" in text)
    assert f"bad.yaml:{line}" in res.stderr and "no posterior for jobs.nope" in res.stderr
