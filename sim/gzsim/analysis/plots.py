"""Report-ready figures from real results (matplotlib, headless). Each function returns a Figure.

Titles are readable indicator names from the registry, axes carry units with thousands
separators (never a ``1e6`` offset), flows are drawn as annual sums by default (monthly flows
are noise), legends sit outside the data, and a caption line says which scenario, how many
replications, which seed and which gzsim version made the figure. :func:`save_figure` writes
PNG and SVG side by side; sweeps are drawn by :mod:`gzsim.analysis.sweep_plots`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gzsim import __version__
from gzsim.analysis.tables import title as readable
from gzsim.errors import UserError
from gzsim.indicators import INDICATORS
from gzsim.io.outdir import atomic_folder
from gzsim.results import read_results


def _plt():
    """Pyplot, headless unless the user already chose a backend (MPLBACKEND, notebooks)."""
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg", force=False)
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    import matplotlib.pyplot as plt

    return plt


def unit_of(indicator: str, annual: bool = False) -> str:
    """The indicator's unit; a flow's annual sum is per year."""
    spec = INDICATORS.get(indicator)
    if spec is None:
        return ""
    return spec.unit.replace("/month", "/year") if annual and spec.kind == "flow" else spec.unit


def _label(indicator: str, annual: bool = False) -> str:
    spec = INDICATORS.get(indicator)
    return f"{readable(indicator)} [{unit_of(indicator, annual)}]" if spec else indicator


def heading(indicator: str) -> str:
    """A figure title: the readable name, and where it is measured."""
    spec = INDICATORS.get(indicator)
    return f"{readable(indicator)} ({spec.geography})" if spec else readable(indicator)


def thousands(axis: Any) -> None:
    """Tick labels with thousands separators and as many decimals as the span needs."""
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: int) -> str:
        lo, hi = axis.get_view_interval()
        span = abs(hi - lo)
        d = 0 if span >= 10 else 1 if span >= 1 else 2 if span >= 0.1 else 3
        return f"{v:,.{d}f}"

    axis.set_major_formatter(FuncFormatter(fmt))


def legend_outside(ax: Any, **kwargs: Any) -> None:
    """The legend right of the axes, where it hides no data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                  **kwargs)


def caption_of(results: dict[str, Any]) -> str:
    """Scenario, replications, seed and gzsim version of the results drawn."""
    runs = {}
    for name, res in results.items():
        s = _series_of(res)
        runs[name] = (s["replication"].nunique() if len(s) else 0,
                      (getattr(res, "manifest", {}) or {}).get("root_seed"))
    if len(set(runs.values())) == 1:  # one line for many scenarios run alike
        n, seed = next(iter(runs.values()))
        who = ", ".join(runs) if len(runs) <= 2 else f"{len(runs)} scenarios"
        parts = [f"{who}: {n} replications" + (" each" if len(runs) > 1 else "")
                 + (f", seed {seed}" if seed is not None else "")]
    else:
        parts = [f"{k}: {n} replications" + (f", seed {seed}" if seed is not None else "")
                 for k, (n, seed) in runs.items()]
    return "; ".join(parts) + f". gzsim {__version__}"


def add_caption(fig: Any, text: str) -> None:
    """A small grey line under the axes (kept by ``bbox_inches='tight'``)."""
    fig.text(0.01, -0.02, text, fontsize=7, color="0.35", ha="left", va="top", wrap=True)


def _series_of(result: Any) -> pd.DataFrame:
    return result.series if hasattr(result, "series") else result


def is_empty(values: Any) -> bool:
    """Nothing to draw: no finite value, or zero everywhere."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return v.size == 0 or bool(np.all(v == 0))


def _wide(s: pd.DataFrame, indicator: str, annual: bool) -> pd.DataFrame:
    """Date x replication; a flow's annual sums (dated mid-year) when ``annual``."""
    spec = INDICATORS.get(indicator)
    if annual and spec is not None and spec.kind == "flow":
        year = pd.to_datetime(s["date"]).dt.year
        g = s.groupby([year.rename("year"), s["replication"]])[indicator].sum().unstack()
        g.index = pd.to_datetime([f"{y}-07-01" for y in g.index])
        return g
    wide = s.pivot(index="date", columns="replication", values=indicator)
    wide.index = pd.to_datetime(wide.index)
    return wide


