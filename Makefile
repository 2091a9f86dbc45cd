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
# CI (.ci/run) sets TUNEC_WERROR=1: a warning fails the build, here and in setup.py.
ifeq ($(TUNEC_WERROR),1)
CFLAGS_C    += -Werror
endif

.PHONY: all deps venv build demo ray-examples test test-c test-c-asan test-c-valgrind test-py bench bench-compare bench-tpe sanitize clean
# each later feature declares its own phony targets next to their rules
.PHONY: fuzz-deps test-fuzz fuzz
.PHONY: tmux bench-cli
.PHONY: build-asan check-asan
.PHONY: coverage soak
.PHONY: test-ray bench-ray ray-venv

all: build

# --- installation -----------------------------------------------------------
deps:
	@pkg-config --exists jansson 2>/dev/null || { \
	  echo "jansson not found by pkg-config: installing libjansson-dev with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y libjansson-dev pkg-config >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y libjansson-dev pkg-config >/dev/null; }; }
	@pkg-config --exists jansson || { echo "error: could not install libjansson-dev; install it and rerun"; exit 1; }

# tmux: tests/test_cli.py runs `tune ls` in a real terminal session. A failed
# install is not fatal here: that one test then says why it skips.
tmux:
	@command -v tmux >/dev/null 2>&1 || { \
	  echo "tmux not found: installing it with apt-get (tests/test_cli.py)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y tmux >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y tmux >/dev/null; } || \
	  echo "warning: could not install tmux; tests/test_cli.py's terminal test will skip"; }

$(VENV)/.stamp: pyproject.toml requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip setuptools wheel
	$(VPY) -m pip install -q -r requirements-test.txt
	# compat: a path entry instead of an import hook, which every interpreter
	# (driver, zygote, worker) would otherwise import at start-up (~14 ms CPU).
	$(VPY) -m pip install -q --no-build-isolation --no-deps -e . --config-settings editable_mode=compat \
	  || $(VPY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $@

venv: deps $(VENV)/.stamp

build: venv
	$(VPY) setup.py -q build_ext --inplace
	@# Bytecode written now: with PYTHONDONTWRITEBYTECODE set, the zygote and every
	@# worker would otherwise compile tunec's sources at each start.
	$(VPY) -m compileall -q tunec

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

tests/c/bin/%: tests/c/%.c tests/c/bin/libengine.a $(wildcard tests/c/*.h)
	$(CC) $(CFLAGS_C) -iquote tests/c -o $@ $< tests/c/bin/libengine.a $$(pkg-config --cflags --libs jansson) -lm -pthread

tests/c/bin/asan_%: tests/c/%.c tests/c/bin/libengine_asan.a $(wildcard tests/c/*.h)
	$(CC) $(CFLAGS_C) $(SAN_FLAGS) -iquote tests/c -o $@ $< tests/c/bin/libengine_asan.a $$(pkg-config --cflags --libs jansson) -lm -pthread

test-c: $(CTEST_BIN)
	@set -e; for t in $(CTEST_BIN); do $$t; done

test-c-asan: $(CTEST_ASAN)
	@set -e; for t in $(CTEST_ASAN); do ASAN_OPTIONS=detect_leaks=1 TC_ALLOC_STRIDE=7 $$t; done

test-c-valgrind: $(CTEST_BIN)
	@if command -v valgrind >/dev/null; then set -e; for t in $(CTEST_BIN); do \
	  valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite $$t >/dev/null; done; \
	  echo "valgrind: engine tests clean"; else echo "valgrind not installed: skipped"; fi

# Ray's own Tune examples (from the ray wheels), run by tests/test_script_runner.py;
# fetched once into tests/.ray-examples when the network allows.
ray-examples: venv
	$(VPY) tests/scripts/fetch_ray_examples.py

test-py: build ray-examples tmux
	$(VPY) -m pytest -q -x tests

test: build test-c test-c-asan test-fuzz test-py

# Heavy checks, not in `make test` (README, developer section).
# coverage: C (gcovr) and Python (coverage.py) coverage into build/coverage.
coverage: build
	VPY=$(VPY) sh tests/scripts/coverage.sh

# soak: a 30-minute PBT run with worker kills, watched for leaks.
soak: build
	$(VPY) benchmarks/soak.py --minutes $${SOAK_MINUTES:-30}

bench: build
	$(VPY) benchmarks/run.py

# `tune ls` / `tune lsx` on a written 1,000-trial experiment (benchmarks/cli_ls.py).
bench-cli: build
	$(VPY) benchmarks/cli_ls.py

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

# --- trials on a Ray cluster (docs/ray-cluster.md): not part of `make test` ----
# Ray in its own virtual environment with tunec installed from this tree; the
# tests start local multi-node clusters (ray.cluster_utils) of their own.
# Skipped, with a message, where Ray cannot be installed.
RAY_VENV := .venv-ray
RAY_PY   := $(RAY_VENV)/bin/python
RAY_PIN  ?= ray[tune]==2.9.3

$(RAY_VENV)/.stamp:
	$(PYTHON) -m venv $(RAY_VENV)
	$(RAY_PY) -m pip install -q --upgrade pip 'setuptools<70' wheel   # Ray 2.9 imports pkg_resources
	$(RAY_PY) -m pip install -q '$(RAY_PIN)' 'pyarrow<15' 'numpy<2' 'pandas<2.3' pytest hypothesis cloudpickle
	touch $@

ray-venv: deps
	@$(MAKE) --no-print-directory $(RAY_VENV)/.stamp || \
	  { echo "Ray cannot be installed here: the Ray targets are skipped"; exit 0; }
	@if [ -f $(RAY_VENV)/.stamp ]; then flock /tmp/tunec-build.lock $(RAY_PY) -m pip install -q .; fi

test-ray: ray-venv
	@if [ -f $(RAY_VENV)/.stamp ]; then \
	  cd tests/ray_cluster && TUNEC_TEST_RAY=1 ../../$(RAY_PY) -m pytest -q -p no:cacheprovider . ; \
	else echo "test-ray: skipped (Ray is not installed)"; fi

bench-ray: ray-venv
	@if [ -f $(RAY_VENV)/.stamp ]; then $(RAY_PY) benchmarks/ray_cluster_bench.py; \
	else echo "bench-ray: skipped (Ray is not installed)"; fi

# --- the whole suite under ASan + UBSan ---------------------------------------------
# A copy of the source tree in build/asan/tree (tests/scripts/asan_tree.py) whose
# tunec/ holds the extension built with TUNEC_SANITIZE=1. The suite runs from inside
# that copy: Python puts the current directory (and a `-m`/`-c` child's) ahead of
# PYTHONPATH, so a run from the repository root imports the plain extension there
# (check-asan's earlier runs did: the runtime was preloaded but our code was not
# instrumented). tests/test_asan_tree.py checks, under the sanitizer, that the
# driver and its workers load the sanitized build. The sanitizer runtime must be
# loaded before the interpreter (LD_PRELOAD), with libstdc++ (C++ extensions such as matplotlib's load after it); PYTHONMALLOC=malloc makes
# Python's objects visible to ASan. LeakSanitizer checks every process at exit (workers
# too: they call _tunec.leak_check_before_exit before os._exit) and writes its reports to
# build/asan/logs; LSAN_OPTIONS=exitcode=0 keeps the interpreter's own exit-time memory
# from failing each process, and tests/scripts/lsan_check.py then fails the target on any
# direct leak of memory the engine or the extension allocated (every engine block and
# jansson's come through the tc_* hook of src/engine/alloc.c); Python objects alive at
# exit are listed, not judged (reference leaks are tests/test_leaks.py's). tests/test_leaks.py
# calls each entry point 200 times here, not 1,000: its RSS bound is off under ASan (the
# quarantine), and its Python-level bounds are the plain suite's to hold at 1,000.
ASAN_RT := $(shell $(CC) -print-file-name=libasan.so) $(shell $(CC) -print-file-name=libstdc++.so)

build-asan: venv
	@mkdir -p build/asan
	TUNEC_SANITIZE=1 $(VPY) setup.py -q build_ext --build-lib build/asan --build-temp build/asan/tmp

check-asan: build-asan ray-examples
	$(VPY) tests/scripts/asan_tree.py build/asan
	rm -rf build/asan/logs && mkdir -p build/asan/logs
	cd build/asan/tree && PYTHONPATH=$(CURDIR)/build/asan/tree LD_PRELOAD="$(ASAN_RT)" PYTHONMALLOC=malloc \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allow_user_segv_handler=1:log_path=$(CURDIR)/build/asan/logs/asan \
	  LSAN_OPTIONS=exitcode=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TUNEC_LEAK_N=200 \
	  $(CURDIR)/$(VPY) -m pytest -q -p no:cacheprovider tests; \
	  status=$$?; $(CURDIR)/$(VPY) $(CURDIR)/tests/scripts/lsan_check.py $(CURDIR)/build/asan/logs \
	  || status=1; exit $$status

# --- fuzzing (tests/fuzz/README.md) ----------------------------------------------
# libFuzzer targets over every engine parser, built with clang (ASan + UBSan) from
# one instrumented copy of the engine. `test-fuzz` (part of `make test`) gives each
# target FUZZ_SECONDS from the committed seed corpus and replays every committed
# regression input; `fuzz` is the long run (FUZZ_LONG_SECONDS per target), whose
# new corpus entries and crashes stay under build/fuzz/.
FUZZ_CC      ?= clang
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BIN     := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_OBJ     := $(patsubst src/engine/%.c,build/fuzz/obj/%.o,$(ENGINE_SRC))
FUZZ_FLAGS   := -std=c11 -O1 -g -D_GNU_SOURCE -fno-omit-frame-pointer -iquote src/engine \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 7
FUZZ_LONG_SECONDS ?= 600
FUZZ_RUN     := -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1

fuzz-deps:
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' > /tmp/tunec-fuzz-probe.c; \
	$(FUZZ_CC) -fsanitize=fuzzer -o /tmp/tunec-fuzz-probe /tmp/tunec-fuzz-probe.c 2>/dev/null || { \
	  echo "clang with libFuzzer not found: installing clang with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y clang >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y clang >/dev/null; }; \
	  $(FUZZ_CC) -fsanitize=fuzzer -o /tmp/tunec-fuzz-probe /tmp/tunec-fuzz-probe.c || \
	  { echo "error: clang cannot build a libFuzzer target (install clang and libclang-rt-dev)"; exit 1; }; }; \
	rm -f /tmp/tunec-fuzz-probe /tmp/tunec-fuzz-probe.c

build/fuzz/obj/%.o: src/engine/%.c src/engine/*.h | deps fuzz-deps
	@mkdir -p build/fuzz/obj
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $$(pkg-config --cflags jansson) -c -o $@ $<

build/fuzz/libengine.a: $(FUZZ_OBJ)
	ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h build/fuzz/libengine.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libengine.a \
	  $$(pkg-config --cflags --libs jansson) -lm -pthread

test-fuzz: $(FUZZ_BIN)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/work/$$t; \
	  if ls tests/fuzz/regress/$$t/* >/dev/null 2>&1; then \
	    build/fuzz/fuzz_$$t $(FUZZ_RUN) tests/fuzz/regress/$$t/* >build/fuzz/$$t.regress.log 2>&1 || \
	    { tail -40 build/fuzz/$$t.regress.log; echo "fuzz $$t: a regression input fails"; exit 1; }; fi; \
	  build/fuzz/fuzz_$$t $(FUZZ_RUN) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/$$t- \
	    build/fuzz/work/$$t tests/fuzz/corpus/$$t >build/fuzz/$$t.log 2>&1 || \
	    { tail -40 build/fuzz/$$t.log; echo "fuzz $$t: crash (input saved as build/fuzz/$$t-*)"; exit 1; }; \
	  echo "fuzz $$t: $$(grep -o 'stat::number_of_executed_units: [0-9]*' build/fuzz/$$t.log | grep -o '[0-9]*$$') runs, clean"; \
	done

fuzz: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/work/$$t; \
	  build/fuzz/fuzz_$$t $(FUZZ_RUN) -max_total_time=$(FUZZ_LONG_SECONDS) -artifact_prefix=build/fuzz/$$t- \
	    build/fuzz/work/$$t tests/fuzz/corpus/$$t >build/fuzz/$$t.long.log 2>&1; \
	  echo "fuzz $$t: exit $$?, $$(grep -o 'stat::number_of_executed_units: [0-9]*' build/fuzz/$$t.long.log | grep -o '[0-9]*$$') runs"; \
	done

clean:
	rm -rf build tests/c/bin tunec/*.so *.egg-info
