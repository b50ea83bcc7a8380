"""How long does `gzsim run scenarios/base.yaml` take, start to finish? (issue 13: <= 1.5 s)

Runs the command as a user does (a fresh process, default replications and workers, into a new
folder) ``--reps`` times, and prints the median, fastest and slowest wall time. In the same run,
for scale: a bare ``python -c pass``, and importing what the run path imports (gzsim's CLI,
results, model and their libraries) in a fresh process; the manifest says how many
replications ran, on how many workers, and how long the replications themselves took; the CPU
time of the command's processes (driver and workers) is printed too: on a shared machine it
moves much less than the wall time, so it tells a slower command from a busier machine.
``--events`` times `gzsim run SCENARIO --events` in the same rounds (the entity event log on,
written to ``events.parquet``) and prints its cost over the plain command (issue 21: <= 10 %).

    .venv/bin/python benchmarks/bench_run.py [SCENARIO] [--reps 5] [--events]
        [--write benchmarks/results.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GZSIM = Path(sys.executable).with_name("gzsim")
RUN_PATH_IMPORTS = ("import gzsim.cli.app, gzsim.run, gzsim.cli.report, gzsim.results, "
                    "gzsim.io.outdir, gzsim.scenario, gzsim.uncertainty, gzsim.model")
TARGET_S = 1.5


from _report import report  # noqa: E402 - the sibling module (run as a script)


def children_cpu() -> float:
    """CPU seconds of the finished child processes (and the workers they waited for)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def wall(cmd: list[str], cpu: list[float] | None = None) -> float:
    """Wall time of one command (it must succeed); its processes' CPU time into ``cpu``."""
    t0, c0 = time.perf_counter(), children_cpu()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    dt = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    if cpu is not None:
        cpu.append(children_cpu() - c0)
    return dt


def spread(xs: list[float]) -> str:
    """Median [fastest-slowest] in seconds."""
    return f"{statistics.median(xs):.2f} s [{min(xs):.2f}-{max(xs):.2f}]"


def measure(scenario: str, reps: int, folder: Path, events: bool = False) -> list[str]:
    """Interleaved rounds of: bare interpreter, run-path imports, the command itself (and
    with ``events`` the command with --events)."""
    bare, imports, runs, inner, cpu = [], [], [], [], []
    ev_runs, ev_cpu = [], []
    manifest: dict = {}
    for k in range(reps):
        bare.append(wall([sys.executable, "-c", "pass"]))
        imports.append(wall([sys.executable, "-c", RUN_PATH_IMPORTS]))
        out = folder / f"r{k}"
        runs.append(wall([str(GZSIM), "run", scenario, "--out", str(out), "--quiet"], cpu))
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        inner.append(float(manifest["wall_time_s"]))
        if events:
            ev_runs.append(wall([str(GZSIM), "run", scenario, "--out", str(folder / f"e{k}"),
                                 "--quiet", "--events"], ev_cpu))
    med = statistics.median(runs)
    return [
        f"- `gzsim run {scenario}` ({manifest['replications']} replications, "
        f"{manifest['workers']} workers, default options), {reps} runs: wall "
        f"**{spread(runs)}** (median [fastest-slowest]; target <= {TARGET_S} s: "
        f"{'met' if med <= TARGET_S else 'missed'} by the median)",
        f"- of which, measured alongside: interpreter start {spread(bare)}; importing the run "
        f"path {spread(imports)}; the replications themselves (manifest `wall_time_s`, pool "
        f"start included) {spread(inner)}; CPU time of the command's processes (driver and "
        f"workers; less sensitive to other jobs than wall time) {spread(cpu)}",
    ] + ([
        f"- `gzsim run {scenario} --events`, same rounds: wall **{spread(ev_runs)}**, "
        f"**+{(statistics.median(ev_runs) / med - 1) * 100:.0f} %** over the plain command "
        f"(target <= 10 %); CPU {spread(ev_cpu)}, "
        f"+{(statistics.median(ev_cpu) / statistics.median(cpu) - 1) * 100:.0f} %",
    ] if events else [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?", default="scenarios/base.yaml")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--events", action="store_true", help="also time the command with --events")
    ap.add_argument("--write", type=Path, default=None, help="append the figures to this file")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lines = measure(args.scenario, args.reps, Path(tmp), args.events)
    report(lines, args.write, f"Python {platform.python_version()}")


if __name__ == "__main__":
    main()
