"""The mutation table: every scenario field x {missing, wrong type, negative, zero, inf, NaN,
huge, bool, string}, each through the loader, counted as a located error or an accepted value.

The fields come from the schema itself (walking the pydantic models alongside a valid document),
so a field another engineer adds is mutated without anyone touching this file. An accepted
mutation must have a reason it is valid (an optional field left out, a value inside the field's
declared range, free text); one without a reason is a finding.

    .venv/bin/python -m tests.fuzzing          # prints the counts and every accepted mutation
"""

from __future__ import annotations

import copy
import math
import typing
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from gzsim.errors import ScenarioError
from gzsim.io.yamlio import load_yaml
from gzsim.scenario import load_scenario
from gzsim.scenario.loader import resolve_scenario_data, validate_scenario
from gzsim.scenario.schema import Scenario

REPO = Path(__file__).resolve().parents[1]
MUTATIONS = ("missing", "wrong type", "negative", "zero", "inf", "NaN", "huge", "bool", "string")
HUGE = 1e300


def fuzz_base() -> dict:
    """base.yaml resolved, on a 3-year horizon, with a policy that sets every lever."""
    data, _ = resolve_scenario_data(REPO / "scenarios" / "base.yaml")
    data = yaml.safe_load(yaml.safe_dump(data))
    data["time"] = {"start": "2012-01", "end": "2014-12", "milestone_years": [2013, 2014]}
    data["run"] = {"replications": 2, "seed": 7}
    if data.get("infrastructure"):
        data["infrastructure"]["plans"] = [{"name": "p", "segment_type": "highway",
                                            "add_km": 100, "start": "2012-06",
                                            "by": "2014-06"}]
    sector = next(iter(data["sectors"]))
    data["policies"] = [{"name": "all_levers", "question": "q", "start": "2013-01",
                         "end": "2014-06", "levers": {
                             "tax_incentive_share": 0.1, "infrastructure_budget_multiplier": 1.1,
                             "housing_budget_multiplier": 1.1, "land_budget_multiplier": 1.1,
                             "investment_rate_multiplier": 1.0,
                             "sector_weight_multipliers": {sector: 1.2},
                             "max_pollution_class": 3, "training_places_per_year": 100.0}}]
    return data


