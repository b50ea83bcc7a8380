"""Checks that need the whole scenario: the calendar, policies, plans and the size of the work.

Field types and ranges live in the schema; what is checked here is what only makes sense
across fields: a policy entirely outside the horizon, a lever on a process the scenario does
not have, incentive shares adding up to more than 1, milestone years that are not simulated, and
sizes that would take more time or memory than a machine has (the bound is in the message).
Every problem is a ``(field path, message)``; the loader locates it in the files.
"""

from __future__ import annotations

import math

from gzsim.scenario.schema import Scenario, lever_declarations, parse_year_month

#: Resource bounds per replication, with the reason they exist.
MAX_MONTHS = 1200  # 100 years of monthly steps
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_PROJECTS = 2_000_000  # expected signed projects (each booked and held in memory)
MAX_HOME_STARTS = 1_000_000  # housing work packages (one SimPy process each)
MAX_SERIES_ROWS = 5_000_000  # replications x months held in memory (~1 GB of series)
MAX_SEED = 2**63 - 1
MAX_NAME = 100  # a scenario name is a folder name

Issue = tuple[tuple, str]

#: Marks an issue that a *shortened* horizon explains (something starts after the end): an
#: error when the horizon is the scenario file's own, a warning when ``time`` was overridden
#: (``--set time.end=...``: running the same scenario for fewer years).
LATER = "[after the horizon] "


def _ym_index(sc: Scenario, ym: str) -> int:
    y, m = parse_year_month(ym)
    return sc.time.month_index(y, m)


def _log_total(rate0: float, g: float, half_life: float | None, months: int,
               start: int = 0) -> float:
    """Log of the sum over months of ``rate0`` grown at the (decaying) rate (no overflow)."""
    if rate0 <= 0 or months - start <= 0:
        return -math.inf
    log_g = math.log1p(g)
    terms = []
    for m in range(max(start, 0), months):
        t = (m - start) / 12
        x = log_g * t if half_life is None else \
            log_g * half_life / math.log(2) * (1 - 0.5 ** (t / half_life))
        terms.append(x)
    hi = max(terms)
    return math.log(rate0) + hi + math.log(sum(math.exp(x - hi) for x in terms))


def _max_multiplier(sc: Scenario, lever: str) -> float:
    """The largest product of a multiplier lever over overlapping policies (an upper bound)."""
    return math.prod(max(1.0, getattr(p.levers, lever) or 1.0) for p in sc.policies)


