# One command to try it, one to test it. Everything installs from pyproject.toml + uv.lock.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
RUN := $(UV) run --frozen
DEMO := demo_data

.PHONY: setup demo test lint bench clean

.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

setup: .venv/.synced  ## install the locked environment into .venv

demo: setup  ## generate the demo world and run the pipeline on it
	@if [ ! -d $(DEMO)/extracts ]; then $(RUN) wmsight generate --out $(DEMO)/extracts; fi
	$(RUN) wmsight run --extracts $(DEMO)/extracts --db $(DEMO)/wmsight.duckdb --feeds $(DEMO)/feeds
	@echo
	@echo "Results: warehouse $(DEMO)/wmsight.duckdb (raw: load_log, quarantine; marts: fct_kpi_daily, fct_inventory_daily, ...)"
	@echo "         extracts  $(DEMO)/extracts (ground truth in $(DEMO)/extracts/_truth)"

test: setup  ## run the whole test suite
	$(RUN) pytest

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

bench: setup  ## ingest throughput against DuckDB's bare read_csv
	$(RUN) python bench/ingest.py

clean:
	rm -rf $(DEMO) .pytest_cache
