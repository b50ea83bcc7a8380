"""The ``gzsim`` command line: click commands (:mod:`~gzsim.cli.app`) over the Python API.

The last layer: it may import every other one, and nothing imports it.

Start-up (issue 21): the command line imports numpy, scipy.special, pydantic and the model,
some 60,000 objects that live until the process ends. The garbage collector is paused while
they load (its collections there find nothing to free, ~0.03-0.05 s of every command) and they
are then frozen out of its reach, so the collections a command triggers later do not walk them
again (as the execution layer's warm workers do, :func:`gzsim.execution.tasks.warm`).
"""

import gc

_collecting = gc.isenabled()
gc.disable()
try:
    from gzsim.cli.app import main  # noqa: E402 - imported with the collector paused (above)
finally:
    gc.freeze()
    if _collecting:
        gc.enable()

__all__ = ["main"]
