"""Validation that knows the domain, and errors at every boundary (issue 15, classes 2-5)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import gzsim
from gzsim.cli import main
from gzsim.errors import ArgumentError, ScenarioError, ScenarioWarning, UserError
from gzsim.scenario import load_scenario
from tests.conftest import BASE, REPO

SHORT = {"time.end": "2013-12", "time.milestone_years": [2013], "policies": [],
         "infrastructure.plans": []}


def refused(overrides, *fragments):
    with pytest.raises(ScenarioError) as e:
        load_scenario(BASE, overrides=overrides)
    msg = str(e.value)
    for f in fragments:
        assert f in msg, msg
    return msg


def gz(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    out = r.output + (r.stderr if hasattr(r, "stderr") else "")
    assert "Traceback" not in out
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, out


# --- numbers are numbers ------------------------------------------------------------------

@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e400"])
def test_infinite_and_nan_values_are_refused(value):
    refused([f"investment.arrival_rate_per_month={value}"],
            "investment.arrival_rate_per_month", "--set")


@pytest.mark.parametrize(("path", "value"), [
    ("investment.realisation_share", "true"), ("resettlement.homes_per_start", "True"),
    ("infrastructure.segment_types.expressway.build_months", "true")])
def test_booleans_are_not_numbers(path, value):
    refused([f"{path}={value}"], path, "boolean")


def test_yaml_1_1_booleans_are_strings_and_not_numbers():
    """YAML 1.2 core schema (gzsim.io.yamlio): 'yes' is a string, refused by a number field."""
    refused(["resettlement.homes_per_start=yes"], "resettlement.homes_per_start", "string")


def test_strings_and_huge_magnitudes_are_refused():
    refused(['investment.arrival_rate_per_month="5"'], "string")
    refused(["region.area_km2=1e300"], "largest magnitude")
    assert load_scenario(BASE, overrides=["region.area_km2=1.795e3"]).region.area_km2 == 1795


def test_whole_floats_are_integers():
    sc = load_scenario(BASE, overrides={
        "infrastructure.segment_types.expressway.build_months": 36.0})
    months = sc.infrastructure.segment_types["expressway"].build_months
    assert months == 36 and isinstance(months, int)


# --- sizes a machine cannot hold ------------------------------------------------------------

@pytest.mark.parametrize(("override", "fragment"), [
    ({"time.end": "9999-12"}, "outside 1900-2200"),
    ({"time.end": "2199-12"}, "limit is 1200"),
    ({"investment.arrival_rate_per_month": 100_000}, "limit is 2,000,000"),
    ({"resettlement.households_to_relocate": 1e10, "resettlement.batch_households": 1},
     "household batches"),
])
def test_sizes_beyond_the_machine_state_the_bound(override, fragment):
    refused(override, fragment)


def test_replications_and_seed_bounds_are_the_same_in_cli_and_api(base_scenario):
    sc = load_scenario(BASE, overrides=SHORT)
    for bad, frag in [(0, "between 1 and"), (-3, "between 1 and"), (2.5, "whole number"),
                      (True, "whole number"), (10**9, "between 1 and")]:
        with pytest.raises(ArgumentError, match=frag):
            gzsim.simulate(sc, replications=bad)
    for bad in (-1, 2**63, 2**64 + 5):
        with pytest.raises(ArgumentError, match="2\\*\\*63-1"):
            gzsim.simulate(sc, replications=1, seed=bad)
    code, out = gz("run", BASE, "-n", "0", "-q")
    assert code == 2 and "between 1 and" in out
    code, out = gz("run", BASE, "--seed", str(2**63), "-q")
    assert code == 2 and "2**63-1" in out


def test_api_refuses_paths_and_string_overrides():
    with pytest.raises(UserError, match="load it first"):
        gzsim.simulate(str(BASE))
    with pytest.raises(UserError, match="not a single string"):
        load_scenario(BASE, overrides="investment.growth_rate_per_year=0.1")
    with pytest.raises(UserError, match="path of a scenario file"):
        load_scenario(42)


# --- cross-field checks ------------------------------------------------------------------

POLICY = {"name": "p", "start": "2015-01", "levers": {"tax_incentive_share": 0.6}}


def test_policies_must_intersect_the_horizon_and_set_levers():
    refused({"policies": [{**POLICY, "start": "2001-01", "end": "2003-12"}]},
            "entirely outside the horizon")
    refused({"policies": [{**POLICY, "levers": {}}]}, "sets no lever")
    refused({"policies": [POLICY, {**POLICY, "name": "q"}]}, "adds up to 1.2", "p, q")
    refused({"policies": [{**POLICY, "levers": {"land_budget_multiplier": 2}}], "land": None},
            "no 'land' section")


def test_a_policy_after_a_shortened_horizon_is_a_warning_not_an_error():
    with pytest.warns(ScenarioWarning, match="entirely outside the horizon"):
        load_scenario(BASE, overrides={"time.end": "2014-12"})


def test_horizon_of_the_file_itself_must_hold_its_plans(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(f"extends: {BASE}\nname: s\ntime: {{start: 2012-01, end: 2014-12, "
                 "milestone_years: [2013]}\n")
    with pytest.raises(ScenarioError, match=r"base.yaml:\d+, field 'infrastructure.plans.0.st"):
        load_scenario(f)  # the horizon is the file's own: an error, not a warning


def test_milestones_within_the_horizon(tmp_path):
    refused({"time.milestone_years": [2013, 2040]}, "milestone year 2040 is outside")


def test_compare_refuses_different_regions_unless_unpaired(tmp_path):
    other = REPO / "scenarios" / "regions"
    region = sorted(other.glob("*.yaml"))[0]
    args = ["compare", BASE, region, "-n", "2", "--no-plot", "-w", "1",
            "--set", "time.end=2016-12", "--set", "time.milestone_years=[2016]",
            "--out", tmp_path / "c"]
    code, out = gz(*args)
    assert code == 2 and "--unpaired" in out and "region" in out
    assert not (tmp_path / "c").exists()
    code, out = gz(*args, "--unpaired")
    assert code == 0, out
    assert "unpaired, Welch" in out


def test_every_replication_failed_exits_1_with_a_complete_folder(tmp_path, monkeypatch):
    import gzsim.model as model

    def boom(*a, **k):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(model, "simulate_one", boom)
    out = tmp_path / "r"
    code, msg = gz("run", BASE, "-n", "2", "-q", "-w", "1", "--out", out,
                   *sum((["--set", f"{k}={json.dumps(v)}"] for k, v in SHORT.items()), []))
    if code == 0:
        pytest.skip("the model is not looked up through gzsim.model.simulate_one")
    assert code == 1 and "replications failed" in msg and "model exploded" in msg
    # failures are data (issue 25): the folder records them, with the manifest
    assert "failures.csv" in msg and "manifest.json" in msg
    failures = pd.read_csv(out / "failures.csv")
    assert list(failures["replication"]) == [0, 1]
    assert failures["error"].str.contains("model exploded").all()
    assert json.loads((out / "manifest.json").read_text())["failed_replications"] == [0, 1]


# --- errors at every boundary ------------------------------------------------------------

@pytest.mark.parametrize(("text", "fragment"), [
    ("name: a\x00b\n", "NUL byte"),
    ("a: " + "[" * 500 + "]" * 500 + "\n", "nesting deeper"),
    ("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)), "more than 200,000 values"),
])
def test_hostile_yaml_is_a_located_error(tmp_path, text, fragment):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    code, out = gz("check", f)
    assert code == 2 and fragment in out and "bad.yaml" in out


def test_oversized_yaml_is_refused(tmp_path, monkeypatch):
    import gzsim.io.yamlio as y

    monkeypatch.setattr(y, "MAX_YAML_BYTES", 100)
    f = tmp_path / "big.yaml"
    f.write_text("a: 1\n" * 50)
    code, out = gz("check", f)
    assert code == 2 and "the limit is 100 bytes" in out


def test_yaml_merge_keys_are_accepted(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(f"""extends: {BASE}
name: merged
_defaults: &d {{min: 6, max: 18}}
""".replace("_defaults: &d {min: 6, max: 18}\n", "") + """sectors:
  big_data:
    construction_months: &cm {min: 6, max: 18}
  electronics:
    construction_months:
      <<: *cm
      max: 30
