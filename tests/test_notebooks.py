"""The notebooks run: each is executed with small parameters, so a broken notebook fails here."""

from __future__ import annotations

import pytest

from tests.conftest import REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = REPO / "notebooks"


def execute(name: str, parameters: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "each notebook has one cell tagged 'parameters'"
    cells[0].source = parameters
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def outputs_text(nb) -> str:
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            parts.append(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


def test_compare_policies_notebook():
    nb = execute("compare_policies.ipynb", "REPLICATIONS = 3\nSEED = 1\nWORKERS = 1")
    text = outputs_text(nb)
    assert "policy_tax_incentives" in text and "diff_mean" in text


def test_calibration_notebook():
    nb = execute("calibration.ipynb", "REPLICATIONS = 4\nSEED = 1\nWORKERS = 1")
    assert "gui_an_investment_2017" in outputs_text(nb)


def test_sweep_analysis_notebook(tmp_path):
    nb = execute("sweep_analysis.ipynb",
                 f"SAMPLES = 4\nOUT = {str(tmp_path / 'sobol')!r}\nWORKERS = 1")
    assert "jobs_created_2017" in outputs_text(nb)
    assert (tmp_path / "sobol" / "runs.parquet").exists()


def test_uncertainty_bands_notebook():
    nb = execute("uncertainty_bands.ipynb",
                 "REPLICATIONS = 6\nSEED = 1\nWORKERS = 1\nPOLICY = 'policy_tax_incentives.yaml'"
                 "\nINDICATOR = 'investment_usd_m'\nYEAR = 2020")
    text = outputs_text(nb)
    assert "band_width" in text
    assert ("times as wide" in text) or ("only the model's randomness" in text)
