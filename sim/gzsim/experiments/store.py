"""The sweep store: plain Parquet files with run status, written so a crash loses nothing done.

Layout of a sweep folder ``DIR``::

    DIR/manifest.json            experiment as resolved, design, seeds, versions (written once)
    DIR/design.parquet           one row per design point: factor values, x:<factor> sample
    DIR/runs.parquet             every planned run: run_id, point, replication, factor values,
                                 seed_entropy, status (ok|failed|pending), error, traceback,
                                 wall_time_s, worker, scalar outcomes (rewritten at the end of
                                 each session; a snapshot)
    DIR/runs/part-<tag>.parquet  the commit log: records of finished runs, one file per flush
    DIR/series/part-<tag>.parquet  monthly series of the runs committed by runs/part-<tag>
                                 (run_id, point, replication, date, one column per indicator)
    DIR/sessions/<session>.json  statistics of each driver session (shard, backend, wall time)

Every file is written under a temporary name and renamed into place (atomic on POSIX), the
series part before the runs part that commits it: a run is done if and only if it appears in a
``runs/part-*.parquet``. An interrupted session leaves at most an uncommitted series part, which
readers ignore and the next session removes. So ``--resume`` computes exactly the missing runs.

DuckDB / polars read it as is::

    SELECT * FROM 'DIR/runs.parquet';  SELECT * FROM 'DIR/series/*.parquet';
    pl.scan_parquet("DIR/series/*.parquet")
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gzsim.errors import UserError
from gzsim.experiments.tasks import BatchOutput, RunSeries
from gzsim.fileio import write_json, write_parquet, write_parquet_table  # noqa: F401

FORMAT = "gzsim-sweep/1"
PART_RE = re.compile(r"^part-(?P<tag>[A-Za-z0-9_.\-]+)\.parquet$")
RUN_COLUMNS = ["run_id", "point", "replication"]
STATUS_COLUMNS = ["seed_entropy", "status", "error", "traceback", "wall_time_s", "worker"]
PENDING = "pending"
ORPHAN_AGE_S = 120.0  # an uncommitted series part older than this belongs to a dead session


class StoreError(UserError):
    """The output folder cannot be used for this sweep."""


def parts(folder: Path) -> dict[str, Path]:
    """``{tag: path}`` of the committed-format part files in a folder, in tag order."""
    if not folder.is_dir():
        return {}
    out = {}
    for p in sorted(folder.iterdir()):
        m = PART_RE.match(p.name)
        if m:
            out[m.group("tag")] = p
    return out


def _dates(start: str, n: int, cache: dict) -> np.ndarray:
    key = (start, n)
    if key not in cache:
        y, m = start.split("-")
        cache[key] = pd.date_range(f"{y}-{m}-01", periods=n, freq="MS").to_numpy()
    return cache[key]


def series_frame(series: dict[int, RunSeries], run_point_rep: dict[int, tuple[int, int]],
                 date_cache: dict | None = None) -> pd.DataFrame:
    """One row per (run, month): run_id, point, replication, date, then the indicators."""
    date_cache = {} if date_cache is None else date_cache
    names: list[str] = []
    for s in series.values():
        for k in s.arrays:
            if k not in names:
                names.append(k)
    ids, pts, reps, dates = [], [], [], []
    cols: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for rid in sorted(series):
        s = series[rid]
        n = len(next(iter(s.arrays.values()))) if s.arrays else 0
        p, k = run_point_rep[rid]
        ids.append(np.full(n, rid, dtype=np.int64))
        pts.append(np.full(n, p, dtype=np.int64))
        reps.append(np.full(n, k, dtype=np.int64))
        dates.append(_dates(s.start, n, date_cache))
        for name in names:
            a = s.arrays.get(name)
            cols[name].append(np.asarray(a, dtype=float) if a is not None else np.full(n, np.nan))
    def cat(xs: list[np.ndarray], dt: Any) -> np.ndarray:
        return np.concatenate(xs) if xs else np.empty(0, dtype=dt)

    data = {"run_id": cat(ids, np.int64), "point": cat(pts, np.int64),
            "replication": cat(reps, np.int64), "date": cat(dates, "datetime64[ns]")}
    for name in names:
        data[name] = cat(cols[name], float)
    return pd.DataFrame(data)


class SweepStore:
    """Writes and reads one sweep folder (see the module docs for the layout)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._lock_fd: int | None = None

    # --- paths ----------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def design_path(self) -> Path:
        return self.root / "design.parquet"

    @property
    def runs_path(self) -> Path:
        return self.root / "runs.parquet"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def series_dir(self) -> Path:
        return self.root / "series"

    @property
    def sessions_dir(self) -> Path:
        return self.root / "sessions"

    def exists(self) -> bool:
        return self.manifest_path.exists()

    # --- locking --------------------------------------------------------------------------------
    def lock(self, shared: bool) -> None:
        """Advisory lock: one whole-sweep session, or any number of shard sessions, at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise StoreError(f"{self.root}: another gzsim sweep is writing into this folder "
                                 "(shards may share a folder; a whole sweep may not)") from None
            raise
        self._lock_fd = fd

    @contextlib.contextmanager
    def init_lock(self):
        """Exclusive (blocking) lock while a session creates or checks the manifest and design:
        shards started together agree on one folder."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".init.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def unlock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = None

    # --- manifest and design --------------------------------------------------------------------
    def read_manifest(self) -> dict:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            raise StoreError(f"{self.root}: not a gzsim sweep folder (no manifest.json)") \
                from None
        except (OSError, json.JSONDecodeError) as e:
            raise StoreError(f"{self.manifest_path}: unreadable manifest ({e})") from None

    def write_manifest(self, manifest: dict) -> None:
        write_json(manifest, self.manifest_path)

    def write_design(self, frame: pd.DataFrame) -> None:
        write_parquet(frame, self.design_path)

    def read_design(self) -> pd.DataFrame:
        return pd.read_parquet(self.design_path)

    # --- commits --------------------------------------------------------------------------------
    def committed(self) -> dict[str, Path]:
        return parts(self.runs_dir)

    def done_run_ids(self) -> np.ndarray:
        """Run ids with a committed record (ok or failed), sorted, unique."""
        import pyarrow.parquet as pq

        ids = [pq.read_table(p, columns=["run_id"]).column(0).to_numpy()
               for p in self.committed().values()]
        if not ids:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(ids).astype(np.int64))

    def remove_orphans(self, any_age: bool) -> list[Path]:
        """Delete series parts no runs part commits, and stale temporary files.

        ``any_age``: the caller holds the folder exclusively (no other session can be between
        writing a series part and committing it); otherwise only old leftovers go.
        """
        now = time.time()
        committed = set(self.committed())
        removed = []
        for folder in (self.series_dir, self.runs_dir, self.root):
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                m = PART_RE.match(p.name)
                try:
                    age = now - p.stat().st_mtime
                except FileNotFoundError:
                    continue
                orphan = (folder == self.series_dir and m and m.group("tag") not in committed)
                stale_tmp = p.name.startswith(".") and p.name.endswith(".tmp")
                if (orphan or stale_tmp) and (any_age or age > ORPHAN_AGE_S):
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                        removed.append(p)
        return removed

    def commit(self, tag: str, records: pd.DataFrame, series: pd.DataFrame | None) -> None:
        """Write a series part (if any), then the runs part that commits it."""
        if series is not None and len(series):  # columns carry unit, geography and kind
            from gzsim.results import annotated_table

            write_parquet_table(annotated_table(series), self.series_dir / f"part-{tag}.parquet")
        write_parquet(records, self.runs_dir / f"part-{tag}.parquet")

    def write_session(self, session: str, stats: dict) -> None:
        write_json(stats, self.sessions_dir / f"{session}.json")

    # --- reading --------------------------------------------------------------------------------
    def read_records(self) -> pd.DataFrame:
        """Committed run records (first commit of a run wins), sorted by run id."""
        frames = [pd.read_parquet(p).assign(_part=tag) for tag, p in self.committed().items()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=[*RUN_COLUMNS, "status", "_part"])
        df = pd.concat(frames, ignore_index=True)
        df = df.drop_duplicates("run_id", keep="first").sort_values("run_id")
        return df.reset_index(drop=True)

    def read_series(self, records: pd.DataFrame, columns: list[str] | None = None
                    ) -> pd.DataFrame:
        """Series rows of the committed runs, from the part that committed each run."""
        frames = []
        series_parts = parts(self.series_dir)
        if "_part" not in records:
            return pd.DataFrame(columns=[*RUN_COLUMNS, "date"])
        by_part = records.groupby("_part")["run_id"]
        for tag, ids in by_part:
            p = series_parts.get(str(tag))
            if p is None:
                continue
            df = pd.read_parquet(p, columns=columns)
            frames.append(df[df["run_id"].isin(ids.to_numpy())])
        if not frames:
            return pd.DataFrame(columns=[*RUN_COLUMNS, "date"])
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values(["run_id", "date"], kind="stable").reset_index(drop=True)


