"""A policy's whole public cost against the scenario it is compared with, line by line.

The model books every line of public money it knows (:mod:`gzsim.model.fiscal`): road and rail,
resettlement housing, land servicing, training (trainees x a unit cost) and taxes forgone; their
sum is ``public_cost_usd_m``. A policy's cost is the paired difference of that sum from its base,
cumulated from the start to the end of each year: what the policy spends through its own
levers (its YAML ``cost:`` names the line of each lever) and what it makes other lines spend
(induced, e.g. land serviced for the firms it attracts). The extra taxes due on the extra
operating capital (``tax_revenue_usd_m`` plus what incentives forgo, so the forgone taxes are
not counted twice) are a separate line, never netted from the cost.

Present values discount each month's extra cost to the month the policy starts at the base's
``fiscal.discount_rate_per_year``; a flow effect is discounted the same way, a stock effect (a
level in a year) is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gzsim.aggregate import matrix

TOTAL = "public_cost_usd_m"
REVENUE = "tax_revenue_usd_m"
LEGACY = "fiscal_cost_usd_m"  # results written before public_cost_usd_m: taxes forgone only
#: The lines of the public cost (gzsim.model.fiscal.PUBLIC_COST_LINES) and how to say them.
LINES = {"infrastructure_spending_usd_m": "road and rail budget (province)",
         "housing_spending_usd_m": "resettlement housing (province)",
         "land_spending_usd_m": "land servicing (district)",
         "training_spending_usd_m": "training places (district)",
         "fiscal_cost_usd_m": "taxes forgone (district)"}


def months_from(start: str, n: int, origin: str) -> np.ndarray:
    """Months elapsed since ``origin`` ('YYYY-MM') for ``n`` months from ``start``."""
    y0, m0 = (int(x) for x in start[:7].split("-"))
    y1, m1 = (int(x) for x in origin[:7].split("-"))
    return np.arange(n) + (y0 - y1) * 12 + (m0 - m1)


def cumulative_by_year(v: np.ndarray, start: str, years: list[int]) -> np.ndarray:
    """Replication x year: ``v`` (replication x month) summed from the start to each December."""
    y0, m0 = (int(x) for x in start[:7].split("-"))
    cum = np.nancumsum(v, axis=1)
    idx = [min((y - y0) * 12 + (12 - m0), v.shape[1] - 1) for y in years]
    return cum[:, idx]


def discount(start: str, n: int, origin: str, rate: float) -> np.ndarray:
    """Monthly discount factors to ``origin`` at ``rate`` a year."""
    return (1.0 + rate) ** (-months_from(start, n, origin) / 12.0)


def monthly_diff(base: pd.DataFrame, other: pd.DataFrame, indicator: str,
                 pairs: list[int]) -> tuple[str, np.ndarray]:
    """(first month, replication x month) of other - base over the paired replications."""
    ra, start, a = matrix(base, indicator)
    rb, _, b = matrix(other, indicator)
    ia, ib = ra.get_indexer(pairs), rb.get_indexer(pairs)
    return start, b[ib] - a[ia]


@dataclass
class PolicyCost:
    """Replication x year frames of one policy's extra public money against its base."""

    total: pd.DataFrame  # cumulative extra public cost, undiscounted (US$ m)
    pv: pd.DataFrame  # the same, each month discounted to ``origin``
    rate: float
    origin: str  # 'YYYY-MM' the present values are at (the policy's start)
    lines: dict[str, pd.DataFrame] = field(default_factory=dict)  # per line, undiscounted
    declared: dict[str, str] = field(default_factory=dict)  # line -> the lever it pays for
    revenue: pd.DataFrame | None = None  # cumulative extra taxes due (separate)
    what: str = TOTAL  # the indicator the total is (LEGACY for older results)

    def discounted(self, base: pd.DataFrame, other: pd.DataFrame, indicator: str,
                   pairs: list[int], years: list[int]) -> pd.DataFrame:
        """A flow's cumulative extra amount, discounted like the cost."""
        start, d = monthly_diff(base, other, indicator, pairs)
        f = discount(start, d.shape[1], self.origin, self.rate)
        return pd.DataFrame(cumulative_by_year(d * f, start, years), index=pairs,
                            columns=years)


def _frame(base: pd.DataFrame, other: pd.DataFrame, indicator: str, pairs: list[int],
           years: list[int], factor: np.ndarray | None = None) -> pd.DataFrame:
    start, d = monthly_diff(base, other, indicator, pairs)
    if factor is not None:
        d = d * factor
    return pd.DataFrame(cumulative_by_year(d, start, years), index=pairs, columns=years)


def policy_cost(base: pd.DataFrame, other: pd.DataFrame, pairs: list[int], years: list[int],
                policies: list[dict], rate: float, run_start: str) -> PolicyCost | None:
    """The policy's extra public money, or None when the results book no public cost."""
    what = TOTAL if TOTAL in base and TOTAL in other else \
        LEGACY if LEGACY in base and LEGACY in other else None
    if what is None or not pairs:
        return None
    start, d = monthly_diff(base, other, what, pairs)
    starts = sorted(str(p.get("start")) for p in policies if p.get("start"))
    origin = starts[0] if starts else (run_start or start)
    f = discount(start, d.shape[1], origin, rate)
    cost = PolicyCost(_frame(base, other, what, pairs, years),
                      _frame(base, other, what, pairs, years, f), rate, origin, what=what)
    cost.declared = {line: lever for p in policies for lever, line in
                     (p.get("cost") or {}).items()}
    for line in LINES:
        if line in base and line in other and what == TOTAL:
            cost.lines[line] = _frame(base, other, line, pairs, years)
    if REVENUE in base and REVENUE in other:  # taxes due: paid plus forgone (not the cost)
        cost.revenue = _frame(base, other, REVENUE, pairs, years)
        if LEGACY in base and LEGACY in other:
            cost.revenue = cost.revenue + _frame(base, other, LEGACY, pairs, years)
    return cost


def cost_note(cost: PolicyCost, year: int) -> str:
    """One sentence: the public cost to ``year``, line by line, and the extra tax revenue."""
    parts = []
    for line, f in cost.lines.items():
        v = float(f[year].mean())
        if abs(v) < 0.05 and line not in cost.declared:
            continue
        why = f"lever {cost.declared[line]}" if line in cost.declared else "induced"
        parts.append(f"{LINES[line]} {v:+,.1f} ({why})")
    total = float(cost.total[year].mean())
    text = (f"Public cost to {year}, US$ m: {total:+,.1f} in all"
            + (f" = {'; '.join(parts)}" if parts else "")
            + f"; present value at {cost.origin} ({cost.rate:.0%}/year) "
              f"{float(cost.pv[year].mean()):+,.1f}.")
    if cost.revenue is not None:
        text += (f" Extra taxes due on the extra operating capital (separate, not netted): "
                 f"{float(cost.revenue[year].mean()):+,.1f}.")
    return text
