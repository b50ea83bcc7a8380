"""The pipeline at the origin: named works under construction open at their plan + a delay.

Each named work (``infrastructure.pipeline``) is carved out of its type's work in progress at
the start and opens at T = P + 1/2 + (P - R) * max(-1, mu + sigma * z) (docs/model.md, the
pipeline at the origin). These tests hold the opening dates, the seeds, the spread the delays
give the rail network, the conservation of km, and the scenario's located errors.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from gzsim.model import District, simulate_one
from gzsim.model.pipeline import STREAM, opening_month
from gzsim.model.streams import Streams
from gzsim.scenario.types import parse_year_month
from tests.conftest import variant
from tests.test_scenario_errors import assert_user_error, extending

DEC_2017 = (2017 - 2012) * 12 + 11  # month index of December 2017 (the base starts 2012-01)


def _delay(sc, mean: float, sd: float):
    return variant(sc, {"infrastructure.pipeline_delay": {
        "mean_share_of_remaining": mean, "sd_share_of_remaining": sd}})


def _opened(d: District) -> dict[int, float]:
    """Opening time of each named work in the event log, by entity id."""
    ev = d.log.frame()
    ev = ev[(ev["kind"] == "pipeline") & (ev["event"] == "open")]
    return dict(zip(ev["id"], ev["time"], strict=True))


def _planned_and_left(sc, w) -> tuple[int, int]:
    planned = sc.time.month_index(*parse_year_month(w.planned_opening))
    return planned, planned - sc.time.month_index(*parse_year_month(w.reading))


def test_the_base_has_named_works_inside_its_rail_work_in_progress(base_scenario):
    infra = base_scenario.infrastructure
    works = [w for w in infra.pipeline if w.segment_type == "rail"]
    assert len(works) >= 3 and all(w.source and w.km_source for w in works)
    assert sum(w.km for w in works) < infra.segment_types["rail"].initial_under_construction_km


@pytest.mark.parametrize("mean", [0.0, 0.3])
def test_without_spread_a_named_work_opens_at_its_plan_plus_the_mean_delay(base_scenario,
                                                                          mean):
    sc = _delay(base_scenario, mean, 0.0)
    d = District(sc, 3, 0, events=True)
    out = d.run()
    opened = _opened(d)
    assert len(opened) == len(sc.infrastructure.pipeline)
    for w, when in zip(sc.infrastructure.pipeline, sorted(opened.items()), strict=True):
        planned, left = _planned_and_left(sc, w)
        assert when[1] == pytest.approx(planned + 0.5 + mean * left, abs=1e-9), w.name
    # the rail network jumps by the named work's km in the month it opens (no other rail
    # opening is due then in the base): read through the series, not the log
    w = sc.infrastructure.pipeline[0]
    m = int(opened[min(opened)])
    jump = out["rail_km"][m] - out["rail_km"][m - 1]
    assert jump >= w.km - 1e-9


def test_the_delays_are_the_streams_normal_draws(base_scenario):
    """The logged openings are the formula at the uniforms of the stream (recomputed)."""
    sc = base_scenario
    delay = sc.infrastructure.pipeline_delay
    assert delay.sd_share_of_remaining > 0
    for rep in (0, 1, 2):
        d = District(sc, 5, rep, events=True)
        d.run()
        u = Streams(5, rep).get(STREAM).random(len(sc.infrastructure.pipeline))
        for w, ui, (_, when) in zip(sc.infrastructure.pipeline, u, sorted(_opened(d).items()),
                                    strict=True):
            planned, left = _planned_and_left(sc, w)
            share = max(-1.0, delay.mean_share_of_remaining
                        + delay.sd_share_of_remaining * NormalDist().inv_cdf(ui))
            assert when == pytest.approx(planned + 0.5 + left * share, abs=1e-9)
            assert when == pytest.approx(opening_month(w, delay, sc.time, ui), abs=1e-12)


def test_a_larger_mean_delay_never_opens_a_work_sooner(base_scenario):
    w = base_scenario.infrastructure.pipeline[0]
    lo, hi = (_delay(base_scenario, m, 0.4).infrastructure.pipeline_delay for m in (0.0, 0.5))
    for u in np.linspace(0.001, 0.999, 50):
        assert opening_month(w, hi, base_scenario.time, u) >= opening_month(
            w, lo, base_scenario.time, u)


def test_same_seed_same_openings_other_seeds_other_openings(base_scenario):
    a, b = simulate_one(base_scenario, 11, 0), simulate_one(base_scenario, 11, 0)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    times = set()
    for rep in range(4):
        d = District(base_scenario, 11, rep)
        d.run()
        times.add(tuple(d["infrastructure"].pipeline_open_month))
    assert len(times) == 4


def test_the_rail_band_after_2015_is_not_zero_wide(base_scenario):
    """Parameters fixed, 20 replications: the delays spread the 2017 rail network; without
    the named works (all the WIP opening evenly) it has no spread at all."""
    with_pipeline = [simulate_one(base_scenario, 2, k)["rail_km"][DEC_2017] for k in range(20)]
    flat = variant(base_scenario, {"infrastructure.pipeline": []})
    without = [simulate_one(flat, 2, k)["rail_km"][DEC_2017] for k in range(20)]
    assert np.std(with_pipeline) > 10.0
    assert np.ptp(without) == 0.0


def test_km_are_conserved(base_scenario):
    """Open + under construction = the start's open + WIP + km started since, every month;
    the named works open once each, the rest of the WIP opens evenly, nothing twice."""
    d = District(base_scenario, 4, 1, events=True)
    out = d.run()
    net = d["infrastructure"]
    ev = d.log.frame()
    seg = base_scenario.infrastructure.segment_types["rail"]
    starts = ev[(ev["event"] == "start") & (ev["type"] == "rail")]
    for m in range(0, base_scenario.time.n_months, 7):
        started = float(starts.loc[starts["time"] < m + 1, "km"].sum())
        assert out["rail_km"][m] + out["rail_under_construction_km"][m] == pytest.approx(
            seg.initial_km + seg.initial_under_construction_km + started, rel=1e-12), m
    opened = ev[(ev["event"] == "open") & (ev["type"] == "rail")]
    named = sum(w.km for w in base_scenario.infrastructure.pipeline)
    assert opened.loc[opened["kind"] == "pipeline", "km"].sum() == pytest.approx(named)
    assert opened.loc[opened["kind"] == "wip", "km"].sum() == pytest.approx(
        seg.initial_under_construction_km - named)
    assert net.built_km["rail"] + net.under_km["rail"] == pytest.approx(
        seg.initial_km + seg.initial_under_construction_km + net.started_km["rail"])


def test_named_works_do_not_change_the_money(base_scenario):
    """Carved out of the WIP, the named works leave its unpaid instalments as they were."""
    flat = variant(base_scenario, {"infrastructure.pipeline": []})
    a, b = District(base_scenario, 1, 0), District(flat, 1, 0)
    assert a["infrastructure"].wip_instalment == b["infrastructure"].wip_instalment
    out_a, out_b = a.run(), b.run()
    np.testing.assert_allclose(np.cumsum(out_a["infrastructure_spending_usd_m"]),
                               np.cumsum(out_b["infrastructure_spending_usd_m"]), rtol=1e-12)


_WORK = """
        infrastructure:
          pipeline:
            - name: a_line
              segment_type: rail
              km: {km}
              share_complete: {share}
              reading: 2015-06
              planned_opening: {planned}
        """


@pytest.mark.parametrize("km,share,planned,fragments", [
    (100, 1.5, "2016-12", ("infrastructure.pipeline.0.share_complete",
                           "less than or equal to 1")),
    (100, 0.5, "2015-01", ("infrastructure.pipeline.0", "must be after reading")),
    (100, 0.5, "2016-13", ("infrastructure.pipeline.0.planned_opening",)),
    (5000, 0.5, "2016-12", ("infrastructure", "a_line", "5000 km",
                            "initial_under_construction_km")),
])
def test_a_bad_pipeline_entry_is_a_located_error(cli, tmp_path, km, share, planned, fragments):
    p = extending(tmp_path, _WORK.format(km=km, share=share, planned=planned))
    assert_user_error(cli("check", p), *fragments)


def test_a_work_of_an_unknown_type_is_a_located_error(cli, tmp_path):
    p = extending(tmp_path, _WORK.format(km=100, share=0.5, planned="2016-12").replace(
        "segment_type: rail", "segment_type: tram"))
    assert_user_error(cli("check", p), "infrastructure.pipeline.0.segment_type")
