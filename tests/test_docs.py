"""The model document stays true to the code: its tables are regenerated, not hand-kept."""

from __future__ import annotations

import subprocess
import sys

from gzsim.indicators import INDICATORS
from gzsim.model.processes import registered
from tests.conftest import REPO


def test_model_doc_tables_are_up_to_date():
    res = subprocess.run([sys.executable, str(REPO / "tools" / "doc_tables.py"), "--check"])
    assert res.returncode == 0, "run: python tools/doc_tables.py"


def test_every_indicator_and_odd_section_is_documented():
    text = (REPO / "docs" / "model.md").read_text()
    package = {i.name for c in registered() if c.__module__.startswith("gzsim.")
               for i in c.INDICATORS}  # not the tests' toy plugin processes
    assert package <= set(INDICATORS)
    for name in package:
        assert f"`{name}`" in text
    for heading in ("## 1. Overview", "## 2. Design concepts", "## 3. Details",
                    "### 3.1 Initialisation", "### 3.2 Input data", "### 3.3 Submodels"):
        assert heading in text
