"""One heading and one writer for every benchmark's section of results.md."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path


def report(lines: list[str], write: Path | None, versions: str = "") -> None:
    """Print the section (heading: command, date, machine, load) and append it to ``write``."""
    script = Path(sys.argv[0]).name
    head = (f"### `{script} {' '.join(sys.argv[1:])}` — "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"{versions + ', ' if versions else ''}load {os.getloadavg()[0]:.1f} at the end")
    text = "\n".join([head, "", *lines, ""])
    print(text)
    if write:
        with open(write, "a", encoding="utf-8") as f:
            f.write(text + "\n")
