"""gzsim — a regional investment scenario simulator (SimPy), calibrated first to Gui An.

The Python API that the CLI and notebooks share::

    import gzsim
    sc = gzsim.load_scenario("scenarios/base.yaml", overrides={"run.replications": 5})
    res = gzsim.simulate(sc, replications=5, seed=1)
    res.series      # one row per replication and month
    res.summary()   # median and 90 % interval at milestone years
"""

__version__ = "0.1.0"

from gzsim.errors import ScenarioError, UserError  # noqa: E402
from gzsim.execution import ExecutionOptions  # noqa: E402
from gzsim.experiments import read_sweep, run_sweep  # noqa: E402
from gzsim.results import Result, read_results  # noqa: E402
from gzsim.run import simulate  # noqa: E402
from gzsim.scenario import Scenario, load_scenario  # noqa: E402

__all__ = ["ExecutionOptions", "Result", "Scenario", "ScenarioError", "UserError",
           "__version__", "load_scenario", "read_results", "read_sweep", "run_sweep", "simulate"]