def fan_chart(results: Any, indicator: str, title: str | None = None, annual: bool = True):
    """Median with 50 % and 90 % bands across replications, one colour per scenario.

    ``results``: a :class:`~gzsim.results.Result` (or its series), or a dict name -> Result
    (several runs overlaid). ``annual``: a flow is drawn as its sum per year (default).
    """
    plt = _plt()
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    import matplotlib.dates as mdates

    if not isinstance(results, dict):
        name = getattr(results, "scenario_name", "") if hasattr(results, "manifest") else ""
        results = {name: results}
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, (name, res) in enumerate(results.items()):
        s = _series_of(res)
        if indicator not in s.columns:
            plt.close(fig)
            raise KeyError(f"indicator '{indicator}' is not in the results of '{name}'")
        if s.empty:
            plt.close(fig)
            raise ValueError(f"the results of '{name}' have no successful replication")
        wide = _wide(s, indicator, annual)
        q = wide.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
        colour, label = f"C{i}", (f"{name}: " if name else "")
        ax.fill_between(q.index, q[0.05], q[0.95], color=colour, alpha=0.15,
                        label=f"{label}90 % of replications")
        ax.fill_between(q.index, q[0.25], q[0.75], color=colour, alpha=0.3, label=f"{label}50 %")
        ax.plot(q.index, q[0.5], color=colour, lw=1.5, marker="o" if len(q) < 40 else None,
                ms=3, label=f"{label}median (n={wide.shape[1]})")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=12))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    thousands(ax.yaxis)
    ax.set_xlabel("year")
    ax.set_ylabel(_label(indicator, annual))
    per = " per year" if annual and unit_of(indicator) != unit_of(indicator, True) else ""
    ax.set_title(title or f"{heading(indicator)}{per}")
    ax.grid(alpha=0.3)
    legend_outside(ax)
    add_caption(fig, caption_of(results))
    return fig


def difference_chart(comparison: Any, indicator: str):
    """Paired differences against the base, with their confidence intervals, by year.

    Filled markers: the interval excludes zero; hollow: it does not (or there is no interval).
    One legend entry per scenario, outside the axes. ``comparison``: a
    :class:`~gzsim.analysis.compare.Comparison` or its ``table``.
    """
    plt = _plt()
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    from matplotlib.lines import Line2D

    table = comparison.table if hasattr(comparison, "table") else comparison
    df = table[table["indicator"] == indicator]
    if df.empty:
        raise KeyError(f"indicator '{indicator}' is not in the comparison")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    names = list(dict.fromkeys(df["scenario"]))
    years = sorted(df["year"].unique())
    width = 0.7 / max(len(names), 1)  # the scenarios of a year share 0.7 of the year's slot
    slot = {y: i for i, y in enumerate(years)}
    for i, name in enumerate(names):
        d = df[df["scenario"] == name].sort_values("year")
        x = d["year"].map(slot).to_numpy(dtype=float) + (i - (len(names) - 1) / 2) * width
        mean = d["diff_mean"].to_numpy(dtype=float)
        err = np.vstack([mean - d["ci_low"].to_numpy(dtype=float),
                         d["ci_high"].to_numpy(dtype=float) - mean])
        err = np.nan_to_num(np.clip(err, 0, None), nan=0.0)
        sig = d["distinguishable"].to_numpy(dtype=bool)
        ax.errorbar(x, mean, yerr=err, fmt="none", capsize=3, ecolor=f"C{i}")
        ax.plot(x[sig], mean[sig], "o", color=f"C{i}")
        ax.plot(x[~sig], mean[~sig], "o", mfc="white", color=f"C{i}")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(years)), [str(int(y)) for y in years])
    unit = str(df["unit"].iloc[0]) if "unit" in df and pd.notna(df["unit"].iloc[0]) else ""
    ax.set_xlabel("year")
    ax.set_ylabel(f"difference from base [{unit}]" if unit else "difference from base")
    thousands(ax.yaxis)
    level = getattr(comparison, "level", None)
    ci = f"{level:.0%} CI" if level else "CI"
    ax.set_title(f"{heading(indicator)}: scenario minus base (paired, {ci})")
    handles = [Line2D([], [], marker="o", ls="none", color=f"C{i}", label=n)
               for i, n in enumerate(names)]
    handles += [Line2D([], [], marker="o", ls="none", color="0.3", label="interval excludes 0"),
                Line2D([], [], marker="o", ls="none", color="0.3", mfc="white",
                       label="interval includes 0")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              frameon=False)
    ax.grid(alpha=0.3)
    results = getattr(comparison, "results", None)
    if results:
        add_caption(fig, "Paired over common random numbers. " + caption_of(results))
    return fig


