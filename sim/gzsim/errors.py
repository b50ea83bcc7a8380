"""Typed exceptions raised at the boundary between gzsim and its users.

A :class:`UserError` is a mistake a user can fix (a bad file, a bad value, a bad option): the CLI
prints its message and exits with status 2, never a traceback. Anything else is a bug (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    message: str
    file: str | None = None
    line: int | None = None
    path: str | None = None  # dotted field path, e.g. "investment.growth_rate"

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "")
        field_ = f"field '{self.path}'" if self.path else ""
        head = ", ".join(p for p in (where, field_) if p)
        return f"{head}: {self.message}" if head else self.message


class UserError(Exception):
    """Base class for every error caused by user input (exit code 2)."""


@dataclass
class InputError(UserError):
    """A file or value the user supplied is invalid; carries every problem found."""

    problems: list[Problem] = field(default_factory=list)
    what: str = "input"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        lines = [f"Invalid {self.what} ({n} problem{'s' if n != 1 else ''}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ScenarioError(InputError):
    """A scenario file (or an override of one) is invalid."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems=problems, what="scenario")


class ExperimentError(InputError):
    """An experiment (sweep / sensitivity) file is invalid."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems=problems, what="experiment")


class TargetsError(InputError):
    """A calibration targets or calibration spec file is invalid."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems=problems, what="calibration file")


class ArgumentError(UserError, ValueError):
    """An argument of the Python API (or a CLI option) is out of range or of the wrong type."""


class ScenarioWarning(UserWarning):
    """Something in a valid scenario that has no effect: said, not refused.

    E.g. a policy that starts after a horizon shortened with ``--set time.end=...``.
    """


class AllRunsFailed(UserError):
    """Every replication of a run, or every run of a sweep session, failed (exit status 1).

    A valid input the model cannot run: the first error is quoted (a sweep's are recorded in
    ``runs.parquet``), and the command exits non-zero instead of reporting an empty result.
    ``result``: a run's :class:`~gzsim.results.Result` holding its failures, set by
    :func:`gzsim.run.simulate` so they can be saved as data (``gzsim run`` does).
    """

    result = None


class ModelError(RuntimeError):
    """The model reached a state it should never reach (an invariant broke)."""
