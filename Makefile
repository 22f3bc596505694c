# claimdesk: `make up` runs the embedded stack with demo data, `make test` runs the tests.
SHELL := /bin/bash
# uv from PATH, else bootstrapped from PyPI into .tools/ (a fresh machine has only python3).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: up test lint soak bench sync clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

sync: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen

up: sync
	$(UV) run claimdesk up --demo

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

test: lint
	$(UV) run pytest -m "not soak" -n 2 --dist loadfile $(PYTEST_ARGS)

soak: sync
	$(UV) run pytest -m soak $(PYTEST_ARGS)

bench: sync
	@for b in bench/*.py; do echo "== $$b"; $(UV) run python $$b || exit 1; done

clean:
	rm -rf .tools .venv .pytest_cache .mypy_cache .ruff_cache
