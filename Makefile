# claimdesk: `make up` runs the embedded stack with demo data, `make test` runs the tests.
SHELL := /bin/bash
# uv from PATH, else bootstrapped from PyPI into .tools/ (a fresh machine has only python3).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: up test lint soak bench bench-quick guide sync clean

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

# Each bench ends with its RESULT lines and exits non-zero on a missed target or broken
# invariant; all run, the summary repeats every RESULT, and the target fails if any did.
BENCHES := x12 remit_memory x12_write cli_start flow_start gateway work_queue pipeline
bench: sync
	@set -o pipefail; log=$$(mktemp); failed=""; \
	for b in $(BENCHES); do echo "== bench/$$b.py $(BENCH_ARGS)"; \
	  $(UV) run python -m bench.$$b $(BENCH_ARGS) | tee -a $$log || failed="$$failed $$b"; done; \
	echo "== summary"; grep '^RESULT' $$log; rm -f $$log; \
	if [ -n "$$failed" ]; then echo "missed a target or broke an invariant:$$failed"; exit 1; fi

# docs/guide.md's pictures: run the browser tests that take them, copy them in (SHOTS.tsv).
guide: sync
	$(UV) run pytest -p no:cacheprovider -q $$(tail -n +2 docs/guide/SHOTS.tsv | cut -f3 | sort -u)
	tail -n +2 docs/guide/SHOTS.tsv | while IFS="$$(printf '\t')" read -r image shot test; do \
	  cp "test-output/screenshots/$$shot" "docs/guide/$$image"; done

bench-quick:
	@$(MAKE) --no-print-directory bench BENCH_ARGS=--quick

clean:
	rm -rf .tools .venv .pytest_cache .mypy_cache .ruff_cache
