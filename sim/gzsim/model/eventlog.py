"""The entity event log: what happened to which project, segment, lot or housing package, when.

Off by default: the model holds ``log = None`` and each entity event costs one ``if`` then.
When on, an event is one tuple appended to a list: ``(time, kind, id, event, sector,
size_usd_m, type, km)``; attributes an entity does not have are ``None``. :meth:`EventLog.frame`
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
    """Rows of entity events of one replication (see the module)."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self) -> pd.DataFrame:
        """The events as a DataFrame, in the order they happened (time, then logging order)."""
        import pandas as pd  # start-up: only when the log is on, a plain run needs no pandas

        if not self.rows:
            return empty_events()
        df = pd.DataFrame.from_records(self.rows, columns=list(COLUMNS))
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
