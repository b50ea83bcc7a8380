"""A stand-in model for tests and benchmarks of the execution layer (not a model of anything).

Same contract as ``gzsim.model.simulate_one``; cost and failures are keyword arguments, bound
with :func:`functools.partial` (which pickles).
"""

from __future__ import annotations

import os
import time

import numpy as np

from gzsim.scenario.schema import Scenario


def standin_model(scenario: Scenario, root_seed: int, replication: int, *, busy_s: float = 0.0,
                  sleep_s: float = 0.0, fail_above_realisation: float | None = None,
                  exit_above_realisation: float | None = None,
                  exit_while_file: str | None = None) -> dict[str, np.ndarray]:
    """Monthly arrays driven by a few scenario values and the replication's random numbers.

    ``busy_s``: CPU time to burn (like a SimPy model, it holds the GIL); ``sleep_s``: time to
    wait; ``fail_above_realisation``: raise ``ValueError`` when the scenario's realisation share
    is above it; ``exit_above_realisation``: kill the worker process (``os._exit``) instead,
    only while the file ``exit_while_file`` exists if that is given (a passing fault).
    """
    share = scenario.investment.realisation_share
    if exit_above_realisation is not None and share > exit_above_realisation and (
            exit_while_file is None or os.path.exists(exit_while_file)):
        os._exit(13)
    if fail_above_realisation is not None and share > fail_above_realisation:
        raise ValueError(f"stand-in model refuses realisation_share={share}")
    t_end = time.perf_counter() + busy_s
    while time.perf_counter() < t_end:  # holds the GIL, like a SimPy model
        pass
    if sleep_s:
        time.sleep(sleep_s)
    n = scenario.time.n_months
    rng = np.random.default_rng(np.random.SeedSequence(entropy=root_seed,
                                                       spawn_key=(replication,)))
    g = scenario.investment.growth_rate_per_year
    trend = (1 + g) ** (np.arange(n) / 12.0)
    noise = rng.gamma(4.0, 0.25, n)
    investment = 100.0 * share * trend * noise
    jobs_direct = np.cumsum(investment) * 2.0
    jobs_indirect = jobs_direct * scenario.jobs.indirect_jobs_per_direct_job
    employment = np.minimum(jobs_direct + jobs_indirect,
                            scenario.labour.initial_labour_force_people)
    jobs_created = np.diff(employment, prepend=0.0)
    return {"investment_usd_m": investment, "jobs_direct": jobs_direct,
            "jobs_indirect": jobs_indirect, "employment": employment,
            "jobs_created": jobs_created}
