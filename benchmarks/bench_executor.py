"""Sweeps: parallel efficiency, gzsim against EMA Workbench, overhead, driver memory.

``--real`` (issue 13): a sweep of the real base model (default 400 runs: 200 points x 2
replications, scalar outcomes) with ``--workers`` local processes, in one run of this script:

1. serial time per run: runs of the same design, one after another in this process (measured
   before and after the parallel runs; the mean of both);
2. gzsim ``run_sweep`` wall time, process-pool start-up included; parallel efficiency =
   (runs x serial time per run) / (workers x wall)   target >= 0.90 with 2 workers;
3. EMA Workbench's ``MultiprocessingEvaluator`` on the same design (the same points and
   replications through :mod:`gzsim.ema`), pool start-up included; gzsim wall / EMA wall
   target <= 0.8;
4. the `gzsim sweep` command itself, a fresh process (interpreter, imports, the design, checking
   its points, writing the store): the same efficiency over its whole wall time (issue 21:
   target >= 0.85).

Without ``--real`` a stand-in model (``--busy-ms`` CPU per run) measures the layer's overhead
against a bare ``ProcessPoolExecutor.map`` and the driver's peak memory for 2,000 to 16,000 runs
with the full monthly series kept (it must stay flat: each batch is written and released).

    .venv/bin/python benchmarks/bench_executor.py --real            # issue 13's figures
    .venv/bin/python benchmarks/bench_executor.py                   # overhead and memory
    .venv/bin/python benchmarks/bench_executor.py --quick           # a smoke test

Machines here are shared and noisy: compare within one run of this script.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / "scenarios" / "base.yaml"


from _report import report  # noqa: E402 - the sibling module (run as a script)


def experiment_file(folder: Path, points: int, reps: int, series: bool) -> Path:
    p = folder / f"bench_{points}x{reps}_{int(series)}.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: bench
        base: {BASE}
        seed: 1
        replications: {reps}
        factors:
          investment.growth_rate_per_year: {{range: [0.05, 0.15]}}
          jobs.indirect_jobs_per_direct_job: {{range: [0.3, 0.8]}}
        design: {{kind: latin_hypercube, samples: {points}}}
        outcomes:
          series: {'true' if series else 'false'}
          scalars: [{{name: jobs_2017, indicator: jobs_created, year: 2017}},
                    {{name: employment_2020, indicator: employment, year: 2020}}]
        """))
    return p


def bare_run(args):
    """What a bare executor does per run: build the point's scenario, run the model."""
    run_fn, base_data, overrides, seed, rep = args
    from gzsim.scenario.loader import apply_overrides, validate_scenario

    if run_fn is None:
        from gzsim.model import simulate_one as run_fn
    sc = validate_scenario(apply_overrides(base_data, {}, overrides))
    out = run_fn(sc, seed, rep)
    return {k: float(v[-1]) for k, v in out.items()}


def bare_items(exp_path: Path, run_fn) -> list:
    from gzsim.experiments import load_experiment, make_design

    exp = load_experiment(exp_path)
    d = make_design(exp)
    return [(run_fn, exp.base_data, d.overrides(p), exp.root_seed, k)
            for p in range(d.n_points) for k in range(exp.replications)]


def serial_per_run(items: list) -> float:
    """Mean time per run, one after another: each point's scenario validated once (as a sweep's
    worker does), then its replications run."""
    from gzsim.model import simulate_one
    from gzsim.scenario.loader import apply_overrides, validate_scenario

    t0 = time.perf_counter()
    scenarios: dict = {}
    for _, base_data, ov, seed, rep in items:
        key = repr(sorted(ov.items()))
        if key not in scenarios:
            scenarios[key] = validate_scenario(apply_overrides(base_data, {}, ov))
        simulate_one(scenarios[key], seed, rep)
    return (time.perf_counter() - t0) / len(items)


