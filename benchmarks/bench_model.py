"""How expensive is one replication of the base scenario, relative to bare SimPy?

Prints the SimPy events one replication processes, its wall time, and two ratios measured in
the same run (machines here are noisy: compare within one run, not across runs):
- the replication's time / a raw SimPy loop of the same number of timeouts;
- the replication's time / a raw SimPy loop of 30,000 timeouts ("bare-event equivalents",
  issue 13's target: <= 1.0).
Model and raw loops are interleaved, one of each per repetition; medians are reported, and the
ratio of the fastest of each (the least disturbed by other load on a shared machine).

    .venv/bin/python benchmarks/bench_model.py [SCENARIO] [--reps N] [--write results.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import simpy

from gzsim import load_scenario
from gzsim.model import District

BARE_EVENTS = 30_000  # issue 13: a replication should cost no more than this many timeouts


from _report import report  # noqa: E402 - the sibling module (run as a script)


def count_events(district: District) -> int:
    env = district.env
    n = 0
    step = env.step

    def counting_step() -> None:
        nonlocal n
        n += 1
        step()

    env.step = counting_step  # type: ignore[method-assign]
    district.run()
    return n


def raw_simpy(n_events: int, n_procs: int = 50) -> float:
    """Time for bare SimPy to process ``n_events`` timeouts spread over ``n_procs`` processes."""
    env = simpy.Environment()
    per = max(n_events // n_procs, 1)

    def proc(env):
        for _ in range(per):
            yield env.timeout(1)

    for _ in range(n_procs):
        env.process(proc(env))
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default="scenarios/base.yaml")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--write", default=None, help="append the figures to this file")
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    events = count_events(District(sc, 0, 0))
    times, raws, bare = [], [], []
    for k in range(args.reps):
        t0 = time.perf_counter()
        District(sc, 0, k).run()
        times.append(time.perf_counter() - t0)
        raws.append(raw_simpy(events))
        bare.append(raw_simpy(BARE_EVENTS))
    t_model, t_raw = statistics.median(times), statistics.median(raws)
    t_bare = statistics.median(bare)
    per_rep = sorted(t / b for t, b in zip(times, bare, strict=True))  # each rep's own ratio
    lines = [
        f"- scenario: {args.scenario}; SimPy events per replication: {events:,}",
        f"- model: {t_model * 1000:.1f} ms per replication (median of {args.reps}); raw SimPy, "
        f"same number of events: {t_raw * 1000:.1f} ms (ratio {t_model / t_raw:.2f})",
        f"- raw SimPy, {BARE_EVENTS:,} timeouts: {t_bare * 1000:.1f} ms",
        f"- **replication / {BARE_EVENTS:,} bare timeouts = {t_model / t_bare:.2f}** (medians; "
        f"target <= 1.0); fastest of each {min(times) / min(bare):.2f}; each repetition's own "
        f"ratio {per_rep[0]:.2f}-{per_rep[-1]:.2f}",
    ]
    report(lines, args.write, f"Python {platform.python_version()}, SimPy {simpy.__version__}")


if __name__ == "__main__":
    main()
