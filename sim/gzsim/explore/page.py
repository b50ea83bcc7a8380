"""The explorer's page (Panel): a thin layer over :mod:`gzsim.explore.session` and friends.

Each browser session gets its own :class:`ExplorerPage`. Inputs are validated on the click, in
the server, exactly as the CLI validates them (a located message, nothing runs); a valid
request runs in a background thread whose progress a periodic callback shows, so the page stays
responsive and the run can be cancelled. Results, figures and downloads are made in the thread
and put on the page by the callback. Nothing typed is executed: values are read as YAML data.
"""

from __future__ import annotations

import html
import socket
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import panel as pn

from gzsim.arguments import check_seed
from gzsim.errors import ScenarioWarning, UserError
from gzsim.execution import cpu_count
from gzsim.explore.bundle import Bundle, provenance, write_bundle
from gzsim.explore.figures import PLOT_LOCK, fan, paired_difference_chart, png_bytes
from gzsim.explore.levers import PolicyForm, lever_fields, load_policy
from gzsim.explore.serve import Settings
from gzsim.explore.session import (
    Cancelled,
    Request,
    ResultCache,
    WorkerPool,
    baseline_notes,
    run_paired,
)
from gzsim.indicators import INDICATORS
from gzsim.scenario import load_scenario

POLL_MS = 250
CUSTOM = "levers set below"
DEFAULT_INDICATORS = ("investment_usd_m", "employment")
CHART_WIDTH_PX = 560


@dataclass
class Job:
    """One background run: its progress, its outcome, and the event that cancels it."""

    cancel: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    total: int = 1
    finished: bool = False
    error: str | None = None
    outcome: dict[str, Any] | None = None  # the table and provenance: shown first
    charts: list[list[tuple[str, bytes]]] | None = None  # then the charts
    downloads: tuple[Bundle, list[Path]] | None = None  # then the files, once written
    shown: set[str] = field(default_factory=set)  # what the page shows of it already


#: The headline's columns the page shows first; any other column the headline API adds follows.
FIRST_COLUMNS = ["scenario", "indicator", "unit", "year", "base_mean", "diff_mean", "ci_low",
                 "ci_high", "diff_p05", "diff_p95", "rel_diff", "distinguishable", "n_pairs",
                 "public_cost_usd_m", "cost_usd_m", "per_usd_m", "per_usd_m_low",
                 "per_usd_m_high", "per_usd_m_unit"]
HIDDEN_COLUMNS = {"zero", "policy", "geography", "rel_low", "rel_high"}


def headline_view(head: pd.DataFrame) -> pd.DataFrame:
    """The headline's rows that differ from zero, numbers to six significant digits."""
    rows = head[~head["zero"]]
    cols = [c for c in FIRST_COLUMNS if c in rows.columns]
    cols += [c for c in rows.columns if c not in cols and c not in HIDDEN_COLUMNS]
    out = rows[cols].copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [("" if pd.isna(v) else f"{v:.6g}") for v in out[c]]
    return out.reset_index(drop=True)


def provenance_text(prov: dict[str, Any]) -> str:
    """The provenance block as Markdown."""
    lines = [f"**Provenance.** Baseline `{prov['baseline']}`, seed **{prov['seed']}**, "
             f"{prov['replications']} replications, {prov['level']:.0%} intervals, "
             f"uncertainty **{prov['uncertainty']}**; gzsim {prov['gzsim_version']}"
             + (f" (commit `{prov['git_commit'][:10]}`"
                + (", modified" if prov.get("git_dirty") else "") + ")"
                if prov.get("git_commit") else "") + "."]
    if prov.get("posterior"):
        lines.append(f"Posterior `{Path(prov['posterior']).name}` "
                     f"(sha256 `{(prov.get('posterior_sha256') or '')[:16]}`).")
    for name, s in prov["scenarios"].items():
        lines.append(f"- `{name}`: scenario sha256 `{s['scenario_sha256'][:16]}`, "
                     f"file `{s['file']}`")
    lines.append(f"\nReproduce with:\n\n```\n{prov['reproduce']}\n```")
    return "\n".join(lines)


