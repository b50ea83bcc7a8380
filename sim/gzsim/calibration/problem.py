"""The calibration problem: scenario, free parameters (priors), fitted targets, simulator.

The simulator is a function of the parameters: each particle runs ``replications`` runs whose
streams come from a hash of its parameter values (reproducible, and different for every
particle), and its summary statistic is their mean. The data are one realisation of a noisy
world, so the simulations must carry the model's noise too: with common random numbers across
particles (``crn: true``) the posterior is conditioned on one noise draw and comes out
overconfident (the coverage test held the truth in 6 of 12 90 % intervals). Common random
numbers serve where they help: the pilot below, and paired policy comparisons. A pilot over the
prior finds targets that no free parameter moves: they only return inputs, so they are listed,
not fitted, and not counted in the degrees of freedom.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gzsim.aggregate import aggregate
from gzsim.calibration.growth import GrowthFit, fit_all
from gzsim.calibration.priors import PriorsFile, load_priors
from gzsim.calibration.quantities import simulated_values
from gzsim.calibration.spec import CalibrationSpec, Settings, load_spec
from gzsim.calibration.targets import Target, TargetsFile, load_targets
from gzsim.errors import Problem, TargetsError, UserError
from gzsim.io.posterior import typed_values
from gzsim.model import month_dates, simulate_one
from gzsim.scenario.loader import apply_overrides, resolve_scenario_data, validate_scenario
from gzsim.scenario.schema import Scenario
from gzsim.scenario.types import parse_year_month


@dataclass(frozen=True)
class TargetView:
    """What the calibration needs of a fitted target (values in the model's units)."""

    id: str
    value: float
    scale: float  # a miss of this size is exactly "at tolerance"
    indicator: str
    aggregation: str
    year: int | None
    period: tuple[int, int] | None
    quarter: int | None
    kind: str
    unit: str

    @property
    def last_year(self) -> int:
        """The last calendar year the figure covers."""
        return int(self.period[1] if self.period else self.year)

    def values(self, series: pd.DataFrame) -> np.ndarray:
        """One simulated value per replication of the series."""
        return simulated_values(series, self.indicator, self.aggregation, self.year,
                                self.period, self.quarter)

    def values_of(self, runs: list[dict[str, np.ndarray]], start: str) -> np.ndarray:
        """The same, straight from the model's arrays (no frame: the hot path of ABC)."""
        v = np.vstack([run[self.indicator] for run in runs])
        return aggregate(v, start, self.aggregation, self.indicator, self.year, self.period,
                         self.quarter)


def target_view(t: Target) -> TargetView:
    """The calibration's view of a fitted target (values in model units)."""
    m = t.maps_to
    return TargetView(t.id, float(t.model_value), float(t.error_scale()) or 1e-9, m.indicator,
                      m.aggregation, t.year, tuple(t.period) if t.period else None, t.quarter,
                      t.kind, t.unit)


def series_of(scenario: Scenario, seed: int, replications: list[int]) -> pd.DataFrame:
    """Monthly series of the given replications, in the tidy layout of ``Result.series``."""
    dates = month_dates(scenario)
    frames = []
    for k in replications:
        arrays = simulate_one(scenario, seed, k)
        frames.append(pd.DataFrame({"replication": k, "date": dates, **arrays}))
    return pd.concat(frames, ignore_index=True)


@dataclass
class Simulator:
    """``pyabc`` model: parameters -> {target id: mean over the CRN replications}.

    Picklable (a plain dataclass of data), so pyabc's multicore samplers can run it.
    """

    base_data: dict
    targets: list[TargetView]
    seed: int
    replications: int
    horizon_end: str | None = None
    crn: bool = True  # False: streams from a hash of the parameter values
    typed_base: dict | None = None  # the base as the schema types it (made on first use)

    def replication_ids(self, values: dict[str, float]) -> list[int]:
        """Replication indices of a particle: 0..R-1 (CRN) or from a hash of its values."""
        if self.crn:
            return list(range(self.replications))
        key = np.array([values[k] for k in sorted(values)], dtype=np.float64).tobytes()
        base = zlib.crc32(key) * 1000
        return [base + k for k in range(self.replications)]

    def scenario(self, values: dict[str, float], horizon: bool = True) -> Scenario:
        """The scenario at these parameter values (up to the fitting horizon)."""
        if self.typed_base is None:  # integer-typed by the schema, not by the YAML literal
            self.typed_base = validate_scenario(self.base_data).model_dump()
        changes: dict[str, Any] = typed_values(self.typed_base, values)
        if horizon and self.horizon_end:
            changes["time.end"] = self.horizon_end
        return validate_scenario(apply_overrides(self.base_data, {}, changes))

    def stats(self, values: dict[str, float], replications: list[int],
              seed: int | None = None) -> dict[str, float]:
        """Each target's mean over these replications of the scenario at ``values``."""
        sc = self.scenario(values)
        runs = [simulate_one(sc, self.seed if seed is None else seed, k) for k in replications]
        return {t.id: float(np.mean(t.values_of(runs, sc.time.start))) for t in self.targets}

    def __call__(self, params: dict[str, float]) -> dict[str, float]:
        """Summary statistics at ``params``; NaN (never accepted) if the model rejects them."""
        try:
            values = dict(params)
            return self.stats(values, self.replication_ids(values))
        except Exception:  # a parameter set the model rejects is simply never accepted
            return {t.id: float("nan") for t in self.targets}


@dataclass
class ToleranceDistance:
    """Root mean square of (simulated - observed) / tolerance over the fitted targets."""

    scales: dict[str, float]

    def __call__(self, x: dict, x0: dict) -> float:
        """The distance between simulated ``x`` and observed ``x0`` statistics."""
        r = np.array([(x[k] - x0[k]) / s for k, s in self.scales.items()], dtype=float)
        if not np.all(np.isfinite(r)):
            return float("inf")
        return float(np.sqrt(np.mean(r ** 2)))


@dataclass
class CalibrationProblem:
    """Everything a calibration run needs, loaded and checked."""
    spec: CalibrationSpec
    spec_path: Path
    settings: Settings
    base_data: dict
    targets_file: TargetsFile
    priors: PriorsFile
    candidates: list[TargetView]  # fitted kinds that map to a simulated indicator
    growth_fits: dict[str, GrowthFit] = field(default_factory=dict)
    growth_values: dict[str, float] = field(default_factory=dict)
    input_only: dict[str, str] = field(default_factory=dict)  # target id -> why not fitted
    overrides: tuple[str, ...] = ()  # --set values applied to the base scenario

    @property
    def fitted(self) -> list[TargetView]:
        """The targets in the distance (candidates minus input-only ones)."""
        return [t for t in self.candidates if t.id not in self.input_only]

    @property
    def observed(self) -> dict[str, float]:
        """The observed statistics pyabc compares with."""
        return {t.id: t.value for t in self.fitted}

    def simulator(self, replications: int | None = None) -> Simulator:
        """The pyabc model for this problem."""
        return Simulator(self.base_data, self.fitted, self.spec.seed,
                         replications or self.settings.replications, self.spec.horizon_end,
                         crn=self.settings.crn)

    def distance(self) -> ToleranceDistance:
        """The pyabc distance for this problem."""
        return ToleranceDistance({t.id: t.scale for t in self.fitted})

    def screen(self, draws: int = 12) -> dict[str, str]:
        """Targets no free parameter moves (over ``draws`` prior draws): input-only checks."""
        rng = np.random.default_rng(np.random.SeedSequence(self.spec.seed, spawn_key=(7,)))
        sim = Simulator(self.base_data, self.candidates, self.spec.seed, 1,
                        self.spec.horizon_end)
        xs = self.priors.sample(draws, rng)
        first = dict(zip(self.priors.paths, xs[0], strict=True))
        try:  # a model that rejects a prior draw says why, instead of every particle failing
            series_of(sim.scenario(first), self.spec.seed, [0])
        except Exception as e:  # noqa: BLE001 - reported to the user with the draw
            raise UserError(f"the model fails at a draw from the priors ({first}): "
                            f"{type(e).__name__}: {e}") from None
        rows = [sim(dict(zip(self.priors.paths, x, strict=True))) for x in xs]
        frame = pd.DataFrame(rows)
        for t in self.candidates:
            v = frame[t.id].dropna().to_numpy()
            if len(v) >= 2 and np.ptp(v) <= 1e-9 * max(1.0, abs(t.value)):
                self.input_only[t.id] = (f"equal to {v[0]:.6g} whatever the free parameters "
                                         f"({draws} prior draws): it only returns inputs")
        return self.input_only


def _check_horizon(spec: CalibrationSpec, spec_path: str | Path, base_data: dict,
                   candidates: list[TargetView]) -> None:
    """Refuse fitted targets after the simulated years (they would count as zero)."""
    end = spec.horizon_end or (base_data.get("time") or {}).get("end", "2030-12")
    start = (base_data.get("time") or {}).get("start", "2012-01")
    y0, y1 = parse_year_month(str(start))[0], parse_year_month(str(end))[0]
    late = [t for t in candidates if t.year is not None and not y0 <= t.year <= y1]
    if late:
        raise TargetsError([Problem(
            f"target '{t.id}' ({t.year}) is outside the simulated years {y0}-{y1}; extend "
            "horizon_end (or the scenario's time.end) or leave the target out", str(spec_path),
            None, "horizon_end") for t in late])


def known_by(tf: TargetsFile, last_year: int | None) -> TargetsFile:
    """The targets file as known at the end of ``last_year``: later figures dropped."""
    if last_year is None:
        return tf
    kept = [t for t in tf.targets if (t.period[1] if t.period else t.year) <= last_year]
    return tf.model_copy(update={"targets": kept})


def _growth_values(spec: CalibrationSpec, spec_path: str | Path, fits: dict[str, GrowthFit],
                   fallbacks: dict[str, float]) -> dict[str, float]:
    """The scipy growth fits the spec names; ``fallbacks`` stand in where no figure exists."""
    values: dict[str, float] = {}
    problems = []
    for path, ref in spec.growth_values.items():
        series, _, param = ref.partition(".")
        if series in fits and param in fits[series].params:
            values[path] = fits[series].params[param]
        elif path in fallbacks:
            values[path] = float(fallbacks[path])
        else:
            problems.append(Problem(f"'{ref}' is not a fitted growth parameter; fitted: "
                                    + ", ".join(f"{n}.{p}" for n, f in fits.items()
                                                for p in f.params), str(spec_path), None,
                                    f"growth_values.{path}"))
    if problems:
        raise TargetsError(problems)
    return values


def _no_free_parameter_set(priors: PriorsFile, overrides: list[str] | tuple[str, ...]) -> None:
    """A free parameter (one with a prior) cannot be set: the calibration samples it."""
    given = {str(o).split("=", 1)[0].strip() for o in overrides}
    if fixed := sorted(given & set(priors.paths)):
        raise TargetsError([Problem(f"'{p}' is a free parameter of the calibration (it has a "
                                    "prior in priors.yaml): the calibration samples it, so "
                                    "--set cannot fix it; change its prior instead", "--set",
                                    None, p) for p in fixed])


def build_problem(spec_path: str | Path, quick: bool = False,
                  overrides: list[str] | tuple[str, ...] = (), last_year: int | None = None,
                  growth_fallbacks: dict[str, float] | None = None) -> CalibrationProblem:
    """Load spec, targets and priors; apply the scipy growth fits; check everything.

    ``overrides`` (``--set key.path=value``) change the base scenario the calibration runs;
    a free parameter (one with a prior) cannot be set: the calibration samples it.
    ``last_year``: fit only the figures dated up to that year (a backtest's origin); the growth
    fits see only those too, and ``growth_fallbacks`` give the values of growth parameters no
    figure up to then determines.
    """
    spec, spec_dir = load_spec(spec_path)
    base_data, _ = resolve_scenario_data(spec_dir / spec.scenario, list(overrides))
    validate_scenario(base_data, None, str(spec_dir / spec.scenario))
    every = load_targets(spec_dir / spec.targets)
    tf = known_by(every, last_year)
    fits = fit_all(tf.targets)
    growth_values = _growth_values(spec, spec_path, fits, growth_fallbacks or {})
    if growth_values:
        base_data = apply_overrides(base_data, {}, growth_values)
    priors = load_priors(spec_dir / spec.priors, base_data, {t.id for t in every.targets})
    _no_free_parameter_set(priors, overrides)
    clash = sorted(set(priors.paths) & set(growth_values))
    if clash:
        raise TargetsError([Problem(f"'{p}' has a prior and a growth fit value", str(spec_path),
                                    None, "growth_values") for p in clash])
    candidates = [target_view(t) for t in tf.fitted]
    if last_year is not None:
        spec = spec.model_copy(update={"horizon_end": f"{last_year}-12"})
    _check_horizon(spec, spec_path, base_data, candidates)
    return CalibrationProblem(spec, Path(spec_path), spec.quick if quick else spec.full,
                              base_data, tf, priors, candidates, fits, growth_values,
                              overrides=tuple(overrides))
