"""The `gzsim` command line: a thin layer over the Python API.

Exit codes: 0 success, 2 a user error (bad file, value or option; one paragraph, no traceback),
1 an internal error.
"""

from __future__ import annotations

import functools
import shlex
import signal
import sys
import textwrap
import warnings
from pathlib import Path

import click
import yaml

from gzsim import arguments
from gzsim.cli.report import print_summary, progress_bar
from gzsim.errors import AllRunsFailed, ScenarioWarning, UserError
from gzsim.execution import resolve_workers
from gzsim.execution.lifecycle import exit_without_collection, terminating
from gzsim.io.outdir import atomic_folder, check_files, check_target, refuse_foreign, timestamped
from gzsim.run import simulate
from gzsim.scenario import load_scenario, parent_path
from gzsim.uncertainty import describe as describe_uncertainty


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"gzsim: error: {message}", err=True)
    sys.exit(code)


def user_errors(fn):
    """Turn user errors into a clear message and exit status 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        def show(message, category, *rest, **kw) -> None:
            click.echo(f"gzsim: warning: {message}", err=True)

        try:
            with warnings.catch_warnings(), terminating():
                warnings.simplefilter("always", ScenarioWarning)
                warnings.showwarning = show
                return fn(*args, **kwargs)
        except AllRunsFailed as e:  # a valid input the model cannot run: exit 1
            _fail(str(e), 1)
        except UserError as e:
            _fail(str(e), 2)
        except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM: workers stopped, locks released
            _interrupted(e)

    return wrapper


def _interrupted(exc: KeyboardInterrupt) -> None:
    """Say what an interruption kept and exit 128 + the signal number (130 or 143)."""
    sig = getattr(exc, "signal_number", signal.SIGINT)
    _fail(f"interrupted ({signal.Signals(sig).name}); its workers are stopped. Whatever was "
          "committed is kept: rerunning the same command resumes a sweep or a calibration, "
          "and redoes a run or a comparison (whose folder is as it was before)", 128 + sig)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gzsim")
def main() -> None:
    """Gzsim — regional investment scenario simulator (Gui An New District first).

    \b
    Example:
      gzsim run scenarios/base.yaml --replications 20 --seed 1
    """
    exit_without_collection()  # a command's process exits without collecting its heap


def _arg(kind: str):
    """A click callback applying the API's own check (same bounds, same message)."""

    def check(ctx: click.Context, param: click.Parameter, value):
        if value is None:
            return None
        try:
            return getattr(arguments, f"check_{kind}")(value, name=kind)
        except UserError as e:
            raise click.BadParameter(str(e), ctx=ctx, param=param) from None

    return check


scenario_arg = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
set_opt = click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
                       help="Override a scenario value, e.g. "
                       "--set investment.growth_rate_per_year=0.12")
# the options every command that can use them spells the same way
uncertainty_opt = click.option(
    "--uncertainty", type=click.Choice(["posterior", "noise"]), default=None,
    help="posterior: each replication draws its parameters from the calibrated posterior as "
    "well as its random streams (the default when the scenario has a posterior); noise: "
    "parameters fixed, random streams only.")
assumptions_opt = click.option(
    "--assumptions", type=click.Choice(["sampled", "fixed"]), default="sampled",
    show_default=True,
    help="sampled: each replication also draws the parameters no figure pins (the "
    "scenario's assumptions file: attractiveness elasticities, reach share...) from their "
    "ranges, the same draw in every scenario, and the headline says how much of each effect's "
    "spread each one causes; fixed: the scenario's values.")
quiet_opt = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
workers_opt = click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
                           help="Local worker processes (default: all CPUs).")
format_opt = click.option("--format", "-f", "form", default="table", show_default=True,
                          type=click.Choice(["table", "csv", "md", "json"]),
                          help="How to print the table (csv and json for machines, md for "
                          "reports).")


def indicator_opt(help_text: str, *aliases: str):
    """``-i/--indicator`` (repeatable); ``aliases`` are older spellings kept working."""
    return click.option("--indicator", "-i", *aliases, "indicators", multiple=True,
                        help=help_text)


