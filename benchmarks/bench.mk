# Benchmarks and the rivals' virtual environments (included from the top Makefile).
# The rivals live in their own venvs inside benchmarks/ so that their pins never touch .venv:
#   benchmarks/.venv-sdv         sdv + sdmetrics (BUSL-licensed sdv; used only as a baseline and neutral judge)
#   benchmarks/.venv-smartnoise  smartnoise-synth 1.0.8 (pins opacus 0.14)
# torch==2.13.0 (the local CPU wheel) is installed FIRST in each venv, so pip never picks a CUDA torch.
BENCH_DIR        := benchmarks
SDV_VENV         := $(BENCH_DIR)/.venv-sdv
SMARTNOISE_VENV  := $(BENCH_DIR)/.venv-smartnoise
SDV_STAMP        := $(SDV_VENV)/.installed
SMARTNOISE_STAMP := $(SMARTNOISE_VENV)/.installed
BENCH_PY         := $(BIN)/python
# e.g. `make bench BENCH_ARGS=--quick`
BENCH_ARGS       ?=

.PHONY: bench-venvs bench-sdv-venv bench-smartnoise-venv bench-copula bench-ctgan bench-clean

$(SDV_STAMP): $(BENCH_DIR)/bench.mk
	$(PY) -m venv $(SDV_VENV)
	$(SDV_VENV)/bin/python -m pip install -q --upgrade pip
	$(SDV_VENV)/bin/python -m pip install -q torch==2.13.0
	$(SDV_VENV)/bin/python -m pip install -q "sdv==2.0.0" "sdmetrics==0.32.0" pyarrow "torch==2.13.0"
	@touch $@

# smartnoise-synth 1.0.8 accepts torch 2.13.0 (opacus 0.14 has no upper torch pin); if a later release pins a
# different torch, the "torch==2.13.0" constraint below makes pip fail instead of downloading CUDA wheels.
# packaging is imported by snsynth 1.0.8 but missing from its declared dependencies.
$(SMARTNOISE_STAMP): $(BENCH_DIR)/bench.mk
	$(PY) -m venv $(SMARTNOISE_VENV)
	$(SMARTNOISE_VENV)/bin/python -m pip install -q --upgrade pip
	$(SMARTNOISE_VENV)/bin/python -m pip install -q torch==2.13.0
	$(SMARTNOISE_VENV)/bin/python -m pip install -q "smartnoise-synth==1.0.8" pyarrow packaging "torch==2.13.0"
	@touch $@

bench-sdv-venv: $(SDV_STAMP)
bench-smartnoise-venv: $(SMARTNOISE_STAMP)
bench-venvs: $(SDV_STAMP) $(SMARTNOISE_STAMP)

bench-copula: $(STAMP) $(SDV_STAMP)
	$(BENCH_PY) $(BENCH_DIR)/bench_copula.py $(BENCH_ARGS)

# smartnoise is optional: if its venv cannot be built the benchmark reports it and goes on.
bench-ctgan: $(STAMP) $(SDV_STAMP)
	-@$(MAKE) --no-print-directory $(SMARTNOISE_STAMP)
	$(BENCH_PY) $(BENCH_DIR)/bench_ctgan.py $(BENCH_ARGS)

bench-clean:
	rm -rf $(SDV_VENV) $(SMARTNOISE_VENV) $(BENCH_DIR)/results