class ExplorerPage:
    """The widgets of one browser session and what their buttons do."""

    def __init__(self, settings: Settings, cache: ResultCache, pool: WorkerPool):
        self.settings, self.cache, self.pool = settings, cache, pool
        self.job: Job | None = None
        self._controls()
        self._outputs()

    def _controls(self) -> None:
        baselines, policies = self.settings.scenario_files()
        w = pn.widgets
        self.baseline = w.Select(name="Baseline", options=baselines,
                                 value=self.settings.baseline.name,
                                 css_classes=["explore-baseline"])
        self.policies = w.MultiChoice(name="Policies (shipped files)", options=policies,
                                      value=[], css_classes=["explore-policies"])
        self.custom = w.Checkbox(name=f"Add a policy from the {CUSTOM}", value=True,
                                 css_classes=["explore-custom"])
        self.pol_name = w.TextInput(name="Policy name", value="my_policy",
                                    css_classes=["explore-policy-name"])
        self.start = w.TextInput(name="Start [YYYY-MM]", value="2018-01")
        self.end = w.TextInput(name="End [YYYY-MM, empty: to the horizon]", value="")
        self.levers = {f.name: w.TextInput(name=f.label, placeholder="not set",
                                           css_classes=[f"lever-{f.name}"])
                       for f in lever_fields()}
        self.replications = w.TextInput(name="Replications", value="20",
                                        css_classes=["explore-replications"])
        self.seed = w.TextInput(name="Seed [empty: the baseline's run.seed]", value="",
                                css_classes=["explore-seed"])
        self.uncertainty = w.Select(name="Uncertainty", value="default",
                                    options=["default", "posterior", "noise"])
        self.indicators = w.MultiChoice(
            name="Indicators (charts; the question of the policy set by levers)",
            options=self._indicator_names(), value=list(DEFAULT_INDICATORS))
        self.run_btn = w.Button(name="Run", button_type="primary", css_classes=["explore-run"])
        self.cancel_btn = w.Button(name="Cancel", button_type="warning", disabled=True,
                                   css_classes=["explore-cancel"])
        self.run_btn.on_click(lambda _e: self.start_run())
        self.cancel_btn.on_click(lambda _e: self.cancel_run())

    @staticmethod
    def _indicator_names() -> list[str]:
        return list(INDICATORS)

    def _outputs(self) -> None:
        self.progress = pn.indicators.Progress(name="progress", value=0, max=100,
                                               sizing_mode="stretch_width", visible=False)
        self.status = pn.pane.Markdown("Choose a baseline and policies, then **Run**.",
                                       css_classes=["explore-status"])
        self.error = pn.pane.Alert("", alert_type="danger", visible=False,
                                   css_classes=["explore-error"])
        self.warning = pn.pane.Alert("", alert_type="warning", visible=False,
                                     css_classes=["explore-warning"])
        self.charts = pn.Column(css_classes=["explore-charts"])
        self.table = pn.Column(css_classes=["explore-table"])
        self.prov = pn.pane.Markdown("", css_classes=["explore-provenance"])
        self.downloads = pn.Row(css_classes=["explore-downloads"])

    def view(self) -> pn.viewable.Viewable:
        """The whole page: controls on the left, results on the right."""
        controls = pn.Column(
            "## Scenarios", self.baseline, self.policies, self.custom, self.pol_name,
            self.start, self.end, "### Levers (empty: not set)", *self.levers.values(),
            "## Runs", self.replications, self.seed, self.uncertainty, self.indicators,
            pn.Row(self.run_btn, self.cancel_btn), width=380)
        results = pn.Column(
            "# gzsim policy explorer", self.status, self.progress, self.error, self.warning,
            "## Headline (paired differences, cost-effectiveness)", self.table,
            "## Charts", self.charts, self.prov, "## Downloads", self.downloads,
            sizing_mode="stretch_width")
        pn.state.add_periodic_callback(self.poll, period=POLL_MS)
        return pn.Row(controls, results, sizing_mode="stretch_width")

    # -- inputs ----------------------------------------------------------------------------

    def request(self) -> tuple[Request, list[str]]:
        """The request the inputs describe and its warnings; a UserError if invalid.

        Errors and warnings are the CLI's (file, line, field path), from the same loader.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            req = self._request()
        notes = [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]
        return req, notes + baseline_notes(req)

    def _request(self) -> Request:
        folder = self.settings.folder
        baselines, shipped = self.settings.scenario_files()
        chosen = [self.baseline.value, *self.policies.value]
        if self.baseline.value not in baselines or not set(chosen[1:]) <= set(shipped):
            raise UserError(f"choose scenario files from the lists ({', '.join(chosen)}?)")
        base_path = folder / self.baseline.value
        baseline = load_scenario(base_path)
        files = {baseline.name: base_path}
        policies = []
        for f in self.policies.value:
            sc = load_scenario(folder / f)
            policies.append(sc)
            files[sc.name] = folder / f
        if self.custom.value:
            form = PolicyForm(name=self.pol_name.value, start=self.start.value,
                              end=self.end.value, indicators=tuple(self.indicators.value),
                              levers=tuple((k, w.value) for k, w in self.levers.items()))
            sc, path = load_policy(form, base_path, baseline, self.settings.cache / "scenarios")
            policies.append(sc)
            files[sc.name] = path
        seed = self.seed.value.strip()
        unc = None if self.uncertainty.value == "default" else self.uncertainty.value
        req = Request(baseline, policies, replications=_integer(self.replications.value,
                                                                "replications"),
                      seed=_integer(seed, "seed") if seed else None, uncertainty=unc,
                      files=files)
        req.check()
        return req

    def start_run(self) -> None:
        """Validate, then run in a background thread (nothing runs on invalid input)."""
        if self.job is not None and not self.job.finished:
            return
        self.error.visible = self.warning.visible = False
        try:
            req, notes = self.request()
        except UserError as e:
            self._show_error(str(e))
            return
        self.warning.object = "<br>".join(html.escape(f"gzsim: warning: {n}") for n in notes)
        self.warning.visible = bool(notes)
        self.job = Job()
        self.run_btn.disabled, self.cancel_btn.disabled = True, False
        self.progress.value, self.progress.visible = 0, True
        self.status.object = f"Running {1 + len(req.policies)} scenarios x " \
                             f"{req.replications} replications..."
        threading.Thread(target=self._work, args=(self.job, req, list(self.indicators.value)),
                         daemon=True, name="gzsim-explore-run").start()

    def cancel_run(self) -> None:
        """Ask the running job to stop at its next finished replication."""
        if self.job is not None:
            self.job.cancel.set()
            self.status.object = "Cancelling..."

    def _show_error(self, text: str) -> None:
        # the message quotes what was typed: shown as text, never as markup
        self.error.object = ("<pre style='white-space: pre-wrap'>"
                             f"{html.escape('gzsim: error: ' + text)}</pre>")
        self.error.visible = True
        self.status.object = "Nothing was run: fix the input above."

    # -- background work -------------------------------------------------------------------

    def _work(self, job: Job, req: Request, chosen: list[str]) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            cmp = run_paired(req, self.cache, progress=progress, cancel=job.cancel,
                             **self.pool.run_options())
            job.outcome = {**summarise(cmp, chosen), "provenance": provenance(req, cmp)}
            job.charts = charts(cmp, job.outcome["indicators"])
            bundle = write_bundle(req, cmp, job.outcome["indicators"], self.settings.cache)
            job.downloads = (bundle, page_files(req, bundle))
        except Cancelled:
            job.error = "cancelled"
        except UserError as e:
            job.error = f"gzsim: error: {e}"
        except Exception:  # noqa: BLE001 - a bug: shown, the server goes on
            job.error = "internal error:\n" + traceback.format_exc(limit=8)
        finally:
            job.finished = True

    def poll(self) -> None:
        """Show the job's progress, then its table, charts and downloads as they come."""
        job = self.job
        if job is None or "end" in job.shown:
            return
        if job.outcome is not None and "table" not in job.shown:
            job.shown.add("table")
            self._show_table(job.outcome)
        if job.charts is not None and "charts" not in job.shown:
            job.shown.add("charts")
            self.charts.objects = [
                pn.Row(*[pn.pane.PNG(png, width=CHART_WIDTH_PX, css_classes=[f"chart-{name}"])
                         for name, png in pair]) for pair in job.charts]
        if not job.finished:
            self.progress.value = int(100 * job.done / max(job.total, 1))
            if not job.shown:
                self.status.object = f"Running: {job.done} of {job.total} replications done."
            return
        job.shown.add("end")
        self.run_btn.disabled, self.cancel_btn.disabled = False, True
        self.progress.visible = False
        if job.error == "cancelled":
            self.status.object = "Cancelled: nothing shown (finished scenarios are cached)."
        elif job.error:
            self._show_error(job.error.removeprefix("gzsim: error: "))
        elif job.downloads is not None:
            self.downloads.objects = download_buttons(*job.downloads)
            self.status.object = f"Done: {job.outcome['summary']}" if job.outcome else "Done."

    def _show_table(self, out: dict[str, Any]) -> None:
        self.charts.objects = []
        self.downloads.objects = []
        self.table.objects = [pn.pane.DataFrame(out["headline"], index=False,
                                                width=2 * CHART_WIDTH_PX + 20,
                                                styles={"overflow-x": "auto"},
                                                css_classes=["explore-headline"])]
        self.prov.object = provenance_text(out["provenance"])
        self.status.object = f"{out['summary']} Drawing the charts, writing the downloads..."


