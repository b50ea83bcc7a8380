# The README's commands: `make run` and the test tiers. Each sets up .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-fast test-faults test-cluster test-browser setup lint bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/gzsim run scenarios/base.yaml

# Test tiers. `make test-fast` after each edit (the model, scenarios, the API and CLI smoke
# tests, the house rules: under two minutes on two cores); `make test` before a commit (every
# test but the cluster's; installs nothing outside the checkout and .venv, starts no daemon);
# `make test-cluster` on CI or a cluster machine (as root with apt it installs and starts a
# single-node SLURM with ci/slurm/setup_slurm.sh, then runs the slurm-marked tests).
FAST_TESTS := tests/test_scenario_errors.py tests/test_scenario_constants.py \
	tests/test_people.py tests/test_network.py tests/test_jobs.py tests/test_policies.py \
	tests/test_aggregate.py tests/test_process_contract.py tests/test_api.py \
	tests/test_cli_run.py tests/test_house_rules.py tests/test_readme.py

test: setup
	GZSIM_SLURM=0 $(BIN)/python -m pytest -q -m "not slurm and not browser and not faults"

# Fault injection into whole commands (SIGINT, SIGTERM, SIGKILL at random moments of a
# comparison, a calibration and a Dask sweep, then reruns): ~2 minutes on two cores; CI runs it.
test-faults: setup
	GZSIM_SLURM=0 $(BIN)/python -m pytest -q -m "faults and not slurm and not browser"

test-fast: setup
	GZSIM_SLURM=0 $(BIN)/python -m pytest -q -m "not slow and not slurm" $(FAST_TESTS)

test-cluster: setup
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  bash ci/slurm/setup_slurm.sh; \
	elif ! sinfo >/dev/null 2>&1; then \
	  echo "make test-cluster: needs root with apt (to set up SLURM) or a running SLURM"; \
	  exit 2; \
	fi
	GZSIM_SLURM=1 $(BIN)/python -m pytest -q -rs -m slurm

# gzsim explore in a real browser: Debian's chromium (installed with apt when we are root, as
# on CI) driven by Playwright; without chromium the tests are skipped with the reason.
test-browser: setup
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && ! command -v chromium >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	  || echo "make test-browser: chromium could not be installed; the browser tests will be skipped"; \
	fi
	$(BIN)/python -m pip install -q -e '.[browser]'
	$(BIN)/python -m pytest -q -m browser tests/test_explore_browser.py

lint: setup
	$(BIN)/ruff check .

# Benchmarks print ratios measured within one run and append them to benchmarks/results.md
# (date, machine, load): replication cost, `gzsim run` wall time, sweeps (real model vs EMA
# Workbench; then overhead and driver memory with a stand-in model).
bench: setup
	$(BIN)/python benchmarks/bench_model.py --reps 30 --write benchmarks/results.md
	$(BIN)/python benchmarks/bench_run.py --reps 5 --write benchmarks/results.md
	$(BIN)/python benchmarks/bench_executor.py --real --rounds 2 --write benchmarks/results.md
	$(BIN)/python benchmarks/bench_executor.py --write benchmarks/results.md

# Executed notebooks with their outputs (tables, figures, computed conclusions) for readers.
docs: setup
	$(BIN)/python tools/run_notebooks.py docs/notebooks

clean:
	rm -rf $(VENV) results .pytest_cache