def new_session_id(shard: tuple[int, int] | None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    sh = f"s{shard[0]}of{shard[1]}" if shard else "all"
    return f"{stamp}-{sh}-{uuid.uuid4().hex[:8]}"


class PartWriter:
    """Buffers batch outputs in the driver and commits them as parts; memory stays bounded.

    Flushes when ``flush_rows`` series rows (or ``flush_runs`` run records) are buffered, when
    ``flush_seconds`` have passed since the last flush, and on :meth:`close`.
    """

    def __init__(self, store: SweepStore, session: str, points: pd.DataFrame,
                 seed_entropy: int, scalar_names: Iterable[str], *, flush_seconds: float = 10.0,
                 flush_rows: int = 200_000, flush_runs: int = 50_000):
        self.store = store
        self.session = session
        self.points = points.set_index("point")
        self.seed_entropy = int(seed_entropy)
        self.scalar_names = list(scalar_names)
        self.flush_seconds = flush_seconds
        self.flush_rows = flush_rows
        self.flush_runs = flush_runs
        self._records: list[dict] = []
        self._series: dict[int, RunSeries] = {}
        self._rows = 0
        self._seq = 0
        self._last = time.monotonic()
        self._dates: dict = {}
        self.committed_runs = 0

    def add(self, out: BatchOutput) -> None:
        self._records.extend(out.records)
        for rid, s in out.series.items():
            self._series[rid] = s
            self._rows += len(next(iter(s.arrays.values()))) if s.arrays else 0
        if (self._rows >= self.flush_rows or len(self._records) >= self.flush_runs
                or time.monotonic() - self._last >= self.flush_seconds):
            self.flush()

    def records_frame(self, records: list[dict]) -> pd.DataFrame:
        df = pd.DataFrame.from_records(records)
        for c in ("run_id", "point", "replication"):
            df[c] = df[c].astype(np.int64)
        df["seed_entropy"] = np.int64(self.seed_entropy)
        factors = self.points.loc[df["point"].to_numpy()].reset_index(drop=True)
        for c in ("error", "traceback", "worker"):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
        for name in self.scalar_names:
            if name not in df:
                df[name] = np.nan
            df[name] = df[name].astype(float)
        cols = [*RUN_COLUMNS]
        out = pd.concat([df[cols], factors], axis=1)
        for c in [*STATUS_COLUMNS, *self.scalar_names]:
            out[c] = df[c].to_numpy()
        out["wall_time_s"] = out["wall_time_s"].astype(float)
        return out

    def flush(self) -> None:
        self._last = time.monotonic()
        if not self._records:
            return
        records = self.records_frame(self._records)
        series = None
        if self._series:
            rpr = {r["run_id"]: (r["point"], r["replication"]) for r in self._records}
            series = series_frame(self._series, rpr, self._dates)
        tag = f"{self.session}-{self._seq:05d}"
        self.store.commit(tag, records, series)
        self._seq += 1
        self.committed_runs += len(self._records)
        self._records = []
        self._series = {}
        self._rows = 0
