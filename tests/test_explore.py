"""The explorer's logic without a browser: lever fields, located errors, paired runs, the cache,
cancellation and the download folder that reproduces the page's answer with `gzsim compare`."""

from __future__ import annotations

import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from gzsim.errors import ScenarioError, UserError
from gzsim.explore.levers import PolicyForm, lever_fields, load_policy
from gzsim.explore.session import Cancelled, Request, ResultCache, result_key, run_paired
from gzsim.scenario import load_scenario
from gzsim.scenario.schema import Levers
from tests.conftest import BASE, REPO, SCENARIOS

N = 3  # replications: enough to pair, cheap


def form(**levers: str) -> PolicyForm:
    return PolicyForm(name="tax", start="2018-01", end="2025-12",
                      indicators=("investment_usd_m", "employment"),
                      levers=tuple(levers.items()))


def test_lever_fields_carry_units_and_the_schemas_bounds():
    fields = {f.name: f for f in lever_fields()}
    assert set(fields) == set(Levers.model_fields)
    share = fields["tax_incentive_share"]
    assert (share.low, share.high, share.kind) == (0, 1, "number")
    assert "share" in share.label and "0 to 1" in share.label
    pollution = fields["max_pollution_class"]
    assert (pollution.low, pollution.high, pollution.kind) == (0, 5, "integer")
    mult = fields["land_budget_multiplier"]
    assert (mult.low, mult.high) == (0, None) and "≥ 0" in mult.label and "×" in mult.label
    assert fields["sector_weight_multipliers"].kind == "mapping"
    assert "per year" in fields["training_places_per_year"].label


def test_a_lever_form_is_a_scenario_file_that_extends_the_baseline(tmp_path):
    base = load_scenario(BASE)
    sc, path = load_policy(form(tax_incentive_share="0.3"), BASE, base, tmp_path)
    shipped = load_scenario(SCENARIOS / "policy_tax_incentives.yaml")
    assert sc.policies[-1].levers == shipped.policies[-1].levers
    assert sc.policies[-1].start == "2018-01" and sc.policies[-1].end == "2025-12"
    assert path.is_file() and path.is_relative_to(tmp_path)
    assert load_scenario(path) == sc  # the file alone gives the same scenario


@pytest.mark.parametrize("text", ["1.5", "abc", "-0.1", "true"])
def test_a_bad_lever_gets_the_clis_located_message(tmp_path, cli, text):
    base = load_scenario(BASE)
    with pytest.raises(ScenarioError) as e:
        load_policy(form(tax_incentive_share=text), BASE, base, tmp_path)
    msg = str(e.value)
    assert "field 'policies.0.levers.tax_incentive_share'" in msg
    written = next(tmp_path.rglob("*.yaml"))
    assert f"{written}:" in msg  # the file and its line
    proc = cli("check", written)
    assert proc.returncode == 2
    assert msg in proc.stderr  # word for word what the CLI says about the same file


@pytest.mark.parametrize("text", ["!!python/object/apply:os.system ['touch pwned']",
                                  "1\nrun: {seed: 3}", "{a: 1}", "&x [*x]"])
