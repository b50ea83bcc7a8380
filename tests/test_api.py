"""The Python API behaves like the CLI: worker default, a clear early error when replications
cannot run (with the missing __main__ guard named), units on scalar outcomes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gzsim import load_scenario, simulate
from gzsim.errors import AllRunsFailed
from gzsim.execution.failfast import _guarded_lines
from gzsim.experiments.spec import ScalarOutcome
from tests.conftest import BASE, REPO

SHORT = ["time.end=2015-12"]


def test_worker_default_is_the_clis():
    res = simulate(load_scenario(BASE, overrides=SHORT), replications=2, seed=1)
    assert res.manifest["workers"] == min(os.cpu_count() or 1, 2)


def boom(scenario, root_seed, replication):
    raise ValueError(f"cannot run with growth {scenario.investment.growth_rate_per_year}")


def test_every_replication_failing_stops_early_and_quotes_the_first_error():
    sc = load_scenario(BASE, overrides=SHORT)
    with pytest.raises(AllRunsFailed) as e:
        simulate(sc, replications=20, seed=1, backend="serial", workers=1, run_fn=boom)
    msg = str(e.value)
    assert "the first 3 replications of 20 failed the same way" in msg
    assert "ValueError: cannot run with growth" in msg or "cannot run with growth" in msg


def test_some_failures_are_recorded_not_fatal():
    def odd(scenario, root_seed, replication):
        if replication % 2:
            raise ValueError("odd")
        from gzsim.model import simulate_one

        return simulate_one(scenario, root_seed, replication)

    res = simulate(load_scenario(BASE, overrides=SHORT), replications=4, seed=1,
                   backend="serial", workers=1, run_fn=odd)
    assert res.manifest["failed_replications"] == [1, 3]


SCRIPT = """
from gzsim import load_scenario, simulate
sc = load_scenario({base!r}, overrides=["time.end=2015-12"])
{body}
"""


def test_a_script_without_main_guard_gets_one_clear_error(tmp_path):
    script = tmp_path / "no_guard.py"
    script.write_text(SCRIPT.format(base=str(BASE), body="simulate(sc, replications=4, "
                                                         "workers=2)"))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=REPO)
    assert res.returncode != 0
    assert "if __name__ == \"__main__\":" in res.stderr and "no_guard.py:4" in res.stderr
    assert "bootstrapping phase" not in res.stderr  # no worker was started


def test_guarded_lines_are_found():
    src = "import x\nif __name__ == '__main__':\n    run()\n    more()\nrun()\n"
    assert _guarded_lines(src) == {3, 4}


def test_scalar_outcomes_have_units():
    unit = {agg: ScalarOutcome(name="o", indicator="jobs_created", year=2017,
                               aggregation=agg).unit for agg in ("annual", "annual_mean")}
    assert unit == {"annual": "jobs/year", "annual_mean": "jobs/month"}
    assert ScalarOutcome(name="e", indicator="employment", year=2020).unit == "people"
    assert ScalarOutcome(name="t", indicator="investment_usd_m",
                         aggregation="total").unit == "US$ m"
