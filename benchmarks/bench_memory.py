"""Does `gzsim run`'s driver memory stay flat with the number of replications? (issue 25)

Runs `gzsim run SCENARIO -n N --seed 1 --workers W --quiet` in a fresh process for each N and
prints the driver's peak resident memory (``getrusage(RUSAGE_SELF).ru_maxrss`` read at the
driver's exit: the driver alone, not its worker processes) and the ratio of the largest N's
peak to the smallest's. Flat means a ratio near 1; a run that kept every replication's series
in memory would grow with N. ``--events`` adds `--events` to each run (the entity event log,
about 11,000 rows per base replication, streamed into ``events.parquet``) and prints its rows.

    .venv/bin/python benchmarks/bench_memory.py [SCENARIO] [-n 200 2000] [--workers 2]
        [--events] [--write benchmarks/results.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the driver reports its own peak at exit (forked workers leave by os._exit: no atexit)
DRIVER = """
import atexit, os, resource, sys
def peak():
    with open(os.environ["GZSIM_BENCH_PEAK"], "w") as f:
        f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
atexit.register(peak)
from gzsim.cli.app import main
main(sys.argv[1:], prog_name="gzsim")
"""


from _report import report  # noqa: E402 - the sibling module (run as a script)


def peak_mb(scenario: str, n: int, workers: int, folder: Path,
            events: bool = False) -> tuple[float, float]:
    """(driver peak RSS in MB, wall time in s) of one `gzsim run -n N` into a new folder."""
    out, peak = folder / f"run-{n}", folder / f"peak-{n}.txt"
    cmd = [sys.executable, "-c", DRIVER, "run", scenario, "-n", str(n), "--seed", "1",
           "--workers", str(workers), "--quiet", "--out", str(out), *(["--events"] * events)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "GZSIM_BENCH_PEAK": str(peak)})
    wall = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replications"] == n
    assert (out / "events.parquet").exists() == events
    return int(peak.read_text()) / 1024, wall  # ru_maxrss is in kB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?", default="scenarios/base.yaml")
    ap.add_argument("-n", type=int, nargs="+", default=[200, 2000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--events", action="store_true", help="run with --events (the event log)")
    ap.add_argument("--write", type=Path, default=None, help="append the figures to this file")
    args = ap.parse_args()
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            peaks[n] = peak_mb(args.scenario, n, args.workers, Path(tmp), args.events)
    lo, hi = min(args.n), max(args.n)
    flag = " --events" if args.events else ""
    lines = [f"- `gzsim run {args.scenario} -n {n} --workers {args.workers}{flag}`: driver peak "
             f"RSS **{mb:.0f} MB** ({wall:.0f} s)" for n, (mb, wall) in peaks.items()]
    lines.append(f"- peak at -n {hi} / peak at -n {lo}: **{peaks[hi][0] / peaks[lo][0]:.2f}** "
                 f"for {hi / lo:.0f}x the replications (1.00 = flat)")
    report(lines, args.write, f"Python {platform.python_version()}")


if __name__ == "__main__":
    main()
