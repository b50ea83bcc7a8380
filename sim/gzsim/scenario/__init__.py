"""Scenarios: the typed schema and the YAML loader."""

from gzsim.scenario.loader import load_scenario, parse_override, resolve_scenario_data
from gzsim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "parse_override", "resolve_scenario_data"]