@main.command()
@scenario_arg
@set_opt
@click.option("--sources", is_flag=True,
              help="Print the source notes written as data ({value, source, note, unit}).")
@user_errors
def check(scenario: Path, overrides: tuple[str, ...], sources: bool) -> None:
    """Validate SCENARIO and print it as resolved (extends merged, overrides applied).

    \b
    Example:
      gzsim check scenarios/policy_tax_incentives.yaml --set run.replications=5
    """
    sc = load_scenario(scenario, overrides=list(overrides))
    click.echo(f"# {scenario}: valid scenario '{sc.name}'")
    if sources:
        notes = sc._provenance.get("sources", {})
        for path, note in notes.items():
            click.echo(f"{path}: " + "; ".join(f"{k}: {v}" for k, v in note.items()))
        click.echo(f"# {len(notes)} value(s) with a source note as data (others may have one "
                   "in a YAML comment)")
        return
    click.echo(yaml.safe_dump(sc.model_dump(mode="json"), sort_keys=False, allow_unicode=True))


@main.command()
@scenario_arg
@click.option("--replications", "-n", type=int, default=None, callback=_arg("replications"),
              help="Number of replications (default: the scenario's run.replications).")
@click.option("--seed", "-s", type=int, default=None, callback=_arg("seed"),
              help="Root seed (default: the scenario's run.seed).")
@set_opt
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: results/<scenario name>/).")
@workers_opt
@quiet_opt
@format_opt
@uncertainty_opt
@click.option("--events", is_flag=True,
              help="Also write OUT/events.parquet: every project, segment, lot and housing "
              "package event (replication, time, date, kind, id, event, attributes).")
@user_errors
def run(scenario: Path, replications: int | None, seed: int | None, overrides: tuple[str, ...],
        out: Path | None, workers: int | None, quiet: bool, form: str,
        uncertainty: str | None, events: bool) -> None:
    """Run replications of SCENARIO, print a summary and write results.

    Writes OUT/series.parquet (one row per replication and month), OUT/summary.csv (the
    printed table) and OUT/manifest.json (resolved scenario, seeds, versions, wall time);
    with --events, OUT/events.parquet (the entity event log, gzsim.read_results(OUT).events).

    \b
    Example:
      gzsim run scenarios/base.yaml --replications 20 --seed 1 --out results/base
    """
    sc = load_scenario(scenario, overrides=list(overrides))
    n = replications or sc.run.replications
    out = Path("results") / sc.name if out is None else out
    if check_target(out, "run") == "own":  # refuse what is not ours before running anything
        refuse_foreign(out, "run", "--out")
    try:
        with progress_bar(f"{sc.name}: replications", n, disable=quiet) as advance:
            # streamed into OUT as they complete: memory does not grow with -n (issue 25)
            result = simulate(sc, replications=n, seed=seed, workers=workers, progress=advance,
                              uncertainty=uncertainty, events=events, out=out)
    except AllRunsFailed as e:  # failures are data: the folder records them, then exit 1
        if e.result is not None:
            raise AllRunsFailed(f"{e} The failures are in {out / 'failures.csv'}, with the "
                                f"manifest in {out / 'manifest.json'}.") from None
        raise
    summary = result.summary_rows()  # computed on the way, written to summary.csv
    failed = result.manifest.get("failed_replications", [])  # all failed: simulate raised
    print_summary(result, form=form, summary=summary)

    click.echo(textwrap.fill(describe_uncertainty(result.manifest), 80),
               err=form in ("csv", "json"))
    if failed:
        click.echo(f"warning: {len(failed)} of {n} replication(s) failed and are left out of "
                   f"the summary; see {out / 'failures.csv'}", err=True)
    files = "series.parquet, summary.csv, manifest.json" + (", events.parquet" if events else "")
    click.echo(f"Results written to {out}/ ({files}) "
               f"in {result.manifest['wall_time_s']:.1f} s", err=form in ("csv", "json"))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path),
                default=Path("calibration/spec.yaml"))
