"""Scenarios: the typed schema and the YAML loader."""

from gzsim.scenario.loader import (
    load_parent,
    load_scenario,
    parent_path,
    parse_override,
    resolve_scenario_data,
)
from gzsim.scenario.schema import Scenario

__all__ = ["Scenario", "load_parent", "load_scenario", "parent_path", "parse_override",
           "resolve_scenario_data"]
