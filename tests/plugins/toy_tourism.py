"""A toy process added the way a modeller would add one: this module, its section, its YAML.

Tourist arrivals rise with the district's accessibility:
``arrivals ~ Poisson(visitors_per_month * accessibility ** access_elasticity)``.
Nothing else in gzsim is edited for it to appear in results, comparisons and sweeps: it is
passed in Python, ``gzsim.simulate(scenario, processes=[TourismProcess])``
(tests/test_process_contract.py).
"""

from __future__ import annotations

from gzsim.model.process import Indicator, Process
from gzsim.model.processes import register
from gzsim.scenario.types import Frozen, NonNeg


class Tourism(Frozen):
    """The ``tourism:`` section of a scenario."""

    visitors_per_month: NonNeg  # visitors a month at the start's accessibility
    access_elasticity: NonNeg = 1.0  # how strongly better links draw visitors


@register
class TourismProcess(Process):
    """Visitors drawn to the district by its accessibility."""

    name = "tourism"
    section = "tourism"
    config = Tourism
    READS = ("infrastructure",)  # connected by the district: None in a run without roads
    STREAMS = ("tourism.arrivals",)
    INDICATORS = (
        Indicator("tourist_arrivals", "visitors/month", "district", "flow",
                  "visitors arriving in the district that month"),
    )

    def __init__(self, district):
        super().__init__(district)
        self.arrivals = 0.0
        self._rng = self.rng("tourism.arrivals")

    def step(self, month: int) -> None:
        """Draw this month's arrivals from the accessibility reached by the end of it."""
        net = self.infrastructure
        access = net.accessibility() if net is not None else 1.0
        mean = self.cfg.visitors_per_month * access ** self.cfg.access_elasticity
        self.arrivals = float(self._rng.poisson(mean))

    def indicators(self, month: int) -> dict[str, float]:
        """This month's arrivals."""
        return {"tourist_arrivals": self.arrivals}
