"""Reference distributions of the base model's key indicators, for the statistical regression test.

A change to the model's event structure (issue 13: work packages, counters instead of
processes) may change results for a seed while keeping their distribution.
`tests/test_statistical_regression.py` holds it to that: it runs the base with a *different*
seed and compares each indicator's annual value at every milestone year with the reference
sample (two-sample Kolmogorov-Smirnov, Bonferroni over all pairs, family-wise alpha 0.01).
A deliberate model change regenerates the reference, and says so in its commit:

    .venv/bin/python tools/reference_distributions.py          # rewrite tests/data/...json

Runs are noise-only (`uncertainty="noise"`: the fitted values, no posterior draws), so the test
sees the model's own randomness, not the calibration's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "data" / "reference_distributions.json"
SCENARIO = REPO / "scenarios" / "base.yaml"
sys.path.insert(0, str(REPO / "sim"))
INDICATORS = ["investment_usd_m", "committed_usd_m", "firms_operating", "jobs_created",
              "employment", "labour_force", "serviced_land_km2", "expressway_km", "rail_km",
              "people_resettled", "poor_people", "fiscal_cost_usd_m"]
REFERENCE_SEED = 20151231
REFERENCE_REPLICATIONS = 60


def annual_samples(seed: int, replications: int) -> dict[str, dict[str, list[float]]]:
    """``{indicator: {year: [one annual value per replication]}}`` at the milestone years."""
    import gzsim
    from gzsim.aggregate import aggregate

    sc = gzsim.load_scenario(SCENARIO)
    res = gzsim.simulate(sc, replications=replications, seed=seed, workers=1,
                         uncertainty="noise")
    grid = res.grid
    return {name: {str(y): [float(x) for x in aggregate(grid.values[name], grid.start, "annual",
                                                        name, year=y)]
                   for y in sc.time.milestone_years}
            for name in INDICATORS}


def main() -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=REPO).stdout.strip()
    data = {"scenario": "scenarios/base.yaml", "uncertainty": "noise",
            "seed": REFERENCE_SEED, "replications": REFERENCE_REPLICATIONS,
            "made_at_commit": commit,
            "made": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "samples": annual_samples(REFERENCE_SEED, REFERENCE_REPLICATIONS)}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}: {len(INDICATORS)} indicators x "
          f"{len(next(iter(data['samples'].values())))} years x {REFERENCE_REPLICATIONS} "
          f"replications (commit {commit})")


if __name__ == "__main__":
    main()
