"""Helpers to drive `gzsim explore` in Debian's chromium (tests and benchmarks share them)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """Debian's chromium (Playwright cannot download its own browser here)."""
    for p in [os.environ.get("GZSIM_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]:
        if p and Path(p).is_file():
            return p
    return None


def free_port() -> int:
    """A port of 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def type_into(page, css: str, text: str) -> None:
    """Type into the text input inside the element ``css`` (a Panel widget's class)."""
    box = page.locator(f"{css} input")
    box.fill(text)
    box.press("Tab")  # Bokeh's text input sends its value on change
