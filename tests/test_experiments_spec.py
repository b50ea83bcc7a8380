"""Experiment files and designs: located errors, every design kind, determinism, SALib problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gzsim.errors import ExperimentError, UserError
from gzsim.experiments import load_experiment, make_design
from gzsim.experiments.sweep import parse_shard, shard_range

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "scenarios" / "experiments"
BASE = REPO / "scenarios" / "base.yaml"


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).replace("BASE", str(BASE)))
    return p


MINIMAL = """\
    name: t
    base: BASE
    replications: 2
    factors:
      investment.growth_rate_per_year: {range: [0.05, 0.15]}
    design: {kind: latin_hypercube, samples: 4}
"""
MINIMAL = textwrap.dedent(MINIMAL)


@pytest.mark.parametrize("name,kind,n_points", [
    ("full_factorial", "full_factorial", 6), ("lhs", "latin_hypercube", 8),
    ("sobol", "sobol", 20), ("morris", "morris", 16), ("monte_carlo", "monte_carlo", 10),
    ("sobol_posterior", "sobol", None)])
def test_examples_load_and_design(name, kind, n_points):
    exp = load_experiment(EXAMPLES / f"{name}.yaml")
    if n_points is None:  # Saltelli: N x (factors + 2), the factors being the lever and
        n_points = 4 * (len(exp.factors) + 2)  # every posterior parameter (N = 4 in the file)
    d = make_design(exp)
    assert d.kind == kind and d.n_points == n_points
    assert exp.base_file.resolve() == BASE.resolve()
    assert list(d.points.columns) == ["point", *[f.name for f in exp.factors]]
    assert d.X.shape == (n_points, len(exp.factors))
    assert d.problem["names"] == [f.name for f in exp.factors]
    # every point is a valid scenario
    from gzsim.execution.tasks import Job

    job = Job(root_seed=1, base_data=exp.base_data)
    for p in range(d.n_points):
        sc = job.scenario_for(d.overrides(p))
        for path, v in d.overrides(p).items():
            obj = sc
            for part in path.split("."):
                obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
            assert obj == pytest.approx(v)
    # same seed, same design
    pd.testing.assert_frame_equal(d.points, make_design(load_experiment(
        EXAMPLES / f"{name}.yaml")).points)


def test_full_factorial_levels_and_order():
    d = make_design(load_experiment(EXAMPLES / "full_factorial.yaml"))
    g = d.points["investment.growth_rate_per_year"].tolist()
    r = d.points["investment.realisation_share"].tolist()
    assert g == pytest.approx([0.05, 0.05, 0.11, 0.11, 0.17, 0.17])  # first factor slowest
    assert r == [0.5, 0.7] * 3


def test_salib_problem_space_is_the_sample():
    """For range factors X holds the values themselves: SALib.analyze works on (problem, X)."""
    exp = load_experiment(EXAMPLES / "sobol.yaml")
    d = make_design(exp)
    assert d.problem["bounds"][0] == [0.05, 0.17]
    np.testing.assert_allclose(d.X[:, 0], d.points["investment.growth_rate_per_year"])
    from SALib.analyze import sobol

    y = d.X[:, 0] * 2 + d.X[:, 1]  # a linear response: first factor matters most
    si = sobol.analyze(d.problem, y, calc_second_order=False, seed=1)
    assert len(si["S1"]) == 3


def test_morris_distribution_factor_uses_interior_quantiles():
    d = make_design(load_experiment(EXAMPLES / "morris.yaml"))
    v = d.points["sectors.electronics.direct_jobs_per_usd_m"]
    assert v.between(5.0, 13.0).all() and np.isfinite(v).all()
    assert v.nunique() <= 4


def test_levels_and_integer_factors(tmp_path):
    p = write(tmp_path, """\
        name: t
        base: BASE
        factors:
          investment.lead_months: {range: [3, 12], integer: true}
          investment.realisation_share: {levels: [0.4, 0.6, 0.8]}
        design: {kind: monte_carlo, samples: 30, seed: 5}
    """)
    d = make_design(load_experiment(p))
    lm = d.points["investment.lead_months"]
    assert lm.dtype == np.int64 and lm.between(3, 12).all()
    assert set(d.points["investment.realisation_share"]) <= {0.4, 0.6, 0.8}
    assert d.params["seed"] == 5


def test_distribution_factor_sampled_through_ppf(tmp_path):
    p = write(tmp_path, """\
        name: t
        base: BASE
        factors:
          jobs.indirect_jobs_per_direct_job: {distribution: {name: uniform, loc: 0.2, scale: 0.1}}
        design: {kind: sobol_sequence, samples: 16}
    """)
    d = make_design(load_experiment(p))
    assert d.points.iloc[:, 1].between(0.2, 0.3).all()
    assert d.problem["bounds"] == [[0.0, 1.0]]


def test_seed_defaults_to_base_scenario_seed(tmp_path):
    exp = load_experiment(write(tmp_path, MINIMAL))
    assert exp.root_seed == 20170716 and exp.design_seed == 20170716


def test_posterior_example_spans_the_calibrated_intervals():
    """sobol_posterior.yaml: the lever, then every posterior parameter over its 90 % interval."""
    from gzsim.uncertainty import posterior_factors

    exp = load_experiment(EXAMPLES / "sobol_posterior.yaml")
    post = REPO / "calibration" / "posterior.parquet"
    want = posterior_factors(post, 0.9, scenario_data=exp.base_data)
    assert [f.path for f in exp.factors] == ["training.places_per_year", *want]
    for f in exp.factors[1:]:
        assert list(f.spec.range) == want[f.path]["range"]
        assert f.spec.integer == want[f.path].get("integer", False)
    by_path = {f.path: f for f in exp.factors}
    # months: the scenario holds whole numbers, so the factor is an integer one
    assert by_path["infrastructure.segment_types.expressway.build_months"].spec.integer
    assert exp.posterior_source["posterior"] == str(post.resolve())


def errors_of(tmp_path, text) -> ExperimentError:
    with pytest.raises(ExperimentError) as ei:
        load_experiment(write(tmp_path, text))
    assert isinstance(ei.value, UserError)
    return ei.value


def test_unknown_factor_path_is_located_with_suggestion(tmp_path):
    e = errors_of(tmp_path, MINIMAL.replace("investment.growth_rate_per_year",
                                            "investment.growth_rate_per_yr"))
    (pr,) = e.problems
    assert pr.line == 5 and pr.file.endswith("exp.yaml")
    assert pr.path == "factors.investment.growth_rate_per_yr"
    assert "did you mean 'investment.growth_rate_per_year'" in pr.message


def test_unknown_sector_and_group_paths(tmp_path):
    e = errors_of(tmp_path, MINIMAL.replace("investment.growth_rate_per_year",
                                            "sectors.electronic.direct_jobs_per_usd_m"))
    assert "did you mean 'sectors.electronics'" in str(e)
    e = errors_of(tmp_path, MINIMAL.replace("investment.growth_rate_per_year", "investment"))
    assert "group of fields" in str(e)
    e = errors_of(tmp_path, MINIMAL.replace("investment.growth_rate_per_year",
                                            "time.milestone_years.x"))
    assert "is a list" in str(e)


@pytest.mark.parametrize("bad,expect,line", [
    ("design: {kind: latin_hypercube, samples: 4}", "design: {kind: latin_hypercub, samples: 4}",
     6),
    ("{range: [0.05, 0.15]}", "{range: [0.15, 0.05]}", 5),
    ("{range: [0.05, 0.15]}", "{range: [0.05, 0.15], levels: [0.1]}", 5),
    ("{range: [0.05, 0.15]}", "{distribution: {name: nrom, loc: 0, scale: 1}}", 5),
    ("{range: [0.05, 0.15]}", "{distribution: {name: norm, loc: 0, scale: -1}}", 5),
    ("replications: 2", "replications: 0", 3),
    ("replications: 2", "replicatons: 2", 3),
])
def test_bad_values_are_located(tmp_path, bad, expect, line):
    e = errors_of(tmp_path, MINIMAL.replace(bad, expect))
    assert e.problems[0].line == line, str(e)
    assert e.problems[0].file.endswith("exp.yaml")


def test_messages_are_readable(tmp_path):
    msg = str(errors_of(tmp_path, MINIMAL.replace("nrom", "x").replace(
        "{range: [0.05, 0.15]}", "{distribution: {name: nrom}}")))
    assert "did you mean 'norm'" in msg
    msg = str(errors_of(tmp_path, MINIMAL.replace("latin_hypercube, samples: 4",
                                                  "sobol_sequence, samples: 5")))
    assert "power of 2" in msg
    msg = str(errors_of(tmp_path, MINIMAL.replace("latin_hypercube, samples: 4",
                                                  "full_factorial")))
    assert "needs levels" in msg
    msg = str(errors_of(tmp_path, MINIMAL + "outcomes:\n  scalars: [{name: a, "
                        "indicator: job_created, year: 2017}]\n"))
    assert "did you mean 'jobs_created'" in msg
    msg = str(errors_of(tmp_path, MINIMAL + "outcomes:\n  scalars: [{name: a, indicator: "
                        "employment, year: 2040}]\n"))
    assert "outside the simulated period" in msg and "outcomes.scalars.0.year" in msg


def test_missing_base_and_bad_set(tmp_path):
    e = errors_of(tmp_path, MINIMAL.replace("base: BASE", "base: nowhere.yaml"))
    assert e.problems[0].path == "base" and e.problems[0].line == 2
    e = errors_of(tmp_path, MINIMAL + "set:\n  investment.realisation_share: 1.5\n")
    assert e.problems[0].path == "set.investment.realisation_share"
    assert e.problems[0].line == 8


def test_yaml_syntax_error(tmp_path):
    e = errors_of(tmp_path, "name: t\nfactors: [\n")
    assert "YAML syntax error" in str(e)


def test_shards_partition_the_runs():
    for n_runs in (0, 1, 7, 100):
        for n in (1, 2, 3, 8):
            ranges = [shard_range(n_runs, (i, n)) for i in range(n)]
            ids = [x for lo, hi in ranges for x in range(lo, hi)]
            assert ids == list(range(n_runs))
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "x", "1/0", "-1/2"):
        with pytest.raises(UserError):
            parse_shard(bad)
