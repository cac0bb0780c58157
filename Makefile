# Set-up and main jobs. Two commands matter on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.synthgen-installed
EXTRAS  ?= data,test

.PHONY: demo test install clean bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch is installed first and pinned (a local CPU wheel); pip must never choose torch itself.
$(STAMP): pyproject.toml Makefile | $(BIN)/python
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/synthgen demo --out out

# Two pytest workers (one per core of the 2-core machines; a file's tests stay on one worker, so its module
# fixtures are built once): 17.7 min -> 9.8 min on this machine. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) out build dist *.egg-info

# Benchmarks against SDV and smartnoise-synth (their venvs live in benchmarks/; see benchmarks/README.md).
include benchmarks/bench.mk
bench: bench-copula bench-ctgan
