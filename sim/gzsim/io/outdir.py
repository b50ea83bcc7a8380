"""The results-folder contract: a command writes only into a folder it made or owns, atomically.

Every folder gzsim writes carries a marker file (``.gzsim-folder.json``) saying which kind of
result it holds (``run``, ``sweep``, ``comparison``, ``calibration``, ``plots``, ``explore``:
the explorer's cache). A command:

- writes into a folder that does not exist, is empty, or carries its own kind's marker;
- refuses anything else *before touching it*, naming the folder and how to proceed;
- builds the new folder under a temporary name next to the target and renames it into place
  (an exchange when an old one exists), so a crash leaves the old results or the new ones,
  never a mix;
- turns every ``OSError`` (a file in the way, a read-only folder, a name too long) into a
  :class:`OutputError` with the folder and the reason.

Folders that mix user files with generated ones (``calibration/``) list the files gzsim owns in
the marker's ``files``; only those may be replaced (:func:`place_files`).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as _dt
import errno
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from gzsim import __version__
from gzsim.errors import UserError
from gzsim.io.fileio import write_json

MARKER = ".gzsim-folder.json"
KINDS = ("run", "sweep", "comparison", "calibration", "plots", "explore", "backtest")
_LEGACY = {  # folders written before the marker existed, recognised by their own files
    "run": ("series.parquet", "manifest.json"),
    "sweep": ("design.parquet", "manifest.json"),
}
#: the files a kind's whole-folder write makes (an older one of them is the kind's own)
_OUTPUTS = {"run": ("series.parquet", "summary.csv", "failures.csv", "manifest.json"),
            "comparison": ("comparison.csv", "headline.csv")}
_HIDDEN_OK = (".lock", ".lock-journal", ".init.lock")  # left by a sweep session (filelock)
#: What a kind's folder holds while it is being created (before its marker is written): a
#: sweep store is created in place (shards share it), so an interrupted creation is its own.
_PARTIAL = {"sweep": {"runs", "series", "sessions", "design.parquet", "runs.parquet"}}


class OutputError(UserError):
    """gzsim cannot (or must not) write where it was asked to."""


def timestamped(parent: str | Path, stem: str) -> Path:
    """A folder name unique per invocation: ``parent/stem-YYYYmmddTHHMMSS[-k]``."""
    now = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    base = Path(parent) / f"{stem}-{now}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def os_message(e: OSError, path: str | Path) -> str:
    """An OSError said plainly, with the path it concerns (never a traceback)."""
    reason = {errno.ENAMETOOLONG: "a file or folder name is too long for the file system",
              errno.ENOTDIR: "part of the path is a file, not a folder",
              errno.EACCES: "permission denied (read-only folder?)",
              errno.EPERM: "operation not permitted",
              errno.EROFS: "read-only file system",
              errno.ENOSPC: "no space left on the device",
              errno.EEXIST: "something already exists there"}.get(e.errno or 0,
                                                                   e.strerror or str(e))
    shown = str(path) if len(str(path)) <= 200 else str(path)[:197] + "..."
    return f"cannot write {shown}: {reason}"


def marker(folder: str | Path) -> dict | None:
    """The marker of a gzsim folder (legacy folders get one inferred), or None."""
    folder = Path(folder)
    try:
        data = json.loads((folder / MARKER).read_text())
        if isinstance(data, dict) and data.get("kind") in KINDS:
            return data
    except (OSError, ValueError):
        pass
    for kind, names in _LEGACY.items():
        if all((folder / n).is_file() for n in names) and _legacy_manifest_ok(folder, kind):
            return {"kind": kind, "legacy": True}
    return None


def _legacy_manifest_ok(folder: Path, kind: str) -> bool:
    try:
        man = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    key = "root_seed" if kind == "run" else "fingerprint"
    return isinstance(man, dict) and key in man


def _contents(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in _HIDDEN_OK)


def _refuse_special(path: Path, flag: str) -> None:
    """Never the current folder, one of its parents, the home folder or the root."""
    try:
        real = path.resolve()
        cwd = Path.cwd().resolve()
    except OSError as e:
        raise OutputError(os_message(e, path)) from None
    if real == cwd or real in cwd.parents or real == Path.home().resolve() or \
            real == Path(real.anchor):
        raise OutputError(
            f"refusing to write results into '{path}' ({real}): it is the current folder, one "
            f"of its parents, the home folder or the root. Give a new folder with {flag}.")


def check_target(path: str | Path, kind: str, *, overwrite: bool = False,
                 replace_own: bool = True, flag: str = "--out") -> str:
    """Whether ``path`` may receive a ``kind`` folder: 'new', 'empty' or 'own'; else refuse.

    ``replace_own``: a folder of the same kind may be replaced without ``overwrite`` (a rerun
    into its own results folder); otherwise ``overwrite`` is needed. Nothing is touched here.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown folder kind {kind!r}")
    path = Path(path)
    _refuse_special(path, flag)
    try:
        for parent in [path, *path.parents]:
            if parent.exists() and not parent.is_dir():
                where = "" if parent == path else " (a file is in the way)"
                raise OutputError(f"'{parent}' is a file, not a folder{where}; choose another "
                                  f"{flag} folder")
        if not path.exists():
            return "new"
        names = _contents(path)
    except OSError as e:
        raise OutputError(os_message(e, path)) from None
    if not names:
        return "empty"
    mk = marker(path)
    in_progress = {n for n in names if n.startswith(".") and n.endswith((".tmp", TMP_SUFFIX))}
    if mk is None and kind in _PARTIAL and set(names) - in_progress <= _PARTIAL[kind]:
        mk = {"kind": kind, "partial": True}
    if mk is None:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise OutputError(
            f"'{path}' exists and is not a gzsim {kind} folder (it holds {shown}); gzsim "
            f"writes only into folders it created. Choose another {flag} (a new or empty "
            "folder); nothing was changed.")
    if mk.get("kind") != kind or mk.get("files"):
        what = f"a gzsim {mk.get('kind')} folder" if not mk.get("files") else \
            "a folder shared with your own files"
        raise OutputError(f"'{path}' is {what}, not a {kind} folder; choose another {flag} "
                          "(a new or empty folder); nothing was changed.")
    if not (replace_own or overwrite):
        raise OutputError(f"'{path}' already holds a gzsim {kind}; add --overwrite to replace "
                          f"it, or choose another {flag}; nothing was changed.")
    return "own"


