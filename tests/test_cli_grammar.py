"""One CLI grammar: the same options spelled the same way on every command that can use them,
`gzsim indicators`, no --resume, --set on sweeps, and fitted values found from a copied file."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from click.testing import CliRunner

from gzsim import UserError, load_scenario
from gzsim.cli import main
from gzsim.cli.commands import experiment_with_overrides as _experiment
from gzsim.indicators import INDICATORS
from tests.conftest import BASE, SCENARIOS

WHERE = {  # option -> the commands that must have it
    "--set": ["check", "run", "compare", "sweep", "sensitivity"],
    "--quiet": ["run", "compare", "plot", "calibrate", "sweep", "sensitivity"],
    "--workers": ["run", "compare", "calibrate", "sweep", "sensitivity"],
    "--out": ["run", "compare", "plot", "calibrate", "sweep", "sensitivity"],
    "--indicator": ["compare", "plot", "sensitivity"],
    "--format": ["run", "compare", "sensitivity", "indicators"],
}
SHORT = {"--quiet": "-q", "--workers": "-w", "--out": "-o", "--indicator": "-i",
         "--format": "-f"}


def _values(sc):
    """A scenario's values; a posterior file that exists nowhere is a reference, not a value."""
    d = sc.model_dump()
    if d["run"].get("posterior") and not __import__("os").path.exists(d["run"]["posterior"]):
        d["run"]["posterior"] = None
    return d


@pytest.mark.parametrize("option", list(WHERE))
def test_options_are_spelled_the_same_everywhere(option):
    for name in WHERE[option]:
        cmd = main.commands[name]
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert option in opts, f"gzsim {name} has no {option}"
        if option in SHORT:
            assert SHORT[option] in opts, f"gzsim {name} has no {SHORT[option]}"


def test_sensitivity_keeps_outcome_as_an_alias():
    cmd = main.commands["sensitivity"]
    ctx = cmd.make_context("sensitivity", ["x.yaml", "--outcome", "a", "-i", "b"])
    assert ctx.params["indicators"] == ("a", "b")


def test_resume_is_gone_rerunning_resumes():
    res = CliRunner().invoke(main, ["sweep", str(SCENARIOS / "experiments" / "lhs.yaml"),
                                    "--resume"])
    assert res.exit_code == 2 and "--resume" in res.output
    assert "resumes" in CliRunner().invoke(main, ["sweep", "--help"]).output


def test_indicators_lists_every_indicator():
    res = CliRunner().invoke(main, ["indicators"])
    assert res.exit_code == 0
    assert all(name in res.output for name in INDICATORS)
    assert max(len(line) for line in res.output.splitlines()) <= 80
    csv = CliRunner().invoke(main, ["indicators", "-f", "csv"]).output
    frame = pd.read_csv(io.StringIO(csv))
    assert list(frame.columns) == ["name", "unit", "geography", "kind", "meaning", "quote_for"]
    assert set(frame["name"]) == set(INDICATORS)


def test_set_on_an_experiment_goes_into_its_set_and_its_fingerprint():
    lhs = SCENARIOS / "experiments" / "lhs.yaml"
    plain, short = _experiment(lhs, ()), _experiment(
        lhs, ("labour.natural_growth_rate_per_year=0.5",))
    assert short.spec.set["labour.natural_growth_rate_per_year"] == 0.5
    assert short.base_scenario.labour.natural_growth_rate_per_year == 0.5
    assert short.fingerprint() != plain.fingerprint()  # never mixed into the same store


def test_a_copied_base_still_finds_its_fitted_values(tmp_path):
    copy = tmp_path / "my_base.yaml"
    copy.write_text(BASE.read_text())
    assert _values(load_scenario(copy)) == _values(load_scenario(BASE))
    lost = tmp_path / "lost.yaml"
    fitted_line = next(ln for ln in BASE.read_text().splitlines()
                       if ln.startswith("fitted_values:"))
    lost.write_text(BASE.read_text().replace(fitted_line, "fitted_values: nowhere/fit.yaml"))
    with pytest.raises(UserError, match="relative to this scenario file") as e:
        load_scenario(lost)
    assert "lost.yaml" in str(e.value)


SOBOL = """
name: tiny_sobol
base: {base}
seed: 3
replications: 1
factors:
  investment.growth_rate_per_year: {{range: [0.05, 0.17]}}
  investment.realisation_share: {{range: [0.4, 0.8]}}
design: {{kind: sobol, samples: 4, second_order: false}}
outcomes:
  series: false
  scalars:
    - {{name: jobs_2017, indicator: jobs_created, year: 2017}}
"""


def test_cli_sensitivity_with_set_alias_format_and_precision_warning(cli, tmp_path):
    exp = tmp_path / "tiny.yaml"
    exp.write_text(SOBOL.format(base=BASE))
    res = cli("sensitivity", exp, "--outcome", "jobs_2017", "--set", "time.end=2017-12",
              "-w", "1", "-o", tmp_path / "s", "-q", "-f", "csv")
    assert res.returncode == 0, res.stderr
    frame = pd.read_csv(io.StringIO(res.stdout))
    assert set(frame["factor"]) == {"investment.growth_rate_per_year",
                                    "investment.realisation_share"}
    assert (tmp_path / "s" / "sensitivity_jobs_2017.csv").exists()
    text = cli("sensitivity", exp, "-i", "jobs_2017", "--set", "time.end=2017-12", "-w", "1",
               "-o", tmp_path / "s", "-q")
    assert text.returncode == 0, text.stderr
    assert "Sensitivity of jobs_2017" in text.stdout
    flat = " ".join(text.stdout.split())
    # 4 base samples (seed 3) give intervals wider than the indices: said, with the cure
    assert "wider than the index itself" in flat
    assert "base samples would bring every interval under its index" in flat
