"""Bit-identity guard for the model: SHA-256 of every indicator array and event log.

For speed work that must not change a single number (issue 21): record the fingerprint of the
current model once, then check it after every change. Each (scenario, seed, replication) gets
one SHA-256 over every indicator array of ``simulate_one`` (name, dtype, shape, raw bytes), a
flag that ``simulate_with_events`` gives the same arrays, the SHA-256 of its event log (column
names, dtypes and values) and the number of SimPy events the run processed (the event count
must not change either).

    .venv/bin/python tools/model_fingerprint.py --write   # record (tools/model_fingerprint.json)
    .venv/bin/python tools/model_fingerprint.py           # check: exit 1 and list what differs
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gzsim import load_scenario
from gzsim.model import District, simulate_one, simulate_with_events

ROOT = Path(__file__).resolve().parent.parent
RECORD = Path(__file__).with_suffix(".json")
SCENARIOS = ("scenarios/base.yaml", "scenarios/policy_tax_incentives.yaml",
             "scenarios/land_scarce.yaml")
SEEDS = (1, 2, 3)
REPLICATIONS = (0, 1, 2)


def array_digest(a: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes (bit-exact: NaNs and -0.0 included)."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def frame_digest(df: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame: names, dtypes and each column's values (objects by repr)."""
    h = hashlib.sha256(repr(list(zip(df.columns, map(str, df.dtypes), strict=True))).encode())
    for col in df.columns:
        values = df[col].to_numpy()
        if values.dtype == object:
            h.update("\x1f".join(map(repr, values)).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def count_events(scenario, seed: int, rep: int) -> int:
    """SimPy events one run processes."""
    d = District(scenario, seed, rep)
    n = 0
    step = d.env.step

    def counting_step() -> None:
        nonlocal n
        n += 1
        step()

    d.env.step = counting_step  # type: ignore[method-assign]
    d.run()
    return n


def fingerprint() -> dict[str, dict]:
    """The digests of every run of the guard's grid."""
    out: dict[str, dict] = {}
    for path in SCENARIOS:
        sc = load_scenario(ROOT / path)
        for seed in SEEDS:
            for rep in REPLICATIONS:
                arrays = simulate_one(sc, seed, rep)
                arrays_ev, log = simulate_with_events(sc, seed, rep)
                names = sorted(arrays)
                h = hashlib.sha256()
                for name in names:
                    h.update(f"{name}:{array_digest(arrays[name])};".encode())
                same = all(array_digest(arrays_ev[n]) == array_digest(arrays[n]) for n in names)
                entry = {"arrays": h.hexdigest(), "arrays_same_with_events": same,
                         "event_log": frame_digest(log) if log is not None else "none",
                         "simpy_events": count_events(sc, seed, rep)}
                out[f"{path}|seed={seed}|rep={rep}"] = entry
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="record the current model's digests")
    ap.add_argument("--record", type=Path, default=RECORD)
    args = ap.parse_args()
    now = fingerprint()
    if args.write:
        args.record.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(now)} runs in {args.record}")
        return 0
    then = json.loads(args.record.read_text())
    bad = [f"{run}: {key}" for run in sorted(set(then) | set(now))
           for key in sorted(set(then.get(run, {})) | set(now.get(run, {})))
           if then.get(run, {}).get(key) != now.get(run, {}).get(key)]
    for line in bad[:40]:
        print("DIFFERS", line)
    print(f"{len(now)} runs, {sum(len(v) for v in now.values())} digests: "
          f"{'IDENTICAL' if not bad else f'{len(bad)} DIFFER'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
