# Medic — the two commands a newcomer needs are `make demo` and `make test`.
# Every target installs what it needs first (uv, the workspace from uv.lock, system packages).

SHELL := /bin/bash
.DEFAULT_GOAL := help
# uv installed by pip may not be on PATH (pyenv shims): fall back to `python3 -m uv`.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PYTEST_ARGS ?=
# Most tests wait on brokers, processes and watch windows, not on CPU: three workers on two cores halve the wall time.
# Files stay whole on one worker (their module fixtures are set up once).
PYTEST_WORKERS ?= 3

.PHONY: help uv install sync system demo test lint typecheck format bench

help:
	@echo "make demo       run the whole detect → diagnose → fix → deploy → verify loop on the bundled example"
	@echo "make test       run the test suite (real broker, real PostgreSQL, real git)"
	@echo "make lint | typecheck | format | bench"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv

sync: uv
	@$(UV) sync --frozen --all-packages --quiet

system:
	@scripts/install-system.sh
	@scripts/install-node-tools.sh

install: sync system

test: install
	$(UV) run pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

demo: install
	$(UV) run medic demo $(DEMO_ARGS)

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .

format: sync
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

typecheck: sync
	$(UV) run mypy

bench: install
	$(UV) run medic bench bus --json
