"""Write the notebooks in notebooks/ (committed without outputs; the tests execute them).

    python tools/make_notebooks.py

Each notebook's first code cell is tagged ``parameters``: the tests replace it with small
replication counts (the papermill convention).
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

OUT = Path(__file__).resolve().parents[1] / "notebooks"


def notebook(cells: list[tuple[str, str]]) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    first_code = True
    for kind, src in cells:
        if kind == "md":
            nb.cells.append(nbf.v4.new_markdown_cell(src.strip()))
        else:
            cell = nbf.v4.new_code_cell(src.strip())
            if first_code:
                cell.metadata["tags"] = ["parameters"]
                first_code = False
            nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


COMPARE = [
    ("md", """
# Comparing policies for Gui An New District

We run the calibrated base scenario and each policy scenario in `scenarios/` with **common
random numbers** (replication *k* uses the same seed in every scenario), and compare them
pairwise. Each policy names the indicators that answer its question (`indicators:` in its
YAML); the headline gives, at the milestone years, the difference against the base with its
interval, the relative change with its own interval, and, where the policy costs tax revenue,
the effect per US$ m of that cost. Every number in the text below is computed from the runs.
"""),
    ("code", """
REPLICATIONS = 20   # per scenario; the tests run this notebook with fewer
SEED = 20170716
WORKERS = 2
"""),
    ("code", """
from pathlib import Path

from IPython.display import Markdown, display

import gzsim
from gzsim.compare import compare
from gzsim.plots import difference_chart, fan_chart
from gzsim.tables import fmt, title

ROOT = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent
base = gzsim.load_scenario(ROOT / "scenarios" / "base.yaml")
policies = [gzsim.load_scenario(p) for p in sorted((ROOT / "scenarios").glob("policy_*.yaml"))]
display(Markdown("\\n".join(f"- **{p.name}**: {p.policies[0].question}" for p in policies)))
"""),
    ("code", """
cmp = compare(base, policies, replications=REPLICATIONS, seed=SEED, workers=WORKERS)
headline = cmp.headline()   # the same numbers as `gzsim compare` prints
headline.head()
"""),
    ("md", "## The headline, per policy"),
    ("code", """
display(Markdown("\\n".join(t.markdown() for t in cmp.tables(headline))))
"""),
    ("md", "## What the runs say (text computed from the headline)"),
    ("code", """
def finding(scenario: str, rows) -> str:
    \"\"\"One line per policy from its headline rows: each indicator at its largest effect.\"\"\"
    live = rows[~rows["zero"]]
    if live.empty:
        return f"- **{scenario}**: no indicator it names moves in any replication."
    parts = []
    for ind, g in live.groupby("indicator", sort=False):
        r = g.loc[g["diff_mean"].abs().idxmax()]
        if r.rel_low == r.rel_high:
            rel = f"{r.rel_diff:+.1%}, the same in every replication"
        else:
            rel = f"{r.rel_diff:+.1%}, 90 % CI {r.rel_low:+.1%} to {r.rel_high:+.1%}"
        parts.append(f"{title(ind).lower()} {fmt(r.diff_mean, r.unit, sign=True)} {r.unit} "
                     f"in {r.year} ({rel})"
                     + ("" if r.distinguishable else ", not distinguishable from zero"))
    text = f"- **{scenario}** ({rows['policy'].iloc[0]}), largest effects: " + \\
        "; ".join(parts) + "."
    cost = rows[rows["per_usd_m"].notna()]
    for ind, g in cost.groupby("indicator", sort=False):
        r = g.iloc[-1]
        text += (f" Each US$ m of extra fiscal cost to {r.year} (US$ {r.cost_usd_m:,.0f} m in "
                 f"all) goes with {r.per_usd_m:+,.2f} {r.per_usd_m_unit.split(' per')[0]} of "
                 f"{title(ind).lower()} (90 % CI {r.per_usd_m_low:+,.2f} to "
                 f"{r.per_usd_m_high:+,.2f}).")
    return text


display(Markdown("\\n".join(finding(s, g) for s, g in headline.groupby("scenario"))))
"""),
    ("code", """
fig = difference_chart(cmp, "employment")
"""),
    ("code", """
fig = fan_chart({name: cmp.results[name] for name in
                 ["base", "policy_infrastructure_push", "policy_investment_slowdown"]},
                "investment_usd_m")
"""),
    ("md", """
All of these are conditional on the assumptions listed in `calibration/report.md`; the paired
design makes the comparisons sharp, but it does not make the assumptions true.
"""),
]

CALIBRATION = [
    ("md", """
# Calibration: targets, fitted values and fit

The targets are the figures of the two source articles (`calibration/targets.yaml`, each with
its verbatim sentence). `gzsim calibrate` fitted the free parameters with
`scipy.optimize.least_squares` and wrote `calibration/fitted.yaml`, which
`scenarios/base.yaml` reads by reference. Here we look at them and re-check the fit with fresh
seeds.
"""),
    ("code", """
REPLICATIONS = 100   # fresh replications to re-check the fit; the tests use fewer
SEED = 11
WORKERS = 2
"""),
    ("code", """
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from IPython.display import Markdown, display

