# customercard — the two commands: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
NODE_STAMP = node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
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

# axe-core, which the browser tests run in each page (package.json, locked by package-lock.json)
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@rm -f node_modules/.installed-*
	@touch $(NODE_STAMP)

## test: set up (Python packages, axe-core from npm and, as root, Debian's Chromium, PostgreSQL, nginx and npm) and
## run the whole suite
test: system-deps $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest

## bench: the performance suite (not part of `make test`); writes benchmarks/RESULTS.md
bench: $(STAMP) system-deps
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check customercard tests benchmarks dashboards

## system-deps: the system packages the tests need (Chromium, PostgreSQL, nginx, npm)
system-deps:
	@./.ci/system-deps

clean-venv:
	rm -rf $(VENV)
