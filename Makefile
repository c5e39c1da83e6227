# customercard — the two commands: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT   ?= 5006

.PHONY: serve test bench lint system-deps clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## serve: set up, create data/customercard.duckdb with demo data if missing, serve on http://localhost:$(PORT)
serve: $(STAMP)
	$(BIN)/customercard serve --demo-if-missing --port $(PORT)

## test: set up (Python packages and, as root, Debian's Chromium, PostgreSQL and nginx) and run the whole suite
test: $(STAMP) system-deps
	$(BIN)/python -m pytest

## bench: the performance suite (not part of `make test`); writes benchmarks/RESULTS.md
bench: $(STAMP) system-deps
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check customercard tests benchmarks dashboards

## system-deps: the system packages the tests need (Chromium, PostgreSQL, nginx)
system-deps:
	@./.ci/system-deps

clean-venv:
	rm -rf $(VENV)
