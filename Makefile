# customercard — the two commands: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
NODE_STAMP = node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
PORT   ?= 5006
# The test processes `make test` runs the suite in, files shared out whole (0: one process, no xdist)
TEST_WORKERS ?= 2
# The translations, compiled from their catalogs (and again whenever a catalog changes)
MO_FILES = $(patsubst %.po,%.mo,$(wildcard customercard/locale/*/LC_MESSAGES/customercard.po))

.PHONY: serve test bench lint system-deps clean-venv messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/pybabel compile --statistics -d customercard/locale -D customercard
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

%.mo: %.po | $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

## serve: set up, create data/customercard.duckdb with demo data if missing, serve on http://localhost:$(PORT)
serve: $(STAMP) $(MO_FILES)
	$(BIN)/customercard serve --demo-if-missing --port $(PORT)

# axe-core, which the browser tests run in each page (package.json, locked by package-lock.json)
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@rm -f node_modules/.installed-*
	@touch $(NODE_STAMP)

## test: set up (Python packages, compiled translations, axe-core from npm and, as root, Debian's Chromium,
## PostgreSQL, nginx and npm) and run the whole suite, in TEST_WORKERS processes (2; each test file whole in one)
test: system-deps $(STAMP) $(MO_FILES) $(NODE_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25

## bench: the performance suite (not part of `make test`); writes benchmarks/RESULTS.md
bench: $(STAMP) system-deps
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check customercard tests benchmarks dashboards

## messages: extract the texts to translate into the template and bring the catalogs up to date with it (then
## translate what is new in customercard/locale/{sv,da}/LC_MESSAGES/customercard.po); `make` compiles them
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k pgettext:1c,2 -o customercard/locale/customercard.pot --project customercard \
		--no-location --sort-output --width 120 customercard
	$(BIN)/pybabel update -i customercard/locale/customercard.pot -d customercard/locale -D customercard \
		--width 120 --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d customercard/locale -D customercard

## system-deps: the system packages the tests need (Chromium, PostgreSQL, nginx, npm)
system-deps:
	@./.ci/system-deps

clean-venv:
	rm -rf $(VENV)