def test_typed_text_is_data_never_code(tmp_path, text, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = load_scenario(BASE)
    with pytest.raises(UserError):
        load_policy(form(tax_incentive_share=text), BASE, base, tmp_path / "scen")
    assert not (tmp_path / "pwned").exists()


def test_replications_and_seed_are_checked_before_anything_runs(tmp_path):
    base = load_scenario(BASE)
    pol = load_scenario(SCENARIOS / "policy_training.yaml")
    cache = ResultCache(tmp_path)
    for req in [Request(base, [pol], replications=1), Request(base, [pol], replications=0),
                Request(base, [pol], seed=-1), Request(base, [])]:
        with pytest.raises(UserError):
            run_paired(req, cache, workers=1)
    assert not (tmp_path / "runs").exists()


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    """One paired run of the tax incentive policy (seed 11), cached under a temporary folder."""
    folder = tmp_path_factory.mktemp("explore-cache")
    base = load_scenario(BASE)
    pol_path = SCENARIOS / "policy_tax_incentives.yaml"
    req = Request(base, [load_scenario(pol_path)], replications=N, seed=11,
                  files={"base": BASE, "policy_tax_incentives": pol_path})
    seen = []
    cmp = run_paired(req, ResultCache(folder), progress=lambda d, t: seen.append((d, t)),
                     workers=1)
    return req, cmp, folder, seen


def test_the_page_pairs_as_gzsim_compare_does(paired):
    from gzsim.analysis.compare import compare

    req, cmp, _, seen = paired
    ref = compare(req.baseline, req.policies, replications=N, seed=11, workers=1)
    pd.testing.assert_frame_equal(cmp.table, ref.table)
    pd.testing.assert_frame_equal(cmp.headline(), ref.headline())
    assert seen[-1] == (2 * N, 2 * N) and all(d <= t for d, t in seen)


def test_results_are_cached_by_scenario_hash_and_seed(paired, monkeypatch):
    import gzsim.explore.session as session

    req, cmp, folder, _ = paired
    calls = []
    monkeypatch.setattr(session, "simulate", lambda *a, **k: calls.append(a) or 1 / 0)
    again = run_paired(req, ResultCache(folder), workers=1)  # a new server: from disk
    assert calls == []
    pd.testing.assert_frame_equal(again.headline(), cmp.headline())
    key = result_key(req.baseline, N, 11, "posterior")
    assert key != result_key(req.baseline, N, 11, "posterior", "fixed")
    assert key != result_key(req.baseline, N, 12, "posterior")
    assert key != result_key(req.policies[0], N, 11, "posterior")
    assert key != result_key(req.baseline, N, 11, "noise")
    assert (folder / "runs" / key / "series.parquet").is_file()


def test_cancel_stops_the_run_and_caches_only_finished_scenarios(tmp_path):
    base = load_scenario(BASE)
    pol = load_scenario(SCENARIOS / "policy_training.yaml")
    cancel = threading.Event()

    def progress(done, total):
        if done >= 2:  # during the baseline
            cancel.set()

    with pytest.raises(Cancelled):
        run_paired(Request(base, [pol], replications=8, seed=5), ResultCache(tmp_path),
                   progress=progress, cancel=cancel, workers=1)
    runs = tmp_path / "runs"
    assert not runs.exists() or not [p for p in runs.iterdir() if not p.name.startswith(".")]


def test_download_folder_reproduces_with_gzsim_compare(paired, tmp_path, cli):
    from gzsim.explore.bundle import reproduce_command, write_bundle

    req, cmp, folder, _ = paired
    b = write_bundle(req, cmp, ["employment"], folder)
    for name in ["headline.csv", "headline.parquet", "comparison.csv", "comparison.parquet",
                 "provenance.json", "reproduce.sh", "plots/fan_employment.png",
                 "plots/paired_employment.svg", "base/series.parquet", "base/summary.csv",
                 "policy_tax_incentives/manifest.json"]:
        assert b.file(name).is_file(), name
    assert b.zip_path.is_file()
    cmd = shlex.split(reproduce_command(req, str(tmp_path / "again")))
    assert cmd[:2] == ["gzsim", "compare"]
    proc = cli(*cmd[1:], "-q", "--no-plot", "-w", "1")
    assert proc.returncode == 0, proc.stderr
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again" / "headline.csv"),
                                  pd.read_csv(b.file("headline.csv")))


def test_paired_difference_has_both_bands(paired):
    from gzsim.explore.figures import difference_bands, paired_differences

    _, cmp, _, _ = paired
    d = paired_differences(cmp, "policy_tax_incentives", "employment")
    bands = difference_bands(d, cmp.level)
    late = bands[bands["year"] == 2025].iloc[0]
    row = cmp.table[(cmp.table["indicator"] == "employment") & (cmp.table["year"] == 2025)]
    assert late["mean"] == pytest.approx(row["diff_mean"].iloc[0])
    assert late["ci_low"] == pytest.approx(row["ci_low"].iloc[0])
    assert late["p05"] <= late["mean"] <= late["p95"]
    assert late["p05"] == pytest.approx(d[2025].quantile(0.05))


def test_explore_refuses_a_bad_scenario_before_serving(tmp_path, cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text((BASE.read_text()).replace("name: base", "name: base\nfoo: 1", 1))
    proc = cli("explore", bad, "--cache", tmp_path / "c")
    assert proc.returncode == 2
    assert f"{bad}:" in proc.stderr and "field 'foo'" in proc.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    proc = cli("explore", BASE, "--cache", mine)
    assert proc.returncode == 2 and "not a gzsim explore folder" in proc.stderr


def test_help_does_not_import_the_page():
    code = ("import sys; from click.testing import CliRunner; from gzsim.cli import main; "
            "r = CliRunner().invoke(main, ['explore', '--help']); assert r.exit_code == 0; "
            "assert '--host' in r.output; print('panel' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_scenario_folder_lists_baselines_and_policies(tmp_path):
    from gzsim.explore.serve import settings_for

    s = settings_for(Path(BASE), tmp_path / "cache")
    assert (tmp_path / "cache" / ".gzsim-folder.json").is_file()
    baselines, policies = s.scenario_files()
    assert "base.yaml" in baselines and "policy_tax_incentives.yaml" in policies
    assert not set(baselines) & set(policies)


def test_a_policy_that_does_not_extend_the_baseline_is_said():
    from gzsim.explore.session import baseline_notes

    pol_path = SCENARIOS / "policy_tax_incentives.yaml"
    pol = load_scenario(pol_path)
    scarce = SCENARIOS / "land_scarce.yaml"
    on_base = Request(load_scenario(BASE), [pol], files={"base": BASE, pol.name: pol_path})
    assert baseline_notes(on_base) == []
    other = load_scenario(scarce)
    on_scarce = Request(other, [pol], files={other.name: scarce, pol.name: pol_path})
    (note,) = baseline_notes(on_scarce)
    assert "policy_tax_incentives.yaml does not extend land_scarce.yaml" in note
