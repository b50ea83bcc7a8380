"""Calibration figures: prior vs posterior per parameter, and the posterior correlations."""

from __future__ import annotations

import numpy as np

from gzsim.analysis.plots import _plt
from gzsim.calibration.priors import PriorsFile
from gzsim.io.posterior import Posterior


def prior_posterior(post: Posterior, priors: PriorsFile):
    """One panel per free parameter: the prior density and the weighted posterior histogram."""
    plt = _plt()
    n = len(priors.priors)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    for ax, p in zip(axes.flat, priors.priors, strict=False):
        d = p.frozen()
        x = post.particles[p.path].to_numpy(float)
        lo, hi = d.ppf(0.005), d.ppf(0.995)
        lo, hi = min(lo, x.min()), max(hi, x.max())
        grid = np.linspace(lo, hi, 200)
        ax.hist(x, bins=20, range=(lo, hi), weights=post.weights, density=True, alpha=0.5,
                label="posterior")
        if p.discrete:  # readings: prior weight per value (as a density over the bins)
            width = (hi - lo) / 20
            ax.plot(d.xk, d.pk / width, "ko", ms=4, label="prior")
        else:
            ax.plot(grid, d.pdf(grid), "k-", lw=1, label="prior")
        ax.set_title(p.path.split(".", 1)[-1], fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Prior (line) and posterior (bars) of each free parameter", fontsize=10)
    fig.tight_layout()
    return fig


def correlations(corr, title: str = "Posterior correlations (weighted)"):
    """Heat map of a correlation matrix, values printed in the cells."""
    plt = _plt()
    k = len(corr)
    fig, ax = plt.subplots(figsize=(1.0 * k + 3, 0.8 * k + 2))
    im = ax.imshow(corr.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    labels = [c.split(".")[-1] for c in corr.columns]
    ax.set_xticks(range(k), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(k), labels, fontsize=7)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{corr.iat[i, j]:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
