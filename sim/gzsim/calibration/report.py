"""What a calibration found, written for people and machines.

- ``fitted.yaml``: the fitted values by dotted path (``scenarios/base.yaml`` reads them through
  ``fitted_values:``), their uncertainty, residuals, seeds and versions;
- ``report.csv``: one row per target: observed, simulated mean/median, 90 % interval, relative
  error, tolerance, within_tolerance;
- ``report.md``: the same in prose with identification (which target informs which parameter)
  and the list of assumptions; ``fit.png`` / ``fit.svg``: targets against simulated values.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from gzsim.calibration.fit import CalibrationProblem, CalibrationResult, comparable, simulated_for
from gzsim.fileio import atomic_write_bytes, library_versions


def target_table(problem: CalibrationProblem, series: pd.DataFrame) -> pd.DataFrame:
    """Every comparable target against the simulated distribution."""
    used = {t.id for t in problem.targets}
    rows = []
    years = set(series["date"].dt.year.unique())
    for t in problem.all_targets:
        if not comparable(t):
            continue
        need = (t.period[1] if t.period else t.year)
        if need not in years:
            continue
        v = simulated_for(series, t)
        mean, med = float(np.mean(v)), float(np.median(v))
        rel = (mean - t.value) / abs(t.value)
        rows.append({"id": t.id, "indicator": t.indicator, "aggregation": t.aggregation,
                     "year": need, "unit": t.unit, "geography": t.geography,
                     "observed": t.value, "sim_mean": mean, "sim_median": med,
                     "sim_p05": float(np.quantile(v, 0.05)),
                     "sim_p95": float(np.quantile(v, 0.95)), "rel_error": rel,
                     "tolerance": t.tolerance, "within_tolerance": t.within(mean),
                     "in_objective": t.id in used})
    return pd.DataFrame(rows)


def write_outputs(problem: CalibrationProblem, result: CalibrationResult, out_dir: Path,
                  fitted_path: Path, spec_path: str, quick: bool) -> pd.DataFrame:
    """Run the fitted scenario, and write fitted.yaml, report.csv, report.md and the plot."""
    out_dir.mkdir(parents=True, exist_ok=True)
    x = result.parameters["value"].to_numpy()
    series = problem.series_at(x, result.settings.report_replications, horizon=False)
    table = target_table(problem, series)
    p = result.parameters
    fitted = {
        "generated_by": f"gzsim calibrate {spec_path}" + (" --quick" if quick else ""),
        "generated_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "note": "Generated file: do not edit by hand; rerun gzsim calibrate to regenerate.",
        "values": {**problem.growth_values,
                   **{r.path: float(r.value) for r in p.itertuples()}},
        "growth_fits": {name: {"model": f.model, "params": f.params, "se": f.se,
                               "observations": [list(o) for o in f.observations],
                               "residuals": f.residuals, "note": f.note}
                        for name, f in problem.growth_fits.items()},
        "uncertainty": {r.path: {"se": None if not np.isfinite(r.se) else float(r.se),
                                 "ci90": [float(r.ci90_low), float(r.ci90_high)],
                                 "bounds": [float(r.lower), float(r.upper)],
                                 "identified": bool(r.identified)} for r in p.itertuples()},
        "residuals_in_tolerances": {r.target: float(r.scaled_residual)
                                    for r in result.residuals.itertuples()},
        "optimizer": {"method": "scipy.optimize.least_squares (trf, bounds)",
                      "success": result.success, "message": result.message,
                      "cost": result.cost, "evaluations": result.evaluations,
                      "wall_time_s": round(result.wall_time_s, 1)},
        "seeds": {"root_seed": problem.spec.seed, "replications": result.settings.replications,
                  "scheme": "common random numbers: the same replications at every evaluation"},
        "versions": library_versions(),
    }
    atomic_write_bytes(fitted_path, yaml.safe_dump(fitted, sort_keys=False).encode())
    atomic_write_bytes(out_dir / "report.csv", table.to_csv(index=False).encode())
    atomic_write_bytes(out_dir / "report.md", render_markdown(problem, result, table,
                                                              quick).encode())
    try:
        from gzsim.plots import calibration_fit, save_figure

        save_figure(calibration_fit(table), out_dir / "fit")
    except ImportError:  # plotting is an optional extra
        pass
    return table


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return "not identified"
    return f"{v:,.4g}"


def render_markdown(problem: CalibrationProblem, result: CalibrationResult,
                    table: pd.DataFrame, quick: bool) -> str:
    spec = problem.spec
    lines = ["# Calibration report", "",
             f"Generated by `gzsim calibrate`{' --quick' if quick else ''} with "
             f"{result.settings.replications} replications per evaluation (root seed "
             f"{spec.seed}, common random numbers), {result.evaluations} evaluations, "
             f"{result.wall_time_s:.0f} s. Optimiser: `scipy.optimize.least_squares` (trf, "
             f"bounds); success: {result.success} ({result.message}).", "",
             "Residuals are in units of each target's tolerance (|r| <= 1 means within "
             "tolerance). Parameter uncertainty is from the Jacobian at the optimum: the range "
             "of values consistent with the targets within their tolerances.", "",
             "## Fitted parameters", "",
             "| parameter | value | se | 90 % interval | bounds | informed by |",
             "|---|---|---|---|---|---|"]
    informed = {p.path: p.informed_by for p in spec.parameters}
    for r in result.parameters.itertuples():
        se = _fmt(r.se) if r.se <= (r.upper - r.lower) else \
            f"{_fmt(r.se)} (wider than the bounds: not pinned down)"
        lines.append(f"| `{r.path}` | {_fmt(r.value)} | {se} | "
                     f"[{_fmt(r.ci90_low)}, {_fmt(r.ci90_high)}] | [{r.lower:g}, {r.upper:g}] | "
                     f"{', '.join(informed[r.path]) or '-'} |")
    lines += ["", "## Growth rates fitted with scipy (`scipy.optimize.curve_fit`)", "",
              "Each growth figure is an observation with its stated uncertainty "
              "(`tolerance_abs`, one s.d.); standard errors come from that uncertainty "
              "(`absolute_sigma=True`).", "",
              "| series | model | estimates (se) | observations | note |", "|---|---|---|---|---|"]
    for name, f in problem.growth_fits.items():
        est = ", ".join(f"{k} = {v:.4g} ({f.se[k]:.2g})" for k, v in f.params.items())
        obs = ", ".join(f"{tid} {yr}: {g:+.1%}" for tid, yr, g in f.observations)
        lines.append(f"| {name} | {f.model} | {est} | {obs} | {f.note} |")
    if problem.growth_values:
        lines += ["", "Used in the scenario: " + ", ".join(
            f"`{k}` = {v:.4g}" for k, v in problem.growth_values.items()) + "."]
    lines += ["", "## Targets against the calibrated model", "",
              f"Simulated over the full horizon with {result.settings.report_replications} "
              "replications; relative error uses the mean across replications (the statistic "
              "the fit matches).", "",
              "| target | year | observed | simulated mean | median [90 %] | rel. error | "
              "tolerance | within | in fit |", "|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.id} | {r.year} | {r.observed:,.4g} | {r.sim_mean:,.4g} | "
                     f"{r.sim_median:,.4g} [{r.sim_p05:,.4g}, {r.sim_p95:,.4g}] | "
                     f"{r.rel_error:+.1%} | {r.tolerance:.0%} | "
                     f"{'yes' if r.within_tolerance else '**no**'} | "
                     f"{'yes' if r.in_objective else 'check only'} |")
    lines += ["", "## Identification", "",
              "Sensitivity of each target's residual (in tolerances) to moving each parameter "
              "across its whole range, at the optimum; the largest entry per column is the "
              "target that pins the parameter down.", "",
              "| target | " + " | ".join(f"`{c}`" for c in result.identification.columns) + " |",
              "|---" * (len(result.identification.columns) + 1) + "|"]
    for tid, row in result.identification.iterrows():
        lines.append(f"| {tid} | " + " | ".join(f"{v:.2f}" for v in row.to_numpy()) + " |")
    unidentified = result.parameters.loc[~result.parameters["identified"], "path"].tolist()
    if unidentified:
        lines += ["", "Not identified by any target: " + ", ".join(unidentified)]
    lines += ["", "## Assumptions (parameters no target pins down)", "",
              "| parameter | range | note |", "|---|---|---|"]
    for a in spec.assumptions:
        lines.append(f"| `{a.path}` | [{a.range[0]:g}, {a.range[1]:g}] | {a.note} |")
    lines += ["", "Every other parameter in `scenarios/base.yaml` is an assumption documented "
              "there with its unit and range.", ""]
    return "\n".join(lines)
