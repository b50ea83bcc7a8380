"""The sweep store: one Parquet file per batch of runs, named by its run range.

``DIR/manifest.json`` (created once, exclusively) and ``DIR/design.parquet`` say what the sweep
is; ``DIR/runs/part-<lo>-<hi>.parquet`` holds a record per run (status, error, scalar outcomes)
and ``DIR/series/part-<lo>-<hi>.parquet`` the monthly series of the batch's successful runs;
``DIR/runs.parquet`` is a snapshot for DuckDB users (gzsim never reads it) and
``DIR/sessions/`` the statistics of each session. Batches lie on a fixed grid, so a run belongs
to one batch file whoever computes it. Files are written atomically (:mod:`gzsim.io.fileio`), the
series file before the runs file that commits it. What is done is the set of *intact* runs
files: readable, with ``hi - lo`` rows, whose series file has the row count the runs file
records, and with no run lost to an infrastructure fault. The next session recomputes the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from filelock import FileLock, ReadWriteLock, Timeout

import gzsim
from gzsim.errors import UserError
from gzsim.execution.tasks import INFRASTRUCTURE, Batch, Job, RunResult
from gzsim.io.fileio import atomic_write_bytes, write_json, write_parquet
from gzsim.io.readers import read_json
from gzsim.results import describe_columns

FORMAT = "gzsim-sweep/2"
PART_RE = re.compile(r"^part-(?P<lo>\d+)-(?P<hi>\d+)\.parquet$")


class StoreError(UserError):
    """The output folder cannot be used for this sweep."""


def code_fingerprint() -> dict[str, str]:
    """The gzsim version and a hash of its Python sources: which model computed the runs."""
    root, h = Path(gzsim.__file__).parent, hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return {"gzsim": gzsim.__version__, "source_sha256": h.hexdigest()}


def part_name(lo: int, hi: int) -> str:
    """File name of the batch of runs ``lo``..``hi - 1``."""
    return f"part-{lo:09d}-{hi:09d}.parquet"


@dataclass(frozen=True)
class Scan:
    """What the store holds: intact batches ``{lo: hi}`` and why others are not counted."""

    intact: dict[int, int]
    damaged: dict[int, str]  # lo -> reason
    retry: frozenset[int] = frozenset()  # intact batches with runs lost to a worker fault


class SweepStore:
    """Writes and reads one sweep folder (see the module docs for the layout)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs_dir, self.series_dir = self.root / "runs", self.root / "series"
        self.manifest_path = self.root / "manifest.json"
        self._locks: list[FileLock | ReadWriteLock] = []

    def read_manifest(self) -> dict:
        """The manifest, or a clear error."""
        if not os.path.lexists(self.manifest_path):
            raise StoreError(f"{self.root}: not a gzsim sweep folder (no manifest.json)")
        try:
            m = read_json(self.manifest_path, "sweep manifest")
        except UserError as e:
            raise StoreError(str(e)) from None
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            m = m if isinstance(m, dict) else {}
            raise StoreError(f"{self.root}: sweep format {m.get('format')!r}, this gzsim reads "
                             f"{FORMAT!r}; start again with --overwrite or another --out")
        return m

    def create(self, manifest: dict, design: pd.DataFrame) -> dict:
        """Write design and manifest unless another session did; return the manifest in use."""
        if not self.manifest_path.exists():
            write_parquet(design, self.root / "design.parquet")
            with contextlib.suppress(FileExistsError):  # a session started with us won
                atomic_write_bytes(self.manifest_path, json.dumps(
                    manifest, indent=2, default=str).encode(), exclusive=True)
        found = self.read_manifest()
        if found.get("fingerprint") != manifest["fingerprint"]:
            raise StoreError(f"{self.root} holds another experiment (or the same one with a "
                             "different base scenario, seed or design); use --overwrite to "
                             "replace it or choose another --out")
        old, new = found.get("code") or {}, manifest["code"]
        if old != new:
            raise StoreError(
                f"{self.root}: the model code changed since this sweep began (gzsim "
                f"{old.get('gzsim')}, source {str(old.get('source_sha256'))[:12]} -> gzsim "
                f"{new['gzsim']}, source {new['source_sha256'][:12]}); resuming would mix two "
                "models' runs in one store. Finish it with the code it began with, or start "
                "again with --overwrite (or another --out)")
        if not (self.root / "design.parquet").is_file():  # deleted: the design is deterministic
            write_parquet(design, self.root / "design.parquet")
        return found

    def wipe(self) -> None:
        """Remove what a sweep wrote (``--overwrite``)."""
        for d in (self.runs_dir, self.series_dir, self.root / "sessions"):
            shutil.rmtree(d, ignore_errors=True)
        for f in ("runs.parquet", "design.parquet", "manifest.json"):
            (self.root / f).unlink(missing_ok=True)

    def lock(self, shard: tuple[int, int] | None) -> None:
        """One whole sweep (``DIR/.lock`` exclusive) or shard sessions (shared, plus their own)."""
        (self.root / "sessions").mkdir(parents=True, exist_ok=True)
        sweep, what = ReadWriteLock(self.root / ".lock", is_singleton=False), "a sweep"
        self._locks.append(sweep)
        try:
            (sweep.acquire_write if shard is None else sweep.acquire_read)(blocking=False)
            if shard is not None:
                what = f"shard {shard[0]}/{shard[1]}"
                name = f"sessions/.lock-shard-{shard[0]}-of-{shard[1]}"
                self._locks.append(FileLock(self.root / name, is_singleton=False))
                self._locks[-1].acquire(blocking=False)
        except Timeout:
            self.unlock()
            raise StoreError(f"{self.root}: another gzsim session is already computing "
                             f"{what} in this folder (shards may share a folder, each "
                             "computed once at a time; a whole sweep may not)") from None

    def unlock(self) -> None:
        """Release the session locks (a lock not held is left alone)."""
        for lock in reversed(self._locks):
            with contextlib.suppress(Exception):
                lock.release()
            getattr(lock, "close", lambda: None)()  # a ReadWriteLock holds a SQLite connection
        self._locks = []

    def _check(self, path: Path, lo: int, hi: int, need: set[str]) -> tuple[bool, str | None]:
        """(has lost runs, None) for an intact batch, else (False, why it does not count)."""
        try:
            md = pq.read_metadata(path)
            meta = md.metadata or {}
            rows = int(meta.get(b"gzsim.series_rows", b"0"))
            if md.num_rows != hi - lo:
                return False, f"{md.num_rows} records for {hi - lo} runs"
            if missing := sorted(need - set(md.schema.names)):  # a column dropped by hand
                return False, f"no column(s) {', '.join(missing)}"
            if rows and not (self.series_dir / path.name).exists():
                return False, f"its series file series/{path.name} is missing"
            if rows and pq.read_metadata(self.series_dir / path.name).num_rows != rows:
                return False, f"series/{path.name} has the wrong number of rows"
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            return False, f"unreadable ({type(e).__name__}: {e})"
        return int(meta.get(b"gzsim.lost", b"0")) > 0, None

    def scan(self) -> Scan:
        """Check every batch file: which count as done, and why others do not."""
        intact: dict[int, int] = {}
        damaged: dict[int, str] = {}
        retry = set()
        need = {"run_id", "status", *(o["name"] for o in self.read_manifest()["outcomes"][
            "scalars"])} if self.manifest_path.exists() else {"run_id", "status"}
        for p in sorted(self.runs_dir.glob("part-*.parquet")):
            if not (m := PART_RE.match(p.name)):
                continue
            lo, hi = int(m["lo"]), int(m["hi"])
            has_lost, why = self._check(p, lo, hi, need)
            if why is None and intact and max(intact) < lo < intact[max(intact)]:
                why = "overlaps another batch"
            if why is not None:
                damaged[lo] = f"runs/{p.name}: {why}"
                continue
            intact[lo] = hi
            if has_lost:
                retry.add(lo)
        return Scan(intact, damaged, frozenset(retry))

    def clean(self, scan: Scan, scope: tuple[int, int], exclusive: bool) -> None:
        """Delete what the scan did not count in ``scope`` (everywhere when ``exclusive``).

        That is damaged batches and series files no intact batch commits; and, when
        ``exclusive`` (no other session can be writing), temporary files of dead sessions.
        """
        for folder in (self.runs_dir, self.series_dir, self.root):
            for p in (folder.iterdir() if folder.is_dir() else []):
                m = PART_RE.match(p.name)
                if p.name.endswith(".tmp") and exclusive:
                    p.unlink(missing_ok=True)
                elif folder != self.root and p.suffix == ".parquet" and \
                        (not m or scan.intact.get(int(m["lo"])) != int(m["hi"])) and \
                        (exclusive or (m and scope[0] <= int(m["lo"]) < scope[1])):
                    p.unlink(missing_ok=True)

    def commit(self, lo: int, hi: int, runs: bytes, series: bytes | None) -> None:
        """The series file, then the runs file that commits it."""
        if series is not None:
            atomic_write_bytes(self.series_dir / part_name(lo, hi), series)
        atomic_write_bytes(self.runs_dir / part_name(lo, hi), runs)

    def write_session(self, session: str, stats: dict) -> None:
        """A session's statistics."""
        write_json(stats, self.root / "sessions" / f"{session}.json")

    def read(self, scan: Scan, folder: Path, columns: list[str] | None = None) -> pd.DataFrame:
        """The intact batches' files in ``folder`` (runs or series) through pyarrow.dataset."""
        paths = [p for lo, hi in sorted(scan.intact.items())
                 if (p := folder / part_name(lo, hi)).exists()]
        if not paths:
            return pd.DataFrame(columns=columns or ["run_id", "point", "replication", "date"])
        return pads.dataset(list(map(str, paths)), format="parquet").to_table(
            columns=columns).to_pandas()

    def snapshot_lock(self) -> FileLock:
        """One session at a time rewrites ``runs.parquet`` (shards finish in any order)."""
        return FileLock(self.root / "sessions" / ".snapshot.lock", is_singleton=False)


