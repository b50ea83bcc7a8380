"""How attractive the district is to investors: a product of explicit effects.

Each effect is a small pure function of the district's state with its parameters in the
scenario's ``attractiveness`` section; an elasticity of 0 makes the effect exactly 1.
"""

from __future__ import annotations

from gzsim.scenario.schema_network import Attractiveness


def access_effect(cfg: Attractiveness, district_accessibility: float) -> float:
    """``accessibility ** access_elasticity``: better links draw projects."""
    return max(district_accessibility, 1e-9) ** cfg.access_elasticity


def land_effect(cfg: Attractiveness, free_land_km2: float) -> float:
    """``min(1, free / buffer) ** land_elasticity``, floored: no serviced land, few projects."""
    ratio = max(cfg.land_floor, min(1.0, free_land_km2 / cfg.land_buffer_km2))
    return ratio ** cfg.land_elasticity


def incentive_effect(cfg: Attractiveness, tax_incentive_share: float) -> float:
    """``1 + incentive_elasticity * share``: forgone taxes draw projects, linearly."""
    return 1.0 + cfg.incentive_elasticity * tax_incentive_share


def labour_effect(cfg: Attractiveness, shortage: float) -> float:
    """``(1 - shortage) ** labour_elasticity``: persistent unfilled positions deter investors."""
    return max(1.0 - shortage, 1e-9) ** cfg.labour_elasticity


def attractiveness(cfg: Attractiveness, *, accessibility: float, free_land_km2: float | None,
                   tax_incentive_share: float, shortage: float) -> float:
    """The arrival multiplier: the product of the effects above (land only if modelled)."""
    value = (access_effect(cfg, accessibility) * incentive_effect(cfg, tax_incentive_share)
             * labour_effect(cfg, shortage))
    if free_land_km2 is not None:
        value *= land_effect(cfg, free_land_km2)
    return value
