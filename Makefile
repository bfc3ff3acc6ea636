# `make run` trains on the bundled sample; `make test` runs the test suite.
# Both create .venv and install on first use, and reinstall only when pyproject.toml or
# constraints.txt change.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, on its own: the CPU wheel of exactly 2.13.0 (any other spec pulls CUDA builds).
$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/lstmflow train --config configs/default.yaml

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) bench/features.py
	$(PY) bench/train_throughput.py
	$(PY) bench/window_memory.py

clean:
	rm -rf outputs .pytest_cache
