"""Sweep figures and arrays: factor dimensions without dots, response surfaces, and
`gzsim plot SWEEP_DIR` (scatter matrix and surfaces), on a fast stand-in model."""

from __future__ import annotations

import numpy as np
import pytest

from gzsim.analysis.surface import response_surface
from gzsim.analysis.sweep_plots import plot_sweep
from gzsim.experiments import read_sweep, run_sweep
from tests.conftest import BASE

GRID = """
name: grid
base: {base}
seed: 3
replications: 2
factors:
  investment.growth_rate_per_year: {{levels: [0.05, 0.1, 0.15]}}
  investment.realisation_share: {{levels: [0.5, 0.7]}}
design: {{kind: full_factorial}}
outcomes:
  series: false
  scalars:
    - {{name: y, indicator: jobs_direct, year: 2017, aggregation: december}}
"""
LHS = GRID.replace("{{levels: [0.05, 0.1, 0.15]}}", "{{range: [0.05, 0.15]}}") \
    .replace("{{levels: [0.5, 0.7]}}", "{{range: [0.5, 0.7]}}") \
    .replace("full_factorial}}", "latin_hypercube, samples: 32}}").replace("grid", "lhs")


def plane(scenario, root_seed, replication):
    """A stand-in: y = 100 share + 10 growth + replication noise."""
    r, g = scenario.investment.realisation_share, scenario.investment.growth_rate_per_year
    return {"jobs_direct": np.full(scenario.time.n_months, 100 * r + 10 * g + replication)}


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweeps")
    out = {}
    for name, text in (("grid", GRID), ("lhs", LHS)):
        (root / f"{name}.yaml").write_text(text.format(base=BASE))
        run_sweep(root / f"{name}.yaml", root / name, backend="serial", progress=False,
                  run_fn=plane)
        out[name] = root / name
    return out


def test_to_xarray_names_factor_dimensions_without_dots(sweeps):
    sw = read_sweep(sweeps["grid"])
    ds = sw.to_xarray("scalars")
    assert "growth_rate_per_year" in ds.coords and not any("." in str(c) for c in ds.coords)
    assert ds["growth_rate_per_year"].attrs["path"] == "investment.growth_rate_per_year"
    grid = sw.to_xarray("scalars", by_factor=True)
    assert dict(grid["y"].sizes) == {"replication": 2, "growth_rate_per_year": 3,
                                     "realisation_share": 2}
    v = grid["y"].sel(growth_rate_per_year=0.1, realisation_share=0.7, replication=1)
    assert float(v) == pytest.approx(100 * 0.7 + 10 * 0.1 + 1)
    from gzsim import UserError

    with pytest.raises(UserError, match="grid"):
        read_sweep(sweeps["lhs"]).to_xarray("scalars", by_factor=True)


def test_response_surface_means_over_replications(sweeps):
    da = response_surface(read_sweep(sweeps["grid"]), "y")
    assert set(da.dims) == {"growth_rate_per_year", "realisation_share"}
    cell = da.sel(growth_rate_per_year=0.15, realisation_share=0.5)
    assert float(cell) == pytest.approx(100 * 0.5 + 10 * 0.15 + 0.5)  # mean of reps 0 and 1
    binned = response_surface(read_sweep(sweeps["lhs"]), "y", bins=4)
    assert binned.dims[0] == "realisation_share"  # the most influential factor first
    assert np.isfinite(binned.values).sum() >= 4


def test_plot_sweep_draws_scatter_matrix_and_surfaces(sweeps, cli):
    paths = plot_sweep(sweeps["lhs"])
    assert [p.name for p in paths] == ["scatter_matrix.png", "scatter_matrix.svg",
                                       "surface_y.png", "surface_y.svg"]
    assert all(p.stat().st_size > 5000 for p in paths)
    res = cli("plot", sweeps["grid"], "-o", sweeps["grid"] / "figs")
    assert res.returncode == 0, res.stderr
    assert (sweeps["grid"] / "figs" / "surface_y.png").exists()
    bad = cli("plot", sweeps["grid"], "-i", "nope")
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_scalar_outcomes_carry_units(sweeps):
    sw = read_sweep(sweeps["grid"])
    assert sw.outcome_units == {"y": "jobs"}
    assert sw.scalars.attrs["units"] == {"y": "jobs"}
    assert sw.to_xarray("scalars")["y"].attrs["units"] == "jobs"


def test_sweep_series_parquet_carries_units(tmp_path):
    import pyarrow.parquet as pq

    exp = tmp_path / "g.yaml"
    exp.write_text(GRID.format(base=BASE).replace("series: false", "series: true"))
    run_sweep(exp, tmp_path / "g", backend="serial", progress=False, run_fn=plane)
    part = next((tmp_path / "g" / "series").glob("*.parquet"))
    assert pq.read_schema(part).field("jobs_direct").metadata[b"unit"] == b"jobs"
    assert read_sweep(tmp_path / "g").series["jobs_direct"].notna().all()
