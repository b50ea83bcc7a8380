"""Calibration: targets with provenance, scipy growth fits, simulation-based fitting, report."""
