"""YAML reading that remembers where every value came from, and pydantic errors made readable.

Scenarios, experiments and calibration files all go through here so that every error a user sees
names the file, the line and the dotted field path, and suggests the closest valid key.
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from gzsim.errors import InputError, Problem
from gzsim.io.readers import read_bytes

Origin = tuple[str, int | None]  # (file, line)
Origins = dict[tuple, Origin]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: ~5x faster, same marks
    """Safe loader with YAML 1.2 core-schema scalars; dates stay strings (the schema parses them).

    PyYAML implements YAML 1.1, where ``02023`` is octal (1043), ``1:30`` base 60 (90),
    ``1_000`` a thousand and ``yes``/``off`` booleans. Here plain scalars resolve as YAML 1.2's
    core schema says: integers ``[-+]?[0-9]+`` (decimal, leading zeros too: ``02023`` is 2023),
    ``0o17`` and ``0x1F``; floats ``1.5``, ``1e6``, ``.inf``, ``.nan``; booleans
    ``true``/``false`` in three spellings; everything else (``1:30``, ``1_000``, ``yes``) is a
    string, which a numeric field then refuses with its path.
    """


_T = "tag:yaml.org,2002:"
_Loader.yaml_implicit_resolvers = {  # YAML 1.1's bool, int, float and timestamp rules dropped
    k: [(tag, rx) for tag, rx in v if tag not in (f"{_T}bool", f"{_T}int", f"{_T}float",
                                                  f"{_T}timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
for _tag, _rx, _first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")):
    _Loader.add_implicit_resolver(_T + _tag, re.compile(_rx), list(_first))


def _construct_int(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> int:
    """An integer as YAML 1.2 reads it (decimal unless ``0o``/``0x``)."""
    text = str(node.value)
    base = {"0o": 8, "0x": 16}.get(text[:2], 10)
    return int(text[2:] if base != 10 else text, base)


_Loader.add_constructor(f"{_T}int", _construct_int)


#: Resource guard: the largest YAML file read, the deepest nesting and the most values built
#: (aliases re-use nodes, so a small file can expand exponentially: an "alias bomb").
MAX_YAML_BYTES = 10_000_000
MAX_DEPTH = 64
MAX_VALUES = 200_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Budget:
    """Counts values built while constructing one document."""

    def __init__(self, file: str) -> None:
        self.file, self.n = file, 0

    def spend(self, node: yaml.Node, depth: int) -> None:
        self.n += 1
        line = node.start_mark.line + 1
        if depth > MAX_DEPTH:
            raise InputError([Problem(f"nesting deeper than {MAX_DEPTH} levels (a limit that "
                                      "protects memory; no gzsim file needs more)",
                                      self.file, line)])
        if self.n > MAX_VALUES:
            raise InputError([Problem(f"the document expands to more than {MAX_VALUES:,} "
                                      "values (aliases expanding exponentially?); refused to "
                                      "protect memory", self.file, line)])

def _construct(node: yaml.Node, loader: _Loader, file: str, path: tuple, origins: Origins,
               budget: _Budget | None = None) -> Any:
    budget = budget or _Budget(file)
    budget.spend(node, len(path))
    origins.setdefault(path, (file, node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        return _construct_mapping(node, loader, file, path, origins, budget)
    if isinstance(node, yaml.SequenceNode):
        return [_construct(n, loader, file, path + (i,), origins, budget)
                for i, n in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _construct_mapping(node: yaml.MappingNode, loader: _Loader, file: str, path: tuple,
                       origins: Origins, budget: _Budget) -> dict:
    """A mapping, with YAML merge keys (``<<: *anchor``): explicit keys win over merged ones."""
    merged: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) \
                else [value_node]
            for src in sources:
                if not isinstance(src, yaml.MappingNode):
                    raise InputError([Problem("a merge key '<<' needs a mapping (or a list of "
                                              "mappings) to merge", file,
                                              src.start_mark.line + 1,
                                              ".".join(map(str, path)) or None)])
                part = _construct_mapping(src, loader, file, path, origins, budget)
                merged.update({k: v for k, v in part.items() if k not in merged})
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise InputError([Problem(f"a mapping key must be a plain value, got "
                                      f"{type(key).__name__}", file, key_node.start_mark.line + 1,
                                      ".".join(map(str, path)) or None)])
        if key in out:
            raise InputError(
                [Problem(f"duplicate key '{key}'", file, key_node.start_mark.line + 1,
                         ".".join(map(str, path + (key,))))],
            )
        origins[path + (key,)] = (file, value_node.start_mark.line + 1)
        out[key] = _construct(value_node, loader, file, path + (key,), origins, budget)
    return {**{k: v for k, v in merged.items() if k not in out}, **out}


def parse_yaml(text: str, file: str, what: str = "file") -> tuple[Any, Origins]:
    """Parse YAML text (from ``file``) with the resource guard; every failure located."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError([Problem("the file contains a NUL byte (binary data?); expected "
                                  "YAML text", file, line)], what=what)
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        origins: Origins = {}
        if node is None:
            return {}, origins
        data = _construct(node, loader, file, (), origins)
    except InputError as e:
        e.what = what
        raise
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else None
        msg = getattr(e, "problem", None) or str(e)
        if isinstance(e, yaml.reader.ReaderError):
            msg = f"unacceptable character #x{e.character:04x} at position {e.position}" \
                if isinstance(e.character, int) else str(e)
        raise InputError([Problem(f"YAML syntax error: {msg}", file, line)], what=what) from None
    except RecursionError:
        raise InputError([Problem(f"nesting deeper than {MAX_DEPTH} levels (a limit that "
                                  "protects memory)", file)], what=what) from None
    except (ValueError, TypeError, OverflowError) as e:  # e.g. a tag's constructor
        raise InputError([Problem(f"YAML error: {e}", file)], what=what) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, origins


