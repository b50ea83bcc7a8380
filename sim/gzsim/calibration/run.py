"""`gzsim calibrate`: build the problem, run (or resume) ABC-SMC, write posterior and report."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml
from filelock import FileLock, Timeout

from gzsim.analysis.plots import calibration_fit, save_figure
from gzsim.calibration.abc import DB_NAME, run_abc
from gzsim.calibration.backtest_run import backtest_section
from gzsim.calibration.figures import correlations, prior_posterior
from gzsim.calibration.predictive import check_table, predictive
from gzsim.calibration.problem import CalibrationProblem, build_problem, typed_values
from gzsim.calibration.readings import forecast_views, readings_table
from gzsim.calibration.report import markdown, parameter_table, weighted_corr
from gzsim.errors import InputError
from gzsim.io.fileio import atomic_write_bytes
from gzsim.io.outdir import OutputError, marker, write_marker
from gzsim.io.posterior import Posterior, write_posterior
from gzsim.io.yamlio import load_yaml
from gzsim.scenario.loader import validate_scenario

QUICK_OUT = Path("results") / "calibrate-quick"
LOCK_NAME = ".calibrate.lock"
#: what gzsim calibrate writes into its folder (the folder's marker lists them as gzsim's)
OUTPUT_FILES = ("abc.db", "posterior.parquet", "report.md", "report.csv", "parameters.csv",
                "readings.csv", "fit.png", "fit.svg", "posterior.png", "posterior.svg",
                "correlations.png", "correlations.svg", "fitted.yaml", LOCK_NAME)


def calibrate(spec_path: str | Path | CalibrationProblem, quick: bool = False, workers: int = 1,
              out_dir: Path | None = None, fitted_path: Path | None = None,
              on_generation: Callable[[dict], None] | None = None,
              command: str = "gzsim calibrate", progress: bool = False, **flags: bool
              ) -> tuple[CalibrationProblem, Posterior, dict]:
    """Run the calibration of ``spec_path``; write everything into ``out_dir``.

    One session at a time per ``out_dir`` (:func:`folder_lock`); ``overwrite=True`` (a
    keyword): discard its ``abc.db`` (under the lock) and start again.

    ``spec_path`` may be a problem already built (``build_problem(spec, quick, overrides)``:
    a base scenario changed by ``--set``). Default ``out_dir``: the spec's folder for a full
    run, ``results/calibrate-quick`` for ``quick`` (a quick run never overwrites the committed
    calibration unless told to).
    """
    t0 = time.perf_counter()
    overwrite = bool(flags.pop("overwrite", False))
    if flags:
        raise TypeError(f"calibrate: unknown keyword(s) {sorted(flags)}")
    problem = spec_path if isinstance(spec_path, CalibrationProblem) else \
        build_problem(spec_path, quick=quick)
    spec_path = problem.spec_path
    spec_dir = Path(spec_path).parent
    out_dir = Path(out_dir) if out_dir is not None else (
        QUICK_OUT if quick or problem.overrides else spec_dir)
    fitted_path = fitted_path or (spec_dir / problem.spec.output if out_dir == spec_dir
                                  else out_dir / "fitted.yaml")
    check_fitted_target(fitted_path)  # before hours of sampling, not after
    forecast_views(problem)  # the readings' forecast years lie in the scenario (checked early)
    out_dir.mkdir(parents=True, exist_ok=True)
    # listed before the lock file and abc.db exist: a run killed at any moment leaves only
    # files the marker calls ours (a rerun resumes instead of refusing a stray lock file)
    _mark(out_dir)
    with folder_lock(out_dir):
        problem.screen()
        if overwrite and (out_dir / DB_NAME).exists():
            (out_dir / DB_NAME).unlink()
        return _calibrate(problem, out_dir, fitted_path, t0, dict(
            quick=quick, workers=workers, on_generation=on_generation, command=command,
            progress=progress))


def _calibrate(problem: CalibrationProblem, out_dir: Path, fitted_path: Path, t0: float,
               how: dict) -> tuple[CalibrationProblem, Posterior, dict]:
    """The calibration itself, its folder locked: ABC-SMC, posterior, report, fitted values."""
    quick, workers, command = how["quick"], how["workers"], how["command"]
    abc = run_abc(problem, out_dir, workers=workers, on_generation=how["on_generation"],
                  progress=how["progress"])
    meta = _meta(problem, abc, quick)
    post = write_posterior(abc.particles, meta, out_dir / "posterior.parquet")
    ppc = check_table(problem, predictive(problem, post, problem.settings.predictive_draws,
                                          workers), {t.id for t in problem.fitted})
    readings = readings_table(problem, post, workers)
    params = parameter_table(problem, post)
    corr = weighted_corr(post)
    run = {"generations": abc.generations.to_dict("records"), "db": abc.db_path.name,
           "total_simulations": abc.total_simulations, "stop_reason": abc.stop_reason,
           "wall_time_s": time.perf_counter() - t0, "workers": workers,
           "resumed_from": abc.resumed_from, "abc_seconds": abc.abc_seconds,
           "crn": problem.settings.crn}
    _write(problem, post, {"params": params, "corr": corr, "ppc": ppc, "readings": readings},
           run, out_dir, command)
    check_fitted_target(fitted_path)
    write_fitted(problem, params, fitted_path, out_dir / "posterior.parquet", command)
    _mark(out_dir)
    return problem, post, {"params": params, "ppc": ppc, "readings": readings, "run": run,
                           "out_dir": out_dir, "fitted_path": fitted_path}


@contextlib.contextmanager
def folder_lock(out_dir: Path) -> Iterator[None]:
    """One calibration at a time per folder (``OUT/.calibrate.lock``): a second is refused.

    Two sessions writing one ``abc.db`` would interleave generations of two runs; the second
    stops at once (exit 2) rather than wait for hours. The lock is the kernel's (filelock, as
    the sweep store's): a session killed even by SIGKILL holds it no longer, once its workers
    (which exit with their driver, :func:`gzsim.execution.lifecycle.watch_parent`) are gone.
    """
    lock = FileLock(out_dir / LOCK_NAME, is_singleton=False)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        raise OutputError(f"{out_dir}: another gzsim calibrate session is already computing "
                          f"in this folder (it holds {out_dir / LOCK_NAME}); wait for it to "
                          "finish, or choose another --out. Nothing was changed.") from None
    try:
        yield
    finally:
        lock.release()


def _meta(problem: CalibrationProblem, abc, quick: bool) -> dict:
    """The posterior file's provenance: spec, seeds, settings and the run's statistics."""
    return {"spec": str(problem.spec_path), "quick": quick, "calibration_seed": problem.spec.seed,
            "overrides": list(problem.overrides),
            "simulation_seeds": {
                "entropy": problem.spec.seed,
                "replication": ("k for k < replications (common random numbers)"
                                if problem.settings.crn else
                                "crc32(float64 parameter values, sorted by path) * 1000 + k"),
                "crn": problem.settings.crn},
            "numpy_global_seed": {"entropy": problem.spec.seed, "spawn_key": [11]},
            "settings": problem.settings.model_dump(), "fingerprint": abc.fingerprint,
            "database": abc.db_path.name, "stop_reason": abc.stop_reason,
            "generations": abc.generations.to_dict("records"),
            "total_simulations": abc.total_simulations,
            "fitted_targets": [t.id for t in problem.fitted],
            "growth_values": problem.growth_values,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}


def _write(problem, post, tables: dict, run, out_dir: Path, command: str) -> None:
    params, corr, ppc, readings = (tables[k] for k in ("params", "corr", "ppc", "readings"))
    atomic_write_bytes(out_dir / "report.csv", ppc.to_csv(index=False).encode())
    atomic_write_bytes(out_dir / "parameters.csv", params.to_csv(index=False).encode())
    atomic_write_bytes(out_dir / "readings.csv", readings.to_csv(index=False).encode())
    text = markdown(problem, post, params, corr, ppc, run, command, readings)
    text += backtest_section(problem.spec_path.parent / "backtest")
    atomic_write_bytes(out_dir / "report.md", text.encode())
    save_figure(prior_posterior(post, problem.priors), out_dir / "posterior")
    save_figure(correlations(corr), out_dir / "correlations")
    if len(ppc):
        save_figure(calibration_fit(ppc), out_dir / "fit")


def _mark(out_dir: Path) -> None:
    """List this command's files in the folder's marker (the rest of the folder is the user's)."""
    mk = marker(out_dir) or {}
    if mk and not mk.get("files") and not mk.get("legacy"):
        return  # the whole folder is already gzsim's
    write_marker(out_dir, "calibration", [*(mk.get("files") or []), *OUTPUT_FILES])


def check_fitted_target(path: str | Path, flag: str = "--fitted") -> None:
    """Refuse a fitted-values target that exists and is not a file ``gzsim calibrate`` wrote.

    gzsim replaces only files it wrote itself: a fitted file says so in ``generated_by``. A
    user's scenario given by mistake is never overwritten.
    """
    path = Path(path)
    if not os.path.lexists(path):
        return
    try:
        data, _ = load_yaml(path, what="fitted values")
        ours = isinstance(data, dict) and str(data.get("generated_by", "")).startswith(
            "gzsim calibrate") and isinstance(data.get("values"), dict)
    except InputError:
        ours = False
    if not ours:
        raise OutputError(f"'{path}' exists and is not a fitted-values file written by gzsim "
                          "calibrate (no 'generated_by: gzsim calibrate' and 'values:'); gzsim "
                          f"will not replace it. Choose another {flag} file; nothing was "
                          "changed.")


def write_fitted(problem: CalibrationProblem, params, path: Path, posterior: Path,
                 command: str) -> None:
    """Posterior medians (used by noise-only runs) and the posterior scenarios draw from."""
    rel = os.path.relpath(posterior.resolve(), path.resolve().parent)
    doc = {"generated_by": command,
           "generated_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
           "note": "Generated file: do not edit by hand; rerun gzsim calibrate to regenerate. "
                   "values are posterior medians; runs with --uncertainty posterior draw each "
                   "replication's values from the posterior file instead.",
           "posterior": rel,
           "values": {**problem.growth_values,
                      **typed_values(validate_scenario(problem.base_data).model_dump(),
                                     {r.path: float(r.median) for r in params.itertuples()})},
           "identified": {r.path: bool(r.identified) for r in params.itertuples()}}
    atomic_write_bytes(path, yaml.safe_dump(doc, sort_keys=False).encode())
