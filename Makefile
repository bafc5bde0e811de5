# Backprop Explorer: `make run` starts the app, `make test` runs the whole suite.
# Both create .venv and install the pinned requirements on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# Debian packages the test suite needs: Chromium for the browser test, pdflatex for the .tex export
SYSTEM_PACKAGES := chromium texlive-latex-base texlive-latex-recommended texlive-pictures lmodern
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export PYTHONPATH := $(CURDIR)
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: run test lint bench system-deps clean

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdflatex >/dev/null \
	   || ! kpsewhich tikz.sty >/dev/null; then \
	  echo "installing $(SYSTEM_PACKAGES) from Debian"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); \
	fi

run: $(VENV)/.runtime
	$(BIN)/streamlit run app/main.py --server.port $(PORT)

test: $(VENV)/.dev system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# glibc's malloc thresholds are fixed for the benchmark (for NumPy and PyTorch alike): by default they
# move with the allocation history, and each array then costs fresh page faults some runs and not others.
bench: $(VENV)/.dev
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet \
	  --disable-pip-version-check -r requirements-bench.txt \
	  || echo "PyTorch could not be installed: the benchmark says 'not installed' in its column"
	MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=268435456 $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
