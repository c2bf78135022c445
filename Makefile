# ctip: `make run` starts everything locally, `make test` runs every test. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
STACK := deploy/local/stack.sh

.PHONY: help deps up down status migrate run test test-unit test-faults test-docker fuzz-deep mutation lint bench token

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

deps: ## install uv if missing, then the locked Python dependencies
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

up: ## start PostgreSQL and Kafka (installs PostgreSQL, fetches Kafka jars on first run)
	@$(STACK) up

down: ## stop PostgreSQL and Kafka
	@$(STACK) down

status: ## is the local stack running?
	@$(STACK) status

migrate: deps up ## upgrade every service schema to head
	@$(UV) run ctip migrate

run: deps up ## the whole system: stack, migrations, five services, demo data (Ctrl-C stops)
	@UV="$(UV)" deploy/local/run.sh

test: deps up ## every test (unit, integration, e2e on the real stack), then the fault suite
	@$(UV) run pytest -q -m "not faults"
	@$(MAKE) --no-print-directory test-faults

test-faults: deps ## fault injection on a stack of its own (other ports, temp data; ~5 min)
	@$(UV) run pytest -q tests/faults -p no:warnings -m faults

test-docker: deps ## the compose stack live: engine, bases, image, 2 replicas, killed workers (~10 min)
	@$(UV) run pytest -q tests/docker -m docker -p no:randomly

test-unit: deps ## tests that need nothing running
	@$(UV) run pytest -q tests/unit

fuzz-deep: deps up ## schemathesis at nightly depth: 200 new examples per operation and role (~25 min)
	@CTIP_FUZZ_DEPTH=nightly $(UV) run pytest -q tests/fuzz/test_schemathesis.py -m fuzz

mutation: deps ## mutation scores of the rule modules against tests/unit (~15-20 min; README "Tests")
	@$(UV) run python -m tests.mutation.run

lint: deps ## ruff and mypy
	@$(UV) run ruff check libs services tests bench testkit
	@$(UV) run ruff format --check libs services tests bench testkit
	@$(UV) run mypy

bench: deps up ## benchmarks (figures, not pass/fail; see bench/README.md)
	@$(UV) run python -m bench.events
	@$(UV) run python -m bench.drain
	@$(UV) run python -m bench.intake
	@$(UV) run python -m bench.casework
	@$(UV) run python -m bench.victim_support
	@$(UV) run python -m bench.interagency
	@$(UV) run python -m bench.evidence
	@$(UV) run python -m bench.deadlines
	@$(UV) run python -m bench.national

token: deps ## a token: make token ROLE=intake_officer JURISDICTION=01
	@$(UV) run ctip token --role $(or $(ROLE),supervisor) --jurisdiction $(or $(JURISDICTION),01)
