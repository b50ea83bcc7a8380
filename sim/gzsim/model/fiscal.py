"""The public purse: taxes forgone and collected, and the whole public cost of a month.

- ``fiscal_cost_usd_m``: taxes forgone by incentives, ``tax_incentive_share x tax rate x
  operating capital / 12`` (the rate is ``fiscal.tax_usd_m_per_usd_m_operating_per_year``);
- ``tax_revenue_usd_m``: the taxes the district's operating firms still pay (the rest);
- ``training_spending_usd_m``: trainees starting a course that month x
  ``fiscal.training_usd_m_per_trainee`` (the model has no training budget, so a unit cost);
- ``public_cost_usd_m``: every line of public money the model books, summed: road and rail
  (province), resettlement housing (province), land servicing, training and taxes forgone
  (district). A policy's whole public cost is its difference from the scenario it extends
  (``gzsim compare``); extra tax revenue is a separate line, never netted from it.
"""

from __future__ import annotations

from gzsim.model.process import Indicator, Process

#: The lines of ``public_cost_usd_m`` (a policy's ``cost:`` names one per lever).
PUBLIC_COST_LINES = ("infrastructure_spending_usd_m", "housing_spending_usd_m",
                     "land_spending_usd_m", "training_spending_usd_m", "fiscal_cost_usd_m")


class FiscalProcess(Process):
    """Books taxes forgone and collected, training money, and the month's public cost."""

    name = "fiscal"
    section = "fiscal"
    READS = ("investment", "infrastructure", "resettlement", "land", "training")
    INDICATORS = (
        Indicator("fiscal_cost_usd_m", "US$ m/month", "district", "flow",
                  "fiscal cost of incentive policies that month (tax revenue forgone)"),
        Indicator("tax_revenue_usd_m", "US$ m/month", "district", "flow",
                  "taxes the district's operating firms pay that month (after incentives)"),
        Indicator("training_spending_usd_m", "US$ m/month", "district", "flow",
                  "cost of the training courses started that month (trainees x unit cost)"),
        Indicator("public_cost_usd_m", "US$ m/month", "province", "flow",
                  "public money of that month, every line the model books: the province's "
                  "road and rail and resettlement housing budgets, the district's land "
                  "servicing and training, and taxes forgone (a policy's whole cost is its "
                  "difference from the scenario it extends)"),
    )

    def _spending(self, month: int) -> float:
        """Road and rail, housing and land money released this month (0 where absent)."""
        infra = self.infrastructure.released_usd_m[month] if self.infrastructure else 0.0
        housing = self.resettlement.spending_usd_m if self.resettlement else 0.0
        land = self.land.spending_usd_m if self.land else 0.0
        return infra + housing + land

    def _trainees(self, month: int) -> int:
        """Trainees who started a course this month."""
        q = self.training.in_course if self.training else ()
        return q[-1][1] if q and q[-1][0] == month else 0

    def indicators(self, month: int) -> dict[str, float]:
        """Taxes forgone and paid on the capital operating, training money, public cost."""
        share = self.d.levers(month).tax_incentive_share
        taxes = self.cfg.tax_usd_m_per_usd_m_operating_per_year \
            * self.investment.operating_usd_m() / 12
        training = self._trainees(month) * self.cfg.training_usd_m_per_trainee
        forgone = share * taxes
        return {"fiscal_cost_usd_m": forgone, "tax_revenue_usd_m": taxes - forgone,
                "training_spending_usd_m": training,
                "public_cost_usd_m": self._spending(month) + training + forgone}
