# `make run` trains on the bundled sample; `make test` runs the test suite.
# Both create .venv and install on first use, and reinstall only when pyproject.toml or
# constraints.txt change. `make server`, `make deploy`, `make worker`: README, "Run it as a service".
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PREFECT := $(VENV)/bin/prefect
STAMP  := $(VENV)/.installed
# a real MLflow tracking server for the tracking tests, in its own venv (its pyarrow pin clashes
# with the project's: constraints.txt)
MLFLOW_VENV := .mlflow-venv
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed
PREFECT_HOST ?= 127.0.0.1
PREFECT_PORT ?= 4200
POOL ?= lstmflow
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench clean server deploy worker

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, on its own: the CPU wheel of exactly 2.13.0 (any other spec pulls CUDA builds).
$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

$(MLFLOW_STAMP):
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install -q mlflow==3.17.2
	touch $(MLFLOW_STAMP)

run: $(STAMP)
	$(VENV)/bin/lstmflow train --config configs/default.yaml

# Two workers (pytest-xdist): each fit uses one torch thread, so a 2-core CI runner does twice
# the work (measured: 592 tests in 340 s with -n 2, 661-740 s in one process).
test: $(STAMP) $(MLFLOW_STAMP)
	$(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) bench/features.py
	$(PY) bench/train_throughput.py
	$(PY) bench/window_memory.py
	$(PY) bench/torch_threads.py

# A Prefect server with its UI at http://$(PREFECT_HOST):$(PREFECT_PORT) (data in ~/.prefect).
# PREFECT_UI_API_URL: the UI calls the API on this port (Prefect assumes 4200 otherwise).
server: $(STAMP)
	PREFECT_UI_API_URL=http://$(PREFECT_HOST):$(PREFECT_PORT)/api \
		$(PREFECT) server start --host $(PREFECT_HOST) --port $(PREFECT_PORT)

# deploy and worker talk to PREFECT_API_URL: the server `make server` starts, unless set.
deploy worker: export PREFECT_API_URL ?= http://$(PREFECT_HOST):$(PREFECT_PORT)/api

# The process work pool (once), then every deployment in prefect.yaml.
deploy: $(STAMP)
	$(PREFECT) work-pool inspect $(POOL) >/dev/null 2>&1 || \
		$(PREFECT) work-pool create $(POOL) --type process
	$(PREFECT) --no-prompt deploy --all

# A process worker: runs each flow run with this venv's Python, in this checkout.
# WORKER_ARGS passes more options, e.g. --run-once or --limit 1.
worker: $(STAMP)
	$(PREFECT) worker start --pool $(POOL) $(WORKER_ARGS)

clean:
	rm -rf outputs .pytest_cache
