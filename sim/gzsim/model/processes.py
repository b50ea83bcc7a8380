"""The model's processes, listed in one place, in the order of their monthly work.

Each month opens (budgets released, lots started) and closes (monthly accounting, then the
recorder) in this order: the network and land first (investment reads the fiscal stress and the
land they leave), investment before jobs (jobs count this month's money and capital),
resettlement before poverty (relocated people change poverty stocks the same month), jobs after
everything that adds workers. A process from outside the package is passed to
``gzsim.simulate(..., processes=[...])`` and runs after these.
"""

from __future__ import annotations

from gzsim.model.fiscal import FiscalProcess
from gzsim.model.infrastructure import InfrastructureProcess
from gzsim.model.investment import InvestmentProcess
from gzsim.model.jobs import JobsProcess
from gzsim.model.land import LandProcess
from gzsim.model.poverty import PovertyProcess
from gzsim.model.process import Process
from gzsim.model.resettlement import ResettlementProcess
from gzsim.model.training import TrainingProcess

__all__ = ["PROCESSES"]

PROCESSES: tuple[type[Process], ...] = (
    InfrastructureProcess,
    LandProcess,
    InvestmentProcess,
    ResettlementProcess,
    PovertyProcess,
    TrainingProcess,
    JobsProcess,
    FiscalProcess,
)
