"""Invariants every run must satisfy, checked on its recorded monthly arrays.

The tests check them on every run they make (``GZSIM_CHECK_INVARIANTS=1`` makes
:func:`gzsim.model.simulate_one` call :func:`check`); they cost nothing otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from gzsim.errors import ModelError
from gzsim.model.process import Process
from gzsim.model.processes import PROCESSES
from gzsim.scenario.schema import Scenario

ENV_FLAG = "GZSIM_CHECK_INVARIANTS"


class InvariantError(ModelError):
    """A run broke a conservation law or a bound: a bug in the model, not in the input."""


def enabled() -> bool:
    """Whether ``GZSIM_CHECK_INVARIANTS`` asks for the checks (the tests set it)."""
    return os.environ.get(ENV_FLAG, "") not in ("", "0")


def _close(a: np.ndarray, b: np.ndarray, scale: float) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-6 * max(scale, 1.0)))


def _money(a: dict[str, np.ndarray]) -> list[str]:
    """Realised money is disbursed, still in the pipeline, or abandoned, month by month."""
    out = []
    realised = np.cumsum(a["realised_usd_m"])
    accounted = np.cumsum(a["investment_usd_m"]) + a["pipeline_usd_m"]
    if "abandoned_usd_m" in a:
        accounted = accounted + np.cumsum(a["abandoned_usd_m"])
    if not _close(realised, accounted, realised[-1]):
        out.append("money not conserved: cumulative realised != disbursed + pipeline "
                   "+ abandoned")
    if np.any(realised > np.cumsum(a["committed_usd_m"]) + 1e-6):
        out.append("more money realised than committed")
    return out


def _network_and_firms(a: dict[str, np.ndarray]) -> list[str]:
    """Stocks that only grow; km are started, then open, never lost; no negative firms."""
    out = []
    for name in ("expressway_km", "highway_km", "rural_road_km", "rail_km",
                 "serviced_land_km2", "people_resettled", "people_left_poverty",
                 "workers_trained", "people_reentered_poverty", "poverty_programme_exits"):
        if name in a and np.any(np.diff(a[name]) < -1e-9):
            out.append(f"{name} decreased")
    if np.any(a["firms_operating"] < -1e-9):
        out.append("negative firms operating")
    for name in ("expressway", "rail"):
        under = a.get(f"{name}_under_construction_km")
        if under is None:
            continue
        if np.any(under < -1e-9):
            out.append(f"{name}_under_construction_km negative")
        if np.any(np.diff(a[f"{name}_km"] + under) < -1e-6):
            out.append(f"{name}: open + under construction km decreased")
    if "jobs_infrastructure" in a and np.any(a["jobs_infrastructure"] < -1e-9):
        out.append("negative infrastructure jobs")
    return out


def _land(a: dict[str, np.ndarray], scenario: Scenario) -> list[str]:
    """Land in use within serviced land within the serviceable area."""
    out: list[str] = []
    if "serviced_land_km2" not in a or scenario.land is None:
        return out
    room = scenario.region.area_km2 * scenario.land.serviceable_share
    if np.any(a["land_in_use_km2"] > a["serviced_land_km2"] + 1e-9):
        out.append("land in use above serviced land")
    if np.any(a["serviced_land_km2"] > room * (1 + 1e-9)):
        out.append("serviced land above the serviceable area")
    if np.any(a["land_in_use_km2"] < -1e-9):
        out.append("negative land in use")
    return out


def _people(a: dict[str, np.ndarray], scenario: Scenario) -> list[str]:
    """Households and poor people are conserved; re-entries and programme exits bounded."""
    out: list[str] = []
    if scenario.resettlement is not None:
        cfg = scenario.resettlement
        total = round(cfg.households_to_relocate)
        moved = a["people_resettled"] / cfg.people_per_household
        if not _close(a["households_waiting"] + moved, np.full_like(moved, total), total):
            out.append("households not conserved: waiting + relocated != programme size")
    if scenario.poverty is not None:
        initial = round(scenario.poverty.initial_poor_people)
        if not _close(a["poor_people"] + a["people_left_poverty"] - a["people_reentered_poverty"],
                      np.full_like(a["poor_people"], initial), initial):
            out.append("poor people not conserved: poor + left - re-entered != initial poor")
        if np.any(a["people_reentered_poverty"] > a["people_left_poverty"] + 1e-6 * initial):
            out.append("more people fell back into poverty than had left it")
        if np.any(a["poverty_programme_exits"] > a["people_left_poverty"] + 1e-6 * initial):
            out.append("programme exits above all exits")
        if np.any(a["poor_people"] < 0):
            out.append("negative poor people")
    return out


def violations(arrays: dict[str, np.ndarray], scenario: Scenario,
               classes: Iterable[type[Process]] | None = None) -> list[str]:
    """Every invariant the run breaks (empty when all hold); ``classes``: the run's processes."""
    out: list[str] = []
    a = arrays
    run = list(PROCESSES) if classes is None else classes
    declared = {i.name for c in run if c.present(scenario) for i in c.INDICATORS}
    if set(a) != declared:
        out.append(f"recorded indicators differ from the declared ones: undeclared "
                   f"{sorted(set(a) - declared)}, missing {sorted(declared - set(a))}")
        return out

    out += _money(a) + _network_and_firms(a)
    if np.any(a["employment"] > a["labour_force"] + 1e-9):
        out.append("employment above the labour force")
    if np.any(a["employment"] < 0) or np.any(a["vacancies"] < -1e-9):
        out.append("negative employment or vacancies")

    out += _land(a, scenario) + _people(a, scenario)
    return out


def check(arrays: dict[str, np.ndarray], scenario: Scenario,
          classes: Iterable[type[Process]] | None = None) -> None:
    """Raise :class:`InvariantError` listing every broken invariant."""
    bad = violations(arrays, scenario, classes)
    if bad:
        raise InvariantError(f"scenario '{scenario.name}': " + "; ".join(bad))
