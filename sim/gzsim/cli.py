"""The `gzsim` command line: a thin layer over the Python API.

Exit codes: 0 success, 2 a user error (bad file, value or option; one paragraph, no traceback),
1 an internal error.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from gzsim.errors import UserError


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"gzsim: error: {message}", err=True)
    sys.exit(code)


def user_errors(fn):
    """Turn user errors into a clear message and exit status 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            _fail(str(e), 2)

    return wrapper


class GzsimGroup(click.Group):
    """Click group whose usage errors also exit with status 2 and a one-line hint."""

    def main(self, *args, **kwargs):
        kwargs.setdefault("standalone_mode", True)
        return super().main(*args, **kwargs)


@click.group(cls=GzsimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gzsim")
def main() -> None:
    """gzsim — regional investment scenario simulator (Gui An New District first).

    \b
    Example:
      gzsim run scenarios/base.yaml --replications 20 --seed 1
    """


scenario_arg = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
set_opt = click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
                       help="Override a scenario value, e.g. "
                       "--set investment.growth_rate_per_year=0.12")


@main.command()
@scenario_arg
@set_opt
@user_errors
def check(scenario: Path, overrides: tuple[str, ...]) -> None:
    """Validate SCENARIO and print it as resolved (extends merged, overrides applied).

    \b
    Example:
      gzsim check scenarios/policy_tax_incentives.yaml --set run.replications=5
    """
    import yaml

    from gzsim.scenario import load_scenario

    sc = load_scenario(scenario, overrides=list(overrides))
    click.echo(f"# {scenario}: valid scenario '{sc.name}'")
    click.echo(yaml.safe_dump(sc.model_dump(mode="json"), sort_keys=False, allow_unicode=True))


@main.command()
@scenario_arg
@click.option("--replications", "-n", type=click.IntRange(min=1), default=None,
              help="Number of replications (default: the scenario's run.replications).")
@click.option("--seed", "-s", type=click.IntRange(min=0), default=None,
              help="Root seed (default: the scenario's run.seed).")
@set_opt
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: results/<scenario name>/).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: number of CPUs).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@user_errors
def run(scenario: Path, replications: int | None, seed: int | None, overrides: tuple[str, ...],
        out: Path | None, workers: int | None, quiet: bool) -> None:
    """Run replications of SCENARIO, print a summary and write results.

    Writes OUT/series.parquet (one row per replication and month), OUT/summary.csv (the
    printed table) and OUT/manifest.json (resolved scenario, seeds, versions, wall time).

    \b
    Example:
      gzsim run scenarios/base.yaml --replications 20 --seed 1 --out results/base
    """
    import os

    from gzsim.report import print_summary, progress_bar
    from gzsim.run import simulate
    from gzsim.scenario import load_scenario

    sc = load_scenario(scenario, overrides=list(overrides))
    n = replications or sc.run.replications
    workers = workers or min(os.cpu_count() or 1, n)
    with progress_bar(f"{sc.name}: replications", n, disable=quiet) as advance:
        result = simulate(sc, replications=n, seed=seed, workers=workers, progress=advance)
    out = out or Path("results") / sc.name
    result.save(out)
    print_summary(result)
    failed = result.manifest.get("failed_replications", [])
    if failed:
        click.echo(f"{len(failed)} replication(s) failed; see {out / 'failures.csv'}", err=True)
    click.echo(f"Results written to {out}/ (series.parquet, summary.csv, manifest.json) "
               f"in {result.manifest['wall_time_s']:.1f} s")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path),
                default=Path("calibration/spec.yaml"))