def write_marker(folder: str | Path, kind: str, files: Iterable[str] | None = None,
                 contents: Iterable[str] | None = None) -> None:
    """Mark ``folder`` as gzsim's ``kind`` (``files``: only those files are gzsim's).

    ``contents``: every name a whole-folder write put in it (what a replacement may delete).
    """
    data = {"kind": kind, "gzsim": __version__,
            "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    if files is not None:
        data["files"] = sorted(set(files))
    if contents is not None:
        data["contents"] = sorted(set(contents) - {MARKER})
    write_json(data, Path(folder) / MARKER)


def refuse_foreign(path: Path, kind: str, flag: str) -> None:
    """Refuse to replace a folder holding what its own write did not put there.

    E.g. a sweep, a comparison or another run saved inside a run folder: replacing the folder
    would delete them. Charts a later ``gzsim plot`` drew inside it are its own (derived).
    """
    mk = marker(path) or {}
    listed = mk.get("contents")
    foreign = []
    for name in _contents(path):
        sub = path / name
        nested = marker(sub) if sub.is_dir() else None
        if name == MARKER or (nested or {}).get("kind") == "plots" or \
                name in _OUTPUTS.get(kind, ()) or (kind == "plots" and sub.is_file()
                                                   and sub.suffix in (".png", ".svg")):
            continue
        if (listed is not None and name not in listed) or \
                (listed is None and nested is not None):
            foreign.append(name)
    if foreign:
        raise OutputError(
            f"'{path}' holds {', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}, "
            f"which this gzsim {kind} did not write (results saved inside it?); replacing the "
            f"folder would delete them. Move them out or choose another {flag}; nothing was "
            "changed.")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(tmp: Path, path: Path) -> None:
    """Put ``tmp`` at ``path``: a rename, or an exchange with the old folder then its removal."""
    if not path.exists():
        os.rename(tmp, path)
        return
    if not _contents(path):  # empty but for a stale sweep lock file: nothing of anyone's
        for name in _HIDDEN_OK:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path / name)
        os.rmdir(path)
        os.rename(tmp, path)
        return
    if _exchange(tmp, path):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old folder
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    os.rename(path, old / "x")
    os.rename(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


TMP_SUFFIX = ".gzsim-tmp"


def _remove_stale(path: Path) -> None:
    """Remove temporary folders a killed gzsim process left next to ``path``.

    Only folders named by :func:`atomic_folder` for this target (``.<name>.<pid>.*.gzsim-tmp``)
    whose process no longer exists: never a user's file, never a write in progress.
    """
    prefix = f".{path.name[:40]}."
    for p in path.parent.glob(f"{_glob_escape(prefix)}*{TMP_SUFFIX}"):
        pid = p.name[len(prefix):].split(".", 1)[0]
        if p.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


def _glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped."""
    return glob.escape(text)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_folder(path: str | Path, kind: str, *, overwrite: bool = False,
                  replace_own: bool = True, flag: str = "--out") -> Iterator[Path]:
    """Yield an empty temporary folder; on success it becomes ``path`` (marked ``kind``).

    The target is checked (:func:`check_target`) before anything is written and again just
    before the rename. On an exception the temporary folder is removed and ``path`` is as it was.
    """
    path = Path(path)
    if check_target(path, kind, overwrite=overwrite, replace_own=replace_own,
                    flag=flag) == "own":
        refuse_foreign(path, kind, flag)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(path)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name[:40]}.{os.getpid()}.",
                                    suffix=TMP_SUFFIX, dir=path.parent))
    except OSError as e:
        raise OutputError(os_message(e, path)) from None
    try:
        yield tmp
        write_marker(tmp, kind, contents=[p.name for p in tmp.iterdir()])
        if check_target(path, kind, overwrite=overwrite, replace_own=replace_own,
                        flag=flag) == "own":
            refuse_foreign(path, kind, flag)
        _swap_in(tmp, path)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(os_message(e, path)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_files(folder: str | Path, kind: str, names: Iterable[str],
                flag: str = "--out") -> None:
    """Refuse unless every ``name`` in ``folder`` is absent or owned by gzsim (``kind``)."""
    folder = Path(folder)
    try:
        for parent in [folder, *folder.parents]:
            if parent.exists() and not parent.is_dir():
                raise OutputError(f"'{parent}' is a file, not a folder; choose another {flag}")
        mk = marker(folder) if folder.is_dir() else None
    except OSError as e:
        raise OutputError(os_message(e, folder)) from None
    if mk is not None and mk.get("kind") != kind:
        raise OutputError(f"'{folder}' is a gzsim {mk.get('kind')} folder, not a {kind} "
                          f"folder; choose another {flag}; nothing was changed.")
    whole = mk is not None and not mk.get("files") and not mk.get("legacy")
    owned = set(mk.get("files") or []) if mk else set()
    clash = [n for n in names if (folder / n).exists() and not whole and n not in owned]
    if clash:
        raise OutputError(
            f"'{folder}' already has {', '.join(clash)}, not written by gzsim {kind} (no "
            f"{MARKER} lists it); gzsim will not overwrite it. Move it away or choose another "
            f"{flag}; nothing was changed.")


def place_files(staging: str | Path, folder: str | Path, kind: str,
                names: dict[str, str] | None = None, flag: str = "--out") -> list[Path]:
    """Move files from ``staging`` into a shared ``folder`` (each by an atomic rename).

    ``names`` maps staged names to target names (default: same names, every file staged).
    Each target must be absent or owned (listed in the folder's marker); the marker then lists
    them. Used where gzsim's outputs sit next to the user's own files (``calibration/``).
    """
    staging, folder = Path(staging), Path(folder)
    names = names or {p.name: p.name for p in staging.iterdir() if p.name != MARKER}
    check_files(folder, kind, names.values(), flag)
    out = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        mk = marker(folder)
        whole = mk is not None and not mk.get("files") and not mk.get("legacy")
        for src, dst in names.items():
            target = folder / dst
            shutil.copyfile(staging / src, target.with_name(f".{dst}.tmp"))
            os.replace(target.with_name(f".{dst}.tmp"), target)
            out.append(target)
        if not whole:
            write_marker(folder, kind, [*((mk or {}).get("files") or []), *names.values()])
    except OSError as e:
        raise OutputError(os_message(e, folder)) from None
    return out
