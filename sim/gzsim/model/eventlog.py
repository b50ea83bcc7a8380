"""The entity event log: what happened to which project, segment, lot or housing package, when.

Off by default: the model holds ``log = None`` and each entity event costs one ``if`` then.
When on, an event appends ``(time, kind, id, event, sector, size_usd_m, type, km)`` to one list
per column; attributes an entity does not have are ``None``. :meth:`EventLog.frame`
turns the rows into a DataFrame (categorical columns, so Parquet stores dictionaries).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "EventLog", "empty_events"]

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

    def frame(self) -> pd.DataFrame:
        """The events as a DataFrame, in the order they happened (time, then logging order)."""
        import pandas as pd  # start-up: only when the log is on, a plain run needs no pandas

        if not len(self):
            return empty_events()
        df = pd.DataFrame(self.columns)
        df = df.sort_values("time", kind="stable", ignore_index=True)
        return _typed(df)


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
