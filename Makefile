# torchauc: `make test` (what CI runs) and `make bench` (the main job) from a fresh clone.
PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY         := $(VENV)/bin/python
PIP        := $(PY) -m pip
# Compile the CUDA sources as a check whenever nvcc is present (linked only with a CUDA torch).
NVCC       := $(shell command -v nvcc 2>/dev/null)
CUDA_CHECK := $(if $(NVCC),ON,OFF)
PYTEST_ARGS ?=

.PHONY: all env build test bench lint format wheel-check gpu-check clean

all: test

$(VENV)/.stamp: requirements-dev.txt requirements-anchors.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH_SPEC)" -r requirements-dev.txt
	$(PIP) install -q --no-deps -r requirements-anchors.txt
	touch $@

env: $(VENV)/.stamp

build: env
	TORCHAUC_CUDA_COMPILE_CHECK=$(CUDA_CHECK) $(PIP) install -q --no-build-isolation --no-deps .

test: build
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: build
	$(PY) benchmarks/run.py

# Style: ruff (lint + format) for Python, clang-format for C++/CUDA; configured in pyproject.toml and
# .clang-format, checked by CI. `make format` applies both.
PY_SRC := $(wildcard python tests benchmarks examples tools)
CXX_SRC = $(shell git ls-files 'csrc/*.h' 'csrc/*.cpp' 'csrc/*.cu' 'csrc/*.cuh')

lint: env
	$(VENV)/bin/ruff check $(PY_SRC)
	$(VENV)/bin/ruff format --check $(PY_SRC)
	$(VENV)/bin/clang-format --dry-run -Werror $(CXX_SRC)

format: env
	$(VENV)/bin/ruff check --fix $(PY_SRC)
	$(VENV)/bin/ruff format $(PY_SRC)
	$(VENV)/bin/clang-format -i $(CXX_SRC)

# The artifact users get: build a wheel, install it into a fresh environment, import it, run an op.
wheel-check: env
	rm -rf dist .wheel-venv
	TORCHAUC_CUDA_COMPILE_CHECK=OFF $(PIP) wheel -q --no-build-isolation --no-deps . -w dist
	$(PYTHON) -m venv .wheel-venv
	.wheel-venv/bin/python -m pip install -q "$(TORCH_SPEC)" numpy
	.wheel-venv/bin/python -m pip install -q --no-deps dist/torchauc-*.whl
	cd / && $(CURDIR)/.wheel-venv/bin/python -c "import torchauc, torch; \
	  l = torchauc.functional.pairwise_auc_loss(torch.tensor([0.9, 0.2, 0.4]), torch.tensor([1, 0, 0])); \
	  print('wheel ok:', torchauc.__file__, float(l))"

# On a GPU machine (no network): build against the torch there, require CUDA, run everything.
gpu-check:
	bash benchmarks/gpu.sh

clean:
	rm -rf build dist .wheel-venv
