"""Posterior draws per replication: reproducible, worker-independent, paired, recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gzsim import load_scenario, simulate
from gzsim.errors import UserError
from gzsim.io.posterior import write_posterior
from gzsim.uncertainty import plan_draws, resolve_mode
from tests.conftest import BASE

PATH = "investment.arrival_rate_per_month"


@pytest.fixture(scope="module")
def posterior_scenario(tmp_path_factory):
    """The base pointing at a hand-made posterior whose median is the base's own value."""
    tmp = tmp_path_factory.mktemp("post")
    base = load_scenario(BASE)
    v = base.investment.arrival_rate_per_month
    particles = pd.DataFrame({"generation": 0, PATH: [0.5 * v, v, 2.0 * v],
                              "weight": [1 / 3] * 3, "distance": 0.0})
    write_posterior(particles, {"test": True}, tmp / "posterior.parquet")
    (tmp / "sc.yaml").write_text(f"extends: {BASE}\nname: base_post\n"
                                 "posterior: posterior.parquet\n"
                                 "time: {end: 2017-12, milestone_years: [2015, 2017]}\n")
    return tmp / "sc.yaml"


def test_posterior_is_the_default_once_there_is_one(posterior_scenario):
    sc = load_scenario(posterior_scenario)
    assert resolve_mode(sc, None) == "posterior"
    assert resolve_mode(sc, "noise") == "noise"
    bare = load_scenario(BASE, overrides=["run.posterior=null"])
    assert resolve_mode(bare, None) == "noise"
    with pytest.raises(UserError, match="points at no posterior"):
        resolve_mode(bare, "posterior")


def test_draws_are_recorded_reproducible_and_worker_independent(posterior_scenario):
    sc = load_scenario(posterior_scenario)
    a = simulate(sc, replications=6, seed=3, workers=1)
    b = simulate(sc, replications=6, seed=3, workers=2)
    pd.testing.assert_frame_equal(a.series, b.series)
    u = a.manifest["uncertainty"]
    assert u["mode"] == "posterior" and len(u["draws"]) == 6
    assert len({d["particle"] for d in u["draws"]}) >= 2
    noise = simulate(sc, replications=6, seed=3, uncertainty="noise")
    assert noise.manifest["uncertainty"]["mode"] == "noise"
    # parameter uncertainty widens the spread of investment across replications
    def spread(r):
        inv = r.series.groupby("replication")["investment_usd_m"].sum()
        return float(inv.max() - inv.min())
    assert spread(a) > spread(noise)


def test_a_scenario_setting_the_parameter_keeps_its_value(posterior_scenario):
    sc = load_scenario(posterior_scenario, overrides=[f"{PATH}=7.25"])
    plan = plan_draws(sc, 4, 3, "posterior")
    assert PATH in plan.kept and all(PATH not in v for v in plan.values)


def test_the_same_replication_draws_the_same_particle_in_every_scenario(posterior_scenario):
    a = load_scenario(posterior_scenario)
    b = load_scenario(posterior_scenario, overrides=["policies=[]", "name=other"])
    pa, pb = plan_draws(a, 8, 11, None), plan_draws(b, 8, 11, None)
    assert pa.particles == pb.particles
    assert np.all(np.isin(pa.particles, [0, 1, 2]))


def test_posterior_factors_for_sweeps(posterior_scenario, tmp_path):
    from gzsim.experiments import experiment_from_data, make_design
    from gzsim.uncertainty import posterior_factors

    post = posterior_scenario.parent / "posterior.parquet"
    factors = posterior_factors(post)
    lo, hi = factors[PATH]["range"]
    assert lo < hi
    exp = experiment_from_data({"name": "post_lhs", "base": str(posterior_scenario),
                                "factors": factors,
                                "design": {"kind": "latin_hypercube", "samples": 8}}, {},
                               file=tmp_path / "e.yaml")
    values = make_design(exp).points[PATH]
    assert len(values) == 8 and ((values >= lo) & (values <= hi)).all()
    with pytest.raises(UserError, match="no posterior for"):
        posterior_factors(post, paths=["jobs.nothing"])



def _experiment(folder, posterior_factors: str, more_factors: str = "", base: str = "sc.yaml",
                design: str = "sobol, samples: 2"):
    """Load an experiment file: line 3 is ``posterior_factors``, then the factors."""
    from gzsim.experiments import load_experiment

    f = folder / "exp.yaml"
    f.write_text(f"name: pf\nbase: {base}\n{posterior_factors}\n"
                 "factors:\n  jobs.indirect_jobs_per_direct_job: {range: [0.3, 0.8]}\n"
                 f"{more_factors}design: {{kind: {design}}}\n")
    return load_experiment(f)


