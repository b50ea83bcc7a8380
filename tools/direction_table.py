"""Measure every lever's effect on its target indicators and write the direction table.

The expected directions live in ONE file, docs/directions.yaml; tests/test_directions.py checks
them with the same measurements, and this script writes them into docs/model.md.

    python tools/direction_table.py          # rewrite the table in docs/model.md in place
    python tools/direction_table.py --check  # exit 1 if docs/model.md is out of date
    python tools/direction_table.py --posterior-draws 12 --replications 5
                                             # every row at 12 posterior particles (weighted)

Each lever is applied as a policy over the whole run and compared with the same scenario without
it, on common random numbers (same seed, same replications): the paired difference of an
indicator's annual value (flows summed, stocks in December) at each milestone year.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "docs" / "directions.yaml"
DOC = REPO / "docs" / "model.md"
sys.path.insert(0, str(REPO / "sim"))

from gzsim import Scenario, load_scenario  # noqa: E402
from gzsim.indicators import INDICATORS  # noqa: E402
from gzsim.model import simulate_one  # noqa: E402

Runs = list[dict[str, np.ndarray]]


@dataclass(frozen=True)
class Row:
    """One expected direction: a lever, a scenario, an indicator."""

    lever: str
    owner: str
    scenario: str
    indicator: str
    direction: str  # "up" (never lower) or "down" (never higher)
    pathwise: bool


@dataclass(frozen=True)
class Effect:
    """The measured paired differences (lever - base) at one milestone year."""

    year: int
    diffs: tuple[float, ...]
    scale: float  # mean |base value|, for rounding tolerance

    @property
    def mean(self) -> float:
        return float(np.mean(self.diffs))

    @property
    def se(self) -> float:
        n = len(self.diffs)
        return float(np.std(self.diffs, ddof=1) / math.sqrt(n)) if n > 1 else math.inf

    def interval(self, confidence: float) -> tuple[float, float]:
        n = len(self.diffs)
        t = stats.t.ppf(0.5 + confidence / 2, n - 1) if n > 1 else math.inf
        half = t * self.se if self.se > 0 else 0.0
        return self.mean - half, self.mean + half


def load_table(path: Path = TABLE) -> dict:
    return yaml.safe_load(path.read_text())


def rows(table: dict) -> list[Row]:
    out = []
    for lv in table["levers"]:
        for sc in lv["scenarios"]:
            for ind, exp in lv["expect"].items():
                exp = exp if isinstance(exp, dict) else {"direction": exp}
                out.append(Row(lv["name"], lv.get("owner", ""), sc, ind, exp["direction"],
                               bool(exp.get("pathwise", False))))
    return out


def _with(scenario: Scenario, changes: dict | None, levers: dict | None) -> Scenario:
    """``scenario`` with dotted-path changes and, if given, one whole-run policy."""
    data = scenario.model_dump()
    for path, value in (changes or {}).items():
        *parents, leaf = path.split(".")
        node = data
        for p in parents:
            node = node[p]
        node[leaf] = value
    if levers:
        data["policies"] = [*data["policies"], {"name": "direction_test",
                                                "start": scenario.time.start,
                                                "levers": levers}]
    return Scenario.model_validate(data)


def scenario(table: dict, name: str, levers: dict | None = None) -> Scenario:
    spec = table["scenarios"][name]
    return _with(load_scenario(REPO / spec["file"]), spec.get("set"), levers)


def annual(sc: Scenario, out: dict[str, np.ndarray], name: str, year: int) -> float:
    """A year's value: the sum of a flow, the December level of a stock."""
    m0 = sc.time.month_index(year, 1)
    a = out[name][m0:m0 + 12]
    return float(a.sum() if INDICATORS[name].kind == "flow" else a[-1])


def run(sc: Scenario, settings: dict) -> Runs:
    return [simulate_one(sc, settings["seed"], k) for k in range(settings["replications"])]


def measure(table: dict) -> dict[Row, list[Effect] | str]:
    """Every row's effects by milestone year, or why it could not be measured."""
    settings = table["settings"]
    bases: dict[str, tuple[Scenario, Runs]] = {}
    out: dict[Row, list[Effect] | str] = {}
    by_lever = {lv["name"]: lv for lv in table["levers"]}
    pushed: dict[tuple[str, str], tuple[Scenario, Runs] | str] = {}
    for row in rows(table):
        if row.scenario not in bases:
            sc = scenario(table, row.scenario)
            bases[row.scenario] = (sc, run(sc, settings))
        key = (row.lever, row.scenario)
        if key not in pushed:
            try:
                sc = scenario(table, row.scenario, by_lever[row.lever]["levers"])
                pushed[key] = (sc, run(sc, settings))
            except Exception as e:  # a lever the schema does not know yet: a failed row
                pushed[key] = f"lever not available: {type(e).__name__}: {e}"
        out[row] = _effects(row, bases[row.scenario], pushed[key])
    return out


