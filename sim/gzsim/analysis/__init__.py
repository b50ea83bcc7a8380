"""Analysis of results and sweeps: comparisons, headlines, sensitivity, tables and figures.

Above results and experiments, below the CLI. Nothing is imported here, so ``import
gzsim.analysis.compare`` costs only what that module needs (start-up time, issue 13).
"""
