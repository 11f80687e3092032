# boardpack: `make` lists the targets. Every target creates the virtual environment it needs.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= data/sample
CONFIG ?= config/boardpack.toml
QUARTER ?=
REPORTS ?= reports

.PHONY: help venv system-deps quarterly-report sample test lab lock clean email scheduled-report bench

help: ## List the targets with one line each
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'
	@echo "  Variables: QUARTER=2026-Q2  DATA=path/to/data  CONFIG=path/to/boardpack.toml  REPORTS=reports"

quarterly-report: venv ## Render the board pack (latest complete quarter; QUARTER=2026-Q2 DATA=path for others)
	$(BIN)/boardpack build $(if $(QUARTER),--quarter $(QUARTER)) --data "$(DATA)" --config "$(CONFIG)" --reports "$(REPORTS)"

email: venv ## Email the published pack (QUARTER=2026-Q3; DRY_RUN=1 writes .eml only; GROUP=board; RESEND=1)
	$(BIN)/boardpack send --quarter "$(QUARTER)" --reports "$(REPORTS)" $(if $(RECIPIENTS),--recipients "$(RECIPIENTS)") \
		$(foreach g,$(GROUP),--group $(g)) $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run) \
		$(if $(filter 1 yes true,$(ALLOW_PROVISIONAL)),--allow-provisional) $(if $(filter 1 yes true,$(RESEND)),--resend)

scheduled-report: venv ## For cron: render the pack; if the build fails, email the error report to the analysts
	$(BIN)/boardpack scheduled $(if $(QUARTER),--quarter $(QUARTER)) --data "$(DATA)" --config "$(CONFIG)" --reports "$(REPORTS)" \
		$(if $(RECIPIENTS),--recipients "$(RECIPIENTS)")

test: venv ## Run every test (unit, contracts, bad input, end to end)
	$(BIN)/python -m pytest

lab: venv ## Open JupyterLab on the notebooks with the project's kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

sample: venv ## Regenerate the bundled sample enterprise in data/sample (deterministic)
	$(BIN)/boardpack sample --out data/sample

bench: venv ## Measure ingest time and memory against DuckDB's bare scan (1M and 10M rows)
	$(BIN)/python benchmarks/run.py

venv: $(VENV)/.installed ## Create .venv with the pinned dependencies of requirements.lock

$(VENV)/.installed: requirements.lock pyproject.toml | system-deps
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "boardpack needs Python 3.11 or newer (PYTHON=python3.11 make ...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

system-deps: ## Check (and, as root with apt, install) Pango and DejaVu fonts that WeasyPrint needs
	@if ldconfig -p 2>/dev/null | grep -q libpango-1.0 && fc-list 2>/dev/null | grep -qi dejavu; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Pango and DejaVu fonts for WeasyPrint..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null; \
	else echo "WeasyPrint needs Pango >= 1.44 and DejaVu fonts: install libpango-1.0-0, libpangoft2-1.0-0 and fonts-dejavu-core."; exit 1; fi

lock: ## Re-pin requirements.lock from pyproject.toml (needs the package registry)
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip && .lockenv/bin/python -m pip install --quiet ".[test]"
	(head -2 requirements.lock; .lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^boardpack') > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf .lockenv

clean: ## Remove the virtual environment and unpublished staging folders (published packs stay)
	rm -rf $(VENV) $(REPORTS)/.staging-* .pytest_cache
