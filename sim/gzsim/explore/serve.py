"""What ``gzsim explore`` needs before it imports the page: the settings, checked.

Kept apart from :mod:`gzsim.explore.page` so that a bad scenario is refused (exit 2, located
message) without importing Panel, and ``gzsim --help`` never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gzsim.errors import UserError
from gzsim.io.outdir import OutputError, check_target, os_message, write_marker
from gzsim.scenario import load_scenario
from gzsim.scenario.sources import in_project

DEFAULT_BASELINE = "scenarios/base.yaml"


@dataclass
class Settings:
    """What ``gzsim explore`` serves: the scenario folder, the default baseline, the cache."""

    baseline: Path
    cache: Path
    workers: int | None = None

    @property
    def folder(self) -> Path:
        """Where the shipped scenarios are listed from (the baseline's folder)."""
        return self.baseline.parent

    def scenario_files(self) -> tuple[list[str], list[str]]:
        """(baselines, shipped policies): file names of the folder's scenarios."""
        files = sorted(p.name for p in self.folder.glob("*.yaml"))
        policies = [f for f in files if f.startswith("policy_")]
        return [f for f in files if f not in policies], policies


def settings_for(scenario: Path | None, cache: Path | None = None,
                 workers: int | None = None) -> Settings:
    """The baseline (default: ``scenarios/base.yaml`` here, else the project's), validated."""
    if scenario is None:
        here = Path(DEFAULT_BASELINE)
        scenario = here if here.is_file() else in_project(DEFAULT_BASELINE)
        if scenario is None:
            raise UserError(f"no {DEFAULT_BASELINE} here or in the gzsim project: give the "
                            "baseline scenario, e.g. gzsim explore my_region/base.yaml")
    if not Path(scenario).is_file():
        raise UserError(f"{scenario}: scenario file not found")
    load_scenario(scenario)  # a bad baseline: the CLI's located message, before serving
    return Settings(Path(scenario).resolve(), cache_folder(Path(cache or "results/explore")),
                    workers)


def cache_folder(path: Path) -> Path:
    """The explorer's cache folder: new, empty or already the explorer's (marked so)."""
    state = check_target(path, "explore", flag="--cache")
    if state != "own":
        try:
            path.mkdir(parents=True, exist_ok=True)
            write_marker(path, "explore")
        except OSError as e:
            raise OutputError(os_message(e, path)) from None
    return path.resolve()
