# The front door. `make run` starts the whole mesh; `make test` runs the whole suite.
# Both set up a fresh machine first (scripts/setup.sh).
PY := .venv/bin/python
PYTEST := $(PY) -m pytest

.PHONY: setup run test lint audit unit-tests integration-tests e2e-tests browser-tests screenshots catalog-check contract-check clean \
	deploy-files deploy-check prometheus bench bench-quick bench-setup compose-test

setup:
	@./scripts/setup.sh

run: setup
	@$(PY) -m ops.runner

test: setup
	@$(PY) scripts/audit.py
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@$(PY) -m services.catalog.check
	@$(PY) -m onestop.contracts.jsonschema --check
	@node tools/asyncapi/validate.mjs docs/asyncapi.yaml
	@$(PYTEST) tests/unit
	@$(PYTEST) tests/integration
	@$(PYTEST) tests/e2e
	@$(PYTEST) tests/browser

unit-tests: setup
	@$(PYTEST) tests/unit

integration-tests: setup
	@$(PYTEST) tests/integration

e2e-tests: setup
	@$(PYTEST) tests/e2e

# the screens in Debian's Chromium (Playwright), axe-core on every page (tests/browser)
browser-tests: setup
	@$(PYTEST) tests/browser

# the browser tests, leaving their screenshots and axe-core counts in docs/screenshots (README)
screenshots: setup
	@SCREENSHOTS_DIR=docs/screenshots $(PYTEST) tests/browser

# supply chain: every pinned requirement against the known vulnerabilities (scripts/audit.py)
lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

audit: setup
	@$(PY) scripts/audit.py

catalog-check: setup
	@$(PY) -m services.catalog.check
	@$(PY) scripts/catalog_guides.py --check

# the department contract: JSON Schemas in step with onestop/contracts, AsyncAPI document valid
contract-check: setup
	@$(PY) -m onestop.contracts.jsonschema --check
	@node tools/asyncapi/validate.mjs docs/asyncapi.yaml

# deployment files generated from the service list (compose, Kubernetes, Prometheus, Grafana)
deploy-files: setup
	@$(PY) -m ops.deploy

deploy-check: setup
	@$(PY) -m ops.deploy --check
	@promtool check rules deploy/prometheus/rules/*.yml
	@promtool test rules deploy/prometheus/tests/alerts_test.yml

# docker-compose.yml started for real (podman, images built from Debian packages) and used
# as users would: tests/compose/run.sh. Needs root; about 10 minutes the first time.
compose-test: setup
	@./tests/compose/run.sh

# Prometheus with the mesh's rules against `make run` (http://127.0.0.1:9090)
prometheus: setup
	@$(PY) -m ops.deploy.prometheus

# The mesh, a Celery chord and the raw broker side by side (bench/README.md); not part of `make test`.
# BENCH_ARGS passes options, e.g. `make bench BENCH_ARGS="--soak-minutes 20 --publish"`.
bench-setup: setup
	@if [ ! -f .venv/.bench-installed ] || [ requirements-bench.txt -nt .venv/.bench-installed ]; then \
		echo "bench: installing requirements-bench.txt"; \
		.venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-bench.txt && \
		touch .venv/.bench-installed; fi

bench: bench-setup
	@$(PY) -m bench.run $(BENCH_ARGS)

# development: one run of each measurement, short phases, a 1-minute soak
bench-quick: bench-setup
	@$(PY) -m bench.run --quick $(BENCH_ARGS)

clean:
	rm -rf .data .test-data .pytest_cache
