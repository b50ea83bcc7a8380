"""Dotted scenario paths (``investment.realisation_share``): is one a settable value?

Experiments set scenario values by dotted path (factors and ``set``); this says, against the
scenario schema and the base scenario's data, why a path cannot be set (a typo, a group of
fields, an unknown entry of a list), with a did-you-mean. Lists of named entries (policies)
are addressed by name: ``policies.tax_incentives.levers.tax_incentive_share``.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel

from gzsim.scenario.schema import Scenario
from gzsim.scenario.sections import registered_sections


def _unwrap(ann: Any) -> Any:
    """Strip Annotated / Optional from a type annotation."""
    for _ in range(6):
        origin = typing.get_origin(ann)
        if origin is Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann
            ann = args[0]
        else:
            return ann
    return ann


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """Field annotations of a schema part; the scenario's include registered process sections."""
    out = {k: f.annotation for k, f in model.model_fields.items()}
    if model is Scenario:
        out.update(registered_sections())
    return out


def check_scenario_path(path: str, data: dict, model: type[BaseModel] = Scenario) -> str | None:
    """Why ``path`` is not a settable scalar of the scenario, or None if it is."""
    parts = path.split(".")
    current: Any = model
    node: Any = data
    for i, part in enumerate(parts):
        here = ".".join(parts[: i + 1])
        ann = _unwrap(current)
        origin = typing.get_origin(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            fields = _fields(ann)
            if part not in fields:
                near = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.5)
                hint = f" (did you mean '{'.'.join(parts[:i] + [near[0]])}'?)" if near else \
                    f"; valid keys here: {', '.join(sorted(fields))}"
                return f"'{here}' is not a scenario field{hint}"
            current = fields[part]
            node = node.get(part) if isinstance(node, dict) else None
        elif origin is dict:
            keys = sorted(node) if isinstance(node, dict) else []
            if part not in keys:
                near = difflib.get_close_matches(part, keys, n=1, cutoff=0.5)
                hint = f" (did you mean '{'.'.join(parts[:i] + [near[0]])}'?)" if near else \
                    f"; the base scenario has {', '.join(keys) or 'none'}"
                return f"'{here}' does not exist in the base scenario{hint}"
            current = typing.get_args(ann)[-1]
            node = node[part]
        elif origin is list:
            names = [e.get("name") for e in node if isinstance(e, dict)] \
                if isinstance(node, list) else []
            if not names:
                return (f"'{'.'.join(parts[:i])}' is a list without named entries in the "
                        "base scenario; only named entries (policies by name) are addressable")
            if part not in names:
                near = difflib.get_close_matches(part, [str(n) for n in names], n=1,
                                                 cutoff=0.5)
                hint = f" (did you mean '{'.'.join(parts[:i] + [near[0]])}'?)" if near else \
                    f"; its entries are {', '.join(map(str, names))}"
                return f"'{'.'.join(parts[:i])}' has no entry named '{part}'{hint}"
            current = typing.get_args(ann)[0]
            node = node[names.index(part)]
        else:
            return f"'{'.'.join(parts[:i])}' is a value, not a mapping; cannot set '{here}'"
    leaf = _unwrap(current)
    if (isinstance(leaf, type) and issubclass(leaf, BaseModel)) or \
            typing.get_origin(leaf) in (dict, list):
        return f"'{path}' is a group of fields, not a single value; name one of its fields"
    return None