import gzsim
from gzsim.calibration.quantities import simulated_values
from gzsim.calibration.targets import load_targets
from gzsim.plots import calibration_fit

ROOT = Path.cwd() if (Path.cwd() / "calibration").is_dir() else Path.cwd().parent
targets = load_targets(ROOT / "calibration" / "targets.yaml")
pd.DataFrame([{"id": t.id, "value": t.value, "unit": t.unit, "year": t.year or t.period,
               "geography": t.geography, "kind": t.kind,
               "maps to": t.maps_to.model_dump(exclude_none=True) if t.maps_to else "context"}
              for t in targets.targets])
"""),
    ("md", "## Fitted values and their uncertainty"),
    ("code", """
fitted = yaml.safe_load((ROOT / "calibration" / "fitted.yaml").read_text())
pd.DataFrame([{"parameter": k, "value": v, **fitted["uncertainty"].get(k, {})}
              for k, v in fitted["values"].items()])
"""),
    ("md", "## The calibrated base against the targets, with fresh seeds"),
    ("code", """
base = gzsim.load_scenario(ROOT / "scenarios" / "base.yaml", overrides=["time.end=2020-12"])
series = gzsim.simulate(base, replications=REPLICATIONS, seed=SEED, workers=WORKERS).series
rows = []
for t in targets.targets:
    if not t.simulated:
        continue
    v = simulated_values(series, t.maps_to.indicator, t.maps_to.aggregation, t.year, t.period,
                         t.quarter)
    rows.append({"id": t.id, "year": t.year or t.period[1], "observed": t.value,
                 "sim_mean": v.mean(), "sim_median": np.median(v),
                 "sim_p05": np.quantile(v, 0.05), "sim_p95": np.quantile(v, 0.95),
                 "tolerance": t.error_scale() / abs(t.value),
                 "within_tolerance": abs(v.mean() - t.value) <= t.error_scale()})
check = pd.DataFrame(rows)
check
"""),
    ("code", """
fig = calibration_fit(check)   # the simulated mean, as the fit uses
"""),
    ("code", """
out = check[~check["within_tolerance"]]
lines = [f"{len(check) - len(out)} of {len(check)} targets are met within tolerance with "
         f"{REPLICATIONS} fresh replications (seed {SEED})."]
lines += [f"- **{r.id}** ({r.year}): simulated mean {r.sim_mean:,.4g} against "
          f"{r.observed:,.4g} observed ({r.sim_mean / r.observed - 1:+.0%}; tolerance "
          f"±{r.tolerance:.0%})" for r in out.itertuples()]
display(Markdown("\\n".join(lines)))
"""),
    ("md", """
The report (`calibration/report.md`) lists which parameters the targets pin down and which
remain assumptions with their ranges.
"""),
]

SWEEP = [
    ("md", """
# Sweep analysis: Sobol sensitivity of jobs created in 2017

A sweep runs a design over scenario parameters into a resumable Parquet store;
`gzsim.read_sweep` reads it back. With a Saltelli (``sobol``) design, SALib gives first-order
and total Sobol indices with confidence intervals. The experiment file is read as shipped and
its sample size changed in memory (no file is written).
"""),
    ("code", """
SAMPLES = 32          # Saltelli base samples (a power of 2); the tests use fewer
OUT = "results/notebook_sobol"
WORKERS = 2
"""),
    ("code", """
from pathlib import Path

from IPython.display import Markdown, display

from gzsim.experiments import read_sweep, run_sweep
from gzsim.experiments.spec import experiment_from_data
from gzsim.plots import sensitivity_chart
from gzsim.sensitivity import precision_warning, sobol_indices
from gzsim.yamlio import load_yaml

ROOT = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent
path = ROOT / "scenarios" / "experiments" / "sobol.yaml"
data, origins = load_yaml(path, what="experiment")
data = {**data, "name": "notebook_sobol", "design": {**data["design"], "samples": SAMPLES}}
experiment = experiment_from_data(data, origins, file=path)
result = run_sweep(experiment, OUT, backend="processes", workers=WORKERS, progress=False)
sweep = read_sweep(OUT)
sweep
"""),
    ("code", """
sweep.runs.head()
"""),
    ("code", """
sweep.scalars.describe()
"""),
    ("code", """
indices = sobol_indices(sweep, "jobs_created_2017")
indices
"""),
    ("code", """
fig = sensitivity_chart(indices, "jobs_created_2017")
"""),
    ("code", """
warning = precision_warning(indices, SAMPLES)
top = indices.iloc[0]
display(Markdown(warning or (
    f"With {SAMPLES} base samples every interval is narrower than its index: "
    f"**{top.factor}** explains the most variance of jobs created in 2017 "
    f"(total index {top.ST:.2f} ± {top.ST_conf:.2f}).")))
"""),
    ("md", """
For a cluster, run the same experiment with `gzsim sweep --cluster slurm`.
"""),
]


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, cells in [("compare_policies", COMPARE), ("calibration", CALIBRATION),
                        ("sweep_analysis", SWEEP)]:
        nbf.write(notebook(cells), OUT / f"{name}.ipynb")
        print(f"wrote notebooks/{name}.ipynb")
