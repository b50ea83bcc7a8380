"""Load a scenario: read YAML, follow ``extends``, apply ``--set`` overrides, validate.

Every error names the file, the line and the field path (see :mod:`gzsim.io.yamlio`).
"""

from __future__ import annotations

import difflib
import typing
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gzsim.errors import InputError, Problem, ScenarioError, ScenarioWarning
from gzsim.io.yamlio import (
    Origins,
    deep_merge,
    load_yaml,
    origin_of,
    parse_yaml,
    problems_from_validation,
)
from gzsim.scenario.checks import scenario_issues, split
from gzsim.scenario.schema import Scenario
from gzsim.scenario.sources import chain_files, find_fitted, in_project, unwrap_sources

OVERRIDE_ORIGIN = "--set"
MAX_EXTENDS = 32  # files in one 'extends' chain
MAX_OVERRIDE_CHARS = 100_000  # one --set value


def _apply_fitted(data: dict, origins: Origins, path: Path) -> dict:
    """Apply ``fitted_values: FILE`` — calibrated parameters kept in one generated file.

    The file (written by ``gzsim calibrate``) has a ``values:`` mapping of dotted paths to
    numbers; they override this scenario file's own values, and are in turn overridden by any
    file that extends it and by ``--set``.
    """
    ref = data.pop("fitted_values", None)
    if ref is None:
        return data
    file, line = origins.get(("fitted_values",), (str(path), None))
    fitted_path = find_fitted(str(ref), path, file, line)
    try:
        fitted, fitted_origins = load_yaml(fitted_path, what="fitted values")
    except InputError as e:
        raise ScenarioError([Problem(f"fitted_values: {p.message}", p.file, p.line or line,
                                     "fitted_values") for p in e.problems]) from None
    values = fitted.get("values") if isinstance(fitted, dict) else None
    if not isinstance(values, dict):
        raise ScenarioError([Problem("expected a 'values:' mapping of dotted paths to numbers",
                                     str(fitted_path), 1, "values")])
    data = apply_overrides(data, origins, {k: v for k, v in values.items()})
    for k in values:
        origins[tuple(str(k).split("."))] = fitted_origins.get(("values", k), (str(fitted_path),
                                                                               None))
    return data


def _apply_posterior(data: dict, path: Path) -> dict:
    """Top-level ``posterior: FILE`` and ``assumptions: FILE`` -> ``run.*``.

    Each is resolved against this file (else the same name in the project).
    """
    for key in ("posterior", "assumptions"):
        ref = data.pop(key, None)
        if ref is None:
            continue
        here = path.parent / str(ref)  # else the same name in the project (a copied scenario)
        found = here if here.exists() else (in_project(str(ref)) or here)
        data = {**data, "run": {**(data.get("run") or {}), key: str(found.resolve())}}
    return data