@click.option("--quick", is_flag=True, help="Few replications and evaluations (for tests).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: number of CPUs).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for report.md, report.csv and fit.png (default: the spec's folder).")
@click.option("--fitted", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the fitted values (default: the spec's 'output').")
@user_errors
def calibrate(spec: Path, quick: bool, workers: int | None, out: Path | None,
              fitted: Path | None) -> None:
    """Fit free parameters to calibration targets and write the fitted values and a report.

    SPEC (default calibration/spec.yaml) names the scenario, the targets file, the free
    parameters with bounds, and the targets in the objective.

    \b
    Example:
      gzsim calibrate calibration/spec.yaml --quick --out /tmp/calib
    """
    import os

    from rich.console import Console

    from gzsim.calibration.fit import calibrate as run_calibration
    from gzsim.calibration.report import write_outputs

    console = Console(stderr=True)
    workers = workers or os.cpu_count() or 1

    def show(rec: dict) -> None:
        params = ", ".join(f"{k.split('.')[-1]}={v:.4g}" for k, v in rec.items()
                           if k not in ("evaluation", "cost"))
        console.print(f"[dim]evaluation {rec['evaluation']:>3}[/]  cost {rec['cost']:10.4f}  "
                      f"{params}")

    with console.status("calibrating..."):
        problem, result = run_calibration(spec, quick=quick, workers=workers, on_evaluation=show)
    spec_dir = spec.parent
    out_dir = out or spec_dir
    fitted_path = fitted or (spec_dir / problem.spec.output)
    table = write_outputs(problem, result, out_dir, fitted_path, str(spec), quick)
    click.echo(result.parameters[["path", "value", "se", "ci90_low", "ci90_high"]]
               .to_string(index=False))
    click.echo("")
    click.echo(table[["id", "observed", "sim_mean", "rel_error", "tolerance",
                      "within_tolerance"]].to_string(index=False))
    n_out = int((~table["within_tolerance"]).sum()) if len(table) else 0
    click.echo(f"\nFitted values written to {fitted_path}; report in {out_dir}/report.md "
               f"({n_out} target(s) outside tolerance).")


@main.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Store folder (default: results/<experiment name>/). Rerunning into the "
              "same folder computes only the missing runs.")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Workers of the local cluster or process pool (default: number of CPUs).")
@click.option("--scheduler", default=None, metavar="ADDRESS|FILE",
              help="Use an existing Dask scheduler (tcp://host:8786 or a scheduler file).")
@click.option("--cluster", type=click.Choice(["slurm", "pbs", "sge", "lsf"]), default=None,
              help="Start a dask-jobqueue cluster, configured the dask-jobqueue way "
              "(~/.config/dask/jobqueue.yaml or DASK_JOBQUEUE__* variables).")
@click.option("--shard", default=None, metavar="I/N",
              help="Run only slice I of N (0-based) without a scheduler, e.g. for job arrays.")
@click.option("--resume", is_flag=True, help="Continue a sweep in OUT (the default anyway).")
@click.option("--overwrite", is_flag=True, help="Discard what OUT holds and start again.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or statistics.")
@user_errors
def sweep(experiment: Path, out: Path | None, workers: int | None, scheduler: str | None,
          cluster: str | None, shard: str | None, resume: bool, overwrite: bool,
          quiet: bool) -> None:
    """Run the design of EXPERIMENT (a YAML file) into a resumable Parquet store.

    \b
    Example:
      gzsim sweep scenarios/experiments/lhs.yaml --out results/lhs --workers 2
      gzsim sweep scenarios/experiments/lhs.yaml --out results/lhs --shard 0/4
    """
    from gzsim.execution import cpu_count
    from gzsim.experiments import ExecutionOptions, sweep_command_impl

    opts = ExecutionOptions(workers=workers or cpu_count(), scheduler=scheduler,
                            cluster=cluster, progress=not quiet)
    sweep_command_impl(experiment, out, opts, shard=shard, resume=resume, overwrite=overwrite)


@main.command()
@click.argument("scenarios", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replications", "-n", type=click.IntRange(min=2), default=20, show_default=True,
              help="Replications per scenario (the same seeds in every scenario).")
@click.option("--seed", "-s", type=click.IntRange(min=0), default=None,
              help="Root seed (default: the base scenario's run.seed).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results/compare"), show_default=True,
              help="Folder for comparison.csv, each scenario's results and the plots.")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: number of CPUs).")
@click.option("--plot/--no-plot", default=True, show_default=True,
              help="Write difference charts (PNG and SVG).")
@click.option("--level", type=click.FloatRange(0.5, 0.999), default=0.90, show_default=True,
              help="Confidence level of the intervals.")
@click.option("--indicator", "-i", "indicators", multiple=True,
              help="Indicator to compare (repeatable; default: all in comparison.csv, the "
              "key ones printed and charted).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a value in every scenario, e.g. --set time.end=2020-12")