def ema_per_run(exp: Path, items: list) -> float:
    """Mean time per run through EMA's model function (``gzsim.ema``), one after another.

    EMA calls it once per replication, so each replication validates its scenario.
    """
    from gzsim.ema import GzsimFunction, _identifier

    f = GzsimFunction(exp, [])
    t0 = time.perf_counter()
    for _, _, ov, _, rep in items:
        f(replication=rep, **{_identifier(k): v for k, v in ov.items()})
    return (time.perf_counter() - t0) / len(items)


def gzsim_wall(exp: Path, out: Path, workers: int, run_fn=None) -> tuple[float, dict]:
    """Wall time of ``run_sweep`` with gzsim and the design's sampler imported.

    EMA's clock likewise starts after ``import ema_workbench`` (which imports scipy.stats and
    SALib); gzsim imports scipy.stats.qmc only when it draws a design, so it is imported here
    first, or gzsim's wall would carry ~0.5-0.8 s of imports that EMA's does not. Import times
    are reported separately (``process wall``). Also returned: the driver's CPU time during the
    sweep (it should be small: the driver waits, it does not poll or compute).
    """
    import scipy.stats.qmc  # noqa: F401

    from gzsim.experiments import run_sweep

    t0, c0 = time.perf_counter(), time.process_time()
    res = run_sweep(exp, out, workers=workers, backend="processes" if workers > 1 else "serial",
                    progress=False, run_fn=run_fn)
    return time.perf_counter() - t0, {**res.stats, "driver_cpu_s": time.process_time() - c0}


def ema_wall(exp: Path, workers: int) -> float:
    from ema_workbench import MultiprocessingEvaluator, Scenario, perform_experiments

    from gzsim.ema import _identifier, ema_model
    from gzsim.experiments import load_experiment, make_design

    t0 = time.perf_counter()  # like gzsim's: reading the experiment and the design included
    e = load_experiment(exp)
    d = make_design(e)
    scenarios = [Scenario(f"p{p}", **{_identifier(path): v for path, v in d.overrides(p).items()})
                 for p in range(d.n_points)]
    model = ema_model(exp)
    with MultiprocessingEvaluator(model, n_processes=workers) as ev:
        perform_experiments(model, scenarios=scenarios, evaluator=ev)
    return time.perf_counter() - t0


