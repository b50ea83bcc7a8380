"""What the explorer offers for download: a comparison folder, a zip of it, the scenario files.

The folder is what ``gzsim compare`` writes (``comparison.csv``, ``headline.csv``, each
scenario's results folder with ``series.parquet``, ``summary.csv`` and ``manifest.json``), plus
the tables as Parquet, the page's figures (PNG and SVG), the scenario files of the levers set on
the page, ``provenance.json`` and ``reproduce.sh``: the ``gzsim compare`` command that gives the
same numbers. It is written atomically under the cache, named by what determines it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import shlex
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gzsim import __version__
from gzsim.analysis.compare import Comparison
from gzsim.analysis.plots import save_figure
from gzsim.explore.figures import PLOT_LOCK, fan, paired_difference_chart
from gzsim.explore.session import Request, file_sha256, result_key, scenario_hash
from gzsim.io.fileio import atomic_write_bytes, write_parquet
from gzsim.io.outdir import atomic_folder
from gzsim.io.provenance import git_state
from gzsim.uncertainty import resolve_mode


@dataclass(frozen=True)
class Bundle:
    """A written comparison folder and its zip."""

    folder: Path
    zip_path: Path

    def file(self, name: str) -> Path:
        """A file of the folder (``headline.csv``, ``scenarios/x.yaml``...)."""
        return self.folder / name


@functools.cache
def code_state() -> dict[str, Any]:
    """The git commit the server runs (asked once: the code it imported does not change)."""
    return git_state()


def reproduce_command(req: Request, out: str = "results/explore-reproduced") -> str:
    """The ``gzsim compare`` command line that reproduces the comparison."""
    files = [str(req.files.get(sc.name, f"<{sc.name}.yaml>"))
             for sc in [req.baseline, *req.policies]]
    args = ["gzsim", "compare", *files, "-n", str(req.replications), "--seed",
            str(req.root_seed), "--level", f"{req.level:g}", "-o", out]
    if req.uncertainty:
        args += ["--uncertainty", req.uncertainty]
    return shlex.join(args)


def provenance(req: Request, cmp: Comparison) -> dict[str, Any]:
    """Scenario hashes, posterior, seed, replications and versions behind the comparison."""
    base = cmp.results[cmp.base].manifest
    u = base.get("uncertainty") or {}
    scen = {name: {"file": str(req.files.get(sc.name, "")),
                   "scenario_sha256": scenario_hash(sc, resolve_mode(sc, req.uncertainty))}
            for name, sc in zip(cmp.results, [req.baseline, *req.policies], strict=True)}
    return {"baseline": cmp.base, "scenarios": scen, "seed": req.root_seed,
            "replications": int(req.replications), "level": req.level,
            "uncertainty": u.get("mode", "noise"), "posterior": u.get("posterior"),
            "posterior_sha256": file_sha256(u.get("posterior")),
            "gzsim_version": __version__, **code_state(),
            "reproduce": reproduce_command(req)}


def bundle_key(req: Request, indicators: list[str]) -> str:
    """Name of the folder: the results' keys, the level and the charted indicators."""
    parts = [result_key(sc, req.replications, req.root_seed,
                        resolve_mode(sc, req.uncertainty))
             for sc in [req.baseline, *req.policies]]
    text = "|".join([*parts, f"{req.level:g}", *indicators])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _figures(cmp: Comparison, indicators: list[str], plots: Path) -> None:
    with PLOT_LOCK:
        for ind in indicators:
            save_figure(fan(cmp, ind), plots / f"fan_{ind}")
            save_figure(paired_difference_chart(cmp, ind), plots / f"paired_{ind}")


def write_bundle(req: Request, cmp: Comparison, indicators: list[str],
                 cache_folder: Path) -> Bundle:
    """Write (once) the comparison folder and its zip under ``cache_folder/comparisons``."""
    folder = Path(cache_folder) / "comparisons" / bundle_key(req, indicators)
    zip_path = folder.with_suffix(".zip")
    if zip_path.is_file() and folder.is_dir():
        return Bundle(folder, zip_path)
    with atomic_folder(folder, "comparison") as tmp:
        cmp.save(tmp)
        head = cmp.headline()
        write_parquet(cmp.table, tmp / "comparison.parquet")
        write_parquet(head, tmp / "headline.parquet")
        _figures(cmp, indicators, tmp / "plots")
        for sc in req.policies:
            f = req.files.get(sc.name)
            if f is not None and Path(f).resolve().is_relative_to(Path(cache_folder).resolve()):
                atomic_write_bytes(tmp / "scenarios" / Path(f).name, Path(f).read_bytes())
        prov = provenance(req, cmp)
        atomic_write_bytes(tmp / "provenance.json", json.dumps(prov, indent=2).encode())
        atomic_write_bytes(tmp / "reproduce.sh", (
            "#!/bin/sh\n# The command that reproduces this comparison (same seed, same "
            "numbers).\n" + prov["reproduce"] + "\n").encode())
    atomic_write_bytes(zip_path, zip_folder(folder))
    return Bundle(folder, zip_path)


def zip_folder(folder: Path) -> bytes:
    """The folder's files as a zip (paths relative to its parent)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder.parent).as_posix())
    return buf.getvalue()
