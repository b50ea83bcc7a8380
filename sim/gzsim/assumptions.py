"""Assumptions carried, not hidden: parameters no figure pins, sampled in comparisons.

A scenario's ``assumptions: FILE`` (``scenarios/assumptions.yaml``) lists parameters that no
source figure pins down but an answer rests on (the attractiveness elasticities, the reach
share...), each with a documented range. With ``assumptions="sampled"`` (the default of
``gzsim compare``) replication ``k`` draws every one uniformly from its range with its own
generator ``SeedSequence(root, spawn_key=(k, crc32("assumption-draw")))``: the draw depends
only on (root seed, replication), so the same replication of two scenarios uses the same values
(paired, like the posterior draws) whatever the workers. A value the scenario sets through
``--set`` is kept. :func:`gzsim.analysis.spread.variance_shares` says how much of an
effect's spread across replications each assumption explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gzsim.errors import InputError, Problem, UserError
from gzsim.io.yamlio import load_yaml
from gzsim.model.streams import stream_key

MODES = ("sampled", "fixed")
STREAM = "assumption-draw"


@dataclass(frozen=True)
class Assumption:
    """One assumed parameter: its dotted path, its range and what rests on it."""

    path: str
    low: float
    high: float
    why: str = ""


def read_assumptions(path: str | Path) -> list[Assumption]:
    """The assumptions of a file; a malformed entry is a located error."""
    data, origins = load_yaml(path, what="assumptions")
    items = data.get("assumptions") if isinstance(data, dict) else None
    if not isinstance(items, dict):
        raise InputError([Problem("expected an 'assumptions:' mapping of dotted paths to "
                                  "{range: [low, high], why: ...}", str(path), 1)],
                         what="assumptions")
    out, problems = [], []
    for p, spec in items.items():
        rng = spec.get("range") if isinstance(spec, dict) else None
        ok = isinstance(rng, list) and len(rng) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
        if not ok or rng[0] > rng[1]:
            f, line = origins.get(("assumptions", p, "range"),
                                  origins.get(("assumptions", p), (str(path), None)))
            problems.append(Problem("expected range: [low, high] with low <= high", f, line,
                                    f"assumptions.{p}.range"))
            continue
        out.append(Assumption(str(p), float(rng[0]), float(rng[1]), str(spec.get("why", ""))))
    if problems:
        raise InputError(problems, what="assumptions")
    return out


def draw_rng(root_seed: int, replication: int) -> np.random.Generator:
    """The generator of replication ``replication``'s assumption draw."""
    return np.random.default_rng(np.random.SeedSequence(
        int(root_seed), spawn_key=(int(replication), stream_key(STREAM))))


@dataclass(frozen=True)
class AssumptionPlan:
    """The values each replication uses, and the assumptions the scenario keeps."""

    file: str
    assumptions: list[Assumption]
    values: list[dict[str, float]]
    kept: dict[str, str] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """What the run's manifest records (the file, ranges, scheme and every draw)."""
        return {"file": self.file, "kept_scenario_values": self.kept,
                "ranges": {a.path: [a.low, a.high] for a in self.assumptions},
                "draw_scheme": "uniform over each range, in file order, generator "
                               f"SeedSequence(root_seed, spawn_key=(replication, "
                               f"crc32('{STREAM}')))",
                "draws": [{"replication": k, "values": v} for k, v in enumerate(self.values)]}


def resolve(mode: str | None) -> str:
    """``sampled`` or ``fixed`` (``None``: fixed, what a single run does)."""
    if mode not in (None, *MODES):
        raise UserError(f"--assumptions must be one of {', '.join(MODES)}, got '{mode}'")
    return mode or "fixed"


def plan_assumptions(scenario: Any, replications: int, root_seed: int,
                     mode: str | None) -> AssumptionPlan | None:
    """Each replication's assumption values, or None (fixed, or no assumptions file)."""
    path = getattr(scenario.run, "assumptions", None)
    if resolve(mode) == "fixed" or not path:
        return None
    found = read_assumptions(path)
    overridden = [str(o).split("=", 1)[0] for o in
                  (getattr(scenario, "_provenance", None) or {}).get("overrides", [])]
    kept = {a.path: "set by --set" for a in found if a.path in overridden}
    use = [a for a in found if a.path not in kept]
    values = []
    for k in range(int(replications)):
        rng = draw_rng(root_seed, k)
        values.append({a.path: float(rng.uniform(a.low, a.high)) for a in use})
    return AssumptionPlan(str(path), found, values, kept)
