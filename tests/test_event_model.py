"""The event-level model is faithful: arrivals, queues, conservation, granularity, boundaries.

The tests the design lists (docs/model.md §1.3): monotone arrivals under common random
numbers and N(m) exact; Little's law on the land queue; conservation of money, households,
homes and land; a project keeps its attributes when the intensity changes; lots and segments
agree; the one patience timer equals ``get | timeout``; first come, first served on land; an
event at exactly m+1 belongs to month m+1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from gzsim import load_scenario
from gzsim.model import District, simulate_one, simulate_with_events
from gzsim.model.land import GAVE_UP, LandProcess
from gzsim.model.process import Indicator, Process
from tests.conftest import REPO, variant


def _faster(sc, mult: float):
    return variant(sc, {"policies": [{"name": "more", "start": "2012-01",
                                      "levers": {"investment_rate_multiplier": mult}}]})


def _signed_by_month(events, n_months: int) -> np.ndarray:
    t = events.loc[events["event"] == "signed", "time"].to_numpy()
    return np.array([(t < m + 1).sum() for m in range(n_months)])


# --- arrivals --------------------------------------------------------------------------------
def test_raising_the_intensity_never_signs_fewer_by_any_month(neutral_scenario):
    n = neutral_scenario.time.n_months
    for k in range(3):
        _, a = simulate_with_events(neutral_scenario, 21, k)
        _, b = simulate_with_events(_faster(neutral_scenario, 1.2), 21, k)
        na, nb = _signed_by_month(a, n), _signed_by_month(b, n)
        assert np.all(nb >= na) and nb[-1] > na[-1]


def test_signings_are_the_unit_points_below_the_integrated_intensity(base_scenario):
    """N(m) = #{S_k < Lambda(m)} exactly, Lambda the integrated intensity (feedbacks on)."""
    d = District(base_scenario, 3, 0, events=True)
    inv = d["investment"]
    lam, pull = [], []
    opening = inv.open_month

    def watched(month: int) -> None:
        pull.append(inv.base_rate(month) * inv.attractiveness(month))
        opening(month)
        lam.append(inv.intensity)  # Lambda(month + 1)

    inv.open_month = watched
    d.run()
    signed = _signed_by_month(d.log.frame(), d.n_months)
    points = np.array(inv.points.points)
    expected = np.array([(points < x).sum() for x in lam])
    np.testing.assert_array_equal(signed, expected)
    # and each month's intensity is base rate x attractiveness (no lever in the base)
    np.testing.assert_allclose(np.diff(np.concatenate([[0.0], lam])), pull, rtol=1e-9)


def test_a_project_keeps_its_attributes_when_the_intensity_changes(neutral_scenario):
    _, a = simulate_with_events(neutral_scenario, 5, 0)
    _, b = simulate_with_events(_faster(neutral_scenario, 1.2), 5, 0)
    sa = a[a["event"] == "signed"].set_index("id")
    sb = b[b["event"] == "signed"].set_index("id")
    common = sa.index.intersection(sb.index)
    assert len(common) > 1000
    assert (sa.loc[common, "sector"] == sb.loc[common, "sector"]).all()
    np.testing.assert_allclose(sa.loc[common, "size_usd_m"], sb.loc[common, "size_usd_m"])
    assert (sb.loc[common, "time"] <= sa.loc[common, "time"] + 1e-9).all()  # signed earlier

    def duration(ev):
        c = ev[ev["event"] == "construction"].set_index("id")["time"]
        o = ev[ev["event"] == "operating"].set_index("id")["time"]
        return (o - c).dropna()

    da, db = duration(a), duration(b)
    both = da.index.intersection(db.index)
    assert len(both) > 300
    np.testing.assert_allclose(da.loc[both], db.loc[both], atol=1e-9)


