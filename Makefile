# ipam.allocator: `make demo` shows it working, `make test` runs every test suite.
# Both work on a fresh machine: they build their own virtualenv in .venv.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
BUILD := $(CURDIR)/build

.PHONY: all venv demo test test-fast bench dist clean servers-stop

all: test

$(VENV)/.ready: requirements-test.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed (found $$($(PYTHON) -V))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(VENV)/.ready

# Build the collection tarball, the way it is published.
dist: venv
	rm -rf $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .

# Install the built tarball (not the source tree) beside the venv and run examples/ on the file backend.
# (Not into the venv's site-packages: a second copy there would shadow the checkout in the tests.)
demo: dist
	rm -rf $(BUILD)/demo/collections
	$(BIN)/ansible-galaxy collection install --force --offline -p $(BUILD)/demo/collections $(BUILD)/dist/ipam-allocator-*.tar.gz
	cd examples && ANSIBLE_CONFIG=$(CURDIR)/examples/ansible.cfg IPAM_ALLOCATOR_STORE=$(BUILD)/demo/store.yml \
	  ANSIBLE_COLLECTIONS_PATH=$(BUILD)/demo/collections $(BIN)/ansible-playbook demo.yml
	@echo; echo "The store, one allocation per line: $(BUILD)/demo/store.yml"; echo
	@cat $(BUILD)/demo/store.yml

# Every suite: unit, sanity, integration, docs, lint, molecule, then the real NetBox and Nautobot
# servers. Their one-time setup (pip install, migrate: minutes on a new machine) starts first, in
# the background, under a lock the remote suite waits on. It ends with pytest's summary line.
test: venv
	mkdir -p $(BUILD)
	flock --close $(BUILD)/servers-setup.lock bash tests/servers/servers.sh setup all > $(BUILD)/servers-setup.log 2>&1 &
	PATH="$(BIN):$$PATH" $(BIN)/python -m pytest -p no:cacheprovider tests/unit tests/suites tests/remote $(PYTEST_ARGS)

# The same without the slow suites (sanity, servers): for quick local iterations.
test-fast: venv
	PATH="$(BIN):$$PATH" $(BIN)/python -m pytest -p no:cacheprovider tests/unit tests/suites tests/remote -m 'not slow' $(PYTEST_ARGS)

# Every benchmark; rewrites docs/performance.md and its plot. The remote part starts the test servers.
bench: venv
	$(BIN)/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	bash tests/servers/servers.sh setup all && bash tests/servers/servers.sh start all
	PATH="$(BIN):$$PATH" $(BIN)/python bench/run.py; status=$$?; bash tests/servers/servers.sh stop all; exit $$status

servers-stop:
	bash tests/servers/servers.sh stop all

clean:
	rm -rf $(BUILD) tests/output .pytest_cache
