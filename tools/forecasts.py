"""The base scenario's projections of the years it was not fitted to (median and 90 % band).

The forecasting test of the model: these are written down, never checked against anything in
this repository (no observed figure after 2015 enters it). Also prints the net fall of the rural
poor in 2016 (the quantity the seed's "1.2 million lifted out of poverty" is: issue 22).

    .venv/bin/python tools/forecasts.py [--scenario scenarios/base.yaml] [--replications N]
        [--first 2016] [--last 2024] [--set key.path=value]...
"""

from __future__ import annotations

import argparse

import gzsim
from gzsim.aggregate import annual

INDICATORS = ["expressway_km", "rail_km", "poor_people", "people_resettled"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/base.yaml")
    ap.add_argument("--replications", type=int, default=60)
    ap.add_argument("--seed", type=int, default=20170716)
    ap.add_argument("--first", type=int, default=2016)
    ap.add_argument("--last", type=int, default=2024)
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="KEY.PATH=VALUE", help="as gzsim run --set")
    args = ap.parse_args()
    res = gzsim.simulate(gzsim.load_scenario(args.scenario, overrides=args.overrides),
                         replications=args.replications, seed=args.seed)
    u = res.manifest["uncertainty"]
    print(f"uncertainty: {u['mode']} ({u.get('posterior', '')}), "
          f"{args.replications} replications, seed {args.seed}")
    for ind in INDICATORS:
        a = annual(res.series, ind)
        print(f"\n{ind}")
        for y in range(args.first, args.last + 1):
            lo, mid, hi = a[y].quantile([0.05, 0.5, 0.95])
            print(f"  {y}: {mid:,.0f} [{lo:,.0f}, {hi:,.0f}]")
    poor = annual(res.series, "poor_people")
    fall = poor[args.first - 1] - poor[args.first]
    lo, mid, hi = fall.quantile([0.05, 0.5, 0.95])
    print(f"\nnet fall of the rural poor in {args.first}: {mid:,.0f} [{lo:,.0f}, {hi:,.0f}]")


if __name__ == "__main__":
    main()
