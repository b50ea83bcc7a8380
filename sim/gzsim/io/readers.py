"""One way to read a data file: library errors become located user errors, never tracebacks.

YAML goes through :func:`gzsim.io.yamlio.load_yaml` (lines, field paths, resource guard); this
module does the same for the files gzsim writes and reads back (JSON manifests, Parquet series,
CSV tables): a missing, empty, truncated or foreign file is a :class:`~gzsim.errors.UserError`
naming the file and what was expected.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

from gzsim.errors import InputError, Problem

MAX_JSON_BYTES = 200_000_000  # a manifest is a few kB; this only protects memory


def _fail(path: Path, what: str, why: str) -> InputError:
    return InputError([Problem(f"cannot read {what}: {why}", str(path))], what=what)


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def regular_file(path: str | Path, what: str = "file") -> os.stat_result:
    """The ``stat`` of ``path`` if it is a regular file (links followed); else a user error.

    The one gate every file gzsim reads passes: a FIFO or a device would block or never end,
    a folder is not a file, a symlink loop never resolves. The message names the file.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _fail(path, what, "file not found") from None
    except OSError as e:
        why = "a symbolic link loop (the link points back to itself)" \
            if e.errno == errno.ELOOP else (e.strerror or str(e))
        raise _fail(path, what, why) from None
    except (RuntimeError, ValueError) as e:  # ValueError: an embedded NUL byte in the path
        raise _fail(path, what, str(e)) from None
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise _fail(path, what, f"it is {kind}, not a regular file")
    return st


def read_bytes(path: str | Path, what: str = "file", max_bytes: int = 200_000_000) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`regular_file`).

    Opened without blocking and checked again once open, so a FIFO swapped in after the check
    cannot hang the read.
    """
    path = Path(path)
    st = regular_file(path, what)
    if st.st_size > max_bytes:
        raise _fail(path, what, f"the file is {st.st_size:,} bytes; the limit is "
                                f"{max_bytes:,} bytes")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise _fail(path, what, "it stopped being a regular file while being opened")
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise _fail(path, what, e.strerror or str(e)) from None
    if len(data) > max_bytes:
        raise _fail(path, what, f"the file grew past the limit of {max_bytes:,} bytes")
    return data


def _size(path: Path, what: str) -> int:
    return regular_file(path, what).st_size


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """Parse a JSON file; errors name the file, line and column."""
    path = Path(path)
    size = _size(path, what)
    if size == 0:
        raise _fail(path, what, "the file is empty")
    if size > MAX_JSON_BYTES:
        raise _fail(path, what, f"{size:,} bytes is over the {MAX_JSON_BYTES:,}-byte limit")
    try:
        text = read_bytes(path, what, MAX_JSON_BYTES).decode("utf-8")
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
    # start-up: pandas loads only when needed (the run path avoids it, issue 13)
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
    # start-up: pandas loads only when needed (the run path avoids it, issue 13)
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
