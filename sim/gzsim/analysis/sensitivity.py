"""Global sensitivity from a sweep store: Sobol indices and Morris elementary effects (SALib).

The sweep must have been made with the matching design (``sobol`` for Sobol indices,
``morris`` for elementary effects), so SALib's analysis sees exactly the sample it drew.
Replications of a design point are averaged. A sweep with failed or missing runs is refused
with a message naming them: SALib's estimators need the complete sample, and silently turning
failures into NaN indices would hide the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gzsim.errors import UserError
from gzsim.experiments import read_sweep


class SensitivityError(UserError):
    """The sweep cannot give the requested indices (wrong design, failed runs, no outcome)."""


def outcome_per_point(sweep: Any, outcome: str) -> np.ndarray:
    """The outcome averaged over replications, one value per design point, in design order."""
    if outcome not in sweep.outcome_names:
        raise SensitivityError(f"outcome '{outcome}' is not in the sweep; scalar outcomes: "
                               f"{', '.join(sweep.outcome_names) or 'none'}")
    runs = sweep.runs
    bad = runs[runs["status"] != "ok"]
    if len(bad):
        failed = bad[bad["status"] == "failed"]
        first = "" if failed.empty else (
            f"; first failure: run {int(failed['run_id'].iloc[0])} at point "
            f"{int(failed['point'].iloc[0])}: {str(failed['error'].iloc[0]).splitlines()[0]}")
        raise SensitivityError(
            f"{len(failed)} failed and {len(bad) - len(failed)} pending run(s) in "
            f"{sweep.path}{first}. Sensitivity indices need every design point; fix the cause "
            "and rerun the sweep (it resumes), or narrow the factor ranges that fail.")
    means = runs.groupby("point")[outcome].mean()
    return means.reindex(sweep.design["point"]).to_numpy(dtype=float)


def _checked(sweep: Any, kind: str, what: str, outcome: str) -> tuple[np.ndarray, dict]:
    """The outcome per point and the design parameters, if the sweep has the ``kind`` design."""
    have = sweep.manifest["design"]["kind"]
    if have != kind:
        raise SensitivityError(f"{what} need a sweep with design kind '{kind}'; "
                               f"{sweep.path} has '{have}'")
    return outcome_per_point(sweep, outcome), sweep.manifest["design"].get("params", {})


def sobol_indices(sweep: Any, outcome: str, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices with confidence intervals (SALib.analyze.sobol)."""
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    from SALib.analyze import sobol

    y, params = _checked(sweep, "sobol", "Sobol indices (Saltelli sample)", outcome)
    res = sobol.analyze(sweep.problem, y, calc_second_order=bool(params.get("second_order")),
                        print_to_console=False, seed=seed)
    return pd.DataFrame({"factor": sweep.problem["names"], "S1": res["S1"],
                         "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]}
                        ).sort_values("ST", ascending=False, ignore_index=True)


def morris_indices(sweep: Any, outcome: str, seed: int = 0) -> pd.DataFrame:
    """Morris mu*, mu and sigma with mu* confidence intervals (SALib.analyze.morris)."""
    # start-up, and gzsim[analysis] is an optional extra: loaded on use
    from SALib.analyze import morris

    y, params = _checked(sweep, "morris", "Morris effects", outcome)
    res = morris.analyze(sweep.problem, sweep.X, y, num_levels=int(params.get("num_levels", 4)),
                         print_to_console=False, seed=seed)
    return pd.DataFrame({"factor": sweep.problem["names"], "mu_star": res["mu_star"],
                         "mu_star_conf": res["mu_star_conf"], "mu": res["mu"],
                         "sigma": res["sigma"]}).sort_values("mu_star", ascending=False,
                                                             ignore_index=True)


def analyse(sweep_dir: str | Path, outcome: str | None = None) -> tuple[str, pd.DataFrame]:
    """Indices for ``outcome`` (default: the first scalar outcome) by the sweep's design."""
    sw = read_sweep(sweep_dir)
    outcome = outcome or (sw.outcome_names[0] if sw.outcome_names else "")
    kind = sw.manifest["design"]["kind"]
    if kind == "sobol":
        return outcome, sobol_indices(sw, outcome)
    if kind == "morris":
        return outcome, morris_indices(sw, outcome)
    raise SensitivityError(f"design kind '{kind}' has no global sensitivity analysis here; "
                           "use an experiment with design kind 'sobol' or 'morris'")


def imprecise(indices: pd.DataFrame, samples: int, floor: float = 0.05) -> pd.DataFrame:
    """Indices whose confidence half-width is wider than the index itself.

    For each: the half-width, and the base sample size that would bring it under the index
    (half-widths shrink as 1 / sqrt(samples); an index below ``floor`` is held to ``floor``),
    rounded up to a power of two as Saltelli's sample wants. Empty when all are precise.
    """
    pairs = [("S1", "S1_conf"), ("ST", "ST_conf"), ("mu_star", "mu_star_conf")]
    rows = []
    for value, conf in pairs:
        if value not in indices or conf not in indices:
            continue
        for r in indices.itertuples(index=False):
            v, c = abs(float(getattr(r, value))), float(getattr(r, conf))
            if np.isfinite(c) and c > v:
                need = samples * (c / max(v, floor)) ** 2
                rows.append({"factor": r.factor, "index": value, "value": float(
                    getattr(r, value)), "half_width": c,
                    "samples_needed": int(2 ** np.ceil(np.log2(max(need, samples + 1))))})
    return pd.DataFrame(rows, columns=["factor", "index", "value", "half_width",
                                       "samples_needed"])


def precision_warning(indices: pd.DataFrame, samples: int) -> str:
    """One sentence saying which intervals are wider than their index, and the cure."""
    bad = imprecise(indices, samples)
    if bad.empty:
        return ""
    worst = int(bad["samples_needed"].max())
    names = ", ".join(f"{r.index}({r.factor}) = {r.value:.2f} ± {r.half_width:.2f}"
                      for r in bad.head(4).itertuples())
    more = f" and {len(bad) - 4} more" if len(bad) > 4 else ""
    return (f"Warning: {len(bad)} confidence interval(s) are wider than the index itself "
            f"({names}{more}) with {samples} base samples: these indices cannot be read. "
            f"About {worst} base samples would bring every interval under its index.")
