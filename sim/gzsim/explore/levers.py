"""Policy levers as form fields, and the scenario file the fields describe.

The fields come from the scenario schema (:class:`gzsim.scenario.schema.Levers`): one per lever,
with its unit and its bounds. What a user types is read exactly as a ``--set`` value is (YAML
scalars, safe loader), put into a scenario mapping that ``extends`` the chosen baseline, written
as YAML and loaded with :func:`gzsim.scenario.load_scenario`, so a bad value gets the CLI's
message (file, line, field path) and the file itself reproduces the run with ``gzsim compare``.
"""

from __future__ import annotations

import hashlib
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gzsim.errors import Problem, ScenarioError
from gzsim.io.fileio import atomic_write_bytes
from gzsim.scenario import load_scenario
from gzsim.scenario.loader import parse_override
from gzsim.scenario.schema import Levers, Scenario

#: What each lever's number measures (the schema's names carry the unit; this says it in words).
UNIT_BY_SUFFIX = [("_share", "share"), ("_multiplier", "× the base"),
                  ("_multipliers", "sector: × the base"), ("_per_year", "per year"),
                  ("_class", "class, 0 clean - 5 heavy")]


@dataclass(frozen=True)
class LeverField:
    """One lever as a form field: its name, unit, bounds (None: unbounded) and kind."""

    name: str
    unit: str
    low: float | None
    high: float | None
    kind: str  # "number", "integer" or "mapping"

    @property
    def label(self) -> str:
        """``Tax incentive share [share, 0-1] (0 - 1)``: name, unit and the schema's bounds."""
        return f"{self.name.replace('_', ' ').capitalize()} [{self.unit}] ({self.bounds})"

    @property
    def bounds(self) -> str:
        """The schema's bounds in words."""
        if self.low is not None and self.high is not None:
            return f"{self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"≥ {self.low:g}"
        return "any" if self.high is None else f"≤ {self.high:g}"


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None]:
    low = high = None
    flat = []
    for m in metadata:  # a Field(ge=...) inside Annotated keeps its constraints in .metadata
        flat += [m, *getattr(m, "metadata", [])]
    for m in flat:
        low = getattr(m, "ge", getattr(m, "gt", None)) if low is None else low
        high = getattr(m, "le", getattr(m, "lt", None)) if high is None else high
    return low, high


def _metadata(annotation: Any) -> list[Any]:
    """Every constraint in an ``Annotated[X | None, ...]`` annotation, nested ones included."""
    out = list(getattr(annotation, "__metadata__", ()))
    for arg in typing.get_args(annotation):
        out += _metadata(arg)
    return out


def lever_fields() -> list[LeverField]:
    """Every lever of the schema as a form field (units from the names, bounds from the types)."""
    out = []
    for name, info in Levers.model_fields.items():
        meta = list(info.metadata) + _metadata(info.annotation)
        low, high = _bounds(meta)
        text = str(info.annotation)
        kind = "mapping" if "dict" in text else "integer" if "int" in text else "number"
        unit = next((u for suffix, u in UNIT_BY_SUFFIX if name.endswith(suffix)), "")
        out.append(LeverField(name, unit, low, high, kind))
    return out


def read_value(text: str, field_path: str) -> Any:
    """A field's text read as a ``--set`` value is (``""``: not set, None)."""
    text = (text or "").strip()
    if not text:
        return None
    if "\n" in text or "\r" in text:
        raise ScenarioError([Problem("one line only", "page", None, field_path)])
    _, value = parse_override(f"{field_path}={text}")
    return value


@dataclass(frozen=True)
class PolicyForm:
    """What the page's policy form holds, as typed (strings)."""

    name: str = "my_policy"
    start: str = "2018-01"
    end: str = ""
    question: str = ""
    indicators: tuple[str, ...] = ()
    levers: tuple[tuple[str, str], ...] = ()  # (lever, text typed)


def policy_document(form: PolicyForm, baseline: Path, inherited: list[dict]) -> dict:
    """The scenario mapping of ``form``: ``extends`` the baseline, adds one policy.

    ``inherited``: the baseline's own policies (a list in YAML is replaced, not merged, by an
    extending file, so they are repeated here to stay in force).
    """
    where = "policies.0"
    levers = {}
    for name, text in form.levers:
        value = read_value(text, f"{where}.levers.{name}")
        if value is not None:
            levers[name] = value
    policy: dict[str, Any] = {"name": form.name.strip(), "start": read_value(form.start,
                                                                           f"{where}.start")}
    if form.end.strip():
        policy["end"] = read_value(form.end, f"{where}.end")
    if form.question.strip():
        policy["question"] = form.question.strip()
    if form.indicators:
        policy["indicators"] = list(form.indicators)
    policy["levers"] = levers
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", form.name.strip()) or "policy"
    return {"extends": str(baseline.resolve()), "name": f"explore_{safe}",
            "description": "Written by gzsim explore: the baseline plus levers set on the page.",
            "policies": [*inherited, policy]}


def document_yaml(doc: dict) -> str:
    """The scenario file's text (safe dump: the values are data, never code)."""
    head = ("# Written by gzsim explore. Reproduce the page's answer with:\n"
            f"#   gzsim compare {doc['extends']} THIS_FILE.yaml -n N --seed S\n")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def write_policy(doc: dict, folder: Path) -> Path:
    """Write the scenario file under ``folder`` (named by its content) and return its path."""
    text = document_yaml(doc)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    path = folder / digest / f"{doc['name']}.yaml"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.encode())
    return path


def inherited_policies(baseline: Scenario) -> list[dict]:
    """The baseline's policies as plain mappings (unset levers left out)."""
    return [p.model_dump(mode="json", exclude_none=True) for p in baseline.policies]


def load_policy(form: PolicyForm, baseline_path: Path, baseline: Scenario,
                folder: Path) -> tuple[Scenario, Path]:
    """Validate the form as the CLI validates a file: a :class:`ScenarioError` names the line.

    Returns the loaded scenario and the file written (the one to download).
    """
    doc = policy_document(form, baseline_path, inherited_policies(baseline))
    path = write_policy(doc, folder)
    return load_scenario(path), path
