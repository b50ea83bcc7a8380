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


def test_a_whole_number_set_near_the_median_wins_over_the_draws(tmp_path):
    """The bug of issue 22: ``--set poverty.reentry_rate_per_year=0`` against a posterior
    median of 0.06 was replaced by the draws (0.5 of "integer slack" for any whole number)."""
    path = "poverty.reentry_rate_per_year"
    particles = pd.DataFrame({"generation": 0, path: [0.04, 0.06, 0.08],
                              "weight": [1 / 3] * 3, "distance": 0.0})
    write_posterior(particles, {"test": True}, tmp_path / "posterior.parquet")
    (tmp_path / "sc.yaml").write_text(f"extends: {BASE}\nname: reentry\n"
                                      "posterior: posterior.parquet\n"
                                      f"poverty: {{reentry_rate_per_year: 0.06}}\n")
    free = plan_draws(load_scenario(tmp_path / "sc.yaml"), 6, 3, "posterior")
    assert path not in free.kept and {v[path] for v in free.values} <= {0.04, 0.06, 0.08}
    for given in ("0", "0.06", "1"):  # whole numbers, and the median itself
        sc = load_scenario(tmp_path / "sc.yaml", overrides=[f"{path}={given}"])
        plan = plan_draws(sc, 6, 3, "posterior")
        assert path in plan.kept and all(path not in v for v in plan.values), given
        if given == "0":  # and the run uses it: nobody falls back into poverty
            res = simulate(sc, replications=2, seed=3, uncertainty="posterior")
            assert res.series["people_reentered_poverty"].max() == 0.0


def test_only_integer_typed_parameters_get_half_a_unit_of_slack(tmp_path):
    """A float the scenario file sets to a whole number is kept; months (int) may be rounded."""
    fl, months = "poverty.reentry_rate_per_year", "investment.lead_months"
    particles = pd.DataFrame({"generation": 0, fl: [0.2, 0.3, 0.4], months: [6.2, 6.3, 6.4],
                              "weight": [1 / 3] * 3, "distance": 0.0})
    write_posterior(particles, {"test": True}, tmp_path / "posterior.parquet")
    (tmp_path / "sc.yaml").write_text(f"extends: {BASE}\nname: slack\n"
                                      "posterior: posterior.parquet\n"
                                      "poverty: {reentry_rate_per_year: 0}\n"
                                      "investment: {lead_months: 6}\n")
    plan = plan_draws(load_scenario(tmp_path / "sc.yaml"), 4, 3, "posterior")
    assert fl in plan.kept  # 0 is not the median 0.3, whole number or not
    assert months not in plan.kept  # 6 is the median 6.3 rounded, as fitted.yaml writes it


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


def test_discrepancy_widens_posterior_bands_and_keeps_pairs_sharp(posterior_scenario, tmp_path):
    """Issue 22: a backtest's model discrepancy in run and compare bands, one draw both sides."""
    from gzsim.aggregate import annual
    from gzsim.discrepancy import factors

    d = {"relative_sd_per_sqrt_year": {"expressway_km": 0.2, "investment_usd_m": 0.2},
         "after": "2015-12", "source": "test"}
    plain = load_scenario(posterior_scenario, overrides={"run.discrepancy": None})
    with_d = load_scenario(posterior_scenario, overrides={"run.discrepancy": d})
    policy = load_scenario(posterior_scenario, overrides={
        "run.discrepancy": d, "name": "push", "policies": [{
            "name": "push", "start": "2016-01",
            "levers": {"infrastructure_budget_multiplier": 1.5}}]})
    a = simulate(plain, replications=8, seed=5, workers=1)
    b = simulate(with_d, replications=8, seed=5, workers=1)
    c = simulate(policy, replications=8, seed=5, workers=1)
    ea, eb = (annual(r.series, "expressway_km") for r in (a, b))
    assert (ea[2015] == eb[2015]).all()  # nothing changes up to the fitted years
    assert eb[2017].std() > ea[2017].std()  # wider after
    f = {k: factors(with_d, 5, k)["expressway_km"] for k in range(8)}
    m = with_d.time.month_index(2017, 12)
    top = with_d.infrastructure.segment_types["expressway"].max_km
    assert np.allclose(eb[2017].to_numpy(), np.minimum(
        ea[2017].to_numpy() * [f[k][m] for k in range(8)], top))  # never past the ceiling
    # the same factor on both sides of the comparison: the paired ratio is the model's own
    pa = simulate(policy.model_copy(update={"run": plain.run}), replications=8, seed=5,
                  workers=1)
    def december_2017(r):  # one month: the factor is one number per replication there
        s = r.series
        return s.loc[s["date"] == s["date"].max(), "investment_usd_m"].to_numpy()

    ia, ib, ic, ip = (december_2017(r) for r in (a, b, c, pa))
    assert np.allclose(ic / ib, ip / ia)
    assert not np.allclose(ib, ia)
    assert b.manifest["uncertainty"]["discrepancy"]["relative_sd_per_sqrt_year"][
        "expressway_km"] == 0.2
    assert b.series["expressway_km"].max() <= top + 1e-9  # never past the network's ceiling
    noise = simulate(with_d, replications=4, seed=5, uncertainty="noise", workers=1)
    assert "discrepancy" not in noise.manifest["uncertainty"]  # model randomness only
