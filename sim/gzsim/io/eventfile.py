"""A run's entity event log as one table, and its file ``events.parquet``, streamed or whole.

Each replication's log (``EventLog.payload``: time, kind, id, event, sector, size_usd_m, type,
km as NumPy columns) becomes rows of one table with the replication and the month's date in
front, built as Arrow without pandas (a worker and `gzsim run`'s driver import none). `gzsim run
--events` writes it with :class:`EventStream`, a row group per batch of replications in
replication order, so the driver holds a window of logs, not all of them (a base replication
logs about 11,000 events: 2,000 replications are 22 million rows). A frame read back has the
categories an in-memory :func:`event_table` of the same logs has (sorted), whatever the row
groups' own dictionaries were.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gzsim.io.fileio import arrow_array, parquet_appender
from gzsim.io.readers import read_parquet

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CATEGORICAL", "EventStream", "arrow_of_frame", "arrow_of_logs", "event_schema",
           "event_table", "read_events"]

#: columns whose values repeat (stored as Parquet dictionaries, read as pandas categories)
CATEGORICAL = ("kind", "event", "sector", "type")


def event_table(logs: list[tuple[int, Any]], dates: np.ndarray) -> pd.DataFrame:
    """Replications' event logs as one frame: replication, time, date, then the log's columns.

    What :func:`read_events` gives for the file :class:`EventStream` writes from the same logs
    (:func:`arrow_of_logs`).
    """
    return _sorted_categories(arrow_of_logs(logs, dates).to_pandas())


def arrow_of_logs(logs: list[tuple[int, Any]], dates: np.ndarray):
    """Replications' event logs as one pyarrow table of :func:`event_schema`, without pandas.

    ``logs``: (replication, its :class:`~gzsim.model.eventlog.EventColumns`) in replication
    order; ``dates``: the month starts (``time`` t falls in month ``int(t)``, clipped to the
    run). Missing sizes and lengths are nulls; names are dictionaries of the sorted names.
    """
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    values = [log.values for _, log in logs]
    sizes = np.array([len(v["time"]) for v in values], dtype=np.int64)
    time = np.concatenate([v["time"] for v in values]).astype(float)
    month = np.clip(time.astype(int), 0, len(dates) - 1)
    columns = {"replication": arrow_array(np.repeat(np.array([k for k, _ in logs], np.int64),
                                                    sizes)),
               "time": arrow_array(time), "date": arrow_array(dates[month])}
    for name in event_schema().names[3:]:
        if name in CATEGORICAL:
            columns[name] = _names(logs, name)
        else:
            v = np.concatenate([x[name] for x in values])
            columns[name] = arrow_array(v, valid=~np.isnan(v) if v.dtype.kind == "f" else None)
    return pa.Table.from_arrays(list(columns.values()), schema=event_schema())


def _names(logs: list[tuple[int, Any]], name: str):
    """One name column of the logs as a dictionary array over the sorted names of them all."""
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    names = sorted(set().union(*(log.categories[name] for _, log in logs)))
    index = {n: i for i, n in enumerate(names)}
    codes = np.concatenate([  # each log's codes into the union (-1, none, stays -1)
        np.append(np.array([index[n] for n in log.categories[name]], np.int32), -1)[
            log.values[name].astype(np.int32)] for _, log in logs])
    text = [n.encode() for n in names]
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in text])]).astype(np.int32)
    dictionary = pa.Array.from_buffers(pa.string(), len(names), [
        None, pa.py_buffer(offsets), pa.py_buffer(b"".join(text))])
    return pa.DictionaryArray.from_arrays(arrow_array(codes, valid=codes >= 0), dictionary)


def event_schema():
    """The one Arrow schema of every row group of a streamed ``events.parquet``.

    Fixed, not taken from the first batch: a batch whose ``type`` is all missing, or one with
    more than 127 names, must not change a column's type between row groups.
    """
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    names = pa.dictionary(pa.int32(), pa.string())
    return pa.schema([("replication", pa.int64()), ("time", pa.float64()),
                      ("date", pa.timestamp("us")), ("kind", names), ("id", pa.int64()),
                      ("event", names), ("sector", names), ("size_usd_m", pa.float64()),
                      ("type", names), ("km", pa.float64())])


def arrow_of_frame(frame: pd.DataFrame):
    """An event table as a pyarrow table of :func:`event_schema` (what ``events.parquet`` holds).

    A frame with other columns (one a user extended) keeps the types pyarrow infers.
    """
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    schema = event_schema()
    if list(frame.columns) != schema.names:
        return pa.Table.from_pandas(frame, preserve_index=False)
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def read_events(path: Path) -> pd.DataFrame:
    """An ``events.parquet`` as a frame; categories sorted (as :func:`event_table` makes them).

    A missing, empty or corrupt file is a user error naming it (:func:`read_parquet`).
    """
    return _sorted_categories(read_parquet(path, what="event log"))


def _sorted_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its name columns' categories sorted (row groups' dictionaries differ)."""
    for c in CATEGORICAL:
        if c in frame.columns and frame[c].dtype == "category":
            frame[c] = frame[c].cat.reorder_categories(sorted(frame[c].cat.categories))
    return frame


class EventStream:
    """A run's event log written batch by batch into ``path`` (``events.parquet``).

    Each :meth:`add` (the next replications' logs, in replication order) becomes one row group
    of :func:`event_schema`; the logs are not kept. Nothing is written when nothing was added
    (a run without the log, or every replication failed); the file appears, whole, at a normal
    exit only (:func:`gzsim.io.fileio.parquet_appender`).
    """

    def __init__(self, path: Path, dates: np.ndarray):
        self.path, self.dates = Path(path), dates
        self.written = 0  # replications whose logs are in the file
        self._append: Callable[[Any], None] | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> EventStream:
        self._append = self._stack.enter_context(parquet_appender(self.path))
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)

    def add(self, logs: list[tuple[int, Any]]) -> None:
        """Write the next replications' logs ((replication, its ``EventColumns``), in order)."""
        if not logs:
            return
        self._append(arrow_of_logs(logs, self.dates))
        self.written += len(logs)
