# Two commands do all set-up on a fresh machine:
#   make serve   -> .venv, install, serve every dashboard with an index on http://localhost:5006/
#   make test    -> .venv, install test needs (headless Chromium included), run every test
# Also: make lab (JupyterLab on notebooks/), make notebooks (run them at full size and save their outputs),
# make bench (benchmarks/), make info.
#
# torch: a machine that already offers a CPU build (a wheel on disk or a pip cap) keeps it:
# TORCH_SPEC defaults to torch==2.13.0, the CPU build this project is tested with there.
# On a machine with CUDA, `make serve GPU=1` (or `make test GPU=1`) installs PyPI's default
# CUDA-enabled torch instead; TORCH_SPEC=... picks any other build.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5006
GPU ?= 0
ifeq ($(GPU),1)
TORCH_SPEC ?= torch>=2.4
else
TORCH_SPEC ?= torch==2.13.0
endif
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: serve lab notebooks test bench info install install-test chromium clean device-wheels

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# torch first, so that resolving the rest never replaces it with a multi-GB build
# then the numba kernels compile into their on-disk cache (~40 s once), not on a dashboard's first click
$(VENV)/.stamp-install: pyproject.toml | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e .
	$(PY) -m workbench.precompile
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-install pyproject.toml
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.stamp-install
install-test: $(VENV)/.stamp-test chromium

chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium for the browser tests"; \
	    $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

serve: install
	$(VENV)/bin/workbench serve --port $(PORT)

# the pyviz comms extension (live Panel output) comes with the package's dependencies; see workbench/notebook.py
lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ServerApp.ip=localhost

# Full-size run of each notebook, one after the other, saved in place with static figures and provenance
# (NOTEBOOKS="notebooks/00_tour.ipynb ..." picks some); fails if one takes over 5 min or 3 MB.
NOTEBOOKS ?= $(sort $(wildcard notebooks/*.ipynb))
notebooks: install
	WORKBENCH_QUICK=0 MPLBACKEND=Agg $(PY) -m workbench.notebook_run $(NOTEBOOKS)

test: install-test
	WORKBENCH_QUICK=1 MPLBACKEND=Agg $(PY) -m pytest -p no:cacheprovider --timeout=900 --durations=15 tests

bench: install
	$(PY) -m pip install -q -e ".[bench]"
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

# Wheels the GPU machine lacks (CPython 3.12, x86-64, no network there) for benchmarks/device_check.sh:
# hj_reachability (the G-equation baseline); its imports (jax, flax, numpy) are in the machine's image, whose
# own versions must not be shadowed. Carry .whl to the machine (it is git-ignored).
DEVICE_WHEELS := hj_reachability==0.7.0
device-wheels:
	rm -rf .whl
	$(PYTHON) -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
	  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
	  -d .whl $(DEVICE_WHEELS)
	@ls -1 .whl; du -sh .whl

# .PHONY for the target below
.PHONY: figures
figures: install  ## docs/figures/<family>.png: each family's paper figure, for the README
	OMP_NUM_THREADS=1 $(PY) docs/make_figures.py

info: install
	$(VENV)/bin/workbench info

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