def _read_chain(path: Path, seen: tuple[Path, ...]) -> tuple[dict, Origins]:
    """Read a file and everything it extends, merged (the extending file wins)."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as e:  # RuntimeError: a symlink loop (Python < 3.13)
        why = "a symbolic link loop" if isinstance(e, RuntimeError) or "loop" in str(e) else e
        raise ScenarioError([Problem(f"cannot resolve the path: {why}", str(path))]) from None
    if real in seen:
        chain = " -> ".join(str(p) for p in (*seen, real))
        raise ScenarioError([Problem(f"'extends' cycle: {chain}", str(path), None, "extends")])
    if len(seen) >= MAX_EXTENDS:
        raise ScenarioError([Problem(
            f"'extends' chain longer than {MAX_EXTENDS} files (it starts at {seen[0]}); a "
            "scenario extends a few files at most", str(path), None, "extends")])
    try:
        data, origins = load_yaml(path, what="scenario")
    except InputError as e:
        raise ScenarioError(e.problems) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(f"expected a mapping of scenario fields, got {type(data).__name__}",
                     str(path), 1)]
        )
    parent = data.pop("extends", None)
    data = _apply_fitted(data, origins, path)
    data = _apply_posterior(data, path)
    if parent is None:
        return data, origins
    if not isinstance(parent, str):
        file, line = origins.get(("extends",), (str(path), None))
        raise ScenarioError([Problem("'extends' must be a file path", file, line, "extends")])
    parent_path = (path.parent / parent)
    if not parent_path.exists():
        file, line = origins.get(("extends",), (str(path), None))
        raise ScenarioError(
            [Problem(f"extended file '{parent}' not found (looked in {parent_path.parent})",
                     file, line, "extends")]
        )
    base, base_origins = _read_chain(parent_path, (*seen, real))
    merged_origins = dict(base_origins)
    merged_origins.update({k: v for k, v in origins.items() if k != ("extends",)})
    return deep_merge(base, data), merged_origins


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Parse ``a.b.c=value``; the value is read as YAML (numbers, booleans, lists...)."""
    if "=" not in text:
        raise ScenarioError(
            [Problem(f"override '{text}' must look like key.path=value", OVERRIDE_ORIGIN)]
        )
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not p for p in key.split(".")):
        raise ScenarioError([Problem(f"override '{text}' has an empty key", OVERRIDE_ORIGIN)])
    if len(raw) > MAX_OVERRIDE_CHARS:
        raise ScenarioError([Problem(f"the value is {len(raw):,} characters long; the limit "
                                     f"is {MAX_OVERRIDE_CHARS:,}", OVERRIDE_ORIGIN, None, key)])
    try:  # the file reader's guard: nesting, alias expansion, NUL bytes, YAML 1.2 numbers
        value = parse_yaml(raw, f"{OVERRIDE_ORIGIN} {key}", "override")[0] \
            if raw.strip() else None
    except InputError as e:
        raise ScenarioError([Problem(p.message, p.file, None, key)
                             for p in e.problems]) from None
    return tuple(key.split(".")), value


def apply_overrides(
    data: dict, origins: Origins, overrides: Mapping[str, Any] | Iterable[str] | None
) -> dict:
    """Set dotted paths in a scenario mapping, creating intermediate mappings as needed."""
    if isinstance(overrides, (str, bytes)):
        raise ScenarioError([Problem(
            f"overrides must be a mapping {{'key.path': value}} or a list of 'key.path=value' "
            f"strings, not a single string (did you mean [{str(overrides)[:60]!r}]?)",
            OVERRIDE_ORIGIN)])
    if not overrides:
        return data
    if not isinstance(overrides, (Mapping, list, tuple)):
        raise ScenarioError([Problem(
            f"overrides must be a mapping {{'key.path': value}} or a list of 'key.path=value' "
            f"strings, got {type(overrides).__name__}", OVERRIDE_ORIGIN)])
    items: list[tuple[tuple[str, ...], Any]]
    if isinstance(overrides, Mapping):
        items = [(tuple(str(k).split(".")), v) for k, v in overrides.items()]
    else:
        items = [parse_override(o) for o in overrides]
    data = deep_merge({}, data)
    for path, value in items:
        _set_path(data, origins, path, value)
    return data


def named_element(items: list, part: str, where: str, whole: str) -> int:
    """Index of the element of ``items`` named ``part`` (a policy by its ``name``), or raise.

    Lists of named mappings (``policies``) are addressed by name in dotted paths:
    ``policies.tax_incentives.levers.tax_incentive_share``.
    """
    names = [it.get("name") for it in items if isinstance(it, dict)]
    if not items:
        raise ScenarioError([Problem(
            f"cannot set '{whole}': the scenario has no {where} (no entry named '{part}'); "
            f"set it in a scenario that has one", OVERRIDE_ORIGIN, None, whole)])
    if len(names) != len(items):
        raise ScenarioError([Problem(
            f"cannot set '{whole}': '{where}' is a list whose elements have no names "
            "(only lists of named entries, such as policies, are addressable)",
            OVERRIDE_ORIGIN, None, whole)])
    if part not in names:
        near = difflib.get_close_matches(part, [str(n) for n in names], n=1, cutoff=0.5)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ScenarioError([Problem(
            f"cannot set '{whole}': '{where}' has no entry named '{part}'{hint}; its "
            f"entries are {', '.join(map(str, names))}", OVERRIDE_ORIGIN, None, whole)])
    return names.index(part)