def _first(table: pd.DataFrame, names: list[str], what: str) -> str:
    for n in names:
        if n in table.columns:
            return n
    raise ValueError(f"calibration table has no {what} column (one of {', '.join(names)})")


def calibration_fit(table: pd.DataFrame):
    """Each target: observed value against the simulated centre with its interval.

    The centre is the simulated mean when the table has one (the fit and its tolerances use
    means), else the median. Columns: ``id``, ``observed``, ``sim_mean`` or ``sim_median``,
    and the interval as
    ``sim_low``/``sim_high``, ``sim_p05``/``sim_p95`` or ``ci90_low``/``ci90_high``; optional
    ``year`` and ``tolerance`` (relative). Shown relative to the observed value when no
    observed value is zero, else in the targets' own units.
    """
    plt = _plt()
    mid_col = _first(table, ["sim_mean", "sim_median"], "simulated centre")
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
    ax.errorbar(mid, y, xerr=err, fmt="o", capsize=3,
                label=f"simulated {centre},\n90 % of replications")
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
    legend_outside(ax)
    ax.grid(alpha=0.3)
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
    ax.invert_yaxis()  # the most influential factor (first row) on top
    ax.set_title(f"Sensitivity of {outcome.replace('_', ' ')}" if outcome else "Sensitivity")
    legend_outside(ax)
    ax.grid(alpha=0.3)
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
        fig.savefig(out[0], dpi=120, bbox_inches="tight")
        fig.savefig(out[1], bbox_inches="tight")
    finally:
        plt.close(fig)
    return out


DEFAULT_PLOTS = ["investment_usd_m", "jobs_created", "employment", "expressway_km",
                 "serviced_land_km2", "people_resettled", "poor_people", "fiscal_cost_usd_m"]


def plot_results(results_dir: str | Path | list, out_dir: str | Path | None = None,
                 indicators: list[str] | None = None,
                 skipped: list[str] | None = None) -> list[Path]:
    """Fan charts of ``gzsim run`` results folders, as PNG and SVG.

    One folder: its charts in DIR/plots. Several: each chart overlays them (named by folder),
    in FIRST/plots/overlay unless ``out_dir``. Indicators that are zero in every replication
    of every run are skipped (no empty charts) and appended to ``skipped``.
    """
    dirs = [Path(d) for d in (results_dir if isinstance(results_dir, list) else [results_dir])]
    runs = {}
    for d in dirs:
        res = read_results(d)
        if res.series.empty:
            raise UserError(f"{d}: no successful replication to plot")
        runs[d.name if len(dirs) > 1 else res.scenario_name] = res
    out = Path(out_dir) if out_dir else dirs[0] / "plots" / ("overlay" if len(dirs) > 1 else "")
    first = next(iter(runs.values())).series
    names = list(indicators) if indicators else [i for i in DEFAULT_PLOTS if i in first.columns]
    for d, res in zip(dirs, runs.values(), strict=True):
        unknown = [i for i in names if i not in res.series.columns]
        if unknown:
            available = [c for c in res.series.columns if c not in ("replication", "date")]
            raise UserError(f"indicator(s) {unknown} not in {d}; available: "
                            f"{', '.join(available)}")

    paths: list[Path] = []
    with atomic_folder(out, "plots") as tmp:  # only a new, empty or earlier plots folder
        for ind in names:
            if all(is_empty(r.series[ind]) for r in runs.values()):
                if skipped is not None:
                    skipped.append(ind)
                continue
            save_figure(fan_chart(runs, ind), tmp / f"fan_{ind}")
            paths += [out / f"fan_{ind}.png", out / f"fan_{ind}.svg"]
    return paths