def test_experiment_posterior_factors_expand_to_the_posterior_intervals(posterior_scenario):
    import hashlib

    from gzsim.experiments import make_design
    from gzsim.uncertainty import posterior_factors

    post = posterior_scenario.parent / "posterior.parquet"
    exp = _experiment(posterior_scenario.parent,
                      "posterior_factors: {posterior: posterior.parquet, level: 0.5}")
    assert [f.path for f in exp.factors] == ["jobs.indirect_jobs_per_direct_job", PATH]
    want = posterior_factors(post, 0.5)[PATH]["range"]
    assert list(exp.factors[1].spec.range) == want
    assert want != posterior_factors(post)[PATH]["range"]
    # `posterior_factors: {}` takes the base scenario's own posterior, at 90 %
    dflt = _experiment(posterior_scenario.parent, "posterior_factors: {}")
    assert list(dflt.factors[1].spec.range) == posterior_factors(post)[PATH]["range"]
    src = dflt.resolved()["posterior_factors"]
    assert src["sha256"] == hashlib.sha256(post.read_bytes()).hexdigest() and src["level"] == 0.9
    assert make_design(dflt).problem["bounds"][1] == posterior_factors(post)[PATH]["range"]
    assert exp.fingerprint() != dflt.fingerprint()


@pytest.mark.parametrize("pf,more,path,line,message", [
    ("posterior_factors: {posterior: nowhere.parquet}", "", "posterior_factors.posterior", 3,
     "posterior file not found"),
    ("posterior_factors: {paths: [jobs.nothing]}", "", "posterior_factors.paths", 3,
     "no posterior for jobs.nothing"),
    (f"posterior_factors: {{paths: [{PATH}]}}\nset: {{{PATH}: 7}}", "", f"set.{PATH}", 4,
     "also a posterior factor"),
    ("posterior_factors: {}", f"  {PATH}: {{range: [1, 2]}}\n", f"factors.{PATH}", 6,
     "also a posterior factor"),
    ("posterior_factors: {level: 1.5}", "", "posterior_factors.level", 3, "less than 1"),
])
def test_posterior_factor_errors_are_located(posterior_scenario, pf, more, path, line,
                                             message):
    from gzsim.errors import ExperimentError

    with pytest.raises(ExperimentError) as ei:
        _experiment(posterior_scenario.parent, pf, more)
    (pr,) = ei.value.problems
    assert (pr.path, pr.line, pr.file.endswith("exp.yaml")) == (path, line, True), pr
    assert message in pr.message


def test_posterior_factors_need_a_sampling_design_and_some_factor(posterior_scenario, tmp_path):
    from gzsim.errors import ExperimentError
    from gzsim.experiments import experiment_from_data

    with pytest.raises(ExperimentError, match="ranges: use a sampling design"):
        _experiment(posterior_scenario.parent, "posterior_factors: {}", design="full_factorial")
    with pytest.raises(ExperimentError, match="'levels' only applies to full_factorial"):
        _experiment(posterior_scenario.parent, "posterior_factors: {levels: 2}")
    with pytest.raises(ExperimentError, match="give 'factors' or 'posterior_factors'"):
        experiment_from_data({"name": "none", "base": str(posterior_scenario),
                              "design": {"kind": "sobol", "samples": 2}}, file=tmp_path / "e")
    only = experiment_from_data({"name": "only", "base": str(posterior_scenario),
                                 "posterior_factors": {}, "design": {"kind": "sobol",
                                                                      "samples": 2}},
                                file=tmp_path / "e.yaml")
    assert [f.path for f in only.factors] == [PATH]


def test_a_base_without_posterior_needs_a_posterior_file(posterior_scenario):
    from gzsim.errors import ExperimentError

    folder = posterior_scenario.parent
    (folder / "bare.yaml").write_text(f"extends: {BASE}\nname: bare\nrun: {{posterior: null}}\n")
    with pytest.raises(ExperimentError, match="points at no posterior") as ei:
        _experiment(folder, "posterior_factors: {}", base="bare.yaml")
    assert (ei.value.problems[0].path, ei.value.problems[0].line) == ("posterior_factors", 3)
