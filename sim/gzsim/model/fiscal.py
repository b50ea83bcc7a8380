"""The fiscal cost of incentive policies: firms' taxes forgone on operating capital.

``cost = tax_incentive_share x tax rate x operating capital / 12`` per month, where the tax rate
is ``fiscal.tax_usd_m_per_usd_m_operating_per_year`` and the share is the incentive lever in
force (0 without an incentive policy).
"""

from __future__ import annotations

from gzsim.model.process import Indicator, Process


class FiscalProcess(Process):
    """Books the revenue forgone by tax incentives (district scale)."""

    name = "fiscal"
    section = "fiscal"
    READS = ("investment",)
    INDICATORS = (
        Indicator("fiscal_cost_usd_m", "US$ m/month", "district", "flow",
                  "fiscal cost of incentive policies that month (tax revenue forgone)"),
    )

    def indicators(self, month: int) -> dict[str, float]:
        """Taxes forgone this month on the capital then operating."""
        incentive = self.d.levers(month).tax_incentive_share
        if incentive == 0:
            return {"fiscal_cost_usd_m": 0.0}
        rate = self.cfg.tax_usd_m_per_usd_m_operating_per_year
        return {"fiscal_cost_usd_m": incentive * rate * self.investment.operating_usd_m() / 12}
