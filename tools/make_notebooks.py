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

We run each policy scenario in `scenarios/` and **the scenario it extends** (its parent: the
calibrated base, or the land-scarce variant for `policy_land_push_scarce`) with **common
random numbers** (replication *k* uses the same seed and parameter draw in every scenario),
and compare each policy with its parent, pairwise: comparing a policy with another scenario
than the one it extends would mix the policy with that scenario's own changes. Each policy
names the indicators that answer its question (`indicators:` in its YAML); a spending policy
(one whose YAML says what it `cost:`s) also gets employment, the jobs indicator to quote. The
headline gives, at the milestone years, the difference against the parent with its interval
(how sure the average is) and its spread across replications (how much it could vary), the
relative change, and the effect per US$ m of the policy's whole extra public cost,
undiscounted and in present values. Every number in the text below is computed from the
runs.
"""),
    ("code", """
REPLICATIONS = 20   # per scenario; the tests run this notebook with fewer
SEED = 20170716
WORKERS = 2
"""),
    ("code", """
from pathlib import Path

from IPython.display import Markdown, display

import pandas as pd

import gzsim
from gzsim.analysis.compare import compare_with_parents
from gzsim.analysis.plots import difference_chart, fan_chart
from gzsim.analysis.tables import fmt, title
from gzsim.scenario import parent_path

ROOT = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent
policies = [gzsim.load_scenario(p) for p in sorted((ROOT / "scenarios").glob("policy_*.yaml"))]
display(Markdown("\\n".join(f"- **{p.name}** (extends {parent_path(p).stem}): "
                             f"{p.policies[-1].question}" for p in policies)))
"""),
    ("code", """
cmp = compare_with_parents(policies, replications=REPLICATIONS, seed=SEED, workers=WORKERS)
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
    text = (f"- **{scenario}** ({rows['policy'].iloc[0]}, against {rows['base'].iloc[0]}), "
            "largest effects: " + "; ".join(parts) + ".")
    cost = rows[rows["per_usd_m"].notna()]
    for ind, g in cost.groupby("indicator", sort=False):
        r = g.iloc[-1]
        text += (f" Each US$ m of extra public cost to {r.year} (US$ {r.cost_usd_m:,.0f} m in "
                 f"all) goes with {r.per_usd_m:+,.2f} {r.per_usd_m_unit.split(' per')[0]} of "
                 f"{title(ind).lower()} (90 % CI {r.per_usd_m_low:+,.2f} to "
                 f"{r.per_usd_m_high:+,.2f}; from {r.per_usd_m_p05:+,.2f} to "
                 f"{r.per_usd_m_p95:+,.2f} across replications).")
    if rows["not_modelled"].iloc[0]:
        text += f" *Not in the model:* {rows['not_modelled'].iloc[0]}"
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
    ("md", "## Every comparison against the scenario the policy extends"),
    ("code", """
parents = {p.name: parent_path(p).stem for p in policies}
pd.DataFrame({"policy": list(parents), "extends": [parents[n] for n in parents],
              "compared with": [cmp.base_of(n) for n in parents]})
"""),
    ("md", """
All of these are conditional on the assumptions listed in `calibration/report.md`; the paired
design makes the comparisons sharp, but it does not make the assumptions true.
"""),
]

CALIBRATION = [
    ("md", """
# Calibration: targets, fitted values and fit

The targets are the figures of the two source articles and the observed 2011-2015 data
(`calibration/targets.yaml`, each with its provenance and confidence). `gzsim calibrate` runs a
Bayesian calibration (pyabc's ABC-SMC) of the priors in `calibration/priors.yaml` and writes
the posterior (`calibration/posterior.parquet`), whose draws every run uses by default, and the
posterior medians (`calibration/fitted.yaml`). Here we look at them and re-check the fit with
fresh seeds, parameters drawn from the posterior.
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
from IPython.display import Markdown, display

import gzsim
from gzsim.analysis.plots import calibration_fit
from gzsim.calibration.quantities import simulated_values
from gzsim.calibration.targets import load_targets

ROOT = Path.cwd() if (Path.cwd() / "calibration").is_dir() else Path.cwd().parent
targets = load_targets(ROOT / "calibration" / "targets.yaml")
pd.DataFrame([{"id": t.id, "value": t.value, "unit": t.unit, "year": t.year or t.period,
               "geography": t.geography, "kind": t.kind,
               "maps to": t.maps_to.model_dump(exclude_none=True) if t.maps_to else "context"}
              for t in targets.targets])
"""),
    ("md", "## The posterior: median and 5th-95th percentile interval of each free parameter"),
    ("code", """
from gzsim.io.posterior import read_posterior

post_path = ROOT / "calibration" / "posterior.parquet"
if post_path.exists():
    post = read_posterior(post_path)
    summary = post.quantiles((0.05, 0.5, 0.95))
    print(f"effective sample size {post.ess:.0f} of {len(post.particles)} particles")
else:
    summary = "no posterior yet: run gzsim calibrate"
summary
"""),
    ("md", "## The calibrated base against the targets, with fresh seeds"),
    ("code", """
base = gzsim.load_scenario(ROOT / "scenarios" / "base.yaml", overrides=["time.end=2020-12"])
series = gzsim.simulate(base, replications=REPLICATIONS, seed=SEED, workers=WORKERS).series
rows = []
for t in targets.targets:
    if not t.fitted:  # pending targets and plans are not compared
        continue
    v = simulated_values(series, t.maps_to.indicator, t.maps_to.aggregation, t.year, t.period,
                         t.quarter)
    rows.append({"id": t.id, "year": t.year or t.period[1], "observed": t.model_value,
                 "sim_mean": v.mean(), "sim_median": np.median(v),
                 "sim_p05": np.quantile(v, 0.05), "sim_p95": np.quantile(v, 0.95),
                 "tolerance": t.error_scale() / abs(t.model_value),
                 "within_tolerance": abs(v.mean() - t.model_value) <= t.error_scale()})
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
Plans (the 2017 article's highway and rail targets for 2020) are policy inputs, never fitted as if
achieved. The report (`calibration/report.md`) lists the posterior of every free parameter,
which ones the targets pin down, the degrees of freedom, and the targets not fitted and why.
"""),
]

