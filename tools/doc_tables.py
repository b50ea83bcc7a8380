"""Regenerate the indicator and parameter tables of docs/model.md from the code and base.yaml.

    python tools/doc_tables.py          # rewrite docs/model.md in place
    python tools/doc_tables.py --check  # exit 1 if docs/model.md is out of date (tests use it)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "model.md"
BASE = REPO / "scenarios" / "base.yaml"
LINE = re.compile(r"^(?P<indent> *)(?:- )?(?P<key>[A-Za-z_][\w]*):\s*(?P<value>[^#]*?)\s*"
                  r"(?:#\s*(?P<note>.*))?$")


def parameter_rows(text: str) -> list[tuple[str, str, str]]:
    """(dotted path, value, note) for every scalar line of a scenario YAML, with its comment."""
    stack: list[tuple[int, str]] = []
    rows = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = LINE.match(raw)
        if not m:
            continue
        indent = len(m.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key, value = m.group("key"), m.group("value")
        if value in ("", ">"):
            stack.append((indent, key))
            continue
        path = ".".join([k for _, k in stack] + [key])
        note = m.group("note") or ""
        value, note = _annotated(value, note)
        rows.append((path, value, note.replace("|", "/")))
    return rows


def _annotated(value: str, note: str) -> tuple[str, str]:
    """A value written with its source as data ({value, source, note, unit}): value and note."""
    if not value.startswith("{"):
        return value, note
    import yaml

    try:
        data = yaml.safe_load(value)
    except yaml.YAMLError:
        return value, note
    if not isinstance(data, dict) or "value" not in data:
        return value, note
    parts = [str(data[k]) for k in ("unit", "source", "note") if k in data] + \
        ([note] if note else [])
    return str(data["value"]), "; ".join(parts)


def parameter_table() -> str:
    out = ["| parameter | base value | unit, source or assumption |", "|---|---|---|"]
    for path, value, note in parameter_rows(BASE.read_text()):
        if path in ("name", "description") or path.startswith(("region.currency", "time.")):
            continue
        out.append(f"| `{path}` | {value.replace('|', '/')} | {note} |")
    return "\n".join(out)


def render() -> str:
    sys.path.insert(0, str(REPO / "sim"))
    from gzsim.indicators import table

    text = DOC.read_text()
    text = _between(text, "indicators", table())
    return _between(text, "parameters", parameter_table())


def _between(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    i, j = text.index(start) + len(start), text.index(end)
    return text[:i] + "\n" + body + "\n" + text[j:]


if __name__ == "__main__":
    new = render()
    if "--check" in sys.argv:
        sys.exit(0 if new == DOC.read_text() else 1)
    DOC.write_text(new)
