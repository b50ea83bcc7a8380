"""``python -m gzsim``: the command line."""

from gzsim.cli import main

main()
