"""Counts drawn by inversion of one uniform, so that draws are monotone in their parameters.

With common random numbers a lever that raises a Poisson rate or a binomial size must never
produce fewer arrivals or hires; ``rng.poisson`` and ``rng.binomial`` consume a varying number
of uniforms and cannot promise that. Inversion of the CDF can: for a fixed uniform the count
never decreases when the rate or the number of trials increases. Small counts are found by a
sequential search of the CDF (a few microseconds in pure Python); large ones by scipy.special's
continuous inverses ``pdtrik``/``bdtrik`` (the smallest integer above the continuous root is
the quantile, since the continuous CDF interpolates the discrete one monotonically). Binomials
with variance above 400 (hundreds of hires a month) use the normal quantile with a continuity
correction, ``floor(np + z sqrt(npq) + 1/2)``: within two hires of the exact quantile,
monotone in n there, and ~10x cheaper than ``bdtrik`` (hires are drawn every month).
"""

from __future__ import annotations

import math
from statistics import NormalDist

from scipy.special import bdtrik, pdtrik

_SMALL = 60  # below this mean (or number of trials) the sequential search is cheaper
_NORMAL_VAR = 400.0  # binomial variance above which the normal quantile is used (bdtrik is slow)
_INV_NORMAL = NormalDist().inv_cdf


def poisson_inverse(u: float, lam: float) -> int:
    """Poisson(lam) quantile of ``u``: nondecreasing in ``lam`` for a fixed ``u``."""
    if lam <= 0 or u <= 0:
        return 0
    if lam >= _SMALL:
        k = pdtrik(u, lam)
        return 0 if math.isnan(k) else max(0, math.ceil(k))
    p = math.exp(-lam)
    c, k = p, 0
    while c < u:
        k += 1
        p *= lam / k
        c += p
        if p == 0.0:  # u within rounding of 1
            break
    return k


def binomial_inverse(u: float, n: int, p: float) -> int:
    """Binomial(n, p) quantile of ``u``: nondecreasing in ``n`` and ``p`` for a fixed ``u``."""
    if n <= 0 or p <= 0 or u <= 0:
        return 0
    if p >= 1:
        return n
    var = n * p * (1.0 - p)
    if var >= _NORMAL_VAR:  # normal approximation: quantile within two of the exact quantile
        z = _INV_NORMAL(min(max(u, 1e-16), 1 - 1e-16))
        return min(n, max(0, math.floor(n * p + z * math.sqrt(var) + 0.5)))
    if n >= _SMALL:
        k = bdtrik(u, n, p)
        return n if math.isnan(k) else min(n, max(0, math.ceil(k)))
    q = 1.0 - p
    pk = q ** n
    c, k = pk, 0
    while c < u and k < n:
        pk *= (n - k) / (k + 1) * p / q
        k += 1
        c += pk
    return k
