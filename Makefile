# The two commands of the README:
#   make demo   set up .venv, run the bundled training job on a local workspace, deploy and score its model
#   make test   set up .venv (with the test tools) and run the test suite
# and for the web studio (studio/, built into src/trainyard/server/studio_static, committed):
#   make studio        rebuild it after editing studio/ (needs Node 20 and npm)
#   make studio-test   its Vitest tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean studio studio-test browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What the demo needs: trainyard and scikit-learn.
$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[examples]'
	touch $@

# Debian's Chromium, which the studio's browser tests drive through Playwright (never a downloaded
# browser); installed when missing, if this machine may (root, apt-get).
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; } || \
		echo "no /usr/bin/chromium: the browser tests will be skipped (apt-get install chromium)"

# Everything the tests touch: model libraries (LightGBM, XGBoost, PyTorch CPU, ONNX), pytest, ruff.
# torch goes in first, alone: so pip takes the CPU build on disk. Resolved with everything else,
# pip took PyPI's CUDA build instead (4 GB of NVIDIA libraries on machines without a GPU).
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$$(grep -o 'torch==[0-9.]*' pyproject.toml)"
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/diabetes/demo.sh

test: $(VENV)/.dev browser
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py

studio/node_modules/.package-lock.json: studio/package-lock.json
	cd studio && npm ci --no-audit --no-fund

studio: studio/node_modules/.package-lock.json
	cd studio && npm run build

studio-test: studio/node_modules/.package-lock.json
	cd studio && npm test

clean:
	rm -rf $(VENV) .trainyard