@user_errors
def compare(scenarios: tuple[Path, ...], replications: int, seed: int | None, out: Path,
            workers: int | None, plot: bool, level: float, indicators: tuple[str, ...],
            overrides: tuple[str, ...]) -> None:
    """Compare scenarios with the first one (the base), paired over common random numbers.

    Every scenario runs the same replications with the same seeds. For each indicator at the
    milestone years: mean difference against the base with a confidence interval across
    replications, and whether it is distinguishable from zero. Writes comparison.csv, each
    scenario's results and (with --plot) difference charts in OUT/plots/.

    \b
    Example:
      gzsim compare scenarios/base.yaml scenarios/policy_tax_incentives.yaml -n 20
      gzsim compare scenarios/base.yaml scenarios/policy_training.yaml -i employment --no-plot
    """
    import os

    from gzsim.compare import compare as run_compare
    from gzsim.scenario import load_scenario

    if len(scenarios) < 2:
        raise UserError("give the base scenario and at least one other to compare")
    for p in scenarios:
        if not p.is_file():
            raise UserError(f"{p}: scenario file not found")
    loaded = [load_scenario(p, overrides=list(overrides)) for p in scenarios]
    workers = workers or os.cpu_count() or 1
    cmp = run_compare(loaded[0], loaded[1:], replications=replications, seed=seed,
                      workers=workers, level=level, indicators=list(indicators) or None)
    cmp.save(out)
    cmp.print(indicators=list(indicators) or None)
    if plot:
        from gzsim.plots import difference_chart, save_figure

        for ind in list(indicators) or cmp.key_indicators():
            save_figure(difference_chart(cmp, ind), out / "plots" / f"diff_{ind}")
    click.echo(f"Comparison written to {out}/comparison.csv"
               + (f" with charts in {out}/plots/" if plot else ""))


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the charts (default: RESULTS_DIR/plots).")
@click.option("--indicator", "-i", "indicators", multiple=True,
              help="Indicator to chart (repeatable; default: key indicators).")
@user_errors
def plot(results_dir: Path, out: Path | None, indicators: tuple[str, ...]) -> None:
    """Fan charts (median, 50 % and 90 % bands) of a `gzsim run` results folder.

    \b
    Example:
      gzsim plot results/base --indicator jobs_created --indicator employment
    """
    from gzsim.plots import plot_results

    paths = plot_results(results_dir, out, list(indicators) or None)
    click.echo(f"{len(paths)} files written to {paths[0].parent}/" if paths else "nothing to plot")


@main.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--outcome", default=None, help="Scalar outcome (default: the first one).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Sweep store (default: results/<experiment name>/); reused if complete.")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Workers for the sweep, if it still has runs to do.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@user_errors
def sensitivity(experiment: Path, outcome: str | None, out: Path | None, workers: int | None,
                quiet: bool) -> None:
    """Global sensitivity (Sobol or Morris, by the experiment's design) with SALib.

    Runs (or resumes) the sweep of EXPERIMENT into its store, then computes the indices of
    OUTCOME and writes sensitivity_<outcome>.csv and a chart next to the store.

    \b
    Example:
      gzsim sensitivity scenarios/experiments/sobol.yaml --outcome jobs_created_2017
    """
    from rich.console import Console
    from rich.table import Table

    from gzsim.experiments import load_experiment, run_sweep
    from gzsim.fileio import atomic_write_bytes
    from gzsim.plots import save_figure, sensitivity_chart
    from gzsim.sensitivity import analyse

    exp = load_experiment(experiment)
    store = out or Path("results") / exp.name
    result = run_sweep(exp, store, workers=workers or 2, progress=not quiet)
    name, table = analyse(result.path, outcome)
    atomic_write_bytes(store / f"sensitivity_{name}.csv", table.to_csv(index=False).encode())
    save_figure(sensitivity_chart(table, name), store / f"sensitivity_{name}")
    t = Table(title=f"Sensitivity of {name} ({exp.spec.design.kind})")
    for c in table.columns:
        t.add_column(c, justify="left" if c == "factor" else "right")
    for row in table.itertuples(index=False):
        t.add_row(*[v if isinstance(v, str) else f"{v:.3g}" for v in row])
    Console().print(t)
    click.echo(f"Indices written to {store}/sensitivity_{name}.csv (chart: .png/.svg)")
