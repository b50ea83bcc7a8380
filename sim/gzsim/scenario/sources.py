"""Where a scenario's numbers come from: source notes as data, and the files it was read from.

A parameter may be written with its provenance as data instead of (or as well as) a comment::

    area_km2: {value: 250, unit: km2, source: '[plan] "a 250 km2 district"'}
    vacancy_fill_share_per_month: {value: 0.3, note: assumption, unit: share per month}

The loader keeps the value for validation and the rest (``source``, ``note``, ``unit``) in a
map from dotted path to note (:func:`unwrap_sources`), which ``gzsim check --sources`` prints
and run manifests record. :func:`chain_files` lists every file a scenario was read from (the
``extends`` chain and the ``fitted_values`` files) so manifests can hash them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gzsim.errors import Problem, ScenarioError

# the files were parsed and checked already (with line numbers): here only a few keys are read
# again, with LibYAML's parser where PyYAML has it (several times faster than the pure-Python one)
_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

NOTE_KEYS = ("source", "note", "unit")


def is_annotated(node: Any) -> bool:
    """A ``{value: ..., source/note/unit: ...}`` mapping (the value with its provenance)."""
    return isinstance(node, dict) and "value" in node and len(node) > 1 \
        and set(node) <= {"value", *NOTE_KEYS}


def unwrap_sources(data: Any, prefix: str = "") -> tuple[Any, dict[str, dict[str, str]]]:
    """Replace every annotated value by its value; return the notes by dotted path."""
    notes: dict[str, dict[str, str]] = {}
    if is_annotated(data):
        notes[prefix] = {k: str(data[k]) for k in NOTE_KEYS if k in data}
        return data["value"], notes
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            out[k], sub = unwrap_sources(v, f"{prefix}.{k}" if prefix else str(k))
            notes.update(sub)
        return out, notes
    if isinstance(data, list):
        items = []
        for i, v in enumerate(data):
            item, sub = unwrap_sources(v, f"{prefix}.{i}")
            items.append(item)
            notes.update(sub)
        return items, notes
    return data, notes


def in_project(ref: str) -> Path | None:
    """The file ``ref`` names (leading ``../`` dropped) inside the gzsim project, if any."""
    parts = [p for p in Path(ref).parts if p not in ("..", ".")]
    project = Path(__file__).resolve().parents[3]  # sim/gzsim/scenario -> the project root
    for k in range(len(parts)):
        candidate = project.joinpath(*parts[k:])
        if candidate.is_file():
            return candidate
    return None


def find_fitted(ref: str, path: Path, file: str, line: int | None) -> Path:
    """Where ``fitted_values: REF`` points.

    Relative to the scenario file first, else the same name in the gzsim project, so a copied
    ``base.yaml`` still finds ``calibration/fitted.yaml``.
    """
    here = path.parent / ref
    if here.exists() or Path(ref).is_absolute():
        return here
    found = in_project(ref)
    if found is not None:
        return found
    project = Path(__file__).resolve().parents[3]
    raise ScenarioError([Problem(
        f"fitted_values: '{ref}' not found (looked for {here} and under {project}). Give its "
        "path relative to this scenario file or an absolute path (e.g. fitted_values: "
        "/path/to/calibration/fitted.yaml), copy the fitted file next to the scenario, or "
        "remove the fitted_values: line to use the scenario's own values", file, line,
        "fitted_values")])


def chain_files(path: str | Path) -> list[dict[str, str]]:
    """Every file a scenario is read from, in order: the file, what it extends, fitted values.

    Each entry: ``path`` (resolved) and ``role`` (``scenario``, ``extends``,
    ``fitted_values``). Assumes the scenario loaded (its errors were reported already).
    """
    out: list[dict[str, str]] = []
    p, role, seen = Path(path), "scenario", set()
    while p is not None and p.resolve() not in seen:
        seen.add(p.resolve())
        out.append({"path": str(p.resolve()), "role": role})
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=_FAST) or {}
        if not isinstance(data, dict):
            break
        if data.get("fitted_values") is not None:
            fitted = find_fitted(str(data["fitted_values"]), p, str(p), None)
            out.append({"path": str(fitted.resolve()), "role": "fitted_values"})
        for role in ("posterior", "assumptions"):
            if isinstance(data.get(role), str):
                found = p.parent / data[role]
                found = found if found.exists() else (in_project(data[role]) or found)
                if found.is_file():
                    out.append({"path": str(found.resolve()), "role": role})
        parent = data.get("extends")
        p, role = (p.parent / parent, "extends") if isinstance(parent, str) else (None, "")
    return out
