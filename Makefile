# ipam.allocator: `make demo` shows it working, `make test` runs every test suite.
# Both work on a fresh machine: they build their own virtualenv in .venv.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
BUILD := $(CURDIR)/build

.PHONY: all venv pythons demo test test-fast matrix docs bench dist clean servers-stop

all: test

$(VENV)/.ready: requirements-test.txt requirements.txt tests/utils/constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed (found $$($(PYTHON) -V))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(VENV)/.ready

# python3.X links to the interpreters the ansible-core matrix runs on (noxfile.py: 3.11, 3.12, 3.13),
# taken from pyenv; nox finds them first on PATH. Debian 12 ships 3.11 only, and neither PyPI nor
# Debian offers the others: a machine without pyenv's 3.12 and 3.13 cannot run the matrix.
PYTHONS := $(BUILD)/pythons
MATRIX_PYTHONS := 3.11 3.12 3.13
$(PYTHONS)/.ready: tests/utils/ansible_test_offline.sh $(VENV)/.ready
	bash tests/utils/ansible_test_offline.sh -q $(BIN)/python --pythons-dir $(PYTHONS) --py-versions "$(MATRIX_PYTHONS)" >/dev/null
	@for v in $(MATRIX_PYTHONS); do [ -x $(PYTHONS)/python$$v ] || { echo "Python $$v is needed for the ansible-core matrix: install it with pyenv (pyenv install $$v)"; exit 1; }; done
	touch $@

pythons: $(PYTHONS)/.ready

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
# tests/suites/test_matrix.py runs the other ansible-core releases of the matrix through nox, and
# tests/suites/test_docs_and_build.py builds the documentation site with `make docs`.
test: venv pythons
	mkdir -p $(BUILD)
	flock --close $(BUILD)/servers-setup.lock bash tests/servers/servers.sh setup all > $(BUILD)/servers-setup.log 2>&1 &
	PATH="$(PYTHONS):$(BIN):$$PATH" $(BIN)/python -m pytest -p no:cacheprovider tests/unit tests/suites tests/remote $(PYTEST_ARGS)

# The same without the slow suites (sanity, servers): for quick local iterations.
test-fast: venv pythons
	PATH="$(PYTHONS):$(BIN):$$PATH" $(BIN)/python -m pytest -p no:cacheprovider tests/unit tests/suites tests/remote -m 'not slow' $(PYTEST_ARGS)

# The whole ansible-core matrix with nox (every release requires_ansible admits, 2.19 included):
# ansible-test sanity, units, integration. One release: make matrix NOX_ARGS='-s matrix-2.21'.
matrix: venv pythons
	PATH="$(PYTHONS):$(BIN):$$PATH" PIP_CONSTRAINT=$(CURDIR)/tests/utils/constraints.txt $(BIN)/nox --reuse-existing-virtualenvs $(or $(NOX_ARGS),$(addprefix -s matrix-,2.19 2.20 2.21))

# The documentation site (antsibull-docs): every plugin and role page, and the guides of docs/*.md
# (their reStructuredText in docs/docsite/rst is written from the Markdown first). Warnings fail
# the build; they are kept in build/docsite/warnings.log. Open build/docsite/html/index.html.
DOCSITE := $(BUILD)/docsite
docs: venv
	$(BIN)/python tests/utils/guides_to_rst.py
	rm -rf $(DOCSITE) && mkdir -p -m 0755 $(DOCSITE)/src
	mkdir -p $(BUILD)/collections/ansible_collections/ipam
	[ -e $(BUILD)/collections/ansible_collections/ipam/allocator ] || ln -s $(CURDIR) $(BUILD)/collections/ansible_collections/ipam/allocator
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/collections PATH="$(BIN):$$PATH" $(BIN)/antsibull-docs sphinx-init --use-current \
	  --squash-hierarchy --fail-on-error --dest-dir $(DOCSITE)/src ipam.allocator >/dev/null
	printf '\n# make docs: offline (no intersphinx downloads; references into the Ansible docsite stay text)\nimport sys\nsys.path.insert(0, %s)\nextensions.append("sphinx_offline_refs")\nintersphinx_mapping = {}\n' \
	  "'$(CURDIR)/tests/utils'" >> $(DOCSITE)/src/conf.py
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/collections PATH="$(BIN):$$PATH" $(BIN)/antsibull-docs collection --use-current \
	  --squash-hierarchy --fail-on-error --dest-dir $(DOCSITE)/src/rst ipam.allocator
	PATH="$(BIN):$$PATH" $(BIN)/sphinx-build -q -W --keep-going -w $(DOCSITE)/warnings.log -c $(DOCSITE)/src \
	  $(DOCSITE)/src/rst $(DOCSITE)/html
	@echo "The site: $(DOCSITE)/html/index.html"

# Every benchmark; rewrites docs/performance.md and its plot. The remote part starts the test servers.
bench: venv
	$(BIN)/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	bash tests/servers/servers.sh setup all && bash tests/servers/servers.sh start all
	PATH="$(BIN):$$PATH" $(BIN)/python bench/run.py; status=$$?; bash tests/servers/servers.sh stop all; exit $$status

servers-stop:
	bash tests/servers/servers.sh stop all

clean:
	rm -rf $(BUILD) tests/output .pytest_cache .nox
