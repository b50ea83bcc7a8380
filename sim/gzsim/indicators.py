"""The monthly indicators gzsim reports: name, unit, geography, flow or stock, meaning.

One place for them, so that results, summaries, plots and calibration targets agree.
Flows are amounts per month (annual figures sum them); stocks are end-of-month levels
(annual figures take December).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    unit: str
    geography: Literal["district", "province"]
    kind: Literal["flow", "stock"]
    description: str


_SPECS = [
    ("investment_usd_m", "US$ m/month", "district", "flow",
     "fixed-asset investment disbursed that month by projects under construction"),
    ("committed_usd_m", "US$ m/month", "district", "flow",
     "value of investment projects signed that month (signed is not realised)"),
    ("firms_operating", "firms", "district", "stock",
     "projects that have finished construction and operate (ramping up or at full output)"),
    ("jobs_direct", "jobs", "district", "stock",
     "direct positions offered by operating firms (sector intensity x operating capital)"),
    ("jobs_construction", "jobs", "district", "stock",
     "temporary construction positions supported by this month's disbursement"),
    ("jobs_indirect", "jobs", "district", "stock",
     "indirect (supplier) and induced (household spending) positions, by multipliers"),
    ("jobs_created", "jobs/month", "district", "flow",
     "new jobs filled that month (hires out of the labour pool)"),
    ("employment", "people", "district", "stock",
     "filled positions (never above the labour force)"),
    ("vacancies", "jobs", "district", "stock", "open positions not yet filled"),
    ("labour_force", "people", "district", "stock",
     "workers available to the district's employers: employed plus job seekers"),
    ("expressway_km", "km", "province", "stock", "expressway network length"),
    ("highway_km", "km", "province", "stock",
     "other highway (roads that are neither expressway nor rural road)"),
    ("rural_road_km", "km", "province", "stock", "rural road network length"),
    ("rail_km", "km", "province", "stock", "railway track length"),
    ("accessibility", "index (start = 1)", "district", "stock",
     "accessibility of the district through the provincial network"),
    ("serviced_land_km2", "km2", "district", "stock", "land serviced (developed) for firms"),
    ("households_waiting", "households", "province", "stock",
     "households still waiting to be resettled"),
    ("people_resettled", "people", "province", "stock", "people resettled so far (cumulative)"),
    ("poor_people", "people", "province", "stock", "people below the poverty line"),
    ("fiscal_cost_usd_m", "US$ m/month", "district", "flow",
     "fiscal cost of incentive policies that month (tax revenue forgone)"),
    # diagnostics: the books the invariants check, and the feedbacks' state
    ("realised_usd_m", "US$ m/month", "district", "flow",
     "value of signed projects confirmed as realised that month (will be disbursed)"),
    ("pipeline_usd_m", "US$ m", "district", "stock",
     "realised money not yet disbursed (waiting for land or construction, or booked later)"),
    ("attractiveness", "multiplier", "district", "stock",
     "multiplier on next month's project arrival rate (accessibility, land, incentives, "
     "labour shortage)"),
    ("infrastructure_spending_usd_m", "US$ m/month", "province", "flow",
     "road and rail budget released that month (after policy multipliers)"),
    ("land_in_use_km2", "km2", "district", "stock", "serviced land occupied by projects"),
    ("land_spending_usd_m", "US$ m/month", "district", "flow",
     "spending on servicing land that month"),
    ("housing_spending_usd_m", "US$ m/month", "province", "flow",
     "resettlement housing budget released that month"),
    ("people_left_poverty", "people", "province", "stock",
     "people who left poverty since the start (cumulative, gross of re-entry)"),
    ("people_reentered_poverty", "people", "province", "stock",
     "people who fell back into poverty after leaving it during the run (cumulative)"),
    ("poverty_programme_exits", "people", "province", "stock",
     "exits credited to the poverty-alleviation programme's quota (cumulative; in left poverty)"),
    ("workers_trained", "people", "district", "stock",
     "graduates of training places who joined the labour pool (cumulative)"),
]

INDICATORS: dict[str, IndicatorSpec] = {s[0]: IndicatorSpec(*s) for s in _SPECS}


def annual_value(kind: str) -> str:
    """How a year is summarised: flows are summed, stocks read in December."""
    return "sum" if kind == "flow" else "december"


def table() -> str:
    """The indicators as a Markdown table (docs/model.md embeds it)."""
    rows = ["| indicator | unit | geography | kind | meaning |", "|---|---|---|---|---|"]
    rows += [f"| `{s.name}` | {s.unit} | {s.geography} | {s.kind} | {s.description} |"
             for s in INDICATORS.values()]
    return "\n".join(rows)