# --- encoding a batch (on the worker) -----------------------------------------------------------

@dataclass
class Part:
    """A batch encoded for the store: records and series as Parquet bytes."""

    lo: int
    hi: int
    runs: bytes
    series: bytes | None
    results: list[RunResult]  # without arrays: what the driver counts


def _parquet(table: pa.Table, meta: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}),
                                                  **(meta or {})}), buf, compression="zstd")
    return buf.getvalue()


def _series(results: list[RunResult]) -> pa.Table | None:
    """One row per successful run and month: run_id, point, replication, date, indicators."""
    ok = [r for r in results if r.arrays]
    if not ok:
        return None
    n = len(next(iter(ok[0].arrays.values())))
    data = {k: np.repeat([getattr(r, k) for r in ok], n) for k in ("run_id", "point",
                                                                    "replication")}
    data["date"] = np.tile(pd.date_range(f"{ok[0].start}-01", periods=n, freq="MS").to_numpy(),
                           len(ok))
    for name in ok[0].arrays:
        data[name] = np.concatenate([r.arrays.get(name, np.full(n, np.nan)) for r in ok])
    return describe_columns(pa.table(data))


def encode_part(job: Job, batch: Batch, results: list[RunResult]) -> Part:
    """The batch's records and series as Parquet bytes (the ``Job.encoder`` of sweeps)."""
    results = sorted(results, key=lambda r: r.run_id)

    def col(key: str, typ: pa.DataType) -> pa.Array:
        return pa.array([getattr(r, key) for r in results], typ)

    cols = {k: col(k, pa.int64()) for k in ("run_id", "point", "replication")}
    cols |= {name: pa.array([batch.overrides[r.point][path] for r in results])
             for name, path in job.factors}
    cols["seed_entropy"] = pa.array([job.root_seed] * len(results), pa.int64())
    cols |= {k: col(k, pa.string()) for k in ("status", "error", "traceback", "fault")}
    cols |= {"wall_time_s": col("wall_time_s", pa.float64()), "worker": col("worker", pa.string())}
    cols |= {o.name: pa.array([r.scalars.get(o.name, np.nan) for r in results], pa.float64())
             for o in job.scalars}
    series = _series(results)
    meta = {"gzsim.series_rows": str(len(series) if series is not None else 0),
            "gzsim.lost": str(sum(r.fault == INFRASTRUCTURE for r in results))}
    for r in results:
        r.arrays = None
    return Part(batch.lo, batch.hi, _parquet(pa.table(cols), meta),
                None if series is None else _parquet(series), results)
