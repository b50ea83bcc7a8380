"""Parameter uncertainty in every run: each replication draws its parameters from the posterior.

``gzsim run``, ``gzsim compare``, :func:`gzsim.simulate` and the notebooks call
:func:`plan_draws`; with ``uncertainty="posterior"`` (the default once the scenario points at a
posterior, through ``posterior:``) replication ``k`` takes the particle drawn, with the posterior
weights, by its own stream ``SeedSequence(root, spawn_key=(k, crc32("posterior-draw")))``, as
well as its usual random streams. So the draw depends only on (root seed, replication): the same
replication of two scenarios uses the same parameters and the same streams (paired comparisons
stay sharp) and the result does not depend on workers or executors. A value set with ``--set``
(``overrides=``) always wins over the draws. A parameter the scenario file sets itself (a
policy) is not overridden either: it differs from the posterior median the calibrated scenarios
carry (by half a unit at most for integer-typed parameters, which fitted.yaml rounds; not at all
for the others), and the manifest lists it as kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gzsim import model
from gzsim.assumptions import plan_assumptions
from gzsim.errors import ExperimentError, Problem, UserError
from gzsim.io.posterior import read_posterior, typed_values
from gzsim.model.streams import stream_key
from gzsim.scenario.loader import apply_overrides, validate_scenario
from gzsim.scenario.schema import Scenario

MODES = ("posterior", "noise")
DRAW_STREAM = "posterior-draw"


def draw_rng(root_seed: int, replication: int) -> np.random.Generator:
    """The generator that picks replication ``replication``'s posterior particle."""
    return np.random.default_rng(np.random.SeedSequence(
        int(root_seed), spawn_key=(int(replication), stream_key(DRAW_STREAM))))


