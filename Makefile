# The README's two commands: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-browser setup lint bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/gzsim run scenarios/base.yaml

# The SLURM integration test needs a running single-node SLURM: started here when we are root
# with apt (as on CI); otherwise that one test is skipped with the reason.
test: setup
	@slurm=0; if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  if bash ci/slurm/setup_slurm.sh; then slurm=1; \
	  else echo "make test: SLURM could not be started; tests/test_slurm.py will be skipped"; fi; \
	fi; \
	GZSIM_SLURM=$$slurm $(BIN)/python -m pytest -q -m "not browser"

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