@click.option("--quick", is_flag=True,
              help="About a minute: few particles and generations; writes to a new "
              "results/calibration-quick-<time>/ unless --out says otherwise.")
@workers_opt
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for abc.db, posterior.parquet, report.md and figures (default: the "
              "spec's folder). Rerunning into the same folder resumes from its abc.db.")
@click.option("--fitted", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write fitted.yaml (default: the spec's 'output' for a full run "
              "into the spec's folder, else OUT/fitted.yaml).")
@click.option("--overwrite", is_flag=True, help="Discard OUT's abc.db and start again.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a value of the base scenario the calibration runs (not a free "
              "parameter), e.g. --set attractiveness.incentive_elasticity=0.5; writes to a new "
              "results/calibration-set-<time>/ unless --out says otherwise.")
@quiet_opt
@user_errors
def calibrate(spec: Path, quick: bool, workers: int | None, out: Path | None,
              fitted: Path | None, overwrite: bool, overrides: tuple[str, ...],
              quiet: bool) -> None:
    r"""Bayesian calibration (pyabc ABC-SMC) of the priors against the targets.

    Priors are in calibration/priors.yaml, targets in calibration/targets.yaml; writes the
    posterior (posterior.parquet), its report (report.md, report.csv; readings.csv: each
    reading of a source, its weight, fit and forecast) and figures.

    Resumable: pyabc's SQLite history (OUT/abc.db) is committed after every generation, and
    rerunning the same command continues from it after an interruption (even SIGKILL). One
    session at a time per folder: a second one into a folder in use exits 2 at once.

    \b
    Example:
      gzsim calibrate --quick
      gzsim calibrate calibration/spec.yaml --workers 2
    """
    # start-up: rich loads only when needed (the run path avoids it, issue 13)
    from rich.console import Console

    from gzsim.calibration.problem import build_problem
    from gzsim.calibration.run import calibrate as run_calibration
    from gzsim.calibration.run import check_fitted_target

    console = Console(stderr=True)
    workers = resolve_workers(workers)
    out_dir = calibration_targets(spec, quick, out, bool(overrides))
    if fitted is not None:
        check_fitted_target(fitted)  # a user's file (a scenario) is never replaced

    def show(g: dict) -> None:
        if not quiet:
            console.print(f"generation {g['t']:>2}: epsilon {g['epsilon']:.3f}, "
                          f"{g['samples']:,} simulations, acceptance {g['acceptance_rate']:.3f}")

    command = "gzsim calibrate " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    built = build_problem(spec, quick=quick, overrides=overrides)
    problem, post, info = run_calibration(built, quick=quick, workers=workers, out_dir=out_dir,
                                          fitted_path=fitted, on_generation=show,
                                          command=command, progress=not quiet,
                                          overwrite=overwrite)
    params, ppc, run = info["params"], info["ppc"], info["run"]
    click.echo(params[["path", "median", "p05", "p95", "identified"]].to_string(index=False))
    hist = ppc[ppc["fitted"] & (ppc["year"] <= 2015)]
    click.echo(f"\nESS {post.ess:.1f} of {len(post.particles)}; {len(problem.fitted)} fitted "
               f"targets - {len(problem.priors.priors)} free parameters = "
               f"{len(problem.fitted) - len(problem.priors.priors)} degrees of freedom; "
               f"{int(hist['inside_band'].sum())}/{len(hist)} fitted 2011-2015 targets inside "
               f"the 90 % predictive band; {run['wall_time_s']:.0f} s.")
    click.echo(f"Posterior in {out_dir}/posterior.parquet, report in {out_dir}/report.md, "
               f"fitted values in {info['fitted_path']}.")


@main.command()
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("calibration/backtest.yaml"), show_default=True,
              help="Backtest file: origins, window, naive rules' plans, ABC budgets.")
@click.option("--origin", "origins", type=int, multiple=True,
              help="Forecast origin (a year; repeat for several). Default: the file's origins.")
@click.option("--quick", is_flag=True, help="The file's quick ABC budget (~5 min for three "
              "origins on two cores).")