UNCERTAINTY = [
    ("md", """
# What parameter uncertainty does to a policy answer

Every run draws each replication's parameters from the calibrated posterior as well as its
random streams (`--uncertainty posterior`, the default once a posterior exists). Here we run the
same policy comparison twice, with the model's randomness only (`noise`) and with the full
uncertainty (`posterior`), and compare the 5th-95th percentile bands of the levels and of the
policy effect.
Replication *k* uses the same parameter draw and the same random streams in both scenarios, so
the effect is paired.
"""),
    ("code", """
REPLICATIONS = 40
SEED = 7
WORKERS = 2
POLICY = "policy_tax_incentives.yaml"
INDICATOR = "investment_usd_m"
YEAR = 2020
"""),
    ("code", """
from pathlib import Path

import numpy as np
import pandas as pd

import gzsim
from gzsim.aggregate import annual
from gzsim.analysis.compare import compare_with_parents

ROOT = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent
base = gzsim.load_scenario(ROOT / "scenarios" / "base.yaml")
policy = gzsim.load_scenario(ROOT / "scenarios" / POLICY)
has_posterior = bool(base.run.posterior) and Path(base.run.posterior).exists()
modes = ["noise", "posterior"] if has_posterior else ["noise"]
print("posterior:", base.run.posterior if has_posterior else "none (noise only)")
"""),
    ("code", """
rows = []
for mode in modes:
    cmp = compare(base, [policy], replications=REPLICATIONS, seed=SEED, workers=WORKERS,
                  uncertainty=mode)
    b, p = (annual(r.series, INDICATOR)[YEAR] for r in cmp.results.values())
    d = p - b
    for what, v in (("base level", b), ("policy level", p), ("paired effect", d)):
        lo, mid, hi = np.quantile(v, [0.05, 0.5, 0.95])
        rows.append({"uncertainty": mode, "quantity": what, "median": mid, "p05": lo,
                     "p95": hi, "band_width": hi - lo})
bands = pd.DataFrame(rows)
bands
"""),
    ("code", '''
def words(bands):
    """The bands' story in words, computed from the table above."""
    w = bands.set_index(["uncertainty", "quantity"])["band_width"]
    m = bands.set_index(["uncertainty", "quantity"])["median"]
    if "posterior" not in bands["uncertainty"].values:
        return "No posterior: only the model's randomness is shown."
    lvl = w["posterior", "base level"] / w["noise", "base level"]
    eff = w["posterior", "paired effect"] / max(w["noise", "paired effect"], 1e-9)
    rel = w["posterior", "base level"] / abs(m["posterior", "base level"])
    return (f"With parameter uncertainty the 90 % band of {INDICATOR} in {YEAR} under the base "
            f"is {lvl:.1f} times as wide as with noise alone (it spans {rel:.0%} of the median). "
            f"The band of the policy's paired effect is {eff:.1f} times as wide: "
            + ("the effect's size depends on the uncertain parameters nearly as much as the "
               "level does." if eff > 0.75 * lvl else
               "pairing the same draw in both scenarios keeps the effect much sharper than the "
               "level.")
            + " A noise-only band understates what we do not know.")


print(words(bands))
'''),
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

from gzsim.analysis.plots import sensitivity_chart
from gzsim.analysis.sensitivity import precision_warning, sobol_indices
from gzsim.experiments import read_sweep, run_sweep
from gzsim.experiments.spec import experiment_from_data
from gzsim.io.yamlio import load_yaml

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
                        ("sweep_analysis", SWEEP), ("uncertainty_bands", UNCERTAINTY)]:
        nbf.write(notebook(cells), OUT / f"{name}.ipynb")
        print(f"wrote notebooks/{name}.ipynb")
