"""The district: one replication's SimPy environment, its processes wired together, the clock.

The processes are the model's list (:data:`gzsim.model.processes.PROCESSES`) present in the
scenario, then any passed in (``processes=``). Each declares what it reads (``READS``); the
district connects those names explicitly and nothing else: processes never look each other up
through it. It then lets every process make its stocks and launch its generators (``start``),
launches each policy, plan and quota, and runs the clock (:func:`gzsim.model.clock.months`):
months open and close in the list's order, the recorder samples last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import numpy as np
import simpy

from gzsim.model.clock import months
from gzsim.model.constants import once as scenario_once
from gzsim.model.eventlog import EventLog
from gzsim.model.policies import PolicyProcess, PolicySchedule
from gzsim.model.process import Process
from gzsim.model.processes import PROCESSES
from gzsim.model.recorder import Recorder
from gzsim.model.streams import Streams
from gzsim.scenario.schema import Scenario

__all__ = ["District"]

T = TypeVar("T")


class District:
    """One replication of a scenario: the SimPy environment, its processes and their stocks."""

    def __init__(self, scenario: Scenario, root_seed: int, replication: int,
                 processes: Iterable[type[Process]] = (), events: bool = False):
        self.scenario = scenario
        self.n_months = scenario.time.n_months
        self.env = simpy.Environment()
        self.streams = Streams(root_seed, replication)
        self.log: EventLog | None = EventLog() if events else None
        self.levers = self.once("levers", lambda: PolicySchedule(scenario))
        classes = list(PROCESSES) + [c for c in processes if c not in PROCESSES]
        self.classes = [c for c in classes if c.present(scenario)]
        self._procs: dict[str, Process] = {}
        for cls in self.classes:
            if cls.name in self._procs:
                raise ValueError(f"two processes are named {cls.name!r}")
            self._procs[cls.name] = cls(self)
        self.processes: list[Process] = list(self._procs.values())
        for p in self.processes:  # explicit wiring: only what each process declares it reads
            for name in p.READS:
                p.connect(name, self._procs.get(name))
        for p in self.processes:
            p.start(self.env)
        self.policies = PolicyProcess(scenario, self.env, self.log)
        self.policies.start(self.n_months)
        self.recorder = Recorder(self.processes)
        self._clock = self.env.process(months(self.env, self.n_months, self._open, self._close))

    def __getitem__(self, name: str) -> Process:
        """A process of this run by name (KeyError when the scenario does not have it)."""
        return self._procs[name]

    def get(self, name: str) -> Process | None:
        """A process of this run by name, or None."""
        return self._procs.get(name)

    def __iter__(self) -> Iterator[Process]:
        return iter(self.processes)

    def once(self, key: str, compute: Callable[[], T]) -> T:
        """A value that depends only on the scenario: computed once for all its replications.

        See :mod:`gzsim.model.constants`; the value is shared, so it must not be modified.
        """
        return scenario_once(self.scenario, key, compute)

    def _open(self, month: int) -> None:
        for p in self.processes:
            p.open_month(month)

    def _close(self, month: int) -> None:
        """Every process's month-end accounting in the declared order, then the recorder."""
        for p in self.processes:
            p.step(month)
        self.recorder.sample(month)

    def run(self) -> dict[str, np.ndarray]:
        """Run to the horizon; the recorded monthly indicator arrays."""
        self.env.run(until=self._clock)
        return self.recorder.arrays()
