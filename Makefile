# MarketPulse — the front door.
#   make run    set up, start the local engine, run the whole pipeline on the default data
#   make test   set up, lint (ruff, sqlfluff, terraform/checkov) and test against a real engine
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
PIP_VERSION := 26.3

.PHONY: setup run test bench lint lint-py lint-sql infra-check browser pytest test-fast engine-start \
        engine-stop engine-status constraints clean prerequisites

setup: $(STAMP)

prerequisites:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
	  echo "MarketPulse needs Python >= 3.11 (found: $$($(PYTHON) --version 2>&1))."; \
	  echo "Install one (e.g. 'sudo apt-get install python3.11 python3.11-venv') and run"; \
	  echo "'make PYTHON=python3.11 ...'."; exit 1; }
	@java -version 2>&1 | grep -q 'version "17' || { \
	  echo "MarketPulse's engine (Spark 3.5) needs a Java 17 runtime; found: $$(java -version 2>&1 | head -1)."; \
	  echo "Install it: Debian/Ubuntu 'sudo apt-get install openjdk-17-jre-headless',"; \
	  echo "macOS 'brew install openjdk@17', or point JAVA_HOME/PATH at a JDK 17."; exit 1; }

$(STAMP): pyproject.toml constraints.txt | prerequisites
	@echo "==> creating $(VENV) and installing pinned dependencies (first time: a few minutes)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip==$(PIP_VERSION)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	  -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "==> environment ready: $(VENV)"

run: setup
	$(BIN)/marketpulse run

engine-start: setup
	$(BIN)/marketpulse engine start
engine-stop: setup
	$(BIN)/marketpulse engine stop
engine-status: setup
	$(BIN)/marketpulse engine status

test: setup lint-py infra-check pytest

# Benchmarks (bench/README.md): sizes, peers, scale; `make bench BENCH_ARGS=--quick` for a smoke.
BENCH_ARGS ?=
bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: lint-py lint-sql

lint-py: setup
	@echo "==> ruff"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The dbt templater compiles through a live connection: this uses the lake's engine
# (started if needed). `make test` lints the SQL inside pytest, against its own engine.
lint-sql: setup
	$(BIN)/marketpulse engine start
	$(BIN)/sqlfluff lint models analyses

# terraform fmt/validate/test (mock providers) and checkov, offline (see infra/README.md).
infra-check:
	infra/check

# The trust report is tested in headless Chromium (Debian's package; CI runs as root).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> installing chromium (Debian) for the report tests"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The report tests need Chromium: 'sudo apt-get install -y chromium' (Debian/Ubuntu)."; \
	    exit 1; \
	  fi; }

pytest: setup browser
	@echo "==> pytest (unit, then integration against a real Spark Thrift engine)"
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m unit

constraints: $(STAMP)
	@{ echo "# Exact versions for every machine: pip install -c constraints.txt -e '.[dev]'"; \
	   echo "# Regenerate after changing pyproject.toml: make constraints"; \
	   $(BIN)/pip freeze --exclude-editable | grep -v '^marketpulse'; } > constraints.txt

clean:
	-$(BIN)/marketpulse engine stop
	rm -rf target logs .pytest_cache .ruff_cache
