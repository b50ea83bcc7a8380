"""gzsim — a regional investment scenario simulator (SimPy), calibrated first to Gui An.

The Python API that the CLI and notebooks share::

    import gzsim
    sc = gzsim.load_scenario("scenarios/base.yaml", overrides={"run.replications": 5})
    res = gzsim.simulate(sc, replications=5, seed=1)
    res.series      # one row per replication and month
    res.summary()   # median and 90 % interval at milestone years
"""

import importlib

__version__ = "0.1.0"

# Names resolve on first use (PEP 562), so `gzsim run` imports only its own path: the sweep
# machinery and pandas cost ~0.3 s of a command whose target is 1.5 s (issue 13).
_API = {"ExecutionOptions": "gzsim.execution", "Result": "gzsim.results",
        "read_results": "gzsim.results", "read_sweep": "gzsim.experiments",
        "run_sweep": "gzsim.experiments", "simulate": "gzsim.run",
        "Scenario": "gzsim.scenario", "load_scenario": "gzsim.scenario",
        "ScenarioError": "gzsim.errors", "UserError": "gzsim.errors"}

__all__ = ["ExecutionOptions", "Result", "Scenario", "ScenarioError", "UserError",
           "__version__", "load_scenario", "read_results", "read_sweep", "run_sweep", "simulate"]


def __getattr__(name: str):
    """Import the module behind a public name the first time it is used."""
    if name not in _API:
        raise AttributeError(f"module 'gzsim' has no attribute {name!r}")

    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
