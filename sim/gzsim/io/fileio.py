"""One way to write a file: temporary name, fsync, rename, so a crash never leaves half a file.

Every writer in gzsim (run results, sweep stores, calibration outputs) goes through here, and so
does the one list of library versions that provenance records.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import tempfile
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from gzsim import __version__

__all__ = ["arrow_array", "atomic_write", "atomic_write_bytes", "library_versions", "write_json",
           "parquet_appender", "write_parquet", "write_parquet_stream",
           "write_parquet_table"]


def atomic_write(path: Path, write: Callable[[str], Any], exclusive: bool = False) -> None:
    """Call ``write(tmp_path)``, fsync, then rename to ``path``: never a half-written file.

    ``exclusive``: create ``path`` only if it does not exist (``link(2)`` of the temporary file,
    which fails like ``O_EXCL`` with :class:`FileExistsError`), never replace it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if exclusive:
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""

    def w(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)

    atomic_write(path, w, exclusive)


def write_json(obj: Any, path: Path) -> None:
    """JSON, indented, atomically, written piece by piece.

    The text ``json.dumps`` would make, without all of it in memory (a run's manifest grows
    with its replications).
    """

    def w(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, default=str)

    atomic_write(path, w)


def write_parquet_table(table: Any, path: Path) -> None:
    """A pyarrow table as zstd Parquet, atomically."""
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow.parquet as pq

    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_parquet_stream(tables: Iterable[Any], schema: Any, path: Path) -> None:
    """Tables of one ``schema`` into one zstd Parquet file as they come, atomically."""
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow.parquet as pq

    def write(tmp: str) -> None:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
            for t in tables:
                w.write_table(t)

    atomic_write(path, write)


@contextlib.contextmanager
def parquet_appender(path: Path) -> Iterator[Callable[[Any], None]]:
    """Yield ``append(table)``: tables of one schema (the first's) into one zstd Parquet file.

    Written under a temporary name, fsynced and renamed at a normal exit (never half a file);
    removed on an exception. Nothing is written if nothing was appended.
    """
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    writer: list[Any] = []

    def append(table: Any) -> None:
        if not writer:
            writer.append(pq.ParquetWriter(tmp, table.schema, compression="zstd"))
        writer[0].write_table(table)

    try:
        yield append
        if writer:
            writer.pop().close()
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
    finally:
        for w in writer:
            with contextlib.suppress(Exception):
                w.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def arrow_array(v: np.ndarray, valid: np.ndarray | None = None):
    """A pyarrow array over a NumPy array's memory, as ``pa.array`` makes it.

    ``valid``: where the values are present (elsewhere: null). (``pa.array`` would import
    pandas only to ask whether ``v`` is a pandas object: the run path imports no pandas.)
    """
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    v = np.ascontiguousarray(v)
    kind = pa.from_numpy_dtype(v.dtype)
    if v.dtype.kind == "M":
        kind, v = pa.timestamp(np.datetime_data(v.dtype)[0]), v.view("int64")
    nulls, bitmap = 0, None
    if valid is not None and not valid.all():
        nulls = int(len(v) - valid.sum())
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(kind, len(v), [bitmap, pa.py_buffer(v)], null_count=nulls)


def write_parquet(df: Any, path: Path) -> None:
    """A pandas frame as Parquet (no index), atomically."""
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    write_parquet_table(pa.Table.from_pandas(df, preserve_index=False), path)


def library_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of gzsim, Python and the libraries a result depends on (plus ``extra``)."""
    out = {"gzsim": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "scipy", "simpy", "pandas", "click", *extra):
        with contextlib.suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    return out
