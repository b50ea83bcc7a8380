"""One way to read a data file: library errors become located user errors, never tracebacks.

YAML goes through :func:`gzsim.io.yamlio.load_yaml` (lines, field paths, resource guard); this
module does the same for the files gzsim writes and reads back (JSON manifests, Parquet series,
CSV tables): a missing, empty, truncated or foreign file is a :class:`~gzsim.errors.UserError`
naming the file and what was expected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gzsim.errors import InputError, Problem

MAX_JSON_BYTES = 200_000_000  # a manifest is a few kB; this only protects memory


def _fail(path: Path, what: str, why: str) -> InputError:
    return InputError([Problem(f"cannot read {what}: {why}", str(path))], what=what)


def _size(path: Path, what: str) -> int:
    try:
        if path.is_dir():
            raise _fail(path, what, "it is a folder, expected a file")
        return path.stat().st_size
    except FileNotFoundError:
        raise _fail(path, what, "file not found") from None
    except OSError as e:
        raise _fail(path, what, e.strerror or str(e)) from None


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """Parse a JSON file; errors name the file, line and column."""
    path = Path(path)
    size = _size(path, what)
    if size == 0:
        raise _fail(path, what, "the file is empty")
    if size > MAX_JSON_BYTES:
        raise _fail(path, what, f"{size:,} bytes is over the {MAX_JSON_BYTES:,}-byte limit")
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text)
    except UnicodeDecodeError as e:
        raise _fail(path, what, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise InputError([Problem(f"cannot read {what}: invalid JSON ({e.msg}, column "
                                  f"{e.colno})", str(path), e.lineno)], what=what) from None
    except RecursionError:
        raise _fail(path, what, "nesting too deep") from None
    except OSError as e:
        raise _fail(path, what, e.strerror or str(e)) from None


def read_parquet(path: str | Path, what: str = "Parquet file", columns: list[str] | None = None):
    """A Parquet file as a pandas frame; a corrupt or empty file is a user error."""
    import pandas as pd
    import pyarrow as pa

    path = Path(path)
    if _size(path, what) == 0:
        raise _fail(path, what, "the file is empty (an interrupted write?)")
    try:
        return pd.read_parquet(path, columns=columns)
    except (pa.ArrowException, OSError, ValueError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise _fail(path, what, f"not a readable Parquet file ({first})") from None


def read_csv(path: str | Path, what: str = "CSV file"):
    """A CSV file as a pandas frame; malformed input is a user error."""
    import pandas as pd

    path = Path(path)
    if _size(path, what) == 0:
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError, ValueError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise _fail(path, what, f"not a readable CSV table ({first})") from None