def calendar_issues(sc: Scenario) -> list[Issue]:
    """Horizon bounds, milestone years, the name (a folder name) and the seed."""
    out: list[Issue] = []
    n = sc.time.n_months
    y0, _ = parse_year_month(sc.time.start)
    y1, _ = parse_year_month(sc.time.end)
    for key, year in (("start", y0), ("end", y1)):
        if not MIN_YEAR <= year <= MAX_YEAR:
            out.append((("time", key), f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}"))
    if n > MAX_MONTHS:
        out.append((("time", "end"), f"the horizon is {n} months; the limit is {MAX_MONTHS} "
                    "(100 years of monthly steps), to keep a run within a machine's time"))
    inside = [y for y in sc.time.milestone_years if y0 <= y <= y1]
    if sc.time.milestone_years and not inside:
        out.append((("time", "milestone_years"), LATER +
                    f"no milestone year lies in the simulated years {y0}-{y1}: the summary "
                    "would be empty"))
    for i, y in enumerate(sc.time.milestone_years):
        if inside and not y0 <= y <= y1:
            out.append((("time", "milestone_years", i), LATER +
                        f"milestone year {y} is outside the simulated years {y0}-{y1} (the "
                        "summary has no row for it)"))
    if sc.name in (".", "..") or len(sc.name) > MAX_NAME:
        out.append((("name",), f"the name is a results folder name: not '.' or '..', at most "
                    f"{MAX_NAME} characters"))
    if sc.run.seed > MAX_SEED:
        out.append((("run", "seed"), f"seed must be at most 2**63-1 ({MAX_SEED})"))
    return out


def policy_issues(sc: Scenario) -> list[Issue]:
    """Policies in the horizon, with levers, on processes the scenario has, within caps."""
    out: list[Issue] = []
    n = sc.time.n_months
    decls = lever_declarations()
    summed = {k: [0.0] * n for k, d in decls.items() if d.combine == "add" and d.cap is not None}
    for i, p in enumerate(sc.policies):
        s = _ym_index(sc, p.start)
        e = n - 1 if p.end is None else _ym_index(sc, p.end)
        if e < 0 or s > n - 1:
            out.append((("policies", i, "start"), (LATER if s > n - 1 else "") +
                        f"policy '{p.name}' ({p.start} to {p.end or 'the end'}) lies entirely "
                        f"outside the horizon {sc.time.start} to {sc.time.end}: it has no "
                        "effect"))
            continue
        set_levers = {k: v for k, v in p.levers.model_dump().items()
                      if v is not None and v != {}}
        if not set_levers:
            out.append((("policies", i, "levers"),
                        f"policy '{p.name}' sets no lever: it would have no effect"))
        for lever in set_levers:
            section = decls[lever].acts_on
            if getattr(sc, section, None) is None:
                out.append((("policies", i, "levers", lever),
                            f"policy '{p.name}' sets {lever} but the scenario has no "
                            f"'{section}' section for it to act on"))
            if lever in summed:
                for m in range(max(s, 0), min(e, n - 1) + 1):
                    summed[lever][m] += set_levers[lever]
    for lever, per_month in summed.items():
        worst = max(range(n), key=lambda m: per_month[m])
        cap = decls[lever].cap
        if per_month[worst] > cap + 1e-9:
            y, mo = divmod(parse_year_month(sc.time.start)[1] - 1 + worst, 12)
            when = f"{parse_year_month(sc.time.start)[0] + y}-{mo + 1:02d}"
            active = [p.name for p in sc.policies if getattr(p.levers, lever) and
                      _ym_index(sc, p.start) <= worst and
                      (p.end is None or _ym_index(sc, p.end) >= worst)]
            out.append((("policies",), f"{lever} of overlapping policies adds up to "
                        f"{per_month[worst]:.3g} in {when} (more than {cap:g}): "
                        f"{', '.join(active)}"))
    return out


def plan_issues(sc: Scenario) -> list[Issue]:
    """Plans and budgets that start after, or end before, the horizon."""
    out: list[Issue] = []
    n = sc.time.n_months
    infra = sc.infrastructure
    for i, plan in enumerate(infra.plans if infra else []):
        if _ym_index(sc, plan.by) < 0 or _ym_index(sc, plan.start) > n - 1:
            out.append((("infrastructure", "plans", i, "start"),
                        (LATER if _ym_index(sc, plan.start) > n - 1 else "") +
                        f"plan '{plan.name}' ({plan.start} to {plan.by}) lies entirely outside "
                        f"the horizon {sc.time.start} to {sc.time.end}"))
    for section in ("infrastructure", "land"):
        part = getattr(sc, section)
        if part is not None and part.budget.start is not None and \
                _ym_index(sc, part.budget.start) > n - 1:
            out.append(((section, "budget", "start"), LATER +
                        f"budget starts {part.budget.start}, "
                        f"after the horizon ends ({sc.time.end})"))
    return out


def size_issues(sc: Scenario, replications: int | None = None) -> list[Issue]:
    """Work that would exceed a machine: expected processes per replication, series memory."""
    out: list[Issue] = []
    n = min(sc.time.n_months, MAX_MONTHS)
    inv = sc.investment
    log_projects = _log_total(inv.arrival_rate_per_month * _max_multiplier(
        sc, "investment_rate_multiplier"), inv.growth_rate_per_year, inv.growth_half_life_years, n)
    if log_projects > math.log(MAX_PROJECTS):
        out.append((("investment", "arrival_rate_per_month"),
                    f"about {_fmt(log_projects)} projects would be signed over the horizon "
                    f"(before feedbacks); the limit is {MAX_PROJECTS:,} per replication, to keep "
                    "a run within a machine's memory and time"))
    rs = sc.resettlement
    if rs is not None:
        b = rs.housing_budget
        log_money = _log_total(b.usd_m_per_year / 12 * _max_multiplier(
            sc, "housing_budget_multiplier"), b.growth_rate_per_year, b.growth_half_life_years, n)
        log_homes = min(log_money - math.log(rs.cost_usd_m_per_home),
                        math.log(max(rs.households_to_relocate, 1.0)))
        log_starts = log_homes - math.log(rs.homes_per_start)
        if log_starts > math.log(MAX_HOME_STARTS):
            out.append((("resettlement", "homes_per_start"),
                        f"about {_fmt(log_starts)} housing packages would be started; the limit "
                        f"is {MAX_HOME_STARTS:,} per replication: use larger homes_per_start"))
        batches = rs.households_to_relocate / rs.batch_households
        if batches > MAX_HOME_STARTS:
            out.append((("resettlement", "batch_households"),
                        f"{batches:,.0f} household batches; the limit is {MAX_HOME_STARTS:,}"
                        " per replication: use larger batch_households"))
    reps = sc.run.replications if replications is None else replications
    if reps * sc.time.n_months > MAX_SERIES_ROWS:
        out.append((("run", "replications"),
                    f"{reps:,} replications x {sc.time.n_months} months = "
                    f"{reps * sc.time.n_months:,} series rows; the limit is "
                    f"{MAX_SERIES_ROWS:,} (about 1 GB in memory)"))
    return out


def _fmt(log_x: float) -> str:
    return f"{math.exp(log_x):,.0f}" if log_x < 40 else f"10^{log_x / math.log(10):.0f}"


def scenario_issues(sc: Scenario, replications: int | None = None) -> list[Issue]:
    """Every cross-field problem of a valid-by-type scenario (empty: fine)."""
    issues = calendar_issues(sc)
    if any(p[:1] == ("time",) and not m.startswith(LATER) for p, m in issues):
        return issues  # the horizon itself is wrong: the other checks would mislead
    return issues + policy_issues(sc) + plan_issues(sc) + size_issues(sc, replications)


def split(issues: list[Issue], horizon_overridden: bool) -> tuple[list[Issue], list[Issue]]:
    """(errors, warnings): LATER issues are warnings when the horizon was overridden."""
    errors, warns = [], []
    for path, msg in issues:
        if msg.startswith(LATER):
            msg = msg[len(LATER):]
            (warns if horizon_overridden else errors).append((path, msg))
        else:
            errors.append((path, msg))
    return errors, warns
