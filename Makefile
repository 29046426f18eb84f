# One command to try it, one to test it. Everything installs from pyproject.toml + uv.lock.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
RUN := $(UV) run --frozen
DEMO := demo_data
# Debian packages: as root directly, else through sudo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DASHBOARD ?= 1
TEST_WORKERS ?= 2

.PHONY: setup browser demo test lint dbt-conventions bench clean

.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@touch $@

setup: .venv/.synced  ## install the locked environment into .venv

# Debian's chromium for the dashboard's browser test, and CJK fonts so its Chinese pages
# (and their screenshots) show characters, not boxes
browser:  ## install Debian chromium + fonts-noto-cjk if missing
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

demo: setup  ## generate the demo world, run the pipeline on it, open the dashboard
	@if [ ! -d $(DEMO)/extracts ]; then $(RUN) wmsight generate --out $(DEMO)/extracts; fi
	$(RUN) wmsight run --extracts $(DEMO)/extracts --db $(DEMO)/wmsight.duckdb --feeds $(DEMO)/feeds
	@echo
	@echo "Results: warehouse $(DEMO)/wmsight.duckdb (raw: load_log, quarantine; marts: fct_kpi_daily, fct_inventory_daily, ...)"
	@echo "         feeds     $(DEMO)/feeds/latest (kpi_daily, customer_360, replenishment_plan, ...)"
	@echo "         extracts  $(DEMO)/extracts (ground truth in $(DEMO)/extracts/_truth)"
	@if [ "$(DASHBOARD)" = 1 ]; then \
		echo "Dashboard: http://localhost:8501 (log in as planner / planner-demo to approve; Ctrl-C stops it)"; \
		$(RUN) wmsight dashboard --feeds $(DEMO)/feeds --db $(DEMO)/wmsight.duckdb; \
	fi

# two pytest-xdist workers; modules that share a built world run on the same one
# (tests/conftest.py); TEST_WORKERS=0 runs the suite in one process
test: setup browser dbt-conventions  ## the dbt project's conventions, then the whole test suite
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadgroup

# dbt-project-evaluator's conventions, checked by dbt-bouncer on the dbt manifest. It has
# its own locked environment (.ci/dbt_bouncer): it pins duckdb<2, the pipeline uses duckdb 2.
dbt-conventions: setup
	$(RUN) dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet
	cd dbt_project && $(UV) run --frozen --project ../.ci/dbt_bouncer \
		dbt-bouncer --config-file dbt-bouncer.yml

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

bench: setup  ## pipeline per stage at scale 1 and 10 (writes docs/BENCHMARKS.md), ingest vs bare read_csv, forecast vs naive Prophet
	$(RUN) python bench/pipeline.py --scales 1 10 --write-docs
	$(RUN) python bench/ingest.py
	$(RUN) python bench/forecast.py --sample 300 --rounds 3

clean:
	rm -rf $(DEMO) .pytest_cache