def real(args, folder: Path) -> list[str]:
    """Rounds of serial sample, gzsim sweep and EMA (order alternating): this machine's load
    drifts, so each round's ratios are computed within the round, then the median is taken."""
    import logging
    import statistics

    logging.getLogger("EMA").setLevel(logging.WARNING)
    exp = experiment_file(folder, args.runs // 2, 2, series=False)
    items = bare_items(exp, None)
    sample = items[: args.serial_runs - args.serial_runs % 2]  # whole points (2 replications)
    lines, effs, ratios, emas, proc_ratios, st = [], [], [], [], [], {}
    whole = []  # efficiency of the `gzsim sweep` command, whole process (issue 21)
    per_run = []  # (gzsim path, EMA's function): seconds per run, same process, same moment
    for r in range(args.rounds):
        s1 = serial_per_run(sample)
        per_run.append((s1, ema_per_run(exp, sample)))
        order = ["gzsim", "ema"] if r % 2 == 0 else ["ema", "gzsim"]
        wall: dict[str, float] = {}
        proc: dict[str, float] = {}
        for what in order:  # each in a fresh process: neither inherits the other's threads
            wall[what], st_ = one(what, exp, folder / f"{what}{r}", args.workers)
            proc[what] = st_["process_s"]
            st = st_ if what == "gzsim" else st
        proc["cli"] = command_wall(exp, folder / f"cli{r}", args.workers)
        per = (s1 + serial_per_run(sample)) / 2
        effs.append(len(items) * per / (args.workers * wall["gzsim"]))
        whole.append(len(items) * per / (args.workers * proc["cli"]))
        emas.append(len(items) * per / (args.workers * wall["ema"]))
        ratios.append(wall["gzsim"] / wall["ema"])
        proc_ratios.append(proc["gzsim"] / proc["ema"])
        lines.append(f"- round {r}: serial {per * 1000:.1f} ms/run ({len(sample)} runs before "
                      f"and after), gzsim {wall['gzsim']:.2f} s ({st['tasks']} batches of up to "
                      f"{st['batch_size']} runs; driver CPU {st['driver_cpu_s']:.2f} s), EMA "
                      f"{wall['ema']:.2f} s, load {os.getloadavg()[0]:.1f}: efficiency gzsim "
                      f"{effs[-1]:.3f} (`gzsim sweep`, whole process: {proc['cli']:.2f} s, "
                      f"{whole[-1]:.3f}), EMA {emas[-1]:.3f}; "
                      f"gzsim/EMA {ratios[-1]:.3f}; "
                      f"whole processes (imports included) gzsim {proc['gzsim']:.2f} s, EMA "
                      f"{proc['ema']:.2f} s: {proc_ratios[-1]:.3f}")
    lines += [f"- {len(items)} runs ({len(items) // 2} points x 2 replications), "
              f"{args.workers} workers, medians of {args.rounds} rounds (range in brackets):",
              f"  **parallel efficiency gzsim = {statistics.median(effs):.3f}** "
              f"[{min(effs):.3f}-{max(effs):.3f}] (target >= 0.90; EMA "
              f"{statistics.median(emas):.3f}); **gzsim wall / EMA wall = "
              f"{statistics.median(ratios):.3f}** [{min(ratios):.3f}-{max(ratios):.3f}] (target "
              f"<= 0.8); whole processes {statistics.median(proc_ratios):.3f}",
              f"  **parallel efficiency of `gzsim sweep`, whole process = "
              f"{statistics.median(whole):.3f}** [{min(whole):.3f}-{max(whole):.3f}] (issue 21: "
              "target >= 0.85; interpreter start, imports, the design, checking its points and "
              "writing the store included)"]
    cost = statistics.median(g / e for g, e in per_run)
    g_ms = statistics.median(g for g, _ in per_run) * 1e3
    e_ms = statistics.median(e for _, e in per_run) * 1e3
    lines.append(f"- per run, one process: gzsim's path {g_ms:.1f} ms, EMA's model function "
                 f"{e_ms:.1f} ms "
                 f"(ratio {cost:.3f}). gzsim wall / EMA wall = that ratio x EMA's efficiency / "
                 f"gzsim's, so <= 0.8 needs EMA's efficiency <= {0.8 / cost:.2f} x gzsim's "
                 f"(<= {0.8 / cost:.2f} even at a perfect gzsim); EMA's here: "
                 f"{min(emas):.2f}-{max(emas):.2f}")
    return lines


def command_wall(exp: Path, out: Path, workers: int) -> float:
    """Wall time of the `gzsim sweep` command as a user runs it (a fresh process, no bar)."""
    gzsim = Path(sys.executable).with_name("gzsim")
    t0 = time.perf_counter()
    r = subprocess.run([str(gzsim), "sweep", str(exp), "--out", str(out), "--workers",
                        str(workers), "--quiet"], capture_output=True, text=True, cwd=REPO)
    if r.returncode:
        raise SystemExit(r.stderr[-3000:])
    return time.perf_counter() - t0


def one(what: str, exp: Path, out: Path, workers: int) -> tuple[float, dict]:
    """Time ``gzsim`` or ``ema`` on the design in a fresh Python process (pool start included).

    The stats also hold ``process_s``: the child's whole life, interpreter start and imports
    included (measured here, around the subprocess).
    """
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, __file__, "--one", what, str(exp), str(out),
                        str(workers)], capture_output=True, text=True, cwd=REPO)
    process_s = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(r.stderr[-3000:])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return res["wall"], {**res["stats"], "process_s": process_s}