def _effects(row: Row, base: tuple[Scenario, Runs],
             pushed: tuple[Scenario, Runs] | str) -> list[Effect] | str:
    if isinstance(pushed, str):
        return pushed
    sc, base_runs = base
    _, lever_runs = pushed
    if row.indicator not in base_runs[0]:
        if row.indicator in INDICATORS:
            return "n/a"  # the scenario has no such process (e.g. no poverty programme)
        return f"no indicator '{row.indicator}'"
    effects = []
    for year in sc.time.milestone_years:
        b = [annual(sc, o, row.indicator, year) for o in base_runs]
        p = [annual(sc, o, row.indicator, year) for o in lever_runs]
        effects.append(Effect(year, tuple(pi - bi for pi, bi in zip(p, b, strict=True)),
                              float(np.mean(np.abs(b)))))
    return effects


def violations(row: Row, effects: list[Effect] | str, fail_confidence: float) -> list[str]:
    """Why a row breaks its documented direction (empty when it holds)."""
    if isinstance(effects, str):
        return [] if effects == "n/a" else [effects]
    sign = 1.0 if row.direction == "up" else -1.0
    bad = []
    for e in effects:
        tol = 1e-9 * max(e.scale, 1.0)
        if row.pathwise:
            worst = min(sign * d for d in e.diffs)
            if worst < -tol:
                bad.append(f"{e.year}: a replication moved {worst * sign:+.6g} ({row.direction})")
            continue
        n = len(e.diffs)
        t = stats.t.ppf(fail_confidence, n - 1)
        if sign * e.mean + t * e.se < -tol:
            bad.append(f"{e.year}: mean {e.mean:+.6g} (s.e. {e.se:.3g}) against '{row.direction}'")
    return bad


def _fmt(x: float) -> str:
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:+.3g} m"
    if a >= 1e3:
        return f"{x / 1e3:+.3g} k"
    return f"{x:+.3g}"


def render(table: dict, measured: dict[Row, list[Effect] | str]) -> str:
    conf = table["settings"]["confidence"]
    n = table["settings"]["replications"]
    lines = [f"Paired effect (lever − no lever), mean over {n} replications on common random "
             f"numbers with its {conf:.0%} interval, at each milestone year. "
             "Generated by `python tools/direction_table.py` from `docs/directions.yaml`.",
             "",
             "| lever | scenario | indicator | expected | check | measured effect by year |",
             "|---|---|---|---|---|---|"]
    for row, eff in measured.items():
        expected = "never lower" if row.direction == "up" else "never higher"
        check = "every replication" if row.pathwise else "paired mean"
        if isinstance(eff, str):
            cell = eff
        else:
            cell = "; ".join(
                f"{e.year}: {_fmt(e.mean)} [{_fmt(e.interval(conf)[0])}, "
                f"{_fmt(e.interval(conf)[1])}]" for e in eff)
        lever = f"`{row.lever}`" + (f" ({row.owner})" if row.owner else "")
        lines.append(f"| {lever} | {row.scenario} | `{row.indicator}` | {expected} | {check} "
                     f"| {cell} |")
    return "\n".join(lines)


def with_table(text: str, body: str) -> str:
    start, end = "<!-- directions:start -->", "<!-- directions:end -->"
    i, j = text.index(start) + len(start), text.index(end)
    return text[:i] + "\n" + body + "\n" + text[j:]


def table_at(values: dict[str, float]) -> dict:
    """The table with its base-derived scenarios run at these parameter values."""
    table = load_table()
    for spec in table["scenarios"].values():
        if spec["file"] == "scenarios/base.yaml":
            spec["set"] = {**values, **(spec.get("set") or {})}
    return table


def posterior_table(draw: int) -> tuple[dict[str, float], dict]:
    """Particle ``draw`` of the base's posterior (weighted, its own stream) and its table."""
    from gzsim.calibration.problem import typed_values
    from gzsim.io.posterior import read_posterior
    from gzsim.scenario.loader import resolve_scenario_data

    post = read_posterior(REPO / "calibration" / "posterior.parquet")
    rng = np.random.default_rng(np.random.SeedSequence(2017, spawn_key=(draw,)))
    data, _ = resolve_scenario_data(REPO / "scenarios" / "base.yaml")
    values = typed_values(data, post.values(post.draw(rng)))
    return values, table_at(values)


def check_posterior(draws: int, replications: int) -> int:
    """Measure every row at ``draws`` posterior particles; print the violations."""
    rows = bad = 0
    for d in range(draws):
        _, table = posterior_table(100 + d)
        table["settings"]["replications"] = replications
        fail = table["settings"]["fail_confidence"]
        for row, effects in measure(table).items():
            rows += 1
            if v := violations(row, effects, fail):
                bad += 1
                print(f"draw {d}: {row.lever}/{row.scenario}/{row.indicator}: " + "; ".join(v))
    print(f"{rows} rows at {draws} posterior draws x {replications} replications: "
          f"{bad} violations")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if "--posterior-draws" in argv:
        reps = int(argv[argv.index("--replications") + 1]) if "--replications" in argv else 3
        return check_posterior(int(argv[argv.index("--posterior-draws") + 1]), reps)
    table = load_table()
    new = with_table(DOC.read_text(), render(table, measure(table)))
    if "--check" in argv:
        return 0 if new == DOC.read_text() else 1
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
