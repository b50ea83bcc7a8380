"""Experiments: designs over scenario parameters, run anywhere, stored resumably.

- :mod:`~gzsim.experiments.spec`     experiment files -> :class:`Experiment` (located errors)
- :mod:`~gzsim.experiments.design`   factors -> design points (scipy.stats.qmc, SALib)
- :mod:`~gzsim.experiments.tasks`    what a worker does with a batch of runs
- :mod:`~gzsim.experiments.execute`  one execution layer: serial, processes, any executor, Dask
- :mod:`~gzsim.experiments.store`    atomic Parquet parts, run status, resume
- :mod:`~gzsim.experiments.sweep`    :func:`run_sweep`, :func:`read_sweep`, :func:`run_replications`
"""

from gzsim.experiments.design import Design, make_design
from gzsim.experiments.spec import Experiment, experiment_from_data, load_experiment
from gzsim.experiments.sweep import (
    ReplicationOutput,
    Sweep,
    SweepResult,
    print_stats,
    read_sweep,
    run_replications,
    run_sweep,
    sweep_command_impl,
)

__all__ = ["Design", "Experiment", "ReplicationOutput", "Sweep", "SweepResult",
           "experiment_from_data", "load_experiment", "make_design", "print_stats", "read_sweep",
           "run_replications", "run_sweep", "sweep_command_impl"]
