# vmimport.migrate — the two commands a new user runs: `make demo` and `make test`.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/.build
# the checkout seen as ansible_collections/vmimport/migrate (symlink, for unit tests and ad-hoc runs)
DEVTREE := $(BUILD)/collections
# the collection installed from the built tarball (integration tests, molecule, demo)
INSTALL := $(BUILD)/install
SANITY := $(BUILD)/sanity/ansible_collections/vmimport/migrate
MODULES = $(sort $(basename $(notdir $(wildcard plugins/modules/*.py))))
ROLES_WITH_MOLECULE = $(patsubst roles/%/molecule/default/molecule.yml,%,$(wildcard roles/*/molecule/default/molecule.yml))
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_HOST_KEY_CHECKING := False
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help
help: ## show the targets
	@grep -hE '^[a-z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- setup
.PHONY: system-deps
system-deps: ## install the Debian packages the sandbox needs (or say which are missing)
	@tools/system-deps.sh

$(BIN)/.installed: requirements.txt test-requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s); set PYTHON=..." % sys.version.split()[0])'
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel
	$(BIN)/pip install -q -r requirements.txt -r test-requirements.txt
	touch $@

.PHONY: venv
venv: $(BIN)/.installed ## create .venv with everything (idempotent)

.PHONY: devtree
devtree:
	@mkdir -p $(DEVTREE)/ansible_collections/vmimport
	ln -sfn $(CURDIR) $(DEVTREE)/ansible_collections/vmimport/migrate

.PHONY: setup
setup: system-deps venv devtree

# ---------------------------------------------------------------- build
.PHONY: build
build: setup ## build the collection tarball and install it into .build/install
	@rm -rf $(BUILD)/dist $(INSTALL)
	mkdir -p $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .
	$(BIN)/ansible-galaxy collection install --force -p $(INSTALL) $(BUILD)/dist/vmimport-migrate-*.tar.gz

.PHONY: docs-check
docs-check: build ## ansible-doc of every module from the installed tarball
	@export ANSIBLE_COLLECTIONS_PATH=$(INSTALL)
	listed=$$($(BIN)/ansible-doc -l vmimport.migrate | awk '{print $$1}' | sort)
	echo "$$listed"
	for m in $(MODULES); do
	  grep -qx "vmimport.migrate.$$m" <<<"$$listed" || { echo "ansible-doc -l does not list vmimport.migrate.$$m"; exit 1; }
	  $(BIN)/ansible-doc vmimport.migrate.$$m > /dev/null
	done
	n=$$(wc -w <<<"$(MODULES)"); [ "$$n" -gt 0 ] || { echo "no modules"; exit 1; }
	echo "ansible-doc: $$n modules documented"

# ---------------------------------------------------------------- checks
.PHONY: sanity
sanity: setup ## ansible-test sanity on a copy under ansible_collections/vmimport/migrate
	@$(BIN)/python tools/copy_tree.py $(SANITY) --exclude sandbox --exclude tools --exclude tests/benchmarks --exclude .ci --exclude Makefile
	# ansible-test lists files with git: the copy gets a repository of its own
	git -C $(SANITY) init -q
	git -C $(SANITY) add -A
	# ansible-test downloads a pip bootstrap script from a host outside PyPI; give it a local one
	pipver=$$(grep -oP "pip='\K[0-9.]+" $$($(BIN)/python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py)
	# its own HOME: ansible-test keeps its venvs and caches under ~/.ansible/test
	export HOME=$(BUILD)/ansible-test-home
	cache=$$HOME/.ansible/test/cache/get_pip_$${pipver//./_}.py
	[ -f "$$cache" ] || { mkdir -p "$$(dirname "$$cache")"; cp tools/get-pip-standin.py "$$cache"; }
	cd $(SANITY)
	$(BIN)/ansible-test sanity --venv --python 3.11 --requirements --color no --skip-test shellcheck

.PHONY: lint
lint: setup ## ansible-lint (production profile) on roles and playbooks
	@ANSIBLE_COLLECTIONS_PATH=$(DEVTREE) $(BIN)/ansible-lint --profile production roles playbooks

.PHONY: changelog-lint
changelog-lint: setup
	@$(BIN)/antsibull-changelog lint

.PHONY: units
units: setup ## unit tests (pytest, collection imported as ansible_collections.vmimport.migrate)
	@PYTHONPATH=$(DEVTREE) $(BIN)/pytest -q tests/unit

# ansible-core 2.18 is supported too: the unit tests run again against it in a venv of their own
VENV218 := $(BUILD)/venv-core2.18
$(VENV218)/.installed: requirements.txt test-requirements.txt
	@[ -x $(VENV218)/bin/python ] || $(PYTHON) -m venv $(VENV218)
	$(VENV218)/bin/pip install -q --upgrade pip
	$(VENV218)/bin/pip install -q 'ansible-core>=2.18,<2.19' -r requirements.txt pytest responses 'moto>=5' psutil PyYAML
	touch $@

.PHONY: units-core2.18
units-core2.18: setup $(VENV218)/.installed ## unit tests on ansible-core 2.18
	@$(VENV218)/bin/python -c "import ansible.release as r; print('ansible-core', r.__version__)"
	PYTHONPATH=$(DEVTREE) $(VENV218)/bin/pytest -q tests/unit

.PHONY: integration
integration: build ## integration tests: real playbooks against the sandbox
	@PATH=$(BIN):$$PATH VMIMPORT_COLLECTIONS_PATH=$(INSTALL) $(BIN)/pytest -q tests/integration $(PYTEST_ARGS)

.PHONY: molecule
molecule: build ## a molecule scenario per role (converge, idempotence, verify)
	@export ANSIBLE_COLLECTIONS_PATH=$(INSTALL) PATH=$(BIN):$$PATH
	roles="$(ROLES_WITH_MOLECULE)"
	[ -n "$$roles" ] || { echo "molecule: no role has a scenario"; exit 1; }
	for r in $$roles; do
	  echo "== molecule test: $$r"
	  (cd roles/$$r && molecule test)
	done

.PHONY: test
test: ## everything CI runs: changelog, lint, units (core 2.19 and 2.18), build + ansible-doc, sanity, integration, molecule
	@$(MAKE) --no-print-directory setup
	$(MAKE) --no-print-directory changelog-lint
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory units
	$(MAKE) --no-print-directory units-core2.18
	$(MAKE) --no-print-directory docs-check
	$(MAKE) --no-print-directory sanity
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory molecule
	echo "make test: all checks passed"

# ---------------------------------------------------------------- sandbox and demo
.PHONY: sandbox-up
sandbox-up: setup ## start the sandbox in the background (inventory in .sandbox/inventory.yml)
	@$(BIN)/python -m sandbox up

.PHONY: sandbox-down
sandbox-down: ## stop the sandbox, leaving no process behind
	@[ -x $(BIN)/python ] && $(BIN)/python -m sandbox down || true

.PHONY: sandbox-status
sandbox-status:
	@$(BIN)/python -m sandbox status

.PHONY: demo
demo: build ## start the sandbox and run the main workflow end to end against it
	@ANSIBLE_COLLECTIONS_PATH=$(INSTALL) $(BIN)/python tools/demo.py

.PHONY: bench
bench: build ## run the benchmarks (long)
	@for b in tests/benchmarks/bench_*.py; do ANSIBLE_COLLECTIONS_PATH=$(INSTALL) $(BIN)/python $$b; done

.PHONY: clean
clean: sandbox-down ## remove build products and sandbox state (keeps .venv)
	@rm -rf $(BUILD) .sandbox tests/output
