"""The sweep execution layer against a bare ProcessPoolExecutor.map, and its scaling.

Prints, for the same runs (a Monte Carlo design, every run = validate the point's scenario, then
run the model):

1. Dask path / bare ``ProcessPoolExecutor.map`` wall time (budget: within 5 %, i.e. <= 1.05).
   Both executors are started and warmed up before the clock starts (a worker's first task
   imports gzsim); the Dask path includes batching, results streaming to Parquet, the store.
2. Speed-up of 2 Dask workers over 1 (budget: >= 1.8).
3. Driver memory (peak RSS of the driver process, in a subprocess) for N and 4N runs with the
   full monthly series kept (budget: flat — results stream to disk and are released).

    .venv/bin/python benchmarks/bench_executor.py                 # stand-in model, 50 ms/run
    .venv/bin/python benchmarks/bench_executor.py --real --runs 400   # the real model
    .venv/bin/python benchmarks/bench_executor.py --quick         # smaller, for a smoke test

Machines here are noisy (and the driver shares the cores with the workers): compare within one
run of this script, and repeat (``--repeat``) to see the spread.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / "scenarios" / "base.yaml"


def experiment_file(folder: Path, runs: int, series: bool) -> Path:
    p = folder / f"bench_{runs}_{int(series)}.yaml"
    outcomes = "series: true" if series else "series: false"
    p.write_text(textwrap.dedent(f"""\
        name: bench
        base: {BASE}
        seed: 1
        replications: 2
        factors:
          investment.growth_rate_per_year: {{range: [0.05, 0.15]}}
          jobs.indirect_jobs_per_direct_job: {{range: [0.3, 0.8]}}
        design: {{kind: monte_carlo, samples: {runs // 2}}}
        outcomes:
          {outcomes}
          scalars: [{{name: jobs_2017, indicator: jobs_created, year: 2017}}]
        """))
    return p


def bare_run(args):
    """What a bare executor does per run: build the point's scenario, run the model."""
    run_fn, base_data, overrides, seed, rep = args
    from gzsim.scenario.loader import apply_overrides, validate_scenario

    sc = validate_scenario(apply_overrides(base_data, {}, overrides))
    out = run_fn(sc, seed, rep)
    return {k: float(v[-1]) for k, v in out.items()}  # a small result, like scalar outcomes


def run_fn_for(args):
    if args.real:
        return None  # gzsim.model.simulate_one
    from gzsim.experiments.standin import standin_model

    return functools.partial(standin_model, busy_s=args.busy_ms / 1000)


def bare_items(exp_path: Path, run_fn):
    from gzsim.experiments import load_experiment, make_design
    from gzsim.experiments.tasks import default_run_fn

    exp = load_experiment(exp_path)
    d = make_design(exp)
    fn = run_fn or default_run_fn()
    ov = d.all_overrides()
    return [(fn, exp.base_data, ov[p], exp.root_seed, k)
            for p in range(d.n_points) for k in range(exp.replications)]


def bare_pool(workers: int) -> cf.ProcessPoolExecutor:
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["gzsim.model", "gzsim.experiments.tasks"])
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def dask_client(workers: int):
    import logging

    import distributed

    t0 = time.perf_counter()
    lc = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR)
    client = distributed.Client(lc)
    client.run(lambda: __import__("gzsim.model") and __import__("gzsim.experiments.tasks"))
    return lc, client, time.perf_counter() - t0


def time_bare(pool: cf.ProcessPoolExecutor, items) -> float:
    t0 = time.perf_counter()
    list(pool.map(bare_run, items))
    return time.perf_counter() - t0


def time_dask(exp_path: Path, run_fn, client, out: Path) -> tuple[float, dict]:
    from gzsim.experiments import run_sweep

    t0 = time.perf_counter()
    res = run_sweep(exp_path, out, backend="dask", client=client, progress=False, run_fn=run_fn)
    return time.perf_counter() - t0, res.stats


MEMORY_DRIVER = """
import json, resource, sys, functools
from gzsim.experiments import run_sweep
from gzsim.experiments.standin import standin_model
real = sys.argv[3] == "1"
fn = None if real else functools.partial(standin_model, busy_s=0.002)
res = run_sweep(sys.argv[1], sys.argv[2], backend="dask", workers=2, progress=False, run_fn=fn,
                flush_seconds=0.5)
print(json.dumps({"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "runs": res.stats["runs_this_session"], "wall": res.stats["wall_time_s"]}))
"""


def driver_memory(folder: Path, runs: int, real: bool) -> dict:
    exp = experiment_file(folder, runs, series=True)
    out = folder / f"mem_{runs}"
    r = subprocess.run([sys.executable, "-c", MEMORY_DRIVER, str(exp), str(out),
                        "1" if real else "0"], capture_output=True, text=True, cwd=REPO)
    if r.returncode:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=None, help="runs per round")
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved rounds (this machine's speed drifts: compare within one)")
    ap.add_argument("--busy-ms", type=float, default=50.0, help="stand-in model CPU ms per run")
    ap.add_argument("--real", action="store_true", help="use gzsim.model.simulate_one")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    per_run_s = 0.08 if args.real else args.busy_ms / 1000
    runs = args.runs or (40 if args.quick else max(40, int(args.workers * 5 / per_run_s)))
    runs -= runs % 2
    rounds = 1 if args.quick else args.rounds
    run_fn = run_fn_for(args)
    model = "gzsim.model.simulate_one" if args.real else f"stand-in, {args.busy_ms:g} ms CPU/run"
    print(f"# {runs} runs per round, {rounds} rounds, model: {model}, "
          f"{os.cpu_count()} CPUs, {args.workers} workers")
    ratios, speedups = [], []
    tb_all = td_all = t1_all = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        exp = experiment_file(folder, runs, series=False)
        items = bare_items(exp, run_fn)
        pool = bare_pool(args.workers)
        list(pool.map(bare_run, items[: 2 * args.workers]))  # start and import
        lc_n, cl_n, start_n = dask_client(args.workers)
        lc_1, cl_1, _ = dask_client(1)
        print(f"(LocalCluster start-up, {args.workers} workers, not in the timings: "
              f"{start_n:.1f} s)")
        time_dask(exp, run_fn, cl_n, folder / "warm")  # first sweep imports the rest
        try:
            for r in range(rounds):
                order = ["bare", "dask", "one"]
                order = order[r % 3:] + order[: r % 3]  # rotate: drift hits each alike
                t: dict[str, float] = {}
                for what in order:
                    if what == "bare":
                        t[what] = time_bare(pool, items)
                    elif what == "dask":
                        t[what], st = time_dask(exp, run_fn, cl_n, folder / f"d{r}")
                    else:
                        t[what], _ = time_dask(exp, run_fn, cl_1, folder / f"o{r}")
                ratios.append(t["dask"] / t["bare"])
                speedups.append(t["one"] / t["dask"])
                tb_all += t["bare"]
                td_all += t["dask"]
                t1_all += t["one"]
                print(f"round {r}: bare ProcessPoolExecutor.map {t['bare']:6.2f} s | gzsim "
                      f"sweep on Dask {t['dask']:6.2f} s ({st['tasks']} tasks, "
                      f"{st['mean_batch_runs']} runs/task) | Dask, 1 worker {t['one']:6.2f} s "
                      f"| ratio {ratios[-1]:.3f} | speed-up {speedups[-1]:.2f}x", flush=True)
        finally:
            pool.shutdown()
            for c, lc in ((cl_n, lc_n), (cl_1, lc_1)):
                c.close()
                lc.close()
        print(f"RATIO dask/processpool = {statistics.median(ratios):.3f} (median of rounds; "
              f"totals {td_all / tb_all:.3f})   budget <= 1.05")
        print(f"SPEEDUP {args.workers} workers / 1 worker = {statistics.median(speedups):.2f}x "
              f"(median; totals {t1_all / td_all:.2f}x)   budget >= 1.8 for 2 workers")
        if not args.skip_memory:
            n = 400 if args.quick else 2000
            sizes = (n, 4 * n) if args.quick else (n, 4 * n, 8 * n)
            mem = [driver_memory(folder, k, args.real) for k in sizes]
            print("driver peak RSS, full monthly series kept: " + ", ".join(
                f"{m['runs']} runs {m['maxrss_mb']:.0f} MB" for m in mem)
                + f"   (flat: {mem[-1]['maxrss_mb'] - mem[0]['maxrss_mb']:+.0f} MB for "
                f"{mem[-1]['runs'] - mem[0]['runs']} more runs)")


if __name__ == "__main__":
    main()