def load_yaml(path: str | Path, what: str = "file") -> tuple[Any, Origins]:
    """Read a YAML file; return its data and a map from field path to (file, line).

    Through :func:`gzsim.io.readers.read_bytes`: a regular file (not a FIFO, device, folder or
    symlink loop) of at most :data:`MAX_YAML_BYTES`, then parsed with the resource guard.
    """
    file = str(path)
    try:
        raw = read_bytes(path, f"{what} file", MAX_YAML_BYTES)
    except InputError as e:
        e.what = what
        raise
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError([Problem(f"cannot read {what} file: not UTF-8 text ({e.reason} at "
                                  f"byte {e.start})", file)], what=what) from None
    return parse_yaml(text, file, what)


def deep_merge(base: dict, top: dict) -> dict:
    """Merge nested mappings; values in ``top`` win. Lists and scalars are replaced whole."""
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def origin_of(origins: Origins, path: tuple) -> Origin:
    """The (file, line) of a path, or of its closest ancestor that has one."""
    path = tuple(path)
    while path:
        if path in origins:
            return origins[path]
        path = path[:-1]
    return origins.get((), (None, None))


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that owns the last element of ``loc``."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        f = current.model_fields.get(part)
        if f is None:
            return None
        ann = f.annotation
        # unwrap Optional / dict[str, X] / list[X] / Annotated
        for _ in range(4):
            args = typing.get_args(ann)
            origin = typing.get_origin(ann)
            if origin in (dict,) and args:
                ann = args[-1]
                if isinstance(part, str) and loc.index(part) + 1 < len(loc) - 1:
                    pass
            elif args and not (isinstance(ann, type) and issubclass(ann, BaseModel)):
                cands = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
                ann = cands[0] if cands else args[0]
            else:
                break
        current = ann
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _fmt_value(v: Any) -> str:
    s = repr(v)
    return s if len(s) < 60 else s[:57] + "..."


def problems_from_validation(
    exc: ValidationError, origins: Origins, model: type[BaseModel], default_file: str | None = None
) -> list[Problem]:
    """Turn a pydantic ValidationError into located, actionable problems."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # pydantic puts union/tagged-choice names into loc; keep only real data keys
        file, line = origin_of(origins, loc)
        path = ".".join(str(p) for p in loc) or None
        kind = err["type"]
        msg = err["msg"]
        if kind == "extra_forbidden":
            owner = _model_at(model, loc)
            valid = sorted(owner.model_fields) if owner else []
            near = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
            msg = f"unknown key '{loc[-1]}'"
            if near:
                msg += f" (did you mean '{near[0]}'?)"
            elif valid:
                msg += f"; valid keys here: {', '.join(valid)}"
        elif kind == "missing":
            msg = "required field is missing"
        else:
            if "input" in err and kind not in ("value_error", "assertion_error"):
                msg += f" (got {_fmt_value(err['input'])})"
            if kind == "value_error" and msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
        problems.append(Problem(msg, file or default_file, line, path))
    return problems