def _is_list_field(name: str) -> bool:
    """Whether the scenario's top-level field ``name`` is a list (policies, plugins)."""
    field = Scenario.model_fields.get(name)
    return field is not None and typing.get_origin(field.annotation) is list


def _set_path(data: dict, origins: Origins, path: tuple[str, ...], value: Any) -> None:
    """Set one dotted path (lists of named entries addressed by name), copying on the way."""
    node: Any = data
    key_path: list[Any] = []  # the path with list indices (how origins are keyed)
    whole = ".".join(path)
    for i, part in enumerate(path[:-1]):
        here = ".".join(path[: i + 1])
        if isinstance(node, list):
            k = named_element(node, part, ".".join(path[:i]), whole)
            node[k] = dict(node[k])
            node, key_path = node[k], [*key_path, k]
            continue
        nxt = node.get(part)
        key_path.append(part)
        if nxt is None and i == 0 and _is_list_field(part):
            nxt = node[part] = []  # no entries: named_element says so at the next part
        elif nxt is None:  # created by the override: errors inside it are located there
            nxt = node[part] = {}
            origins[tuple(key_path)] = (f"{OVERRIDE_ORIGIN} {whole}", None)
        elif isinstance(nxt, list):
            nxt = node[part] = list(nxt)
        elif not isinstance(nxt, dict):
            raise ScenarioError([Problem(
                f"cannot set '{whole}': '{here}' is not a mapping", OVERRIDE_ORIGIN, None,
                whole)])
        else:
            nxt = node[part] = dict(nxt)
        node = nxt
    if isinstance(node, list):
        raise ScenarioError([Problem(
            f"cannot set '{whole}': name a field of the entry, e.g. '{whole}.levers.LEVER'",
            OVERRIDE_ORIGIN, None, whole)])
    node[path[-1]] = value
    key = (*key_path, path[-1])
    for k in [k for k in origins if k[: len(key)] == key]:
        del origins[k]
    origins[key] = (f"{OVERRIDE_ORIGIN} {whole}", None)


def resolve_scenario_data(
    path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None
) -> tuple[dict, Origins]:
    """The merged, overridden (not yet validated) scenario mapping and where each value is from.

    Values written with their provenance (``{value: ..., source: ...}``) are unwrapped to the
    value (see :mod:`gzsim.scenario.sources`).
    """
    data, origins, _ = _resolve(path, overrides)
    return data, origins


def _resolve(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None
             ) -> tuple[dict, Origins, dict[str, dict[str, str]]]:
    data, origins = _read_chain(Path(path), ())
    data = apply_overrides(data, origins, overrides)
    data, notes = unwrap_sources(data)
    return data, origins, notes


def validate_scenario(data: dict, origins: Origins | None = None,
                      file: str | None = None) -> Scenario:
    """Validate a scenario mapping into a frozen :class:`Scenario`."""
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(problems_from_validation(e, origins or {}, Scenario, file)) from None
    except RecursionError:
        raise ScenarioError([Problem("the scenario is nested too deeply", file)]) from None
    origins = origins or {}
    # without origins (built in code: calibration, designs) the horizon is the caller's choice
    overridden = not origins or any(str(origins.get(k, ("",))[0] or "").startswith(OVERRIDE_ORIGIN)
                     for k in (("time",), ("time", "start"), ("time", "end")))
    errors, warns = split(scenario_issues(sc), overridden)
    if errors:
        raise ScenarioError(locate(errors, origins, file))
    if origins:  # a user's file (built in code: the caller chose; no noise in loops)
        _warn(locate(warns, origins, file))
    return sc


