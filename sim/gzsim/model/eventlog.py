"""The entity event log: what happened to which project, segment, lot or housing package, when.

Off by default: the model holds ``log = None`` and each entity event costs one ``if`` then.
When on, an event appends ``(time, kind, id, event, sector, size_usd_m, type, km)`` to one list
per column; attributes an entity does not have are ``None``. :meth:`EventLog.payload` turns
them into NumPy columns in time order (:class:`EventColumns`: what a worker sends back, made,
pickled and written to Parquet without pandas, whose import costs a process ~0.3 s CPU);
:meth:`EventLog.frame` into a DataFrame (categorical columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "EventColumns", "EventLog", "empty_events"]

COLUMNS = ("time", "kind", "id", "event", "sector", "size_usd_m", "type", "km")
_CATEGORICAL = ("kind", "event", "sector", "type")


class EventLog:
    """Entity events of one replication, kept column by column (see the module).

    Columns of plain values rather than one tuple per event: a run keeps ~11,000 events, and
    that many long-lived tuples would make every full garbage collection of the run slower.
    """

    __slots__ = ("columns", "_appends")

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        self._appends = tuple(col.append for col in self.columns.values())

    def add(self, time: float, kind: str, entity: int, event: str, sector: str | None,
            size_usd_m: float | None, type_: str | None, km: float | None) -> None:
        """Record one entity event."""
        t, k, i, e, s, z, y, m = self._appends
        t(time)
        k(kind)
        i(entity)
        e(event)
        s(sector)
        z(size_usd_m)
        y(type_)
        m(km)

    def __len__(self) -> int:
        return len(self.columns["time"])

    def payload(self) -> EventColumns:
        """The events as :class:`EventColumns`, in the order they happened (time, then log)."""
        cols = self.columns
        order = np.argsort(np.asarray(cols["time"], dtype=float), kind="stable")
        values: dict[str, np.ndarray] = {}
        categories: dict[str, tuple[str, ...]] = {}
        for c in COLUMNS:
            if c in _CATEGORICAL:  # codes into the sorted names; -1: none
                names = sorted({v for v in cols[c] if v is not None})
                index = {n: i for i, n in enumerate(names)}
                kind = np.int8 if len(names) < 128 else np.int32
                codes = np.fromiter((index.get(v, -1) for v in cols[c]), kind, len(cols[c]))
                values[c], categories[c] = codes[order], tuple(names)
            else:  # (None becomes NaN)
                values[c] = np.asarray(cols[c], dtype=np.int64 if c == "id" else float)[order]
        return EventColumns(values, categories)

    def frame(self) -> pd.DataFrame:
        """The events as a DataFrame, in the order they happened (time, then logging order)."""
        return self.payload().frame()


@dataclass(frozen=True)
class EventColumns:
    """One replication's events in time order, column by column (:data:`COLUMNS`).

    ``values``: NumPy arrays; a name column (kind, event, sector, type) as integer codes into
    ``categories[column]`` (sorted; -1: none).
    """

    values: dict[str, np.ndarray]
    categories: dict[str, tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.values["time"])

    def frame(self) -> pd.DataFrame:
        """The events as a DataFrame (categorical name columns, NaN for missing numbers)."""
        import pandas as pd  # start-up: only when the log is on, a plain run needs no pandas

        if not len(self):
            return empty_events()
        return pd.DataFrame({c: pd.Categorical.from_codes(v, self.categories[c])
                             if c in self.categories else v for c, v in self.values.items()})


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd  # start-up: a plain run needs no pandas

    df["time"] = df["time"].astype(float)
    df["id"] = df["id"].astype(np.int64)
    for c in ("size_usd_m", "km"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in _CATEGORICAL:
        df[c] = df[c].astype("category")
    return df


def empty_events() -> pd.DataFrame:
    """An event table with no rows (and the columns' types)."""
    import pandas as pd  # start-up: a plain run needs no pandas

    return _typed(pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS}))