# --- the land queue --------------------------------------------------------------------------
def _queue_area(d: District) -> float:
    """Time-integral of the land queue's length, by watching every event (not the log)."""
    env, queue = d.env, d["land"].land.get_queue
    horizon = float(d.n_months)
    state = {"t": 0.0, "area": 0.0}
    step = env.step

    def watching_step() -> None:
        step()
        nxt = min(env.peek(), horizon)  # the queue keeps its length until the next event
        state["area"] += len(queue) * max(0.0, nxt - state["t"])
        state["t"] = max(state["t"], nxt)

    env.step = watching_step
    d.run()
    return state["area"]


@pytest.fixture(scope="module")
def scarce():
    """The land-scarce variant, scarcer still, with impatient investors: a queue, some give up.

    (Scarcer than the shipped variant so that the queue does not depend on the fitted arrival
    rate of the day.)
    """
    sc = load_scenario(REPO / "scenarios" / "land_scarce.yaml")
    return variant(sc, {"investment.max_land_wait_months": 3, "land.initial_serviced_km2": 5,
                        "land.budget.usd_m_per_year": 60})


def test_littles_law_on_the_land_queue(scarce):
    d = District(scarce, 2, 0, events=True)
    area = _queue_area(d)
    ev = d.log.frame()
    T = float(d.n_months)
    asks = ev[ev["event"] == "asks_land"].set_index("id")["time"]
    done = ev[ev["event"].isin(["construction", "gave_up"])].set_index("id")["time"]
    waits = (done.reindex(asks.index).fillna(T).clip(upper=T) - asks)
    assert area > 10  # the queue is not trivial in the land-scarce variant
    assert (ev["event"] == "gave_up").sum() > 0
    # L = lambda W over the horizon: area / T = (n / T) x mean wait
    lam, w = len(asks) / T, waits.mean()
    assert area / T == pytest.approx(lam * w, rel=1e-9)


def test_the_patience_timer_equals_get_or_timeout(scarce, monkeypatch):
    runs = {}
    for mode in ("timer", "any_of"):
        monkeypatch.setattr(LandProcess, "patience", mode)
        d = District(scarce, 2, 0, events=True)
        area = _queue_area(d)
        runs[mode] = (d.recorder.arrays(), d.log.frame(), area)
    (a, ea, area_a), (b, eb, area_b) = runs["timer"], runs["any_of"]
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=1e-9, err_msg=name)
    for event in ("construction", "gave_up"):
        ta = ea[ea["event"] == event].set_index("id")["time"].sort_index()
        tb = eb[eb["event"] == event].set_index("id")["time"].sort_index()
        assert len(ta) > 0
        np.testing.assert_array_equal(ta.index, tb.index)
        np.testing.assert_allclose(ta, tb, atol=1e-12)
    assert area_a == pytest.approx(area_b, rel=1e-12)


def _bare_land(base_scenario, level: float) -> LandProcess:
    land = District(base_scenario, 1, 0)["land"]
    land.env = simpy.Environment()
    land.land = simpy.Container(land.env, capacity=math.inf, init=level)
    land._deadlines.clear()
    land._wake = None
    land.env.process(land._timer())
    return land


def test_land_is_first_come_first_served(base_scenario):
    """A large request at the head blocks smaller ones behind it (Container semantics); when it
    gives up, the next ones are served at once."""
    land = _bare_land(base_scenario, 1.0)
    big = land.take(2.0, patience=5.0)
    small = land.take(0.5, patience=5.0)
    land.env.run(until=4.0)
    assert not big.triggered and not small.triggered  # 1 km2 free, yet the small one waits
    land.env.run(until=6.0)
    assert big.value is GAVE_UP
    assert small.triggered and small.value is not GAVE_UP
    assert land.land.level == pytest.approx(0.5)


