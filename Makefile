# The two commands of the README:
#   make demo   set up .venv and run the bundled training job on a local workspace
#   make test   set up .venv (with the test tools) and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What the demo needs: trainyard and scikit-learn.
$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[examples]'
	touch $@

# Everything the tests touch: model libraries (LightGBM, XGBoost, PyTorch CPU, ONNX), pytest, ruff.
# torch goes in first, alone: so pip takes the CPU build on disk. Resolved with everything else,
# pip took PyPI's CUDA build instead (4 GB of NVIDIA libraries on machines without a GPU).
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$$(grep -o 'torch==[0-9.]*' pyproject.toml)"
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/trainyard init .
	$(BIN)/trainyard job submit -f examples/diabetes/job.yml --stream

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .trainyard
