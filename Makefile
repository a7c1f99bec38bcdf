# Set-up is part of both targets: a virtual environment in .venv with the CPU build of torch.
# For a GPU, install the torch build you need into .venv first; pip then keeps it.
VENV ?= .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: setup.py
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip show torch >/dev/null 2>&1 || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test]"
	touch $@

.PHONY: setup run test
setup: $(VENV)/.installed  ## create .venv with everything installed

run: setup  ## train and evaluate ELECRec on RecBole's bundled ml-100k
	$(PY) run_recbole.py --model=ELECRec

test: setup  ## the test suite (paper checks read ../shared or $$ELECREC_SHARED when present)
	$(PY) -m pytest -q tests