""")
    sc = load_scenario(f)
    assert sc.sectors["electronics"].construction_months.max == 30
    assert sc.sectors["electronics"].construction_months.min == 6


def test_missing_field_in_an_extending_file_and_bad_set_are_located_there(tmp_path):
    f = tmp_path / "child.yaml"
    f.write_text(f"extends: {BASE}\nname: child\nsectors:\n  tourism: {{weight: 1}}\n")
    msg = refused_file(f)
    assert "child.yaml:4, field 'sectors.tourism.size'" in msg
    msg = refused(["sectors.tourism.weight=1"], "--set sectors.tourism.weight")
    assert "base.yaml" not in msg


def refused_file(f):
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    return str(e.value)


@pytest.mark.parametrize("damage", ["empty", "corrupt", "json"])
def test_plot_of_a_damaged_results_folder_is_a_message(tmp_path, damage):
    out = tmp_path / "r"
    res = gzsim.Result(series=pd.DataFrame({"replication": [0], "date": pd.to_datetime(
        ["2012-01-01"]), "employment": [1.0]}), manifest={"scenario": {"name": "x"}})
    res.save(out)
    if damage == "empty":
        (out / "series.parquet").write_bytes(b"")
    elif damage == "corrupt":
        (out / "series.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 4)
    else:
        (out / "manifest.json").write_text('{"scenario": ')
    code, msg = gz("plot", out)
    assert code == 2, msg
    assert ("series.parquet" in msg) if damage != "json" else ("manifest.json:1" in msg)


def _calibration_copy(tmp_path):
    import shutil

    cal = tmp_path / "calibration"
    shutil.copytree(REPO / "calibration", cal, ignore=shutil.ignore_patterns("abc.db"))
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios")
    return cal


def test_calibration_spec_problems_are_located(tmp_path):
    from gzsim.calibration.problem import build_problem

    cal = _calibration_copy(tmp_path)
    priors = (cal / "priors.yaml").read_text()
    first_path = priors.split("  - path: ", 1)[1].split()[0]
    (cal / "priors.yaml").write_text(
        priors.replace(f"  - path: {first_path}", "  - path: investment.no_such_rate", 1))
    with pytest.raises(UserError) as e:
        build_problem(cal / "spec.yaml", quick=True)
    msg = str(e.value)
    assert "'investment.no_such_rate' is not a number in the scenario" in msg
    assert f"{cal / 'priors.yaml'}:" in msg


def test_calibration_refuses_zero_tolerances(tmp_path):
    from gzsim.calibration.problem import build_problem

    cal = _calibration_copy(tmp_path)
    text = (cal / "targets.yaml").read_text()
    (cal / "targets.yaml").write_text(text.replace(
        "    confidence: H\n", "    confidence: H\n    tolerance: 0\n    tolerance_note: x\n", 1))
    with pytest.raises(UserError, match="tolerance.*greater than 0"):
        build_problem(cal / "spec.yaml", quick=True)


def test_calibration_refuses_targets_beyond_the_horizon(tmp_path):
    from gzsim.calibration.problem import build_problem

    cal = _calibration_copy(tmp_path)
    spec = (cal / "spec.yaml").read_text()
    spec = "\n".join(ln for ln in spec.splitlines() if not ln.startswith("horizon_end:"))
    (cal / "spec.yaml").write_text(spec + "\nhorizon_end: 2013-12\n")
    with pytest.raises(UserError, match="outside the simulated years 2012-2013"):
        build_problem(cal / "spec.yaml", quick=True)


def test_read_results_of_not_a_folder(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        gzsim.read_results(tmp_path / "nope")
    assert np.isfinite(1.0)


def test_a_sweep_where_every_run_failed_exits_1(tmp_path, monkeypatch):
    import gzsim.model as model

    def boom(*a, **k):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(model, "simulate_one", boom)
    exp = REPO / "scenarios" / "experiments" / "full_factorial.yaml"
    code, out = gz("sweep", exp, "--out", tmp_path / "s", "--shard", "0/1", "-w", "1", "-q")
    assert code == 1 and "every run of this session" in out, out
    assert (tmp_path / "s" / "runs.parquet").exists()  # the failures are recorded as data


def test_a_scenario_name_is_a_folder_name():
    refused({"name": "n" * 5000}, "at most 100 characters")
    refused({"name": ".."}, "not '.' or '..'")


@pytest.mark.parametrize("manifest", ['{"scenario": 5}', '{"scenario": {"time": 3}}',
                                      '{"scenario": {"name": 5}}', '{"replications": "x"}',
                                      '{"scenario": {"time": {"milestone_years": ["a"]}}}'])
def test_plot_of_a_hand_edited_manifest_is_a_message(tmp_path, manifest):
    out = tmp_path / "r"
    gzsim.Result(series=pd.DataFrame({"replication": [0], "date": pd.to_datetime(
        ["2012-01-01"]), "employment": [1.0]}), manifest={}).save(out)
    (out / "manifest.json").write_text(manifest)
    code, msg = gz("plot", out, "-i", "employment")
    assert code == 2 and "manifest.json: field '" in msg
