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
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(indicator: str) -> str:
    spec = INDICATORS.get(indicator)
    return f"{indicator} [{spec.unit}, {spec.geography}]" if spec else indicator


def _series_of(result: Any) -> pd.DataFrame:
    return result.series if hasattr(result, "series") else result


def fan_chart(results: Any, indicator: str, title: str | None = None):
    """Median with 50 % and 90 % bands across replications, one colour per scenario."""
    plt = _plt()
    if not isinstance(results, dict):
        results = {"": results}
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (name, res) in enumerate(results.items()):
        s = _series_of(res)
        if indicator not in s.columns:
            raise KeyError(f"indicator '{indicator}' is not in the results of '{name}'")
        wide = s.pivot(index="date", columns="replication", values=indicator)
        q = wide.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
        colour = f"C{i}"
        ax.fill_between(q.index, q[0.05], q[0.95], color=colour, alpha=0.15,
                        label=f"{name} 90 %".strip())
        ax.fill_between(q.index, q[0.25], q[0.75], color=colour, alpha=0.3,
                        label=f"{name} 50 %".strip())
        ax.plot(q.index, q[0.5], color=colour, lw=1.5, label=f"{name} median".strip())
    ax.set_xlabel("year")
    ax.set_ylabel(_label(indicator))
    ax.set_title(title or indicator)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def difference_chart(comparison: Any, indicator: str):
    """Paired differences against the base, with their confidence intervals, by year."""
    plt = _plt()
    table = comparison.table if hasattr(comparison, "table") else comparison
    df = table[table["indicator"] == indicator]
    if df.empty:
        raise KeyError(f"indicator '{indicator}' is not in the comparison")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    names = list(dict.fromkeys(df["scenario"]))
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        d = df[df["scenario"] == name]
        x = d["year"].to_numpy() + (i - (len(names) - 1) / 2) * width
        err = np.vstack([d["diff_mean"] - d["ci_low"], d["ci_high"] - d["diff_mean"]])
        ax.errorbar(x, d["diff_mean"], yerr=err, fmt="o", capsize=3, color=f"C{i}", label=name)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel(f"difference in {_label(indicator)}")
    ax.set_title(f"{indicator}: scenario minus base (paired, with CI)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def calibration_fit(table: pd.DataFrame):
    """Each target: observed value and simulated median with its 90 % interval (relative)."""
    plt = _plt()
    lo_col = "sim_p05" if "sim_p05" in table else "ci90_low"
    hi_col = "sim_p95" if "sim_p95" in table else "ci90_high"
    mid_col = "sim_median" if "sim_median" in table else "sim_mean"
    obs = table["observed"].to_numpy(dtype=float)
    rel = lambda col: table[col].to_numpy(dtype=float) / obs  # noqa: E731
    y = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 1.5))
    ax.errorbar(rel(mid_col), y, xerr=np.vstack([rel(mid_col) - rel(lo_col),
                                                 rel(hi_col) - rel(mid_col)]),
                fmt="o", capsize=3, label="simulated median, 90 % interval")
    if "tolerance" in table:
        tol = table["tolerance"].to_numpy(dtype=float)
        ax.barh(y, 2 * tol, left=1 - tol, height=0.5, color="green", alpha=0.15,
                label="target tolerance")
    ax.axvline(1.0, color="black", lw=0.8, label="observed (= 1)")
    ax.set_yticks(y, [f"{i} ({int(yr)})" if "year" in table else i
                      for i, yr in zip(table["id"], table.get("year", table["id"]),
                                       strict=True)], fontsize=7)
    ax.set_xlabel("simulated / observed")
    ax.set_title("Calibration: targets against simulated values")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def sensitivity_chart(indices: pd.DataFrame, outcome: str = ""):
    """Sobol S1/ST with confidence intervals, or Morris mu*/sigma, per factor."""
    plt = _plt()
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
    ax.set_title(f"Sensitivity of {outcome}" if outcome else "Sensitivity")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | Path) -> list[Path]:
    """Write ``path.png`` and ``path.svg``; close the figure; return both paths."""
    plt = _plt()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [path.with_suffix(".png"), path.with_suffix(".svg")]
    fig.savefig(out[0], dpi=120)
    fig.savefig(out[1])
    plt.close(fig)
    return out


DEFAULT_PLOTS = ["investment_usd_m", "jobs_created", "employment", "expressway_km",
                 "serviced_land_km2", "people_resettled", "poor_people", "fiscal_cost_usd_m"]


def plot_results(results_dir: str | Path, out_dir: str | Path | None = None,
                 indicators: list[str] | None = None) -> list[Path]:
    """Fan charts of a ``gzsim run`` results folder, as PNG and SVG."""
    from gzsim.errors import UserError
    from gzsim.results import read_results

    res = read_results(results_dir)
    out = Path(out_dir) if out_dir else Path(results_dir) / "plots"
    names = indicators or [i for i in DEFAULT_PLOTS if i in res.series.columns]
    unknown = [i for i in names if i not in res.series.columns]
    if unknown:
        raise UserError(f"indicator(s) {unknown} not in {results_dir}; available: "
                        f"{', '.join(c for c in res.series.columns if c in INDICATORS)}")
    paths: list[Path] = []
    for ind in names:
        paths += save_figure(fan_chart({res.manifest['scenario']['name']: res}, ind),
                             out / f"fan_{ind}")
    return paths
