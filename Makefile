# MLOps Stack template: `make` (or `make help`) lists the commands. Each is self-contained
# on a fresh Linux machine with Python 3.10+: it creates .venv from dev-requirements.txt.

PYTHON ?= python3
VENV := .venv
DEMO_DIR := build/demo
DEMO_PROJECT := $(DEMO_DIR)/my-mlops-project

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast lint venv benchmark clean specialize

help: ## List the commands
	@echo "Usage: make <command>"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: dev-requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r dev-requirements.txt
	touch $@

venv: $(VENV)/.installed ## Create .venv with the tools the tests use

demo: venv ## Generate the default project into build/demo and run its ML pipeline locally
	rm -rf $(DEMO_DIR)
	eval "$(VENV)/bin/cookiecutter . --no-input --output-dir $(DEMO_DIR) $$($(VENV)/bin/python scripts/required_answers.py)"
	$(MAKE) -C $(DEMO_PROJECT) install local-pipeline
	@echo "Project: $(abspath $(DEMO_PROJECT))"

test: venv ## Run the whole test suite, large tests included (what CI runs)
	$(VENV)/bin/pytest tests --large -n auto --durations=40

test-fast: venv ## Run the fast tests only (generation, rendering, lint of the template's code)
	$(VENV)/bin/pytest tests -n auto

lint: venv ## Check the template's own Python code with ruff (ruff.toml)
	$(VENV)/bin/ruff check .

specialize: venv ## Fix answers for good in this fork: make specialize ANSWERS="cloud=aws cicd_platform='GitHub Actions'"
	@test -n "$(ANSWERS)" || { echo 'Give the answers to fix, e.g. make specialize ANSWERS="cloud=aws"' >&2; exit 2; }
	$(VENV)/bin/python scripts/specialize.py $(ANSWERS)

benchmark: venv ## Time generation (benchmarks/)
	$(VENV)/bin/python benchmarks/generate.py

clean: ## Delete build/ and .venv
	rm -rf build $(VENV)
