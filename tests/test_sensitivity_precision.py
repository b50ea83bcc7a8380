"""Sensitivity indices whose intervals are wider than the index are flagged, with the sample
size that would be needed."""

from __future__ import annotations

import pandas as pd

from gzsim.analysis.sensitivity import imprecise, precision_warning


def test_wide_intervals_are_flagged_with_the_samples_needed():
    ind = pd.DataFrame({"factor": ["a", "b"], "S1": [0.975, 0.5], "S1_conf": [0.726, 0.05],
                        "ST": [0.2, 0.6], "ST_conf": [0.4, 0.1]})
    bad = imprecise(ind, samples=4)
    assert list(zip(bad["factor"], bad["index"], strict=True)) == [("a", "ST")]
    # half-width 0.4 at 4 samples -> under 0.2 needs 4 * (0.4 / 0.2)^2 = 16 -> 32 (> 16)
    assert bad["samples_needed"].iloc[0] == 16
    msg = precision_warning(ind, 4)
    assert "wider than the index" in msg and "ST(a) = 0.20 ± 0.40" in msg
    assert precision_warning(ind.assign(ST_conf=0.01), 4) == ""
    morris = pd.DataFrame({"factor": ["x"], "mu_star": [1.0], "mu_star_conf": [3.0]})
    assert imprecise(morris, 10)["samples_needed"].iloc[0] == 128  # 10 * 9 = 90 -> 128
