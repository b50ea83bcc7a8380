"""Model discrepancy on forecasts: bands that hold what a backtest says they should.

A backtest (``gzsim backtest``) measures how far the model's forecasts of figures it was not
fitted to fall from them. When its 90 % bands hold too few, the misses estimate a discrepancy
between model and world (in the manner of Kennedy and O'Hagan): on the log scale a normal term
whose variance grows with the years ``h`` since the last fitted month, ``delta^2 h``. A
scenario carries it as ``run.discrepancy``; posterior runs (``gzsim run``, ``compare``) then
multiply each listed indicator ``i`` of replication ``k`` after that month by
``exp(delta_i sqrt(h) z_k)`` (a length never past its network's ceiling), with ``z_k`` drawn
from ``SeedSequence(root, spawn_key=(k, crc32('discrepancy:' + indicator)))``. The draw
depends only on (root seed, replication, indicator): two scenarios run with one seed get the
same factor, so a paired difference is scaled by it, not blurred. The median of each
replication's path is kept (no drift term).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gzsim.model.streams import stream_key
from gzsim.scenario.schema import Scenario, parse_year_month


def factors(scenario: Scenario, root_seed: int, replication: int) -> dict[str, np.ndarray]:
    """The multiplicative factor of each listed indicator, month by month (1 before ``after``)."""
    d = scenario.run.discrepancy
    if d is None:
        return {}
    t = scenario.time
    last = t.month_index(*parse_year_month(d.after))
    h = np.clip((np.arange(t.n_months) - last) / 12.0, 0.0, None)
    out = {}
    for ind, delta in d.relative_sd_per_sqrt_year.items():
        if delta <= 0:
            continue
        rng = np.random.default_rng(np.random.SeedSequence(
            int(root_seed), spawn_key=(int(replication), stream_key(f"discrepancy:{ind}"))))
        out[ind] = np.exp(delta * np.sqrt(h) * rng.standard_normal())
    return out


def ceilings(scenario: Scenario) -> dict[str, float]:
    """Network lengths the discrepancy must not push past their segment type's ``max_km``."""
    infra = scenario.infrastructure
    if infra is None:
        return {}
    return {f"{t}_km": s.max_km for t, s in infra.segment_types.items() if s.max_km is not None}


def apply(scenario: Scenario, root_seed: int, replication: int,
          arrays: dict[str, Any]) -> dict[str, Any]:
    """``arrays`` (one replication) with the discrepancy applied to the listed indicators."""
    f = factors(scenario, root_seed, replication)
    if not f:
        return arrays
    top = ceilings(scenario)
    out = dict(arrays)
    for k, factor in f.items():
        if k in out:
            v = np.asarray(out[k], float) * factor
            out[k] = np.minimum(v, top[k]) if k in top else v
    return out


def describe(scenario: Scenario) -> dict[str, Any] | None:
    """What the manifest records about the discrepancy term (None when off)."""
    d = scenario.run.discrepancy
    if d is None or not any(v > 0 for v in d.relative_sd_per_sqrt_year.values()):
        return None
    return {"relative_sd_per_sqrt_year": dict(d.relative_sd_per_sqrt_year), "after": d.after,
            "source": d.source,
            "scheme": "x exp(delta_i * sqrt(years after) * z), z ~ N(0,1) from SeedSequence("
                      "root_seed, spawn_key=(replication, crc32('discrepancy:' + indicator)))"}