def summarise(cmp: Any, chosen: list[str]) -> dict[str, Any]:
    """The headline as the page shows it, and which indicators to chart."""
    head = cmp.headline()
    present = set(cmp.table["indicator"])
    indicators = [i for i in chosen if i in present] or list(dict.fromkeys(head["indicator"]))
    n = int(head["n_pairs"].max()) if len(head) else 0
    return {"headline": headline_view(head), "indicators": indicators,
            "summary": f"{len(cmp.results) - 1} policy(ies) against {cmp.base}, {n} pairs."}


def charts(cmp: Any, indicators: list[str]) -> list[list[tuple[str, bytes]]]:
    """Per indicator: its fan chart and its paired difference, as PNG (worker thread)."""
    out = []
    with PLOT_LOCK:
        for ind in indicators:
            out.append([(f"fan-{ind}", png_bytes(fan(cmp, ind))),
                        (f"paired-{ind}", png_bytes(paired_difference_chart(cmp, ind)))])
    return out


def page_files(req: Request, bundle: Bundle) -> list[Path]:
    """The scenario files of levers set on the page, as copied into the download folder."""
    out = [bundle.folder / "scenarios" / Path(f).name for f in req.files.values()]
    return [p for p in out if p.is_file()]


def download_buttons(bundle: Bundle, policy_files: list[Path]) -> list[Any]:
    """Buttons for the tables, the whole folder (zip) and the scenario files of the levers."""
    w = pn.widgets
    files = [(bundle.file("headline.csv"), "headline.csv"),
             (bundle.file("headline.parquet"), "headline.parquet"),
             (bundle.file("comparison.csv"), "comparison.csv"),
             (bundle.file("comparison.parquet"), "comparison.parquet"),
             (bundle.zip_path, "explore-comparison.zip")]
    files += [(p, p.name) for p in policy_files]
    return [w.FileDownload(file=str(p), filename=name, label=f"Download {name}",
                           button_type="light") for p, name in files if p.is_file()]


