"""The notebooks run: each is executed with small parameters, so a broken notebook fails here.

Their conclusions are computed (markdown displayed from variables), the sweep notebook changes
its sample size in memory and warns when intervals are wider than the indices, and the
executed notebooks are saved with their outputs (what ``make docs`` does).
"""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
sys.path.insert(0, str(REPO / "tools"))
from run_notebooks import execute  # noqa: E402

NOTEBOOKS = REPO / "notebooks"


def outputs_text(nb) -> str:
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            data = o.get("data", {})
            parts.append(str(o.get("text", "")) + str(data.get("text/plain", ""))
                         + str(data.get("text/markdown", "")))
    return "\n".join(parts)


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


def test_no_typed_in_numbers_in_the_notebooks_text():
    import re

    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            if c.cell_type == "markdown":  # results are displayed from variables, not typed
                assert not re.search(r"\d+(\.\d+)? ?%|US\$ ?\d|\d,\d{3}", c.source), \
                    (path.name, c.source[:80])


def test_compare_policies_notebook(tmp_path):
    nb = execute("compare_policies.ipynb", "REPLICATIONS = 3\nSEED = 1\nWORKERS = 1",
                 out=tmp_path / "docs")
    text = outputs_text(nb)
    assert "policy_tax_incentives" in text and "diff ±" in text
    assert "Each US$ m of extra public cost" in text  # the computed conclusion
    assert_every_comparison_uses_the_parent(nb)
    saved = nbformat.read(tmp_path / "docs" / "compare_policies.ipynb", as_version=4)
    assert any(c.get("outputs") for c in saved.cells if c.cell_type == "code")
    assert any("image/png" in o.get("data", {}) for c in saved.cells
               for o in c.get("outputs", []))


def assert_every_comparison_uses_the_parent(nb) -> None:
    """Each "X vs Y" headline table of the notebook compares policy X with the file it extends."""
    import re

    from gzsim import load_scenario
    from gzsim.scenario import load_parent

    pairs = set(re.findall(r"\*\*(policy_\w+) vs (\w+)", outputs_text(nb)))
    policies = {p.stem for p in (REPO / "scenarios").glob("policy_*.yaml")}
    assert {x for x, _ in pairs} == policies  # every shipped policy is compared
    for policy, base in pairs:
        assert base == load_parent(load_scenario(REPO / "scenarios" / f"{policy}.yaml")).name, \
            (policy, base)


def test_rendered_compare_policies_compares_each_policy_with_its_parent():
    """The committed, rendered notebook (make docs) never compares a policy with another
    scenario than the one it extends (it once reported policy_land_push_scarce against base)."""
    nb = nbformat.read(REPO / "docs" / "notebooks" / "compare_policies.ipynb", as_version=4)
    assert_every_comparison_uses_the_parent(nb)
    assert "policy_land_push_scarce vs land_scarce" in outputs_text(nb)


def test_calibration_notebook():
    nb = execute("calibration.ipynb", "REPLICATIONS = 4\nSEED = 1\nWORKERS = 1")
    text = outputs_text(nb)
    assert "gui_an_investment_2017" in text and "targets are met within tolerance" in text


def test_sweep_analysis_notebook(tmp_path):
    nb = execute("sweep_analysis.ipynb",
                 f"SAMPLES = 4\nOUT = {str(tmp_path / 'sobol')!r}\nWORKERS = 1")
    text = outputs_text(nb)
    assert "jobs_created_2017" in text
    assert "wider than the index itself" in text and "base samples would" in text
    assert (tmp_path / "sobol" / "runs.parquet").exists()
    assert not list(tmp_path.rglob("*.yaml"))  # the sample size changed in memory


def test_uncertainty_bands_notebook():
    nb = execute("uncertainty_bands.ipynb",
                 "REPLICATIONS = 6\nSEED = 1\nWORKERS = 1\nPOLICY = 'policy_tax_incentives.yaml'"
                 "\nINDICATOR = 'investment_usd_m'\nYEAR = 2020")
    text = outputs_text(nb)
    assert "band_width" in text
    assert ("times as wide" in text) or ("only the model's randomness" in text)
