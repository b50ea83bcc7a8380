"""Simulation-based calibration of `gzsim calibrate`, full version: the real priors and targets.

For each truth drawn from calibration/priors.yaml, the fitted targets are replaced by the
model's own output at the truth (one replication, seeds outside the calibration's), ABC-SMC
runs with the spec's quick settings (or --full), and we count how often each parameter's 90 %
posterior interval holds the truth. Prints coverage per parameter and overall, with the
binomial 95 % range expected at nominal coverage.

    .venv/bin/python benchmarks/bench_coverage.py --truths 20 --workers 2
    .venv/bin/python benchmarks/bench_coverage.py --truths 10 --population 200 --generations 8
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from scipy.stats import binom

from gzsim.calibration.coverage import coverage
from gzsim.calibration.problem import build_problem

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--truths", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--full", action="store_true", help="the full ABC settings (slow)")
    ap.add_argument("--spec", default=str(REPO / "calibration" / "spec.yaml"))
    ap.add_argument("--population", type=int, help="particles (default: the settings')")
    ap.add_argument("--generations", type=int, help="generations (default: the settings')")
    ap.add_argument("--transition", choices=["gaussian", "global", "local"])
    args = ap.parse_args()
    problem = build_problem(args.spec, quick=not args.full)
    changes = {k: v for k, v in (("population", args.population),
                                 ("max_generations", args.generations),
                                 ("transition", args.transition)) if v is not None}
    if changes:
        problem.settings = problem.settings.model_copy(update={
            **changes, "max_walltime_minutes": 30})
    print(f"settings: {problem.settings.model_dump()}")
    problem.screen()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        table = coverage(problem, args.truths, Path(tmp), workers=args.workers)
    n = len(table)
    lo, hi = binom.ppf(0.025, n, 0.9) / n, binom.ppf(0.975, n, 0.9) / n
    print(table.groupby("parameter")[["inside", "width_ratio"]].mean().round(3).to_string())
    print(f"\noverall: {table['inside'].mean():.3f} of {n} intervals hold the truth (nominal "
          f"0.90; 95 % range at nominal coverage {lo:.2f}-{hi:.2f}); mean width / prior width "
          f"{table['width_ratio'].mean():.2f}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