def _integer(text: str, name: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise UserError(f"{name} must be a whole number, got {str(text)[:40]!r}") from None
    return check_seed(value, name=name) if name == "seed" else value


def free_port(host: str) -> int:
    """A port the OS says is free on ``host`` now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve(settings: Settings, port: int = 5006, host: str = "127.0.0.1",
          announce: Any = print) -> None:
    """Serve the page until interrupted; ``announce`` gets the address once it is up."""
    port = port or free_port(host)
    ExplorerPage._indicator_names()  # the model's registry, imported before the first visitor
    cache = ResultCache(settings.cache)
    pool = WorkerPool(settings.workers or cpu_count())
    origins = ["*"] if host in ("0.0.0.0", "::") else [f"{host}:{port}", f"localhost:{port}",
                                                          f"127.0.0.1:{port}"]
    try:
        server = pn.serve({"/": lambda: ExplorerPage(settings, cache, pool).view()},
                          port=port, address=host, websocket_origin=origins, show=False,
                          start=False, title="gzsim explore", threaded=False)
    except OSError as e:  # the port is taken, the address is not this machine's...
        raise UserError(f"cannot serve on {host}:{port}: {e.strerror or e}; choose another "
                        "--port or --host") from None
    server.start()
    # the workers start beside the server, so the first run does not wait for them
    threading.Thread(target=pool.warm, daemon=True, name="gzsim-explore-warm").start()
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    announce(f"gzsim explore: serving http://{shown}:{port}/ (Ctrl-C to stop)")
    try:
        server.io_loop.start()
    finally:
        pool.shutdown()
