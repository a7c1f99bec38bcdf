# Set-up is part of both targets: a virtual environment in .venv with torch 2.13 (pip's default
# index: on Linux a CUDA build, which runs on the CPU too).
# For a GPU, install the torch build you need into .venv first; pip then keeps it.
# PYTHON, TORCH and PIP_ARGS choose another interpreter, torch release or pip options
# (CI: `make setup PIP_ARGS="-c .ci/pinned.txt"` is the pinned environment).
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV ?= .venv
PY := $(VENV)/bin/python

# RecBole goes in without its dependency list: it pins ray<=2.6.3, which has no wheels past
# Python 3.11 and which only recbole.quick_start imports; setup.py declares the rest of the list.
$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip show torch >/dev/null 2>&1 || $(PY) -m pip install -q $(TORCH) $(PIP_ARGS)
	$(PY) -m pip install -q -e ".[test]" $(PIP_ARGS)
	$(PY) -m pip install -q --no-deps recbole==1.2.1
	touch $@

.PHONY: setup run test test-fast
setup: $(VENV)/.installed  ## create .venv with everything installed

run: setup  ## train and evaluate ELECRec on RecBole's bundled ml-100k
	$(PY) run_recbole.py --model=ELECRec

test: setup  ## the test suite (paper checks read ../shared or $$ELECREC_SHARED when present)
	$(PY) -m pytest -q tests

test-fast: setup  ## the model, loss, sampler, protocol and parity tests (tests/conftest.py)
	$(PY) -m pytest -q -m "not slow" tests
