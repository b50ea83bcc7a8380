"""Random streams: one ``numpy.random.Generator`` per (replication, purpose).

Streams are keyed by a stable hash of their name, not by creation order, so adding a process
never shifts another's draws, and two scenarios run with the same root seed share random numbers
(common random numbers) for every purpose they have in common.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """Stable 32-bit key of a stream name (independent of Python's hash randomisation)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Hands out independent generators for the named purposes of one replication."""

    def __init__(self, root_seed: int, replication: int):
        self.root_seed = int(root_seed)
        self.replication = int(replication)
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator of one named purpose (created on first use, then reused)."""
        if name not in self._cache:
            ss = np.random.SeedSequence(
                entropy=self.root_seed, spawn_key=(self.replication, stream_key(name))
            )
            self._cache[name] = np.random.default_rng(ss)
        return self._cache[name]


class UniformBank:
    """Row ``k`` of uniforms for the ``k``-th entity (project, batch...), drawn in blocks.

    Giving each entity its own row keeps an entity's attributes identical across scenarios even
    when the timing of arrivals differs: common random numbers survive policy changes.
    """

    def __init__(self, rng: np.random.Generator, width: int, block: int = 256):
        self._rng = rng
        self._width = width
        self._block = block
        self._rows = np.empty((0, width))

    def row(self, k: int) -> np.ndarray:
        """The uniforms of entity ``k`` (drawing more blocks as needed)."""
        while k >= len(self._rows):
            self._rows = np.vstack([self._rows, self._rng.random((self._block, self._width))])
        return self._rows[k]
