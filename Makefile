# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

WEB := web
# What the client's build depends on: rebuilt when any of it is newer than the build.
WEB_SOURCES := $(WEB)/src $(WEB)/index.html $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/vite.config.ts $(WEB)/tailwind.config.ts

.PHONY: run test test-only lint bench install clean web-build web-test web-deps chromium nginx neo4j-server haproxy cluster

run: $(VENV)/.installed web-build
	$(BIN)/mydrtv dev

test: $(VENV)/.installed-test lint test-only web-test

# The web client, served by the server at /: built when web/dist is missing or older than its
# sources. Without Node.js the API is still served, and the message says so.
web-build:
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "make: npm (Node.js 20) is not installed, so the web client is not built; the API is still served (see README)."; \
	elif [ ! -f $(WEB)/dist/index.html ] || [ -n "$$(find $(WEB_SOURCES) -newer $(WEB)/dist/index.html -print -quit)" ]; then \
	  $(MAKE) --no-print-directory web-deps && cd $(WEB) && npm run build \
	    || echo "make: building the web client failed (see above); the API is still served."; \
	fi

web-deps: $(WEB)/node_modules/.package-lock.json

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make: npm (Node.js 20) is needed for the web client's tests"; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund

# Playwright drives the machine's Chromium (Debian's package); its own download cannot work here.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "make: /usr/bin/chromium is missing: as root, apt-get install chromium"; exit 1; fi; \
	fi

# After the Python suite: the generated API types match the server, lint, unit tests, end to end.
web-test: $(VENV)/.installed-test web-deps chromium
	cd $(WEB) && MYDRTV_PYTHON=$(abspath $(BIN))/python npm run check:api
	cd $(WEB) && npm run lint
	cd $(WEB) && npm test
	cd $(WEB) && npm run e2e

# The media tests put Debian's nginx in front of the server (deploy/nginx/mydrtv.conf).
nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && { apt-get install -y nginx-light || apt-get install -y nginx; }; \
	  else echo "make: nginx is missing (its tests are skipped): as root, apt-get install nginx-light"; fi; \
	fi

# The load balancer's test and `make cluster` put Debian's HAProxy in front of the gateways.
haproxy:
	@if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y haproxy; \
	  else echo "make: haproxy is missing (its tests are skipped): as root, apt-get install haproxy"; fi; \
	fi

# HAProxy in front of 3 gateways and the API, and a worker, on the embedded PostgreSQL and Redis.
cluster: $(VENV)/.installed haproxy
	$(BIN)/python -m support.cluster

test-only: $(VENV)/.installed-test nginx haproxy neo4j-server
	$(BIN)/pytest -q

# The graph tests run on a real Neo4j too: Maven builds graph/neo4j-server into build/ when that is
# missing or older than its pom or source (the first build fetches about 120 MB of jars from Maven
# Central into build/maven-repository: about 2 minutes). Without Java 17 or Maven it says so, and
# the tests on Neo4j are skipped.
neo4j-server: $(VENV)/.installed
	$(BIN)/python -m server.embedded.neo4j build

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.installed-test
	PY=$(BIN)/python bash bench/run_all.sh

install: $(VENV)/.installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules $(WEB)/dist $(WEB)/test-results build
