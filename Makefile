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
ENGINE ?=
# ENGINE=spark also installs the [spark] extra (pyspark, pinned in requirements-spark.lock) and Java 17.
SPARK_READY := $(if $(filter spark,$(ENGINE)),$(VENV)/.spark-installed)

.PHONY: lint help venv spark libreoffice system-deps quarterly-report sample test lab lock clean email scheduled-report bench wheel

help: ## List the targets with one line each
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'
	@echo "  Variables: QUARTER=2026-Q2  DATA=path/to/data  CONFIG=path/to/boardpack.toml  REPORTS=reports  ENGINE=spark"

quarterly-report: venv $(SPARK_READY) ## Render the board pack (latest complete quarter; QUARTER=2026-Q2 DATA=path ENGINE=spark)
	$(BIN)/boardpack build $(if $(QUARTER),--quarter $(QUARTER)) $(if $(ENGINE),--engine $(ENGINE)) \
		--data "$(DATA)" --config "$(CONFIG)" --reports "$(REPORTS)"

email: venv ## Email the published pack (QUARTER=2026-Q3; DRY_RUN=1 writes .eml only; GROUP=board; ONLY=addr; RESEND=1)
	$(BIN)/boardpack send --quarter "$(QUARTER)" --reports "$(REPORTS)" $(if $(RECIPIENTS),--recipients "$(RECIPIENTS)") \
		$(foreach g,$(GROUP),--group $(g)) $(foreach a,$(ONLY),--only $(a)) $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run) \
		$(if $(filter 1 yes true,$(ALLOW_PROVISIONAL)),--allow-provisional) $(if $(filter 1 yes true,$(RESEND)),--resend)

scheduled-report: venv $(SPARK_READY) ## For cron: render the pack; if the build fails, email the error report to the analysts
	$(BIN)/boardpack scheduled $(if $(QUARTER),--quarter $(QUARTER)) $(if $(ENGINE),--engine $(ENGINE)) \
		--data "$(DATA)" --config "$(CONFIG)" --reports "$(REPORTS)" \
		$(if $(RECIPIENTS),--recipients "$(RECIPIENTS)")

# pytest-xdist, a worker per core (at most 4): --dist loadfile keeps each module's tests, and so its module-scoped
# builds, on one worker (loadgroup would be finer, but pytest 9.2 silently ignores its groups: xdist issue 1386).
test: venv $(VENV)/.spark-installed $(VENV)/.libreoffice-installed ## Run every test (unit, contracts, bad input, end to end, DuckDB-vs-Spark parity, exports)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

lint: venv ## Check the code: ruff (errors, imports, bugbear) everywhere; mypy strict on metrics, metrics_json, contracts and schema
	$(BIN)/ruff check boardpack tests benchmarks
	$(BIN)/mypy

lab: venv ## Open JupyterLab on the notebooks with the project's kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

sample: venv ## Regenerate the bundled sample enterprise in data/sample (deterministic)
	$(BIN)/boardpack sample --out data/sample

bench: venv $(VENV)/.spark-installed ## Measure a warm build against the stack's floor; ingest, validation and aggregation against DuckDB (Microsoft 365 seat reports 12 months x 50,000 users; the spend table 1 MB to 1M rows; gateway logs and FOCUS 1M-100M rows, Spark at 10M)
	$(BIN)/python benchmarks/build.py
	$(BIN)/python benchmarks/seats.py
	$(BIN)/python benchmarks/spend.py
	$(BIN)/python benchmarks/run.py

# build/ goes first: setuptools would carry a module deleted since the last build into the wheel from it
wheel: venv ## Build the installable wheel in dist/ (with the default config, notebooks, contracts, templates)
	rm -rf build && $(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w dist .

venv: $(VENV)/.installed $(SPARK_READY) ## Create .venv with the pinned dependencies of requirements.lock (ENGINE=spark: and pyspark)

spark: ENGINE = spark
spark: $(VENV)/.spark-installed ## Install the Spark engine: pyspark (requirements-spark.lock) and, as root with apt, Java 17

libreoffice: $(VENV)/.libreoffice-installed ## Install LibreOffice Calc, headless (as root with apt): the export tests open the XLSX with it

$(VENV)/.spark-installed: $(VENV)/.installed requirements-spark.lock
	@if java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Java 17 for Spark..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else echo "Spark needs Java 17 or newer: install openjdk-17-jre-headless (or set JAVA_HOME), then run again."; exit 1; fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.lock
	@touch $@

# tests/test_exports.py reads board-pack.xlsx back with `soffice --convert-to csv`; boardpack itself never needs it.
# --no-install-recommends: Calc without the desktop, Java or extra fonts (58 packages, 20 to 40 s).
$(VENV)/.libreoffice-installed: | $(VENV)/.installed
	@if command -v soffice >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing LibreOffice Calc (headless) for the export tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null; \
	else echo "The export tests need LibreOffice Calc: install libreoffice-calc-nogui (soffice on the PATH), then run again."; exit 1; fi
	@touch $@

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
	@# --all: on Python < 3.12 freeze leaves setuptools out, and the [test] extra pins it (tests/test_wheel.py builds a wheel with it)
	(head -2 requirements.lock; .lockenv/bin/python -m pip freeze --all --exclude-editable | grep -v -e '^boardpack' -e '^pip==') > requirements.lock.new
	.lockenv/bin/python -m pip install --quiet ".[spark]"
	(head -2 requirements-spark.lock; .lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^boardpack' \
		| grep -vxFf requirements.lock.new) > requirements-spark.lock.new
	mv requirements.lock.new requirements.lock && mv requirements-spark.lock.new requirements-spark.lock && rm -rf .lockenv

clean: ## Remove the virtual environment and what killed builds left in reports/ (published versions stay)
	@# .replaced-<quarter>-<pid>: the code before versions, killed mid-publish; with no quarter folder it is the only pack: put back
	@for d in $(REPORTS)/.replaced-*; do [ -d "$$d" ] || continue; q=$${d##*/.replaced-}; q="$(REPORTS)/$${q%-*}"; \
		if [ -e "$$q" ]; then rm -rf "$$d"; else mv "$$d" "$$q"; fi; done
	rm -rf $(VENV) $(REPORTS)/.staging-* $(REPORTS)/*/.tmp-* .pytest_cache