@workers_opt
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for backtest.md, backtest.csv, pit.png and each origin's posterior "
              "(default: a new results/backtest-<time>/).")
@quiet_opt
@user_errors
def backtest(config: Path, origins: tuple[int, ...], quick: bool, workers: int | None,
             out: Path | None, quiet: bool) -> None:
    """Calibrate on the figures up to an origin; forecast the later ones beside naive rules.

    Per figure: median, 90 % band, covered?, error and PIT, beside persistence, linear and
    exponential trends and the plan scaled by its record. Summary: MAPE, coverage, PIT
    histogram; a model-discrepancy term when the bands hold too few figures.

    \b
    Example:
      gzsim backtest --origin 2013 --quick -o results/backtest-2013
    """
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    import shlex

    from gzsim.calibration.backtest_run import run_backtest

    def show(info: dict) -> None:
        if not quiet:
            click.echo(f"origin {info['origin']}: {len(info['fitted'])} figures fitted, "
                       f"{info['simulations']:,} simulations, epsilon {info['epsilon']:.3g}",
                       err=True)

    command = "gzsim backtest " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    res = run_backtest(config, list(origins) or None, quick, out, workers or 1, command, show)
    click.echo(res["summary"].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    click.echo(f"Report in {res['out']}/backtest.md, table in {res['out']}/backtest.csv.")


def _difference_charts(cmp, folder: Path) -> None:
    """Charts of the headline indicators (and the fiscal cost behind cost-effectiveness)."""
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    from gzsim.analysis.plots import difference_chart, save_figure

    head = cmp.headline()
    charted = list(dict.fromkeys(head["indicator"]))
    have = set(cmp.table["indicator"])
    cost = next((c for c in ("public_cost_usd_m", "fiscal_cost_usd_m") if c in have), None)
    if head["per_usd_m"].notna().any() and cost:
        charted.append(cost)  # the cost side of cost-effectiveness
    for ind in dict.fromkeys(charted):  # an all-zero difference is not drawn
        if not (cmp.table.loc[cmp.table["indicator"] == ind, "diff_mean"] == 0).all():
            save_figure(difference_chart(cmp, ind), folder / f"diff_{ind}")


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
@click.option("--overwrite", is_flag=True, help="Discard what OUT holds and start again.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a base-scenario value for every run (added to the experiment's "
              "'set:'), e.g. --set time.end=2020-12")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or statistics.")
@user_errors
def sweep(experiment: Path, out: Path | None, workers: int | None, scheduler: str | None,
          cluster: str | None, shard: str | None, overwrite: bool, overrides: tuple[str, ...],
          quiet: bool) -> None:
    """Run the design of EXPERIMENT (a YAML file) into a resumable Parquet store.

    Rerunning into a folder that holds the same experiment resumes it: only the missing runs
    are computed (there is no --resume flag; resuming is what a rerun does). A folder holding a
    different experiment (other design, factors, --set values) is refused; --overwrite
    discards it and starts again.

    \b
    Example:
      gzsim sweep scenarios/experiments/lhs.yaml --out results/lhs --workers 2
      gzsim sweep scenarios/experiments/lhs.yaml --out results/lhs --shard 0/4
    """
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    from gzsim.cli.commands import experiment_with_overrides
    from gzsim.cli.report import print_stats
    from gzsim.experiments import ExecutionOptions, run_sweep

    opts = ExecutionOptions(workers=resolve_workers(workers), scheduler=scheduler,
                            cluster=cluster, progress=not quiet)
    exp = experiment_with_overrides(experiment, overrides)
    res = run_sweep(exp, out or Path("results") / exp.name, opts, shard=shard,
                    overwrite=overwrite)
    if not quiet:
        print_stats(res)
    click.echo(f"Results in {res.path}/ (runs/ and series/ Parquet files, manifest.json); "
               f"read them with gzsim.read_sweep('{res.path}')")
    ran, failed = res.stats.get("runs_this_session", 0), res.stats.get("failed_this_session", 0)
    if ran and failed == ran:
        raise AllRunsFailed(f"every run of this session ({ran}) failed; the errors are in "
                            f"{res.path}/runs.parquet (gzsim.read_sweep('{res.path}').failures)")
    if failed:
        click.echo(f"warning: {failed} of {ran} run(s) failed; see "
                   f"gzsim.read_sweep('{res.path}').failures", err=True)


@main.command()
@click.argument("scenarios", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replications", "-n", type=click.IntRange(min=2), default=20, show_default=True,
              help="Replications per scenario (the same seeds in every scenario).")
@click.option("--seed", "-s", type=click.IntRange(min=0), default=None,
              help="Root seed (default: the base scenario's run.seed).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=None,
              help="Folder for comparison.csv, headline.csv, each scenario's results and the "
              "plots (default: a new results/compare-<time>/).")
@workers_opt
@click.option("--plot/--no-plot", default=True, show_default=True,
              help="Write difference charts (PNG and SVG).")
@click.option("--level", type=click.FloatRange(0.5, 0.999), default=0.90, show_default=True,
              help="Confidence level of the intervals.")
@indicator_opt("Indicator for the headline and charts (repeatable; default: those the "
               "policies' questions name, and employment for a spending policy). "
               "comparison.csv always holds every indicator.")
@click.option("--year", "-y", "years", multiple=True, type=int,
              help="Year to compare (repeatable; default: the milestone years).")
@click.option("--vs-parent", is_flag=True,
              help="Compare each scenario with the scenario it extends (its parent) instead "
              "of with the first one; the default when one scenario is given.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a value in every scenario, e.g. --set time.end=2020-12")
@click.option("--unpaired", is_flag=True,
              help="Allow scenarios of different regions, calendars or seeds: unpaired "
              "(Welch) intervals instead of paired ones.")
@format_opt
@quiet_opt
@uncertainty_opt
@assumptions_opt
@user_errors
def compare(scenarios: tuple[Path, ...], replications: int, seed: int | None, out: Path | None,
            workers: int | None, plot: bool, level: float, indicators: tuple[str, ...],
            years: tuple[int, ...], vs_parent: bool, overrides: tuple[str, ...],
            unpaired: bool, form: str, quiet: bool, uncertainty: str | None,
            assumptions: str) -> None:
    """Compare scenarios with the first one (the base), paired over common random numbers.

    One scenario alone (or --vs-parent) is compared with the scenario it extends; a scenario
    that extends another scenario than the base gets a warning naming its parent. Every
    scenario runs the same replications with the same seeds. The headline answers each
    policy's question: the indicators it names at the milestone years, the difference against
    the base with its interval (how sure the average is) and its 5-95 % spread across
    replications (how much it could vary), the relative change, and, for a policy with a
    public cost, the effect per US$ m of it, undiscounted and in present values. Writes
    comparison.csv (every indicator), headline.csv, each scenario's results and (with --plot)
    difference charts in OUT/plots/.

    \b
    Example:
      gzsim compare scenarios/policy_land_push_scarce.yaml
      gzsim compare scenarios/base.yaml scenarios/policy_tax_incentives.yaml -n 20
      gzsim compare --vs-parent scenarios/policy_*.yaml -i employment -y 2025
    """
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    from gzsim.analysis.compare import compare as run_compare
    from gzsim.analysis.compare import compare_with_parents

    for p in scenarios:
        if not p.is_file():
            raise UserError(f"{p}: scenario file not found")
    loaded = [load_scenario(p, overrides=list(overrides)) for p in scenarios]
    out = timestamped("results", "compare") if out is None else out
    if check_target(out, "comparison") == "own":  # before the (long) runs
        refuse_foreign(out, "comparison", "--out")
    workers = resolve_workers(workers)
    options = dict(replications=replications, seed=seed, workers=workers, level=level,
                   indicators=list(indicators) or None, years=list(years) or None,
                   unpaired=unpaired, uncertainty=uncertainty, assumptions=assumptions)
    parents = vs_parent or len(loaded) == 1
    runs = len(loaded) + (len({str(p) for p in map(parent_file, loaded)}) if parents else 0)
    with progress_bar(f"{runs} scenarios: replications", replications * runs,
                      disable=quiet) as advance:
        cmp = compare_with_parents(loaded, progress=advance, **options) if parents else \
            run_compare(loaded[0], loaded[1:], progress=advance, **options)
    with atomic_folder(out, "comparison") as tmp:
        cmp.save(tmp)
        if plot:
            _difference_charts(cmp, tmp / "plots")
    cmp.print(form=form)

    note = describe_uncertainty(next(iter(cmp.results.values())).manifest) + \
        " Differences pair the same draw and streams across scenarios."
    click.echo(textwrap.fill(note, 80), err=form in ("csv", "json"))
    click.echo(f"Comparison written to {out}/ (comparison.csv, headline.csv)"
               + (f" with charts in {out}/plots/" if plot else ""),
               err=form in ("csv", "json"))


def parent_file(scenario) -> Path | None:
    """The file a loaded scenario extends (None if none)."""
    return parent_path(scenario)


@main.command()
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the charts (default: FOLDER/plots; several runs: "
              "FIRST/plots/overlay).")
@indicator_opt("Indicator (or, for a sweep, scalar outcome) to chart (repeatable; default: "
               "key indicators, or every outcome).")
@click.option("--quiet", "-q", is_flag=True, help="Do not list the files written.")
@user_errors
def plot(folders: tuple[Path, ...], out: Path | None, indicators: tuple[str, ...],
         quiet: bool) -> None:
    """Charts of results folders: fan charts of runs, overlaid if several; sweep surfaces.

    A `gzsim run` folder gives fan charts (median, 50 % and 90 % bands; flows as annual
    sums); several run folders are overlaid on the same axes; a `gzsim sweep` folder gives a
    scatter matrix of outcomes against factors and a response surface per outcome.
    Indicators that are zero in every replication are skipped, not drawn empty.

    \b
    Example:
      gzsim plot results/base --indicator jobs_created --indicator employment
      gzsim plot results/base results/policy_training -i employment
      gzsim plot results/full_factorial
    """
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    from gzsim.analysis.plots import plot_results

    sweeps = [f for f in folders if (f / "design.parquet").exists()]
    if sweeps:
        if len(folders) > 1:
            raise UserError("give one sweep folder, or one or more run folders")
        # start-up: each command imports only its own path (`gzsim run` stays fast)
        from gzsim.analysis.sweep_plots import plot_sweep

        paths, skipped = plot_sweep(folders[0], out, list(indicators) or None), []
    else:
        skipped: list[str] = []
        paths = plot_results(list(folders), out, list(indicators) or None, skipped)
    if not quiet:
        if skipped:
            click.echo(f"Not drawn (zero in every replication): {', '.join(skipped)}")
        click.echo(f"{len(paths)} files written to {paths[0].parent}/" if paths else
                   "nothing to plot")


@main.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@indicator_opt("Scalar outcome of the experiment to analyse (repeatable; default: the first "
               "one). --outcome is the older spelling.", "--outcome")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Sweep store (default: results/<experiment name>/); reused if complete.")
@workers_opt
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a base-scenario value for every run, e.g. --set time.end=2020-12")
@quiet_opt
@format_opt
@user_errors
def sensitivity(experiment: Path, indicators: tuple[str, ...], out: Path | None,
                workers: int | None, overrides: tuple[str, ...], quiet: bool,
                form: str) -> None:
    """Global sensitivity (Sobol or Morris, by the experiment's design) with SALib.

    Runs (or resumes) the sweep of EXPERIMENT into its store, then computes the indices of
    each outcome and writes sensitivity_<outcome>.csv and a chart next to the store.

    \b
    Example:
      gzsim sensitivity scenarios/experiments/sobol.yaml -i jobs_created_2017
    """
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    from gzsim.cli.commands import experiment_with_overrides, sensitivity_report
    from gzsim.experiments import run_sweep

    exp = experiment_with_overrides(experiment, overrides)
    store = out or Path("results") / exp.name
    result = run_sweep(exp, store, workers=resolve_workers(workers), progress=not quiet)
    sensitivity_report(exp, result.path, list(indicators), form, click.echo)
    if not quiet:
        click.echo(f"Indices written to {store}/sensitivity_<outcome>.csv (chart: .png/.svg)",
                   err=form in ("csv", "json"))


@main.command("dose-response")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lever", default=None, help="The swept factor that is the dose (default: the "
              "experiment's first factor).")
@indicator_opt("Indicator whose effect is read (default: employment, the jobs indicator).")
@click.option("--year", "-y", type=int, default=2025, show_default=True,
              help="Year of the effect and end of the cost.")
@click.option("--level", type=click.FloatRange(0.5, 0.999), default=0.90, show_default=True,
              help="Confidence level of the intervals.")
@format_opt
@user_errors
def dose_response(folder: Path, lever: str | None, indicators: tuple[str, ...], year: int,
                  level: float, form: str) -> None:
    """Dose-response of a swept policy lever: effect and effect per US$ m, both bands.

    FOLDER is a `gzsim sweep` store of an experiment that crosses a lever with other factors;
    each point is paired with the point at the lever's lowest value (same other factors, same
    replication seeds). Writes dose_response.csv and dose_response.png/.svg into FOLDER.

    \b
    Example:
      gzsim sweep scenarios/experiments/dose_tax_incentives.yaml
      gzsim dose-response results/dose_tax_incentives
    """
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    from gzsim.cli.commands import dose_report
    from gzsim.indicators import JOBS

    if len(indicators) > 1:
        raise UserError("give one --indicator")
    dose_report(folder, lever, indicators[0] if indicators else JOBS, year, level, form,
                click.echo)
    click.echo(f"Written to {folder}/ (dose_response.csv, dose_response.png, .svg)",
               err=form in ("csv", "json"))


@main.command()
@format_opt
def indicators(form: str) -> None:
    """List the indicators gzsim reports: name, unit, geography, kind and meaning.

    A flow is an amount per month (its annual value is the sum over the year); a stock is a
    level at the end of the month (its annual value is December's).

    \b
    Example:
      gzsim indicators --format md
    """
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    from gzsim.cli.commands import print_indicators

    print_indicators(form, click.echo)


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=5006, show_default=True,
              help="Port to serve on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (the default serves this machine only).")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for cached runs and downloads (default: results/explore/).")
