"""How fast is `gzsim explore`? (issue 24: first paint <= 3 s after the server is up; a
20-replication paired run of one policy <= 5 s on 2 cores)

Starts `gzsim explore` as a user does (a fresh process, a fresh cache) and measures, in
Debian's chromium driven by Playwright:

- server start: from launching the command to its "serving" line (imports included);
- first paint: from `page.goto` to the page's heading being visible (the browser started
  before, a new page each round), and the browser's own first-contentful-paint;
- paired run through the page: the tax incentive lever (as policy_tax_incentives.yaml) with 20
  replications and a new seed each round (nothing cached), from the click on Run to the
  headline table on the page (runs, headline and two indicators' charts);
- the same paired run through the Python API alone (`gzsim.explore.session.run_paired` on a
  warm 2-worker pool, new seed each round), for the share of the page's time that is the model;
- alongside, `gzsim run scenarios/base.yaml` (20 replications, a fresh process): the ratio of
  the page's times to it holds on a loaded machine better than the seconds do, so a quiet
  machine's figure is about that ratio times `gzsim run`'s quiet wall time (bench_run.py).

    .venv/bin/python benchmarks/bench_explore.py [--rounds 3] [--write benchmarks/results.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from _report import report  # noqa: E402 - the sibling module (run as a script)
from tests.browser import CHROMIUM_ARGS, chromium_path, free_port, type_into  # noqa: E402

FIRST_PAINT_TARGET_S, PAIRED_TARGET_S = 3.0, 5.0
REPLICATIONS = 20


def spread(xs: list[float]) -> str:
    """Median [fastest-slowest] in seconds."""
    return f"{statistics.median(xs):.2f} s [{min(xs):.2f}-{max(xs):.2f}]"


def start_server(cache: Path, workers: int) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gzsim", "explore", "--port", str(port),
                             "--cache", str(cache), "-w", str(workers)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "serving http://" in line:
            return proc, f"http://127.0.0.1:{port}/", time.perf_counter() - t0
    raise SystemExit(f"gzsim explore exited ({proc.wait()}) before serving")


def page_rounds(url: str, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """(first paint by heading, first-contentful-paint, click-to-table) per round."""
    from playwright.sync_api import sync_playwright

    paint, fcp, paired = [], [], []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium_path(),
                                                   args=CHROMIUM_ARGS, headless=True)
        for k in range(rounds):
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(url, wait_until="commit")
            page.get_by_text("gzsim policy explorer").wait_for(timeout=60_000)
            paint.append(time.perf_counter() - t0)
            fcp.append(page.evaluate("performance.getEntriesByName('first-contentful-paint')"
                                     "[0]?.startTime ?? NaN") / 1000)
            type_into(page, ".lever-tax_incentive_share", "0.3")
            type_into(page, ".explore-replications", str(REPLICATIONS))
            type_into(page, ".explore-seed", str(1000 + k))
            t0 = time.perf_counter()
            page.locator(".explore-run button").click()
            page.locator(".explore-headline table").wait_for(timeout=300_000)
            paired.append(time.perf_counter() - t0)
            page.close()
        ctx.close()
    return paint, fcp, paired


def api_rounds(rounds: int, workers: int, cache: Path) -> list[float]:
    """run_paired alone, on a warm pool, a new seed each round."""
    from gzsim.explore.session import Request, ResultCache, WorkerPool, run_paired
    from gzsim.scenario import load_scenario

    base = load_scenario(REPO / "scenarios/base.yaml")
    pol = load_scenario(REPO / "scenarios/policy_tax_incentives.yaml")
    pool, out = WorkerPool(workers), []
    try:
        run_paired(Request(base, [pol], replications=2, seed=1), ResultCache(cache),
                   **pool.run_options())  # warms the pool
        for k in range(rounds):
            t0 = time.perf_counter()
            run_paired(Request(base, [pol], replications=REPLICATIONS, seed=2000 + k),
                       ResultCache(cache), **pool.run_options())
            out.append(time.perf_counter() - t0)
    finally:
        pool.shutdown()
    return out


def gzsim_run_rounds(rounds: int, folder: Path) -> list[float]:
    """Wall time of `gzsim run scenarios/base.yaml` (its own benchmark: bench_run.py)."""
    gzsim, out = Path(sys.executable).with_name("gzsim"), []
    for k in range(rounds):
        t0 = time.perf_counter()
        subprocess.run([str(gzsim), "run", "scenarios/base.yaml", "--quiet", "--out",
                        str(folder / f"run{k}")], cwd=REPO, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def verdict(xs: list[float], target: float) -> str:
    return f"target <= {target:g} s: {'met' if statistics.median(xs) <= target else 'missed'}"


def measure(rounds: int, workers: int) -> list[str]:
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, up = start_server(Path(tmp) / "cache", workers)
        try:
            paint, fcp, paired = page_rounds(url, rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        api = api_rounds(rounds, workers, Path(tmp) / "api-cache")
        run = gzsim_run_rounds(rounds, Path(tmp))
    med = statistics.median
    return [
        f"- `gzsim explore` start to 'serving': {up:.2f} s (imports included); load "
        f"{load0:.1f} at the start",
        f"- first paint (goto to the heading visible), {rounds} rounds: **{spread(paint)}** "
        f"({verdict(paint, FIRST_PAINT_TARGET_S)}); chromium's first-contentful-paint "
        f"{spread(fcp)}",
        f"- paired run of one policy, {REPLICATIONS} replications, {workers} workers, click to "
        f"table on the page: **{spread(paired)}** ({verdict(paired, PAIRED_TARGET_S)}); "
        f"run_paired alone on a warm pool: {spread(api)}",
        f"- alongside, `gzsim run scenarios/base.yaml` (20 replications): {spread(run)}; "
        f"ratios to it (load-independent, roughly): first paint {med(paint) / med(run):.2f}, "
        f"paired run on the page {med(paired) / med(run):.2f}, run_paired alone "
        f"{med(api) / med(run):.2f}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--write", type=Path, default=None, help="append the figures to this file")
    args = ap.parse_args()
    if chromium_path() is None:
        raise SystemExit("no chromium (apt-get install chromium); see make test-browser")
    report(measure(args.rounds, args.workers), args.write)


if __name__ == "__main__":
    main()