def _unwrap(ann: Any) -> Any:
    """The model class or container type behind Optional / Annotated."""
    for _ in range(5):
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if origin is typing.Annotated:
            ann = args[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            non_none = [a for a in args if a is not type(None)]
            ann = non_none[0] if len(non_none) == 1 else ann
            if len(non_none) != 1:
                break
        else:
            break
    return ann


@dataclass(frozen=True)
class Field_:
    """A field of the document: its path, declared type and pydantic info (None: a list item)."""

    path: tuple
    annotation: Any
    info: Any
    present: bool


def fields(data: Any, model: Any = Scenario, path: tuple = ()) -> list[Field_]:
    """Every field of ``data`` (present) and of its models (absent, optional), from the schema."""
    out: list[Field_] = []
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(data, dict):
        for name, info in model.model_fields.items():
            present = name in data
            out.append(Field_(path + (name,), info.annotation, info, present))
            if present:
                out += fields(data[name], info.annotation, path + (name,))
        return out
    origin, args = typing.get_origin(model), typing.get_args(model)
    if origin is dict and isinstance(data, dict):
        for k, v in data.items():
            out.append(Field_(path + (k,), args[-1], None, True))
            out += fields(v, args[-1], path + (k,))
    elif origin is list and isinstance(data, list):
        for i, v in enumerate(data):
            out.append(Field_(path + (i,), args[0], None, True))
            out += fields(v, args[0], path + (i,))
    return out


def mutated(data: dict, f: Field_, mutation: str) -> dict | None:
    """A deep copy of ``data`` with ``mutation`` applied at ``f.path`` (None: not applicable)."""
    doc = copy.deepcopy(data)
    node = doc
    for p in f.path[:-1]:
        node = node[p]
    key = f.path[-1]
    current = node[key] if f.present else None
    if mutation == "missing":
        if not f.present:
            return None
        del node[key]
        return doc
    value = {"negative": -1 if not isinstance(current, float) else -1.5, "zero": 0,
             "inf": math.inf, "NaN": math.nan, "huge": HUGE, "bool": True,
             "string": "not a number"}.get(mutation)
    if mutation == "wrong type":
        value = [1, 2] if not isinstance(current, list) else {"a": 1}
    node[key] = value
    return doc


def reason_accepted(f: Field_, mutation: str, doc: dict) -> str | None:
    """Why an accepted mutation is valid, from the schema; None if there is no reason."""
    ann = _unwrap(f.annotation)
    info = f.info
    if mutation == "missing":
        if info is not None and not info.is_required():
            if info.default_factory is not None:
                return "optional section or list (the schema builds its default)"
            return f"optional field (default {info.get_default()!r})"
        if info is None and isinstance(f.path[-1], int):
            return "a list item; the list stays valid without it"
        if info is None:
            return "an entry of a mapping of named items; the others remain"
        return None
    if ann is str:
        return "free text: any string is a valid value"
    if ann is bool and mutation == "bool":
        return "a yes/no field: true is a valid value"
    if mutation in ("negative", "zero", "huge"):
        value = {"negative": -1, "zero": 0, "huge": HUGE}[mutation]
        lo, hi = _bounds(f)
        if (lo is None or value >= lo) and (hi is None or value <= hi):
            return f"{value:g} is inside the field's declared range [{lo}, {hi}]"
    if mutation == "wrong type" and typing.get_origin(ann) is list:
        return "a list given to a list field (its items are valid values)"
    if mutation == "wrong type" and typing.get_origin(ann) is dict:
        return "a mapping given to a mapping field (its entries are valid values)"
    return None


def _bounds(f: Field_) -> tuple[float | None, float | None]:
    """The declared [low, high] of a field, from every Annotated layer of its type."""
    metadata = list(getattr(f.info, "metadata", []) or [])

    def collect(ann: Any, depth: int = 0) -> None:
        if depth > 6:
            return
        if typing.get_origin(ann) is typing.Annotated:
            metadata.extend(typing.get_args(ann)[1:])
            collect(typing.get_args(ann)[0], depth + 1)
        elif typing.get_origin(ann) not in (list, dict):
            for a in typing.get_args(ann):
                collect(a, depth + 1)

    collect(f.annotation)
    for m in list(metadata):
        metadata.extend(getattr(m, "metadata", None) or [])  # a FieldInfo inside a union
    lo = hi = None
    for m in metadata:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                lo = getattr(m, attr)
        for attr in ("le", "lt"):
            if getattr(m, attr, None) is not None:
                hi = getattr(m, attr)
    return lo, hi


@dataclass
class Row:
    """One tried mutation and what the loader said."""

    path: str
    mutation: str
    outcome: str  # "located error" | "accepted" | "unlocated error"
    detail: str


def try_mutation(doc: dict, origins: dict, file: str) -> tuple[str, str]:
    """Validate a document (located with the base file's origins); (outcome, message or '')."""
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validate_scenario(doc, origins, file)
    except ScenarioError as e:
        located = all(p.file and (p.line or p.path) for p in e.problems)
        return ("located error" if located else "unlocated error"), str(e)
    return "accepted", ""


def mutation_table(folder: Path) -> list[Row]:
    """Every field x every mutation of :data:`MUTATIONS`."""
    base = fuzz_base()
    path = folder / "fuzz_base.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    _, origins = load_yaml(path)
    load_scenario(path)  # the unmutated document is valid
    rows = []
    for f in fields(base):
        for m in MUTATIONS:
            doc = mutated(base, f, m)
            if doc is None:
                continue
            outcome, msg = try_mutation(doc, dict(origins), str(path))
            detail = msg
            if outcome == "accepted":
                detail = reason_accepted(f, m, doc) or "NO REASON"
            rows.append(Row(".".join(map(str, f.path)), m, outcome, detail))
    return rows


def summary(rows: list[Row]) -> str:
    """Counts and the list of accepted mutations with their reasons."""
    c = Counter(r.outcome for r in rows)
    lines = [f"mutations tried: {len(rows)}", f"located error: {c['located error']}",
             f"accepted: {c['accepted']}", f"unlocated error: {c['unlocated error']}", "",
             "accepted mutations (why each is valid):"]
    by_reason: dict[str, list[str]] = {}
    for r in rows:
        if r.outcome == "accepted":
            by_reason.setdefault(r.detail, []).append(f"{r.path} [{r.mutation}]")
    for reason, items in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"- {reason} ({len(items)}): {', '.join(items)}")
    return "\n".join(lines)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(summary(mutation_table(Path(d))))
