"""The posterior: weighted particles in ``posterior.parquet``, with their provenance.

One row per accepted particle of ABC-SMC's last generation: the parameter values (one column per
dotted scenario path), the normalised ``weight`` and the ABC ``distance``. The file's metadata
(key ``gzsim``) holds the library versions, the seeds, the settings and the run's statistics.
Readers use :func:`read_posterior`; weighted summaries are :func:`weighted_quantile` and
:func:`effective_sample_size` (Kish).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gzsim.errors import ScenarioWarning, UserError
from gzsim.io.fileio import library_versions, write_parquet_table
from gzsim.io.readers import regular_file

if TYPE_CHECKING:
    import pandas as pd

META_KEY = b"gzsim"
RESERVED = ("generation", "weight", "distance")


class Posterior:
    """Weighted particles and their provenance (the file's metadata).

    Held as columns of arrays; ``particles`` is the same as a pandas frame, made on first use
    (a run that draws its parameters from the posterior needs no pandas: issue 13).
    """

    def __init__(self, particles: pd.DataFrame | dict[str, np.ndarray],
                 meta: dict[str, Any] | None = None):
        if hasattr(particles, "to_numpy"):  # a frame
            self._frame = particles
            self.columns = {str(c): particles[c].to_numpy() for c in particles.columns}
        else:
            self._frame, self.columns = None, {str(k): np.asarray(v) for k, v in
                                               particles.items()}
        self.meta: dict[str, Any] = {} if meta is None else meta

    @property
    def particles(self) -> pd.DataFrame:
        """One row per particle: the parameters, ``weight``, ``distance``..."""
        if self._frame is None:
            # start-up: pandas loads only when needed (the run path avoids it, issue 13)
            import pandas as pd

            self._frame = pd.DataFrame(self.columns)
        return self._frame

    @property
    def paths(self) -> list[str]:
        """The parameter columns (dotted scenario paths)."""
        return [c for c in self.columns if c not in RESERVED]

    @property
    def weights(self) -> np.ndarray:
        """The normalised weights."""
        w = np.asarray(self.columns["weight"], dtype=float)
        return w / w.sum()

    @property
    def ess(self) -> float:
        """Kish's effective sample size of the weights."""
        return effective_sample_size(self.weights)

    def quantiles(self, q: tuple[float, ...] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Weighted quantiles of every parameter (rows) at ``q`` (columns ``q0.05``...)."""
        # start-up: pandas loads only when needed (the run path avoids it, issue 13)
        import pandas as pd

        return pd.DataFrame(self._quantiles(q), index=[f"q{x:g}" for x in q]).T

    def medians(self) -> dict[str, float]:
        """The weighted median of every parameter."""
        return {p: float(v[0]) for p, v in self._quantiles((0.5,)).items()}

    def _quantiles(self, q: tuple[float, ...]) -> dict[str, np.ndarray]:
        w = self.weights
        return {p: weighted_quantile(self.columns[p].astype(float), w, q) for p in self.paths}

    def draw(self, rng: np.random.Generator) -> int:
        """One particle index, drawn with the weights."""
        return int(rng.choice(len(self.weights), p=self.weights))

    def values(self, index: int) -> dict[str, float]:
        """Particle ``index`` as ``{path: value}``."""
        return {p: float(self.columns[p][index]) for p in self.paths}


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoints)."""
    order = np.argsort(x)
    x, w = np.asarray(x, float)[order], np.asarray(w, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.atleast_1d(q), cdf, x)


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of normalised importance weights."""
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / np.sum(w ** 2))


def write_posterior(particles: pd.DataFrame, meta: dict[str, Any], path: Path) -> Posterior:
    """Write the particles with their provenance (versions, seeds, ESS) atomically."""
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow as pa

    meta = {**meta, "versions": library_versions(("pyabc", "pyarrow", "sqlalchemy")),
            "model_source_sha256": model_fingerprint(),
            "ess": effective_sample_size(particles["weight"].to_numpy(float))}
    table = pa.Table.from_pandas(particles, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           META_KEY: json.dumps(meta, default=str).encode()})
    write_parquet_table(table, path)
    return Posterior(particles, meta)


def typed_values(data: dict, values: dict[str, float]) -> dict[str, Any]:
    """Values as the scenario types them: rounded where ``data`` holds an integer (months).

    The sampler proposes real numbers; an integer parameter takes the nearest whole value.
    Pass the validated scenario's ``model_dump()`` so that the schema decides what is an
    integer (a float field written ``2000`` in YAML stays a float).
    """
    out: dict[str, Any] = {}
    for path, v in values.items():
        node: Any = data
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        is_int = isinstance(node, int) and not isinstance(node, bool)
        out[path] = int(round(float(v))) if is_int else float(v)
    return out


def model_fingerprint() -> str:
    """A hash of the model's sources (``gzsim/model/*.py``): which model a posterior fits."""
    root, h = Path(__file__).resolve().parents[1] / "model", hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def read_posterior(path: str | Path) -> Posterior:
    """Read ``posterior.parquet``, checked: a clear error naming the file and what is wrong.

    A regular file; gzsim's metadata; at least one particle; weights finite and positive;
    parameter values finite numbers. A posterior fitted to other model code is used with a
    warning (the model changed since ``gzsim calibrate`` ran).
    """
    # start-up: pyarrow loads only when needed (the run path avoids it, issue 13)
    import pyarrow.parquet as pq

    path = Path(path)
    hint = "rebuild it with `gzsim calibrate`, or run with --uncertainty noise"
    if not os.path.lexists(path):
        raise UserError(f"{path}: posterior file not found ({hint})")
    regular_file(path, "posterior file")
    try:
        table = pq.ParquetFile(path).read()  # (read_table would import pandas via datasets)
        raw = (table.schema.metadata or {}).get(META_KEY)
        meta = json.loads(raw) if raw is not None else None
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise UserError(f"{path}: not a readable posterior ({type(e).__name__}: {e}); "
                        f"{hint}") from None
    if not isinstance(meta, dict) or "weight" not in table.column_names:
        raise UserError(f"{path}: not a gzsim posterior (no '{META_KEY.decode()}' metadata or "
                        f"no 'weight' column); {hint}")
    # to_pydict, not to_numpy: pyarrow's conversion to NumPy imports pandas (~0.3 s)
    post = Posterior({name: np.asarray(v) for name, v in table.to_pydict().items()}, meta)
    problem = _damage(post)
    if problem:
        raise UserError(f"{path}: damaged posterior: {problem}; {hint}")
    fitted_to = meta.get("model_source_sha256")
    if fitted_to and fitted_to != model_fingerprint():
        warnings.warn(ScenarioWarning(
            f"{path}: the posterior was fitted to other model code (model source "
            f"{str(fitted_to)[:12]}, now {model_fingerprint()[:12]}); rerun `gzsim calibrate` "
            "to refit it"), stacklevel=2)
    return post


def _damage(post: Posterior) -> str | None:
    """What makes a posterior unusable, or None."""
    n = len(post.columns["weight"])
    if n == 0:
        return "it holds no particles"
    if not post.paths:
        return "it holds no parameter columns"
    for name in ["weight", *post.paths]:
        try:  # a missing value (null) reads as None: NaN here
            values = np.asarray(post.columns[name], dtype=float)
        except (TypeError, ValueError):
            return f"column '{name}' is not numeric"
        if not np.isfinite(values).all():
            return f"column '{name}' has NaN, missing or infinite values"
    w = post.columns["weight"].astype(float)
    if (w <= 0).any():
        return f"{int((w <= 0).sum())} of {n} weights are zero or negative (weights must be > 0)"
    return None
