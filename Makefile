# tunec — `make demo` and `make test` are the two commands a new user needs.
# Both install what is missing: jansson (through apt-get when pkg-config cannot
# find it) and a virtual environment in .venv with tunec built into it.

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
CC     ?= cc

ENGINE_SRC  := $(sort $(wildcard src/engine/*.c))
CTEST_SRC   := $(sort $(wildcard tests/c/test_*.c))
CTEST_BIN   := $(patsubst tests/c/%.c,tests/c/bin/%,$(CTEST_SRC))
CTEST_ASAN  := $(patsubst tests/c/%.c,tests/c/bin/asan_%,$(CTEST_SRC))
CFLAGS_C    := -std=c11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -D_GNU_SOURCE -iquote src/engine
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all deps venv build demo ray-examples test test-c test-c-asan test-c-valgrind test-py bench bench-compare bench-tpe sanitize clean

all: build

# --- installation -----------------------------------------------------------
deps:
	@pkg-config --exists jansson 2>/dev/null || { \
	  echo "jansson not found by pkg-config: installing libjansson-dev with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y libjansson-dev pkg-config >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y libjansson-dev pkg-config >/dev/null; }; }
	@pkg-config --exists jansson || { echo "error: could not install libjansson-dev; install it and rerun"; exit 1; }

$(VENV)/.stamp: pyproject.toml requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip setuptools wheel
	$(VPY) -m pip install -q -r requirements-test.txt
	$(VPY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $@

venv: deps $(VENV)/.stamp

build: venv
	$(VPY) setup.py -q build_ext --inplace

demo: build
	$(VPY) examples/quickstart.py

# --- tests ------------------------------------------------------------------
# The engine is built once per flavour into a static library the C tests link.
ENGINE_OBJ      := $(patsubst src/engine/%.c,tests/c/bin/obj/%.o,$(ENGINE_SRC))
ENGINE_OBJ_ASAN := $(patsubst src/engine/%.c,tests/c/bin/obj_asan/%.o,$(ENGINE_SRC))

tests/c/bin/obj/%.o: src/engine/%.c src/engine/*.h | deps
	@mkdir -p tests/c/bin/obj
	$(CC) $(CFLAGS_C) $$(pkg-config --cflags jansson) -c -o $@ $<

tests/c/bin/obj_asan/%.o: src/engine/%.c src/engine/*.h | deps
	@mkdir -p tests/c/bin/obj_asan
	$(CC) $(CFLAGS_C) $(SAN_FLAGS) $$(pkg-config --cflags jansson) -c -o $@ $<

tests/c/bin/libengine.a: $(ENGINE_OBJ)
	ar rcs $@ $^

tests/c/bin/libengine_asan.a: $(ENGINE_OBJ_ASAN)
	ar rcs $@ $^

tests/c/bin/%: tests/c/%.c tests/c/bin/libengine.a tests/c/tc_test.h
	$(CC) $(CFLAGS_C) -iquote tests/c -o $@ $< tests/c/bin/libengine.a $$(pkg-config --cflags --libs jansson) -lm -pthread

tests/c/bin/asan_%: tests/c/%.c tests/c/bin/libengine_asan.a tests/c/tc_test.h
	$(CC) $(CFLAGS_C) $(SAN_FLAGS) -iquote tests/c -o $@ $< tests/c/bin/libengine_asan.a $$(pkg-config --cflags --libs jansson) -lm -pthread

test-c: $(CTEST_BIN)
	@set -e; for t in $(CTEST_BIN); do $$t; done

test-c-asan: $(CTEST_ASAN)
	@set -e; for t in $(CTEST_ASAN); do ASAN_OPTIONS=detect_leaks=1 $$t; done

test-c-valgrind: $(CTEST_BIN)
	@if command -v valgrind >/dev/null; then set -e; for t in $(CTEST_BIN); do \
	  valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite $$t >/dev/null; done; \
	  echo "valgrind: engine tests clean"; else echo "valgrind not installed: skipped"; fi

# Ray's own Tune examples (from the ray wheels), run by tests/test_script_runner.py;
# fetched once into tests/.ray-examples when the network allows.
ray-examples: venv
	$(VPY) tests/scripts/fetch_ray_examples.py

test-py: build ray-examples
	$(VPY) -m pytest -q -x tests

test: build test-c test-c-asan test-py

bench: build
	$(VPY) benchmarks/run.py

# Suggestion latency of the native TPE core alone (benchmarks/tpe_latency.c),
# built at -O2 as the extension is.
bench-tpe: deps
	@mkdir -p build
	$(CC) -std=c11 -O2 -D_GNU_SOURCE -iquote src/engine -o build/tpe_latency benchmarks/tpe_latency.c \
	  $(ENGINE_SRC) $$(pkg-config --cflags --libs jansson) -lm
	build/tpe_latency

# Side by side with Ray Tune, Optuna and Hyperopt (docs/benchmarks.md). A separate
# virtual environment: the peers come from PyPI, tunec from this tree (pip install .).
CMP_VENV := benchmarks/.venv-compare
CMP_PY   := $(CMP_VENV)/bin/python

$(CMP_VENV)/.stamp:
	$(PYTHON) -m venv $(CMP_VENV)
	$(CMP_PY) -m pip install -q --upgrade pip setuptools wheel
	$(CMP_PY) -m pip install -q 'ray[tune]' optuna hyperopt pandas psutil matplotlib
	touch $@

bench-compare: deps $(CMP_VENV)/.stamp
	flock /tmp/tunec-build.lock $(CMP_PY) -m pip install -q .
	$(CMP_PY) benchmarks/compare.py
	$(CMP_PY) benchmarks/tpe_quality.py --docs docs/benchmarks.md

clean:
	rm -rf build tests/c/bin tunec/*.so *.egg-info