# --- conservation ----------------------------------------------------------------------------
def test_money_households_homes_and_land_are_conserved(base_scenario):
    d = District(base_scenario, 6, 1)
    closed = []
    for m in (60, 120, d.n_months):  # mid-run (after a month end) and at the end
        d.env.run(until=m + 1e-6 if m < d.n_months else d._clock)
        closed.append(m)
        net, land, res, inv = d["infrastructure"], d["land"], d["resettlement"], d["investment"]
        # road money: released = in the funds + held for a segment + works started + WIP paid
        # + works on networks at their ceiling (issue 22)
        held = sum(net.level_usd_m(t) for t in net.types) + sum(net.holding_usd_m.values())
        assert sum(net.released_usd_m) == pytest.approx(
            held + net.cost_started_usd_m + net.wip_paid_usd_m + net.upgrade_spent_usd_m,
            rel=1e-9)
        # land: serviced = free + taken; homes built = empty + occupied
        assert land.serviced_km2 == pytest.approx(land.land.level + land.taken_km2, abs=1e-9)
        assert res.homes_built == res.homes.level + res.households_relocated
        assert res.households_waiting + res.households_relocated == res.households_total
        assert res.released_usd_m == pytest.approx(
            res.fund.level + res.homes_started * res.cfg.cost_usd_m_per_home)
        assert inv.not_started >= 0 and inv.claimed_km2 > -1e-9
    assert closed == [60, 120, d.n_months]


def test_disbursed_plus_still_to_disburse_is_what_started(base_scenario):
    d = District(base_scenario, 6, 1, events=True)
    net = d["infrastructure"]
    totals = dict.fromkeys(net.types, 0.0)
    closing = net.step

    def watched(month: int) -> None:
        closing(month)
        for t in net.types:
            totals[t] += net.disbursed[t]

    net.step = watched
    d.run()
    ev = d.log.frame()
    T = float(d.n_months)
    for t, seg in net.types.items():
        starts = ev[(ev["event"] == "start") & (ev["type"] == t)]
        started = float(starts["size_usd_m"].sum())
        to_come = float((starts["size_usd_m"] * np.clip((starts["time"] + seg.build_months - T)
                                                        / seg.build_months, 0, 1)).sum())
        wip = net.wip_instalment[t] * min(seg.initial_completion_months, T)
        assert totals[t] + to_come == pytest.approx(started + wip, rel=1e-9), t
    # projects: realised = disbursed + still to disburse + abandoned
    out = d.recorder.arrays()
    inv = d["investment"]
    assert out["realised_usd_m"].sum() == pytest.approx(
        out["investment_usd_m"].sum() + inv.pipeline_usd_m() + out["abandoned_usd_m"].sum(),
        rel=1e-9)


# --- granularity -----------------------------------------------------------------------------
def test_lots_and_segments_agree(base_scenario):
    """Expressway and rail built in 50 km segments or as monthly lots: km within two segments
    (money waiting for a whole segment may pass to other types in another month), money within
    one segment's cost, firms within 2 %."""
    lots = variant(base_scenario, {f"infrastructure.segment_types.{t}.segment_km": None
                                   for t in ("expressway", "rail")})
    for k in range(2):
        a, b = simulate_one(base_scenario, 4, k), simulate_one(lots, 4, k)
        for t in ("expressway", "rail"):
            seg = base_scenario.infrastructure.segment_types[t]
            assert np.abs(a[f"{t}_km"] - b[f"{t}_km"]).max() <= 2 * seg.segment_km
            cost = seg.segment_km * seg.cost_usd_m_per_km * (1 + seg.cost_growth_real_per_year
                                                              ) ** 19
            gap = np.cumsum(a[f"{t}_investment_usd_m"]) - np.cumsum(b[f"{t}_investment_usd_m"])
            assert np.abs(gap).max() <= cost
        assert a["firms_operating"][-1] == pytest.approx(b["firms_operating"][-1], rel=0.02)


