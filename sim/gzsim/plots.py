"""Figures from real results (matplotlib, headless). Each function returns a Figure.

Axes carry units and calendar years; :func:`save_figure` writes PNG and SVG side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gzsim.indicators import INDICATORS


def _plt():
    """pyplot, headless unless the user already chose a backend (MPLBACKEND, notebooks)."""
    import os
    import sys

    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _label(indicator: str) -> str:
    spec = INDICATORS.get(indicator)
    return f"{indicator} [{spec.unit}, {spec.geography}]" if spec else indicator


def _series_of(result: Any) -> pd.DataFrame:
    return result.series if hasattr(result, "series") else result


def fan_chart(results: Any, indicator: str, title: str | None = None):
    """Median with 50 % and 90 % bands across replications, one colour per scenario.

    ``results``: a :class:`~gzsim.results.Result` (or its series), or a dict name -> Result.
    """
    plt = _plt()
    import matplotlib.dates as mdates

    if not isinstance(results, dict):
        name = getattr(results, "scenario_name", "") if hasattr(results, "manifest") else ""
        results = {name: results}
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (name, res) in enumerate(results.items()):
        s = _series_of(res)
        if indicator not in s.columns:
            plt.close(fig)
            raise KeyError(f"indicator '{indicator}' is not in the results of '{name}'")
        if s.empty:
            plt.close(fig)
            raise ValueError(f"the results of '{name}' have no successful replication")
        wide = s.pivot(index="date", columns="replication", values=indicator)
        wide.index = pd.to_datetime(wide.index)
        q = wide.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
        colour = f"C{i}"
        n = wide.shape[1]
        label = f"{name} " if name else ""
        ax.fill_between(q.index, q[0.05], q[0.95], color=colour, alpha=0.15,
                        label=f"{label}90 %")
        ax.fill_between(q.index, q[0.25], q[0.75], color=colour, alpha=0.3,
                        label=f"{label}50 %")
        ax.plot(q.index, q[0.5], color=colour, lw=1.5, label=f"{label}median (n={n})")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=12))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_xlabel("year")
    ax.set_ylabel(_label(indicator))
    ax.set_title(title or indicator)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def difference_chart(comparison: Any, indicator: str):
    """Paired differences against the base, with their confidence intervals, by year.

    Filled markers: distinguishable from zero; hollow: not distinguishable (or no interval).
    ``comparison``: a :class:`~gzsim.compare.Comparison` or its ``table``.
    """
    plt = _plt()
    table = comparison.table if hasattr(comparison, "table") else comparison
    df = table[table["indicator"] == indicator]
    if df.empty:
        raise KeyError(f"indicator '{indicator}' is not in the comparison")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    names = list(dict.fromkeys(df["scenario"]))
    years = sorted(df["year"].unique())
    span = (max(years) - min(years)) / max(len(years) - 1, 1) if len(years) > 1 else 1.0
    width = 0.6 * span / max(len(names), 1)
    for i, name in enumerate(names):
        d = df[df["scenario"] == name].sort_values("year")
        x = d["year"].to_numpy(dtype=float) + (i - (len(names) - 1) / 2) * width
        mean = d["diff_mean"].to_numpy(dtype=float)
        err = np.vstack([mean - d["ci_low"].to_numpy(dtype=float),
                         d["ci_high"].to_numpy(dtype=float) - mean])
        err = np.nan_to_num(np.clip(err, 0, None), nan=0.0)
        sig = d["distinguishable"].to_numpy(dtype=bool)
        ax.errorbar(x, mean, yerr=err, fmt="none", capsize=3, ecolor=f"C{i}")
        ax.plot(x[sig], mean[sig], "o", color=f"C{i}", label=name)
        ax.plot(x[~sig], mean[~sig], "o", mfc="white", color=f"C{i}",
                label=f"{name} (not distinguishable from zero)" if (~sig).any() else None)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(years, [str(int(y)) for y in years])
    unit = str(df["unit"].iloc[0]) if "unit" in df and pd.notna(df["unit"].iloc[0]) else ""
    ax.set_xlabel("year")
    ax.set_ylabel(f"difference in {indicator}" + (f" [{unit}]" if unit else ""))
    level = getattr(comparison, "level", None)
    ci = f"{level:.0%} CI" if level else "CI"
    ax.set_title(f"{indicator}: scenario minus base (paired, {ci})")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _first(table: pd.DataFrame, names: list[str], what: str) -> str:
    for n in names:
        if n in table.columns:
            return n
    raise ValueError(f"calibration table has no {what} column (one of {', '.join(names)})")


def calibration_fit(table: pd.DataFrame):
    """Each target: observed value against the simulated centre with its interval.

    Columns: ``id``, ``observed``, ``sim_median`` or ``sim_mean``, and the interval as
    ``sim_low``/``sim_high``, ``sim_p05``/``sim_p95`` or ``ci90_low``/``ci90_high``; optional
    ``year`` and ``tolerance`` (relative). Shown relative to the observed value when no
    observed value is zero, else in the targets' own units.
    """
    plt = _plt()
    mid_col = _first(table, ["sim_median", "sim_mean"], "simulated centre")
    lo_col = _first(table, ["sim_low", "sim_p05", "ci90_low"], "interval low")
    hi_col = _first(table, ["sim_high", "sim_p95", "ci90_high"], "interval high")
    obs = table["observed"].to_numpy(dtype=float)
    relative = bool(np.all(np.isfinite(obs) & (obs != 0)))
    scale = obs if relative else np.ones_like(obs)
    mid, lo, hi = (table[c].to_numpy(dtype=float) / scale for c in (mid_col, lo_col, hi_col))
    y = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 1.5))
    err = np.nan_to_num(np.clip(np.vstack([mid - lo, hi - mid]), 0, None), nan=0.0)
    centre = "median" if mid_col == "sim_median" else "mean"
    ax.errorbar(mid, y, xerr=err, fmt="o", capsize=3, label=f"simulated {centre}, interval")
    if relative:
        if "tolerance" in table:
            tol = table["tolerance"].to_numpy(dtype=float)
            ax.barh(y, 2 * tol, left=1 - tol, height=0.5, color="green", alpha=0.15,
                    label="target tolerance")
        ax.axvline(1.0, color="black", lw=0.8, label="observed (= 1)")
        ax.set_xlabel("simulated / observed")
    else:
        ax.plot(obs, y, "kx", label="observed")
        ax.set_xlabel("value (each target in its own unit)")
    years = table["year"] if "year" in table else pd.Series([np.nan] * len(table))
    labels = [f"{i} ({int(yr)})" if pd.notna(yr) else str(i)
              for i, yr in zip(table["id"], years, strict=True)]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_ylabel("target")
    ax.set_title("Calibration: targets against simulated values")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def sensitivity_chart(indices: pd.DataFrame, outcome: str = ""):
    """Sobol S1/ST with confidence intervals, or Morris mu*/sigma, per factor."""
    plt = _plt()
    if "S1" not in indices and "mu_star" not in indices:
        raise ValueError("sensitivity indices need columns S1/ST (Sobol) or mu_star/sigma "
                         "(Morris)")
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(indices) + 1.5))
    y = np.arange(len(indices))
    if "S1" in indices:
        ax.barh(y - 0.2, indices["S1"], height=0.4, xerr=indices.get("S1_conf"), label="S1")
        ax.barh(y + 0.2, indices["ST"], height=0.4, xerr=indices.get("ST_conf"), label="ST")
        ax.set_xlabel("Sobol index (share of variance)")
    else:
        ax.barh(y - 0.2, indices["mu_star"], height=0.4, xerr=indices.get("mu_star_conf"),
                label="mu*")
        ax.barh(y + 0.2, indices["sigma"], height=0.4, label="sigma")
        ax.set_xlabel(f"Morris elementary effects{f' on {outcome}' if outcome else ''}")
    ax.set_yticks(y, indices["factor"], fontsize=8)
    ax.set_ylabel("factor")
    ax.set_title(f"Sensitivity of {outcome}" if outcome else "Sensitivity")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | Path) -> list[Path]:
    """Write ``path.png`` and ``path.svg``; close the figure; return both paths.

    ``path`` is given without suffix (a ``.png``/``.svg``/``.pdf`` suffix is dropped).
    """
    plt = _plt()
    path = Path(path)
    if path.suffix.lower() in (".png", ".svg", ".pdf"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [path.parent / f"{path.name}.png", path.parent / f"{path.name}.svg"]
    try:
        fig.savefig(out[0], dpi=120)
        fig.savefig(out[1])
    finally:
        plt.close(fig)
    return out


DEFAULT_PLOTS = ["investment_usd_m", "jobs_created", "employment", "expressway_km",
                 "serviced_land_km2", "people_resettled", "poor_people", "fiscal_cost_usd_m"]


def plot_results(results_dir: str | Path, out_dir: str | Path | None = None,
                 indicators: list[str] | None = None) -> list[Path]:
    """Fan charts of a ``gzsim run`` results folder, as PNG and SVG (default: DIR/plots)."""
    from gzsim.errors import UserError
    from gzsim.results import read_results

    res = read_results(results_dir)
    if res.series.empty:
        raise UserError(f"{results_dir}: no successful replication to plot")
    out = Path(out_dir) if out_dir else Path(results_dir) / "plots"
    names = list(indicators) if indicators else \
        [i for i in DEFAULT_PLOTS if i in res.series.columns]
    unknown = [i for i in names if i not in res.series.columns]
    if unknown:
        available = [c for c in res.series.columns if c not in ("replication", "date")]
        raise UserError(f"indicator(s) {unknown} not in {results_dir}; available: "
                        f"{', '.join(available)}")
    from gzsim.outdir import atomic_folder

    paths: list[Path] = []
    with atomic_folder(out, "plots") as tmp:  # only a new, empty or earlier plots folder
        for ind in names:
            save_figure(fan_chart({res.scenario_name: res}, ind), tmp / f"fan_{ind}")
            paths += [out / f"fan_{ind}.png", out / f"fan_{ind}.svg"]
    return paths