MEMORY_DRIVER = """
import json, resource, sys, functools
from gzsim.experiments import run_sweep
from gzsim.execution.standin import standin_model
res = run_sweep(sys.argv[1], sys.argv[2], workers=2, progress=False,
                run_fn=functools.partial(standin_model, busy_s=0.001))
print(json.dumps({"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "runs": res.stats["runs_this_session"], "wall": res.stats["wall_time_s"]}))
"""


def driver_memory(folder: Path, runs: int, series: bool = True, reps: int = 2) -> dict:
    exp = experiment_file(folder, runs // reps, reps, series=series)
    r = subprocess.run([sys.executable, "-c", MEMORY_DRIVER, str(exp), str(folder / f"m{runs}")],
                       capture_output=True, text=True, cwd=REPO)
    if r.returncode:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def standin(args, folder: Path) -> list[str]:
    from gzsim.execution.standin import standin_model

    fn = functools.partial(standin_model, busy_s=args.busy_ms / 1000)
    runs = 40 if args.quick else args.runs
    exp = experiment_file(folder, runs // 2, 2, series=False)
    items = bare_items(exp, fn)
    with cf.ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(bare_run, items[: 2 * args.workers]))  # start and import
        t0 = time.perf_counter()
        list(pool.map(bare_run, items))
        bare = time.perf_counter() - t0
    g2, _ = gzsim_wall(exp, folder / "s2", args.workers, fn)
    g1, _ = gzsim_wall(exp, folder / "s1", 1, fn)
    lines = [f"- stand-in {args.busy_ms:g} ms/run, {runs} runs: bare ProcessPoolExecutor.map "
             f"{bare:.2f} s (warm pool), gzsim sweep {g2:.2f} s (pool start-up included): "
             f"ratio {g2 / bare:.3f}; speed-up {args.workers} workers / 1: {g1 / g2:.2f}x"]
    sizes = (400, 1600) if args.quick else (2000, 8000, 16000)
    mem = [driver_memory(folder, k) for k in sizes]
    lines.append("- driver peak RSS, full monthly series kept: " + ", ".join(
        f"{m['runs']} runs {m['maxrss_mb']:.0f} MB" for m in mem)
        + f" (flat: {mem[-1]['maxrss_mb'] - mem[0]['maxrss_mb']:+.0f} MB)")
    return lines


def main() -> None:
    if sys.argv[1:2] == ["--one"]:  # a child of one(): time one contender, print JSON
        what, exp, out, workers = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), \
            int(sys.argv[5])
        wall, st = gzsim_wall(exp, out, workers) if what == "gzsim" else \
            (ema_wall(exp, workers), {})
        print(json.dumps({"wall": wall, "stats": {k: st.get(k) for k in ("tasks", "batch_size",
                                                                        "driver_cpu_s")}}))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", action="store_true", help="the real model against EMA Workbench")
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--serial-runs", type=int, default=40, help="runs timed serially (--real)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of the --real comparison")
    ap.add_argument("--busy-ms", type=float, default=50.0, help="stand-in model CPU ms per run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    ap.add_argument("--write", type=Path, default=None, help="append the figures to this file")
    ap.add_argument("--memory-runs", type=int, nargs="+", default=None, metavar="RUNS",
                    help="only the driver's peak RSS for sweeps of these sizes (scalar outcomes; "
                    "consolidation of runs.parquet included), e.g. 20000 200000")
    ap.add_argument("--memory-reps", type=int, default=2,
                    help="replications per design point in --memory-runs (more: fewer points "
                    "to validate, a faster measurement)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.memory_runs:
            mem = [driver_memory(Path(tmp), k, False, args.memory_reps) for k in args.memory_runs]
            lines = [f"- driver peak RSS, scalar outcomes, {args.memory_reps} replications per "
                     "point, runs.parquet streamed: " + ", ".join(
                f"{m['runs']} runs {m['maxrss_mb']:.0f} MB ({m['wall']:.0f} s)" for m in mem)]
        else:
            lines = real(args, Path(tmp)) if args.real else standin(args, Path(tmp))
    report(lines, args.write)


if __name__ == "__main__":
    main()
