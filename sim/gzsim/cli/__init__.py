"""The ``gzsim`` command line: click commands (:mod:`~gzsim.cli.app`) over the Python API.

The last layer: it may import every other one, and nothing imports it.
"""

from gzsim.cli.app import main

__all__ = ["main"]
