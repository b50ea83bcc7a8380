"""Figures of a sweep: outcomes against factors (scatter matrix) and response surfaces.

``gzsim plot SWEEP_DIR`` draws both for the sweep's scalar outcomes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gzsim import __version__
from gzsim.analysis.plots import _plt, add_caption, save_figure, thousands
from gzsim.analysis.surface import numeric_factors, ranked_factors, response_surface
from gzsim.errors import UserError
from gzsim.experiments import read_sweep
from gzsim.io.outdir import atomic_folder


def _caption(sweep: Any) -> str:
    m = sweep.manifest
    return (f"Sweep {m['experiment']['spec']['name']} ({m['design']['kind']}): "
            f"{len(sweep.design)} points x {sweep.replications} replications, seed "
            f"{m['seeds']['root_seed']}. gzsim {__version__}")


def scatter_matrix(sweep: Any, outcomes: list[str] | None = None):
    """One panel per (outcome, factor): every successful run, and the mean per point."""
    plt = _plt()
    outcomes = outcomes or list(sweep.outcome_names)
    factors = numeric_factors(sweep)
    s = sweep.scalars
    fig, axes = plt.subplots(len(outcomes), len(factors), squeeze=False, sharey="row",
                             figsize=(3.2 * len(factors) + 1, 2.6 * len(outcomes) + 1))
    means = s.groupby("point")[[*factors, *outcomes]].mean()
    for i, o in enumerate(outcomes):
        for j, f in enumerate(factors):
            ax = axes[i][j]
            ax.scatter(s[f], s[o], s=8, alpha=0.35, color="C0", label="run")
            ax.scatter(means[f], means[o], s=14, color="C1", label="mean of a point")
            thousands(ax.yaxis)
            if i == len(outcomes) - 1:
                ax.set_xlabel(f.split(".")[-1].replace("_", " "), fontsize=8)
            if j == 0:
                unit = sweep.outcome_units.get(o, "")
                ax.set_ylabel(o.replace("_", " ") + (f" [{unit}]" if unit else ""), fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7,
                       frameon=False)
    fig.suptitle("Outcomes against factors")
    add_caption(fig, _caption(sweep))
    return fig


def surface_chart(sweep: Any, outcome: str, x: str | None = None, y: str | None = None):
    """The response surface of ``outcome`` (see :func:`gzsim.analysis.surface.response_surface`)."""
    plt = _plt()
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    from matplotlib import patheffects

    da = response_surface(sweep, outcome, x, y)
    fig, ax = plt.subplots(figsize=(7, 5))
    if da.ndim == 1:
        dim = da.dims[0]
        ax.plot(da[dim].values, da.values, "o-")
        ax.set_xlabel(dim.replace("_", " "))
        ax.set_ylabel(f"mean {outcome.replace('_', ' ')}")
        thousands(ax.yaxis)
    else:
        ydim, xdim = da.dims
        mesh = ax.pcolormesh(da[xdim].values, da[ydim].values, da.values, shading="nearest",
                             cmap="viridis")
        unit = sweep.outcome_units.get(outcome, "")
        bar = fig.colorbar(mesh, ax=ax, label=f"mean {outcome.replace('_', ' ')}"
                           + (f" [{unit}]" if unit else ""))
        thousands(bar.ax.yaxis)
        ax.set_xlabel(xdim.replace("_", " "))
        ax.set_ylabel(ydim.replace("_", " "))
        for (r, c), v in np.ndenumerate(da.values):
            if np.isfinite(v):
                ax.text(da[xdim].values[c], da[ydim].values[r], f"{v:,.0f}", ha="center",
                        va="center", fontsize=8, color="black",
                        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
    ax.set_title(f"Response of {outcome.replace('_', ' ')}")
    grid = sweep.manifest["design"]["kind"] == "full_factorial"
    add_caption(fig, _caption(sweep) + (". Mean over replications." if grid else
                                        ". Mean of the runs in each bin (equal-count bins)."))
    return fig


def plot_sweep(sweep_dir: str | Path, out_dir: str | Path | None = None,
               outcomes: list[str] | None = None) -> list[Path]:
    """Scatter matrix and one response surface per outcome, in SWEEP_DIR/plots by default."""
    sw = read_sweep(sweep_dir)
    if sw.scalars.empty or not sw.outcome_names:
        raise UserError(f"{sweep_dir}: the sweep has no successful run with scalar outcomes "
                        "to plot")
    names = list(outcomes) if outcomes else list(sw.outcome_names)
    unknown = [o for o in names if o not in sw.outcome_names]
    if unknown:
        raise UserError(f"outcome(s) {unknown} not in {sweep_dir}; scalar outcomes: "
                        f"{', '.join(sw.outcome_names)}")

    out = Path(out_dir) if out_dir else Path(sweep_dir) / "plots"
    names_written = ["scatter_matrix"]
    with atomic_folder(out, "plots") as tmp:  # only a new, empty or earlier plots folder
        save_figure(scatter_matrix(sw, names), tmp / "scatter_matrix")
        for o in names:
            if ranked_factors(sw, o):
                save_figure(surface_chart(sw, o), tmp / f"surface_{o}")
                names_written.append(f"surface_{o}")
    return [out / f"{n}.{ext}" for n in names_written for ext in ("png", "svg")]