def _value_at(data: dict, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node[part]
    return node


def _has(data: dict, path: str) -> bool:
    try:
        return isinstance(_value_at(data, path), (int, float))
    except (KeyError, TypeError):
        return False


@dataclass(frozen=True)
class DrawPlan:
    """Which posterior particle, and which values, each replication uses."""

    posterior: str
    particles: list[int]
    values: list[dict[str, float]]
    kept: dict[str, str] = field(default_factory=dict)  # path -> why the scenario's value stays
    ess: float = float("nan")
    assumptions: Any = None  # an AssumptionPlan: assumed parameters sampled too

    def manifest(self) -> dict[str, Any]:
        """What the run's manifest records: the posterior, the scheme and each draw."""
        extra = {"assumptions": self.assumptions.manifest()} if self.assumptions else {}
        if not self.posterior:  # assumptions sampled, parameters otherwise fixed
            return {"mode": "noise", **extra}
        return {**extra, "mode": "posterior", "posterior": self.posterior,
                "posterior_ess": round(self.ess, 2),
                "draw_scheme": "particle ~ weights, generator SeedSequence(root_seed, "
                               f"spawn_key=(replication, crc32('{DRAW_STREAM}')))",
                "kept_scenario_values": self.kept,
                "draws": [{"replication": k, "particle": p, "values": v}
                          for k, (p, v) in enumerate(zip(self.particles, self.values,
                                                         strict=True))]}

    def run_fn(self, processes: tuple = (), events: bool = False) -> PosteriorRunFn:
        """The model function the execution layer calls (outside processes, event log)."""
        return PosteriorRunFn({k: v for k, v in enumerate(self.values)}, tuple(processes),
                              events)


@dataclass(frozen=True)
class PosteriorRunFn:
    """A picklable model function for the execution layer: replication k's draw, then run."""

    values: dict[int, dict[str, float]]
    processes: tuple = ()
    events: bool = False

    def __call__(self, scenario: Scenario, root_seed: int, replication: int):
        """Run replication ``replication`` with its drawn parameters."""
        changes = self.values.get(int(replication), {})
        if changes:
            scenario = validate_scenario(apply_overrides(scenario.model_dump(), {}, changes),
                                         {}, "posterior draw")
        return model.ModelRun(self.processes, self.events)(scenario, root_seed, replication)


def set_paths(scenario: Scenario) -> set[str]:
    """Dotted paths the user set with ``--set`` (or ``overrides=``): they always win."""
    prov = getattr(scenario, "_provenance", None) or {}
    out = set()
    for o in prov.get("overrides") or []:
        key = str(o).split("=", 1)[0].strip()
        if key:
            out.add(key)
    return out


def resolve_mode(scenario: Scenario, uncertainty: str | None) -> str:
    """``posterior`` or ``noise``; ``None`` means posterior when the scenario has one."""
    if uncertainty not in (None, *MODES):
        raise UserError(f"--uncertainty must be one of {', '.join(MODES)}, got '{uncertainty}'")
    path = getattr(scenario.run, "posterior", None)
    if uncertainty is None:
        return "posterior" if path and Path(path).is_file() else "noise"
    if uncertainty == "posterior" and not path:
        raise UserError(f"scenario '{scenario.name}' points at no posterior (add "
                        "'posterior: ../calibration/posterior.parquet' or use --uncertainty "
                        "noise)")
    return uncertainty


def plan_draws(scenario: Scenario, replications: int, root_seed: int,
               uncertainty: str | None = None, assumptions: str | None = None
               ) -> DrawPlan | None:
    """The posterior draw (and assumption draw) of every replication; None when neither.

    ``assumptions``: ``sampled`` adds each replication's draw of the scenario's assumptions
    (:mod:`gzsim.assumptions`); ``fixed`` or None keeps the scenario's values.
    """
    extra = plan_assumptions(scenario, replications, root_seed, assumptions)
    plan = posterior_plan(scenario, replications, root_seed) \
        if resolve_mode(scenario, uncertainty) == "posterior" else None
    if extra is None:
        return plan
    if plan is None:
        plan = DrawPlan("", [-1] * int(replications), [{} for _ in range(int(replications))])
    return DrawPlan(plan.posterior, plan.particles,
                    [{**pv, **av} for pv, av in zip(plan.values, extra.values, strict=True)],
                    plan.kept, plan.ess, extra)


def posterior_plan(scenario: Scenario, replications: int, root_seed: int) -> DrawPlan:
    """The posterior particle and values of every replication (the scenario's posterior)."""
    post = read_posterior(scenario.run.posterior)
    data = scenario.model_dump()
    medians = typed_values(data, {p: v for p, v in post.medians().items() if _has(data, p)})
    if not medians:
        raise UserError(f"{scenario.run.posterior}: none of the posterior's parameters "
                        f"({', '.join(post.paths[:5])}) is a parameter of scenario "
                        f"'{scenario.name}' (a posterior of another model?); rebuild it with "
                        "`gzsim calibrate`, or run with --uncertainty noise")
    kept, use = {}, []
    overridden = set_paths(scenario)
    for p in post.paths:
        if p not in medians:
            kept[p] = "not a parameter of this scenario"
            continue
        raw = _value_at(data, p)
        own = float(raw)
        if p in overridden:
            kept[p] = f"set with --set to {own:g} (posterior median {medians[p]:g})"
            continue
        # fitted.yaml holds integer-typed parameters (months) rounded: half a unit of slack
        # for those only; a float the scenario holds differs as soon as it differs
        slack = 0.5 if isinstance(raw, int) and not isinstance(raw, bool) else 0.0
        if abs(own - medians[p]) > slack + 1e-9 * max(1.0, abs(medians[p])):
            kept[p] = f"the scenario sets {own:g} (posterior median {medians[p]:g})"
        else:
            use.append(p)
    particles, values = [], []
    for k in range(int(replications)):
        i = post.draw(draw_rng(root_seed, k))
        particles.append(i)
        row = post.values(i)
        values.append(typed_values(data, {p: row[p] for p in use}))
    return DrawPlan(str(scenario.run.posterior), particles, values, kept, post.ess)


def describe(manifest: dict[str, Any]) -> str:
    """One sentence for the CLI: what the bands printed hold."""
    u = manifest.get("uncertainty") or {"mode": "noise"}
    a = u.get("assumptions")
    more = "" if not a else (
        f" Each replication also drew the {len(a['ranges']) - len(a['kept_scenario_values'])}"
        f" assumptions of {Path(a['file']).name} from their ranges (--assumptions fixed: "
        "the scenario's values).")
    return _describe(manifest, u) + more


def _describe(manifest: dict[str, Any], u: dict[str, Any]) -> str:
    """The sentence of :func:`describe` about the posterior."""
    if u.get("mode") != "posterior":
        has = ((manifest.get("scenario") or {}).get("run") or {}).get("posterior")
        how = ("--uncertainty posterior to include parameter uncertainty" if has else
               "this scenario points at no posterior, so parameter uncertainty is not included")
        return ("90 % bands: the model's randomness only (noise); parameters fixed at the "
                f"scenario's values ({how}).")
    n = len({d["particle"] for d in u["draws"]})
    return (f"90 % bands include parameter uncertainty: each replication drew its parameters "
            f"from the posterior ({Path(u['posterior']).name}, {n} distinct particles, ESS "
            f"{u['posterior_ess']:.0f}) as well as its random streams.")


def posterior_factors(posterior: str | Path, level: float = 0.90, paths: list[str] | None = None,
                      scenario_data: dict | None = None) -> dict[str, dict[str, Any]]:
    """Experiment factors spanning each parameter's posterior interval (for sweeps, SALib).

    ``{path: {"range": [low, high]}}`` with the weighted ``level`` interval of the posterior:
    an experiment's ``posterior_factors:`` adds them to its ``factors:`` so that ``gzsim sweep``
    and ``gzsim sensitivity`` vary the calibrated parameters over what the data allow (marginals
    only: the design ignores the posterior's correlations). With ``scenario_data`` a parameter
    the scenario holds as a whole number (months) gets ``integer: true``.
    """
    post = read_posterior(posterior)
    a = (1 - level) / 2
    q = post.quantiles((a, 1 - a))
    chosen = paths or post.paths
    missing = [p for p in chosen if p not in post.paths]
    if missing:
        raise UserError(f"{posterior}: no posterior for {', '.join(missing)}; it has "
                        f"{', '.join(post.paths)}")
    data = scenario_data or {}
    return {p: {"range": [float(q.loc[p].iloc[0]), float(q.loc[p].iloc[1])],
                **({"integer": True} if _has(data, p) and type(_value_at(data, p)) is int
                   else {})} for p in chosen}


def posterior_source(posterior: str | Path, level: float) -> dict[str, Any]:
    """Where posterior factors' ranges came from (for the sweep's manifest): file and fit."""
    post = read_posterior(posterior)
    return {"posterior": str(posterior), "level": level, "ess": round(post.ess, 2),
            "sha256": hashlib.sha256(Path(posterior).read_bytes()).hexdigest(),
            "calibration_fingerprint": post.meta.get("fingerprint"),
            "created": post.meta.get("created")}


def experiment_posterior_factors(pf: Any, data: dict, folder: Path, where: Callable[..., tuple],
                                 taken: dict[str, dict]) -> tuple[dict[str, dict], dict | None]:
    """An experiment's ``posterior_factors:`` (``pf``) as factors and their provenance.

    ``posterior`` is relative to the experiment's ``folder`` (default: the base scenario's own);
    ``where(*key)`` locates errors; a path also in ``taken`` (``factors``, ``set``) is an error.
    """
    if pf is None:
        return {}, None
    post = folder / pf.posterior if pf.posterior else (data.get("run") or {}).get("posterior")
    if post is None:
        raise ExperimentError([Problem("the base scenario points at no posterior: give "
                                       "'posterior: FILE'", *where("posterior_factors"))])
    try:
        found = posterior_factors(post, pf.level, pf.paths, data)
    except UserError as e:
        key = ("paths",) if pf.paths and Path(post).is_file() else ("posterior",) * bool(
            pf.posterior)
        raise ExperimentError([Problem(str(e), *where("posterior_factors", *key))]) from None
    if both := [Problem(f"'{p}' is also a posterior factor (posterior_factors): drop one",
                        *where(k, p)) for k, given in taken.items() for p in found if p in given]:
        raise ExperimentError(both)
    if pf.levels:  # a full factorial: N evenly spaced values over each interval
        found = {p: {**f, "levels": pf.levels} for p, f in found.items()}
    return found, posterior_source(post, pf.level)