# --- the month boundary ----------------------------------------------------------------------
class _Probe(Process):
    """Counts an event scheduled at exactly t = 5 (the end of month 4, start of month 5)."""

    name = "probe"
    INDICATORS = (Indicator("probe_count", "events", "district", "stock", "test probe"),)

    def start(self, env) -> None:
        self.count = 0
        env.timeout(5).callbacks.append(lambda _: setattr(self, "count", self.count + 1))

    def indicators(self, month: int) -> dict[str, float]:
        return {"probe_count": float(self.count)}


def test_an_event_at_exactly_m_plus_1_belongs_to_month_m_plus_1(base_scenario):
    out = simulate_one(base_scenario, 1, 0, processes=[_Probe])
    assert out["probe_count"][4] == 0  # month 4's tick at t = 5 runs first (URGENT)
    assert out["probe_count"][5] == 1


def test_the_event_log_is_off_by_default(base_scenario):
    d = District(base_scenario, 1, 0)
    assert d.log is None and all(p.log is None for p in d)
    a = d.run()
    b, ev = simulate_with_events(base_scenario, 1, 0)
    for name in a:  # the log only watches: the run is the same
        np.testing.assert_array_equal(a[name], b[name])
    kinds = set(ev["kind"])
    assert {"project", "segment", "lot", "housing_package", "land_lot", "policy"} - kinds <= \
        {"policy"}  # (the base has no policy)
    assert set(ev.columns) >= {"time", "kind", "id", "event", "sector", "size_usd_m", "type",
                               "km"}


def test_gzsim_run_events_writes_the_log_beside_the_series(cli, tmp_path):
    import gzsim

    out = tmp_path / "run"
    r = cli("run", REPO / "scenarios" / "base.yaml", "-n", "2", "-w", "1", "-q",
            "--set", "time.end=2016-12", "--events", "-o", out)
    assert r.returncode == 0, r.stderr
    assert (out / "events.parquet").is_file()
    res = gzsim.read_results(out)
    ev = res.events
    assert set(ev["replication"]) == {0, 1}
    assert list(ev.columns[:3]) == ["replication", "time", "date"]
    assert (ev["date"].dt.year <= 2016).all()
    one = ev[(ev["replication"] == 0) & (ev["kind"] == "project")]
    assert {"signed", "asks_land", "construction"} <= set(one["event"])
    # the log agrees with the series: projects operating at the end = operating - exits
    ops = (one["event"] == "operating").sum() - (one["event"] == "exit").sum()
    last = res.series[res.series["replication"] == 0]["firms_operating"].iloc[-1]
    assert ops == last
    plain = tmp_path / "plain"
    assert cli("run", REPO / "scenarios" / "base.yaml", "-n", "1", "-q", "--set",
               "time.end=2013-12", "-o", plain).returncode == 0
    assert not (plain / "events.parquet").exists() and gzsim.read_results(plain).events is None


def test_logged_events_are_the_declared_ones(base_scenario):
    """Every (kind, event) in the log is declared in some process's LOGS, and the stocks a
    process declares exist once it has started."""
    from gzsim.model.policies import PolicyProcess

    d = District(base_scenario, 2, 0, events=True)
    d.run()
    declared = {(kind, e) for p in [*d, PolicyProcess] for kind, evs in p.LOGS.items()
                for e in evs}
    ev = d.log.frame()
    seen = set(zip(ev["kind"].astype(str), ev["event"].astype(str), strict=True))
    assert seen <= declared, seen - declared
    assert {("project", "gave_up"), ("plan", "end")} & declared == {("project", "gave_up"),
                                                                    ("plan", "end")}
    assert isinstance(d["land"].land, simpy.Container)
    assert isinstance(d["resettlement"].homes, simpy.Container)
    net = d["infrastructure"]
    assert set(net.crews) == set(net.fund) == {"expressway", "rail"}
    assert all(isinstance(c, simpy.Resource) for c in net.crews.values())
    assert net.crews["rail"].capacity == int(
        base_scenario.infrastructure.segment_types["rail"].max_under_construction_km // 50)
