# Two entry points, both self-contained on a fresh Linux machine with Python 3.10+:
#   make demo  - generate the default project into build/ and run its ML pipeline locally
#   make test  - run the template's whole test suite, large tests included

PYTHON ?= python3
VENV := .venv
DEMO_DIR := build/demo
DEMO_PROJECT := $(DEMO_DIR)/my-mlops-project

.PHONY: demo test venv benchmark clean

$(VENV)/.installed: dev-requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r dev-requirements.txt
	touch $@

venv: $(VENV)/.installed

demo: venv
	rm -rf $(DEMO_DIR)
	$(VENV)/bin/cookiecutter . --no-input --output-dir $(DEMO_DIR)
	$(MAKE) -C $(DEMO_PROJECT) install local-pipeline
	@echo "Project: $(abspath $(DEMO_PROJECT))"

test: venv
	$(VENV)/bin/pytest tests --large -n auto

benchmark: venv
	$(VENV)/bin/python benchmarks/generate.py

clean:
	rm -rf build $(VENV)