def _warn(problems: list[Problem]) -> None:
    for p in problems:
        warnings.warn(ScenarioWarning(str(p)), stacklevel=3)


def locate(issues: list[tuple[tuple, str]], origins: Origins,
           file: str | None = None) -> list[Problem]:
    """Cross-field issues as problems with the file and line of the field (or its parent)."""
    out = []
    for path, msg in issues:
        f, line = origin_of(origins, path)
        out.append(Problem(msg, f or file, line, ".".join(map(str, path)) or None))
    return out


def check_scenario(sc: Scenario, replications: int | None = None) -> Scenario:
    """Cross-field checks of an already built scenario (the API path); raises ScenarioError.

    The scenario is validated again as a whole: values changed through the API after
    validation (``model_copy(update=...)``, ``model_construct``) are checked like values in
    files, with the field named. Issues a shortened horizon explains are not errors here (a
    scenario built in code may well run for fewer years than its policies cover).
    """
    if not isinstance(sc, Scenario):
        raise ScenarioError([Problem(
            f"expected a Scenario, got {type(sc).__name__}"
            + (" (a path: load it first with gzsim.load_scenario(path))"
               if isinstance(sc, (str, Path)) else ""))])
    try:  # as a file's values are: model_copy(update=...) and model_construct skip validation
        Scenario.model_validate(sc.model_dump())
    except ValidationError as e:
        raise ScenarioError(problems_from_validation(e, {}, Scenario,
                                                     f"scenario '{sc.name}'")) from None
    errors, warns = split(scenario_issues(sc, replications), horizon_overridden=True)
    if errors:
        raise ScenarioError(locate(errors, {}, f"scenario '{sc.name}'"))
    return sc


def load_scenario(
    path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None
) -> Scenario:
    """Load, merge, override and validate a scenario file.

    >>> s = load_scenario("scenarios/base.yaml", overrides={"investment.growth_rate_per_year": 0.1})
    >>> s.investment.growth_rate_per_year
    0.1
    """
    if not isinstance(path, (str, Path)):
        raise ScenarioError([Problem(f"expected the path of a scenario file, got "
                                     f"{type(path).__name__}")])
    data, origins, notes = _resolve(path, overrides)
    scenario = validate_scenario(data, origins, str(path))
    given = list(overrides.items()) if isinstance(overrides, Mapping) else list(overrides or [])
    scenario._provenance = {
        "files": chain_files(path), "overrides": [str(o) if isinstance(o, str) else
                                                  f"{o[0]}={o[1]}" for o in given],
        "sources": notes}
    return scenario


def check_design_points(base_data: dict, points: Iterable[tuple[int, Mapping[str, Any]]],
                        what: str = "design point") -> None:
    """Validate the scenario of each ``(index, overrides)``; refuse with the first invalid one."""
    for i, overrides in points:
        try:
            validate_scenario(apply_overrides(base_data, {}, dict(overrides)), {}, None)
        except ScenarioError as e:
            values = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
            raise ScenarioError([Problem(f"{what} {i} ({values}) gives an invalid scenario: "
                                         f"{p}") for p in e.problems]) from None


def parent_path(scenario: Scenario) -> Path | None:
    """The file ``scenario`` extends (as loaded by :func:`load_scenario`), None if none."""
    files = (getattr(scenario, "_provenance", None) or {}).get("files", [])
    return next((Path(f["path"]) for f in files if f.get("role") == "extends"), None)


def load_parent(scenario: Scenario) -> Scenario | None:
    """The scenario ``scenario`` extends, with the same ``--set`` overrides; None if none."""
    path = parent_path(scenario)
    if path is None:
        return None
    overrides = (getattr(scenario, "_provenance", None) or {}).get("overrides", [])
    return load_scenario(path, overrides=list(overrides))
