"""Run the backtest over its origins into a folder it owns; write backtest.md, .csv, pit.png.

The folder is built under a temporary name and renamed into place when every origin is done
(:func:`gzsim.io.outdir.atomic_folder`): a failure leaves the old folder as it was.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from gzsim.calibration.backtest import (
    BacktestConfig,
    cross_validated_coverage,
    discrepancy,
    load_config,
    run_origin,
    summary,
    with_discrepancy,
)
from gzsim.calibration.naive import METHODS
from gzsim.errors import UserError
from gzsim.io.fileio import atomic_write_bytes


def run_backtest(config_path: str | Path, origins: list[int] | None = None,
                 quick: bool = False, out: str | Path | None = None, workers: int = 1,
                 command: str = "gzsim backtest",
                 on_origin: Callable[[dict], None] | None = None) -> dict:
    """Every origin (or ``origins``): calibrate, forecast, compare; write the folder ``out``."""
    # start-up: the folder helpers load only when a backtest runs
    from gzsim.io.outdir import atomic_folder, timestamped

    config_path = Path(config_path)
    cfg = load_config(config_path)
    origins = list(origins or cfg.origins)
    late = [y for y in origins if y >= cfg.window_end]
    if late:
        raise UserError(f"origin {late[0]} leaves nothing to forecast: origins must be before "
                        f"the window's last year {cfg.window_end} ({config_path})")
    settings = cfg.quick if quick else cfg.full
    spec_path = config_path.parent / cfg.spec
    out = Path(out) if out else timestamped("results", "backtest")
    t0 = time.perf_counter()
    with atomic_folder(out, "backtest", flag="-o") as folder:
        rows, infos = [], []
        for y in origins:
            r, info = run_origin(cfg, spec_path, y, settings, folder, workers)
            rows += r
            infos.append(info)
            if on_origin:
                on_origin(info)
        table = pd.DataFrame(rows)
        result = write_outputs(cfg, table, infos, folder, quick, command,
                               time.perf_counter() - t0)
    return {**result, "out": out}


def write_outputs(cfg: BacktestConfig, table: pd.DataFrame, infos: list[dict], folder: Path,
                  quick: bool, command: str, seconds: float) -> dict:
    """backtest.csv, backtest.md, pit.png and (if needed) discrepancy.yaml."""
    # start-up: matplotlib loads only when figures are drawn
    from gzsim.analysis.plots import save_figure

    summ = summary(table)
    coverage = float(table["covered"].mean()) if len(table) else float("nan")
    delta = discrepancy(table) if coverage < cfg.coverage_goal else {}
    if any(v > 0 for v in delta.values()):
        table = with_discrepancy(table, delta)
        doc = {"relative_sd_per_sqrt_year": delta, "coverage_before": coverage,
               "coverage_after": float(table["covered_d"].mean()),
               "coverage_leave_one_origin_out": cross_validated_coverage(table),
               "origins": [i["origin"] for i in infos], "generated_by": command,
               "note": "log-scale model discrepancy per sqrt(year after the origin), estimated "
                       "from the backtest's misses (Kennedy-O'Hagan style)"}
        atomic_write_bytes(folder / "discrepancy.yaml", yaml.safe_dump(doc).encode())
    atomic_write_bytes(folder / "backtest.csv", table.to_csv(index=False).encode())
    save_figure(pit_histogram(table), folder / "pit")
    md = markdown(cfg, table, summ, infos, delta, quick, command, seconds)
    atomic_write_bytes(folder / "backtest.md", md.encode())
    return {"table": table, "summary": summ, "infos": infos, "discrepancy": delta}


def pit_histogram(table: pd.DataFrame):
    """Histogram of the probability integral transforms (flat when the bands are right)."""
    # start-up: matplotlib loads only when figures are drawn
    from gzsim.analysis.plots import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    pit = table["pit"].dropna().to_numpy(float)
    ax.hist(pit, bins=np.linspace(0, 1, 11), color="#4c72b0", edgecolor="white")
    if len(pit):
        ax.axhline(len(pit) / 10, color="k", lw=1, ls="--", label="calibrated (flat)")
        ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel("PIT: share of predictive draws below the observed figure")
    ax.set_ylabel("figures")
    ax.set_title(f"Backtest PIT ({len(pit)} forecasts)", fontsize=10)
    fig.tight_layout()
    return fig


def _g(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:,.4g}"


def _pct(x: float) -> str:
    return "" if not np.isfinite(x) else f"{100 * x:.1f} %"


def markdown(cfg: BacktestConfig, table: pd.DataFrame, summ: pd.DataFrame, infos: list[dict],
             delta: dict[str, float], quick: bool, command: str, seconds: float) -> str:
    """The backtest report: per-origin tables, the summary, the discrepancy if any."""
    head = [f"# Backtest: rolling-origin forecasts of the {cfg.window_end} training window",
            "", f"Command: `{command}` ({'quick' if quick else 'full'} budget, "
            f"{seconds:.0f} s; {_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC). At each origin "
            "the calibration sees only the figures dated up to it (growth fits included); the "
            "model forecasts the later fitted figures from posterior predictive draws (fresh "
            "seeds), beside naive forecasts from the same figures. PIT histogram: `pit.png`.",
            "", "## Summary", "",
            "| method | figures forecast | MAPE | model's MAPE on the same figures | "
            "90 % coverage |", "|---|---|---|---|---|"]
    for r in summ.itertuples():
        head.append(f"| {r.method} | {r.n} | {_pct(r.mape)} | {_pct(r.model_mape_same)} | "
                    f"{_pct(r.coverage)} |")
    head += ["", _verdict(summ, cfg, delta, table, infos), ""]
    for info in infos:
        head += _origin_section(info, table[table["origin"] == info["origin"]], delta)
    return "\n".join(head) + "\n"


def _verdict(summ: pd.DataFrame, cfg: BacktestConfig, delta: dict[str, float],
             table: pd.DataFrame, infos: list[dict]) -> str:
    model = summ.iloc[0]
    beaten = [r.method for r in summ.iloc[1:].itertuples()
              if r.n and np.isfinite(r.mape) and r.model_mape_same >= r.mape]
    out = (f"The model's 90 % bands hold {_pct(model.coverage)} of the {int(model.n)} later "
           f"figures (goal: at least {_pct(cfg.coverage_goal)}). ")
    out += ("It beats every naive rule on the figures that rule could forecast."
            if not beaten else "Naive rules as good or better on their figures: "
            + ", ".join(beaten) + ".")
    if any(v > 0 for v in delta.values()):
        terms = ", ".join(f"`{k}` {v:.3f}" for k, v in delta.items())
        out += (" The bands fall short of the goal, so a model-discrepancy term is estimated "
                "from the misses of the level figures, by indicator (Kennedy-O'Hagan style): a "
                f"lognormal error of relative s.d. per sqrt(year after the origin) of {terms} "
                f"(`discrepancy.yaml`); with it the bands hold "
                f"{_pct(float(table['covered_d'].mean()))} of the figures (changes and falls "
                "keep their own bands), estimated and checked on the same figures (in "
                "sample). Out of sample, each origin's bands widened by the term estimated "
                "from the other origins only hold "
                f"{_pct(cross_validated_coverage(table))} (leave one origin out).")
    ess = ", ".join(f"{i['origin']}: {i['ess']:.0f}" for i in infos)
    return out + f" ABC effective sample size at each origin: {ess}."


def _origin_section(info: dict, t: pd.DataFrame, delta: dict[str, float]) -> list[str]:
    lines = [f"## Origin {info['origin']}", "",
             f"Fitted ({len(info['fitted'])} figures, {info['parameters']} free parameters): "
             + ", ".join(f"`{i}`" for i in info["fitted"]) + ". "
             f"ABC-SMC: {info['generations']} generations, {info['simulations']:,} "
             f"simulations, final epsilon {info['epsilon']:.3g}, ESS {info['ess']:.0f}; "
             f"{info['stop_reason']}.", ""]
    cols = " | ".join(METHODS)
    lines += [f"| figure | year | observed | median | 90 % band | covered | error | {cols} |",
              "|---|---|---|---|---|---|---|" + "---|" * len(METHODS)]
    for r in t.itertuples():
        band = f"[{_g(r.p05)}, {_g(r.p95)}]"
        if "p05_d" in t and (r.p05_d, r.p95_d) != (r.p05, r.p95):
            band += f" (with discrepancy [{_g(r.p05_d)}, {_g(r.p95_d)}])"
        naive = " | ".join(_g(getattr(r, m)) for m in METHODS)
        lines.append(f"| `{r.id}` | {r.year} | {_g(r.observed)} | {_g(r.median)} | {band} | "
                     f"{'yes' if r.covered else 'no'} | {_pct(r.error / r.observed)} | "
                     f"{naive} |")
    return [*lines, ""]


def backtest_section(folder: Path) -> str:
    """The summary of the backtest in ``folder`` for the calibration report ('' if none)."""
    path = Path(folder) / "backtest.md"
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    start = text.find("## Summary")
    if start < 0:
        return ""
    end = text.find("\n## Origin", start)
    body = text[start + len("## Summary"):end if end > 0 else len(text)].strip()
    command = next((ln for ln in text.splitlines() if ln.startswith("Command:")), "")
    return (f"\n## Backtest: rolling origins\n\nFrom `{folder.name}/backtest.md` "
            f"(per-origin tables there; PIT histogram `{folder.name}/pit.png`). "
            f"{command}\n\n{body}\n")
