"""Growth rates fitted with scipy from the figures that observe them.

Each growth observation (a target with ``maps_to: {growth: NAME}``) is a rate in a year with a
stated uncertainty (``tolerance_abs``, read as one standard deviation). For each NAME we fit

- a constant rate ``g(t) = g0``, or, with two or more years,
- a decaying rate ``g(t) = g0 * 2 ** (-(t - t0) / h)``

with :func:`scipy.optimize.curve_fit` (``absolute_sigma=True``: the standard errors come from
the figures' stated uncertainty, so they exist even when the data only just determine the
parameters). With as many parameters as observations the fit passes through the figures; the
report says so instead of presenting it as evidence of a trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from gzsim.calibration.targets import Target


@dataclass(frozen=True)
class GrowthFit:
    """A fitted growth path with its standard errors and the figures behind it."""
    name: str
    model: str  # "constant" or "decaying"
    params: dict[str, float]
    se: dict[str, float]
    observations: list[tuple[str, int, float]]  # (target id, year, rate)
    residuals: list[float]
    note: str

    def rate(self, year: float) -> float:
        """The fitted growth rate in ``year``."""
        if self.model == "constant":
            return self.params["g0"]
        t0 = self.observations[0][1]
        return self.params["g0"] * 2 ** (-(year - t0) / self.params["half_life_years"])


def _constant(t, g0):
    return np.full_like(t, g0, dtype=float)


def fit_growth(name: str, targets: list[Target]) -> GrowthFit:
    """Fit one growth series; decaying when there are two or more distinct years."""
    obs = sorted(((t.id, t.year or t.period[1], t.value, t.tolerance_abs or 0.05)
                  for t in targets), key=lambda o: o[1])
    years = np.array([o[1] for o in obs], dtype=float)
    rates = np.array([o[2] for o in obs])
    sigma = np.array([o[3] for o in obs])
    if len(set(years)) >= 2 and np.all(rates > 0):
        t0 = years[0]

        def decaying(t, g0, h):
            return g0 * 2 ** (-(t - t0) / h)

        popt, pcov = curve_fit(decaying, years, rates, p0=[rates[0], 5.0], sigma=sigma,
                               absolute_sigma=True, bounds=([0, 0.1], [5, 200]))
        model, names = "decaying", ["g0", "half_life_years"]
        fitted = decaying(years, *popt)
    else:
        popt, pcov = curve_fit(_constant, years, rates, p0=[rates.mean()], sigma=sigma,
                               absolute_sigma=True)
        model, names = "constant", ["g0"]
        fitted = _constant(years, *popt)
    se = np.sqrt(np.diag(pcov))
    n, k = len(obs), len(names)
    if n <= k:
        note = (f"{n} observation(s) for {k} parameter(s): the fit passes through the "
                "figures; the standard errors only carry the figures' stated uncertainty "
                "(tolerance_abs as one s.d.) and say nothing about a trend. Treat as uncertain.")
    else:
        note = f"{n} observations, {k} parameters, {n - k} degree(s) of freedom."
    return GrowthFit(name, model, dict(zip(names, map(float, popt), strict=True)),
                     dict(zip(names, map(float, se), strict=True)),
                     [(o[0], int(o[1]), float(o[2])) for o in obs],
                     [float(v) for v in rates - fitted], note)


def fit_all(targets: list[Target]) -> dict[str, GrowthFit]:
    """One fit per growth series named in the targets."""
    groups: dict[str, list[Target]] = {}
    for t in targets:
        name = t.maps_to.growth if t.maps_to is not None and t.maps_to.growth else None
        for n in {name, t.growth_series} - {None}:
            groups.setdefault(n, []).append(t)
    return {name: fit_growth(name, ts) for name, ts in groups.items()}
