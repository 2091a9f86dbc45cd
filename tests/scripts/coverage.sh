#!/bin/sh
# `make coverage` (issue 15 item 7): line and branch coverage of the three
# layers, built apart from the normal build so that nothing in tunec/ or
# tests/c/bin changes.
#
#   build/coverage/ctest   the engine and its C tests, --coverage
#   build/coverage/lib     the extension built with TUNEC_COVERAGE=1 beside a
#                          copy of the Python package; pytest imports it
#                          through PYTHONPATH, under coverage.py
#
# Reports: build/coverage/engine.txt (gcovr, engine from the C tests),
# build/coverage/c.txt and c.html (gcovr, engine + extension from the C
# tests and pytest together), build/coverage/python.txt (coverage.py).
# Workers end with os._exit, so their share of the C counts is not written;
# coverage.py follows them through its subprocess hook.
# PYTEST_ARGS picks the tests (default: the whole suite).
set -e
VPY=${VPY:-.venv/bin/python}
OUT=build/coverage
rm -rf "$OUT"
mkdir -p "$OUT/ctest/obj" "$OUT/lib"
$VPY -m pip install -q gcovr coverage

JFLAGS=$(pkg-config --cflags jansson)
JLIBS=$(pkg-config --libs jansson)
CFLAGS="-std=c11 -O0 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -D_GNU_SOURCE -iquote src/engine --coverage"

# 1. the engine under its C tests
for src in src/engine/*.c; do
    cc $CFLAGS $JFLAGS -c -o "$OUT/ctest/obj/$(basename "$src" .c).o" "$src"
done
ar rcs "$OUT/ctest/libengine.a" "$OUT"/ctest/obj/*.o
for t in tests/c/test_*.c; do
    bin="$OUT/ctest/$(basename "$t" .c)"
    cc $CFLAGS -iquote tests/c -o "$bin" "$t" "$OUT/ctest/libengine.a" $JFLAGS $JLIBS -lm -pthread
    "$bin" >/dev/null
done
$VPY -m gcovr -r . --object-directory "$OUT/ctest/obj" --filter src/engine/ \
    --txt-metric branch --print-summary --txt "$OUT/engine.txt" "$OUT/ctest/obj" \
    | tail -n 3 > "$OUT/engine-summary.txt"

# 2. the extension (engine included) under pytest, Python under coverage.py
cp -r tunec "$OUT/lib/"
rm -f "$OUT"/lib/tunec/_tunec*.so
TUNEC_COVERAGE=1 TUNEC_DEBUG=1 $VPY setup.py -q build_ext --build-temp "$OUT/temp" \
    --build-lib "$OUT/lib"
cat > "$OUT/.coveragerc" <<RC
[run]
branch = True
parallel = True
source = $PWD/$OUT/lib/tunec
data_file = $PWD/$OUT/.coverage
[report]
skip_empty = True
RC
# coverage.py starts in every Python process (workers, the zygote) through
# a sitecustomize module on PYTHONPATH (.pth files are read only from site
# directories).
cat > "$OUT/lib/sitecustomize.py" <<PY
import coverage
coverage.process_startup()
PY
# Run from inside build/coverage/lib: `python -m` puts the working directory
# first on sys.path, and it must find the coverage build, not ./tunec.
REPO=$PWD
VPY_ABS=$(cd "$(dirname "$VPY")" && pwd)/$(basename "$VPY")
TESTS=""
for t in ${PYTEST_ARGS:-tests}; do TESTS="$TESTS $REPO/$t"; done
(cd "$OUT/lib" && COVERAGE_PROCESS_START="$REPO/$OUT/.coveragerc" PYTHONPATH="$REPO/$OUT/lib" \
    "$VPY_ABS" -m pytest -q -p no:cacheprovider --rootdir "$REPO" $TESTS) \
    || echo "coverage: some tests failed (figures still reported)"
$VPY -m coverage combine --rcfile "$OUT/.coveragerc" -q
$VPY -m coverage report --rcfile "$OUT/.coveragerc" > "$OUT/python.txt" || true
$VPY -m gcovr -r . --object-directory "$OUT/temp" --filter src/ --print-summary \
    --txt "$OUT/c.txt" --html "$OUT/c.html" "$OUT/temp" "$OUT/ctest/obj" \
    | tail -n 3 > "$OUT/c-summary.txt"
echo "== engine, C tests only (gcovr):"; cat "$OUT/engine-summary.txt"
echo "== engine + extension, C tests and pytest (gcovr):"; cat "$OUT/c-summary.txt"
echo "== Python (coverage.py):"; tail -n 1 "$OUT/python.txt"
