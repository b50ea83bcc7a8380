"""What does one replication of the base scenario cost, relative to bare SimPy? (issue 21)

Prints the SimPy events one replication processes, and, measured in interleaved rounds in one
process (the machine is shared: compare within one run, not across runs), the CPU time of:
- a replication of the event-level model (event log off);
- the same replication with the entity event log on (its cost: target <= 10 %);
- a bare SimPy loop of 30,000 ``env.timeout(1)`` in 50 processes (target: a replication
  <= 2.0 times it, with about 12,000-15,000 events).
Medians over the rounds, and the ratio of each round's own pair; CPU time (``process_time``),
so that other processes' load counts less than with wall time.

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

BARE_EVENTS = 30_000  # the bare loop a replication is compared with


from _report import report  # noqa: E402 - the sibling module (run as a script)


def count_events(district: District) -> int:
    """Events the district's environment processes in a whole run."""
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


def bare_simpy(n_events: int = BARE_EVENTS, n_procs: int = 50) -> float:
    """CPU time for bare SimPy to process ``n_events`` timeouts over ``n_procs`` processes."""
    env = simpy.Environment()
    per = max(n_events // n_procs, 1)

    def proc(env):
        for _ in range(per):
            yield env.timeout(1)

    for _ in range(n_procs):
        env.process(proc(env))
    t0 = time.process_time()
    env.run()
    return time.process_time() - t0


def replication(sc, k: int, events: bool) -> tuple[float, int, float]:
    """CPU time of one replication, the rows its event log holds, and the time to make the
    log's columns (EventLog.payload: what `gzsim run --events` also pays, in the worker)."""
    t0 = time.process_time()
    d = District(sc, 0, k, events=events)
    d.run()
    t = time.process_time() - t0
    if d.log is None:
        return t, 0, 0.0
    t0 = time.process_time()
    d.log.payload()
    return t, len(d.log), time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default="scenarios/base.yaml")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--write", default=None, help="append the figures to this file")
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    events = count_events(District(sc, 0, 0))
    replication(sc, 0, True)  # warm: scenario constants, imports
    off, on, bare, rows, table = [], [], [], [], []
    for k in range(args.reps):  # interleaved: one of each per round
        off.append(replication(sc, k, False)[0])
        t, n, t_table = replication(sc, k, True)
        on.append(t)
        rows.append(n)
        table.append(t_table)
        bare.append(bare_simpy())
    med = statistics.median
    own = sorted(a / b for a, b in zip(off, bare, strict=True))
    lines = [
        f"- scenario: {args.scenario}; SimPy events per replication: {events:,}; event-log "
        f"rows per replication: {med(rows):,.0f}",
        f"- replication: {med(off) * 1000:.1f} ms CPU (median of {args.reps} interleaved "
        f"rounds); bare SimPy, {BARE_EVENTS:,} timeouts: {med(bare) * 1000:.1f} ms",
        f"- **replication / {BARE_EVENTS:,} bare timeouts = {med(off) / med(bare):.2f}** "
        f"(target <= 2.0); fastest of each {min(off) / min(bare):.2f}; each round's own ratio "
        f"{own[0]:.2f}-{own[-1]:.2f}",
        f"- per event: {med(off) / events * 1e6:.1f} us (whole replication, monthly accounting "
        f"included) vs bare {med(bare) / BARE_EVENTS * 1e6:.1f} us",
        f"- **event log on: {med(on) * 1000:.1f} ms, +{(med(on) / med(off) - 1) * 100:.0f} %** "
        f"(target <= 10 %); fastest of each +{(min(on) / min(off) - 1) * 100:.0f} %; making "
        f"its columns (EventLog.payload, what a worker sends) {med(table) * 1000:.1f} ms more",
    ]
    report(lines, args.write, f"Python {platform.python_version()}, SimPy {simpy.__version__}")


if __name__ == "__main__":
    main()
