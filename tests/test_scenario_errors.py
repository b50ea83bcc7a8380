"""A user's mistakes in a scenario get a clear message: file, line, field path; exit 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import BASE


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def extending(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    return write(tmp_path, name, f"extends: {BASE}\n" + textwrap.dedent(body))


def assert_user_error(proc, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for f in fragments:
        assert f in proc.stderr, f"{f!r} not in:\n{proc.stderr}"


def test_unknown_key_suggests_closest(cli, tmp_path):
    p = extending(tmp_path, """
        investment:
          growth_rat: 0.2
        """)
    proc = cli("check", p)
    assert_user_error(proc, "investment.growth_rat", "did you mean 'growth_rate_per_year'",
                      f"{p}:4")


def test_wrong_type_names_field_and_line(cli, tmp_path):
    p = extending(tmp_path, """
        labour:
          initial_labour_force_people: lots
        """)
    assert_user_error(cli("check", p), "labour.initial_labour_force_people", f"{p}:4")


@pytest.mark.parametrize("field,value,fragment", [
    ("investment.realisation_share", 1.5, "less than or equal to 1"),
    ("investment.growth_rate_per_year", -2, "greater than -1"),
    ("jobs.indirect_jobs_per_direct_job", -0.5, "greater than or equal to 0"),
])
def test_out_of_range_values(cli, tmp_path, field, value, fragment):
    section, key = field.split(".")
    p = extending(tmp_path, f"""
        {section}:
          {key}: {value}
        """)
    assert_user_error(cli("check", p), field, fragment)


def test_end_before_start(cli, tmp_path):
    p = extending(tmp_path, """
        time:
          start: 2020-01
          end: 2015-12
        """)
    assert_user_error(cli("check", p), "time", "must be after start")


def test_missing_file(cli, tmp_path):
    assert_user_error(cli("run", tmp_path / "nope.yaml"), "nope.yaml", "not found")


def test_yaml_syntax_error_has_line(cli, tmp_path):
    p = write(tmp_path, "bad.yaml", "name: x\nregion: {name: a, area_km2: 3\ninvestment: [\n")
    proc = cli("check", p)
    assert_user_error(proc, "YAML syntax error", str(p))


def test_extends_cycle(cli, tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    assert_user_error(cli("check", tmp_path / "a.yaml"), "'extends' cycle", "a.yaml", "b.yaml")


def test_extends_missing_parent(cli, tmp_path):
    p = write(tmp_path, "a.yaml", "extends: missing.yaml\nname: a\n")
    assert_user_error(cli("check", p), "missing.yaml", "extends")


def test_bad_override_value_is_validated_like_the_file(cli):
    proc = cli("run", BASE, "--set", "investment.realisation_share=2", "-n", "1")
    assert_user_error(proc, "--set investment.realisation_share", "less than or equal to 1")


def test_override_unknown_key(cli):
    proc = cli("check", BASE, "--set", "labour.fill_share=0.2")
    assert_user_error(proc, "labour.fill_share", "did you mean")


def test_bad_option_exits_2(cli):
    proc = cli("run", BASE, "--replications", "0")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_extends_merges_and_child_wins(tmp_path):
    from gzsim import load_scenario

    p = extending(tmp_path, """
        name: child
        investment:
          growth_rate_per_year: 0.2
        """)
    sc = load_scenario(p)
    base = load_scenario(BASE)
    assert sc.name == "child"
    assert sc.investment.growth_rate_per_year == 0.2
    assert sc.investment.realisation_share == base.investment.realisation_share
    assert sc.sectors == base.sectors


def test_overrides_through_api_are_typed():
    from gzsim import load_scenario

    sc = load_scenario(BASE, overrides=["run.replications=3", "investment.lead_months=4"])
    assert sc.run.replications == 3 and sc.investment.lead_months == 4


def test_scenario_is_frozen(base_scenario):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        base_scenario.investment.growth_rate_per_year = 0.5  # type: ignore[misc]


def test_check_prints_resolved_scenario(cli):
    proc = cli("check", BASE, "--set", "investment.lead_months=7")
    assert proc.returncode == 0, proc.stderr
    assert "lead_months: 7" in proc.stdout
