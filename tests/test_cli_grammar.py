"""One CLI grammar: the same options spelled the same way on every command that can use them,
`gzsim indicators`, no --resume, --set on sweeps, and fitted values found from a copied file."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from click.testing import CliRunner

from gzsim import UserError, load_scenario
from gzsim.cli import _experiment, main
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
    assert list(frame.columns) == ["name", "unit", "geography", "kind", "meaning"]
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
    assert load_scenario(copy) == load_scenario(BASE)
    lost = tmp_path / "lost.yaml"
    lost.write_text(BASE.read_text().replace("../calibration/fitted.yaml", "nowhere/fit.yaml"))
    with pytest.raises(UserError, match="relative to this scenario file") as e:
        load_scenario(lost)
    assert "lost.yaml" in str(e.value)
