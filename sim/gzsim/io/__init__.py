"""Files: YAML, atomic writes, readers, output folders, provenance and the posterior file.

The bottom layer next to :mod:`gzsim.errors`: every other layer may use it, it imports none of
them. Nothing is imported here, so each module costs only what it needs.
"""
