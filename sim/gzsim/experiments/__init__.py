"""Experiments: designs over scenario parameters, run on any executor, stored resumably.

Execution itself (options, executors, the sweep's loop) is :mod:`gzsim.execution`. The
three public ways to run: :func:`gzsim.simulate` (one scenario),
:func:`gzsim.analysis.compare.compare` (a comparison) and :func:`run_sweep` (an experiment).

- :mod:`~gzsim.experiments.spec`     experiment files -> :class:`Experiment` (located errors)
- :mod:`~gzsim.experiments.design`   factors -> design points (scipy.stats.qmc, SALib)
- :mod:`~gzsim.experiments.store`    one Parquet file per batch, integrity, resume
- :mod:`~gzsim.experiments.sweep`    :func:`run_sweep`: what is not done yet, on any executor
- :mod:`~gzsim.experiments.reader`   :func:`read_sweep`: runs, series, scalars, xarray
"""

from gzsim.execution import ExecutionOptions
from gzsim.experiments.design import Design, make_design
from gzsim.experiments.reader import Sweep, read_sweep
from gzsim.experiments.spec import Experiment, experiment_from_data, load_experiment
from gzsim.experiments.sweep import SweepResult, run_sweep

__all__ = ["Design", "ExecutionOptions", "Experiment", "Sweep", "SweepResult",
           "experiment_from_data", "load_experiment", "make_design", "read_sweep", "run_sweep"]
