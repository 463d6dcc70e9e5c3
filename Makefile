# Two commands get a newcomer going: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean oracle demo soak
ORACLE := scripts/oracle/node_modules/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# EBSI's own npm libraries, used as an independent oracle by some tests (skipped without node).
$(ORACLE): scripts/oracle/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd scripts/oracle && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: EBSI oracle tests will be skipped"; fi

oracle: $(ORACLE)

## run: install into .venv and start the service on 127.0.0.1:8080 (SQLite + in-process cache)
run: $(STAMP)
	$(BIN)/trustbridge serve --host 127.0.0.1 --port 8080

## demo: verify the shipped demo presentation against the running service (make run first)
demo:
	@$(PYTHON) scripts/demo_verify.py --url http://127.0.0.1:8080

## test: install, lint (ruff), type-check (mypy strict) and run the whole test suite
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(ORACLE)
	$(BIN)/pytest --cov --cov-report=term:skip-covered -q

## bench: every benchmark of issue 11 (~10 min, embedded and Redis + PostgreSQL) and ONE table,
## also written to bench/out/bench-table.{md,json}; BENCH_ARGS="--embedded-only" without them
bench: $(STAMP) $(ORACLE)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

## soak: SOAK_MINUTES (default 5) of mixed load on a served node + mirror, RSS/FDs watched
## (docs/soak.md); REDIS_URL/DATABASE_URL or SOAK_ARGS="--redis URL --database URL" for
## Redis + PostgreSQL. The JSON report goes to bench/out/soak-<mode>.json.
SOAK_MINUTES ?= 5
soak: $(STAMP)
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) --json-out bench/out/ $(SOAK_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
