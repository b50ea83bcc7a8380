"""Provenance: the run manifest (time, command, overrides, file hashes, version, platform),
units in the Parquet schema, and source notes kept as data."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from gzsim import UserError, load_scenario, simulate
from gzsim.cli import main
from gzsim.scenario.sources import unwrap_sources
from tests.conftest import BASE, REPO, SCENARIOS

TAX = SCENARIOS / "policy_tax_incentives.yaml"


def _values(sc):
    """A scenario's values; a posterior file that exists nowhere is a reference, not a value."""
    d = sc.model_dump()
    if d["run"].get("posterior") and not __import__("os").path.exists(d["run"]["posterior"]):
        d["run"]["posterior"] = None
    return d


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    sc = load_scenario(TAX, overrides=["time.end=2015-12"])
    out = tmp_path_factory.mktemp("run")
    simulate(sc, replications=2, seed=1, workers=1).save(out)
    return out


def test_manifest_records_time_command_overrides_files_version_platform(saved):
    prov = json.loads((saved / "manifest.json").read_text())["provenance"]
    assert datetime.fromisoformat(prov["created_utc"]).utcoffset().total_seconds() == 0
    assert prov["overrides"] == ["time.end=2015-12"]
    assert isinstance(prov["command_line"], list)
    roles = [(f["role"], f["path"]) for f in prov["files"]]
    assert roles == [("scenario", str(TAX.resolve())), ("extends", str(BASE.resolve())),
                     ("fitted_values",
                      str((REPO / "calibration" / "fitted.yaml").resolve())),
                     ("posterior", str((REPO / "calibration" / "posterior.parquet").resolve())),
                     ("assumptions", str((REPO / "scenarios" / "assumptions.yaml").resolve()))]
    for f in prov["files"]:
        with open(f["path"], "rb") as fh:
            assert f["sha256"] == hashlib.sha256(fh.read()).hexdigest()
    assert prov["gzsim_version"] and prov["platform"]["python"]
    if (REPO / ".git").exists():
        assert len(prov["git_commit"]) == 40
    assert prov["sources"]["region.area_km2"]["unit"] == "km2"


def test_parquet_columns_carry_unit_geography_kind(saved):
    schema = pq.read_schema(saved / "series.parquet")
    meta = schema.field("employment").metadata
    assert meta[b"unit"] == b"people" and meta[b"geography"] == b"district"
    assert meta[b"kind"] == b"stock"
    assert schema.field("investment_usd_m").metadata[b"kind"] == b"flow"
    whole = json.loads(schema.metadata[b"gzsim"])
    assert whole["scenario"] == "policy_tax_incentives"
    assert whole["indicators"]["poor_people"]["geography"] == "province"


def test_source_notes_are_data():
    data, notes = unwrap_sources({"a": {"value": 3, "source": "[2013] x"},
                                  "b": [{"value": 1, "note": "assumption"}],
                                  "c": {"value": 5, "other": 1}})
    assert data == {"a": 3, "b": [1], "c": {"value": 5, "other": 1}}
    assert notes == {"a": {"source": "[2013] x"}, "b.0": {"note": "assumption"}}
    res = CliRunner().invoke(main, ["check", str(BASE), "--sources"])
    assert res.exit_code == 0 and "region.area_km2: source: [2017]" in res.output


def test_an_annotated_value_is_validated_and_located(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASE}\nname: bad\nregion:\n"
                   "  area_km2: {value: -5, source: nowhere}\n")
    with pytest.raises(UserError, match="area_km2") as e:
        load_scenario(bad)
    assert "bad.yaml" in str(e.value)


def test_where_a_scenario_was_read_from_does_not_change_it(tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text(BASE.read_text())
    a, b = load_scenario(BASE), load_scenario(copy)
    assert a._provenance["files"] != b._provenance["files"] and _values(a) == _values(b)