@workers_opt
@user_errors
def explore(scenario: Path | None, port: int, host: str, cache: Path | None,
            workers: int | None) -> None:
    """Serve the policy explorer in the browser (baseline: SCENARIO, default base.yaml).

    The page compares a baseline with shipped policy files or levers set on the page, paired
    over common random numbers as `gzsim compare` does, and offers its tables, figures and a
    scenario file of the levers for download. Needs the `explore` extra.

    \b
    Example:
      gzsim explore scenarios/base.yaml --port 5006
    """
    from gzsim.explore.serve import settings_for  # start-up: the command's own path

    settings = settings_for(scenario, cache, workers)
    try:
        # start-up: the command's own path, and the optional 'explore' extra (Panel)
        from gzsim.explore.page import serve
    except ImportError as e:
        raise UserError(f"gzsim explore needs the 'explore' extra ({e.name} is missing): "
                        "pip install 'gzsim[explore]'") from None
    serve(settings, port=port, host=host, announce=click.echo)


def calibration_targets(spec: Path, quick: bool, out: Path | None, varied: bool = False
                        ) -> Path:
    """Where calibrate writes.

    A smoke run (--quick) or a variant (--set) never touches calibration/ unless told.
    """
    # start-up: each command imports only its own path (`gzsim run` stays fast)
    from gzsim.calibration.run import OUTPUT_FILES

    if (quick or varied) and out is None:
        out = timestamped("results", "calibration-quick" if quick else "calibration-set")
    out_dir = out or spec.parent
    check_files(out_dir, "calibration", OUTPUT_FILES)
    return out_dir
