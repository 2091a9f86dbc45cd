#!/usr/bin/env python3
"""Routes every raw allocation call of the engine and the extension through the hook.

src/engine/alloc.h declares tc_malloc, tc_calloc, tc_realloc, tc_free, tc_strdup and
tc_strndup; the allocation-failure test (tests/c/test_alloc_failure.c) and the live-block
counter only see what goes through them. This script rewrites malloc( calloc( realloc(
free( strdup( strndup( into their tc_ names in src/engine/*.c, src/engine/*.h,
src/ext/*.c, src/ext/*.h and tests/c/mem_fs.h (the test host whose strings the engine
frees). It is idempotent (tc_malloc( is not matched again) and skips alloc.c itself, a
member call (`ops->free(`, `x.free(`) and names that merely end in one (`json_free(`).

Other branches add engine code in parallel: after merging one, run
    python3 tests/scripts/route_allocations.py
and commit what it changed. `--check` changes nothing and exits 1 if a raw call is left
(tests/test_build_hygiene.py runs it).
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATTERNS = ["src/engine/*.c", "src/engine/*.h", "src/ext/*.c", "src/ext/*.h", "tests/c/mem_fs.h"]
SKIP = {"src/engine/alloc.c", "src/engine/alloc.h"}
CALL = re.compile(r"(?<![\w.>])(malloc|calloc|realloc|free|strdup|strndup)\s*\(")


def files():
    for pattern in PATTERNS:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            if os.path.relpath(path, ROOT) not in SKIP:
                yield path


def rewrite(text):
    """text with raw calls renamed, outside comments and string literals."""
    out, i, n = [], 0, len(text)
    code = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
    for m in code.finditer(text):
        out.append(CALL.sub(r"tc_\1(", text[i:m.start()]))
        out.append(m.group(0))
        i = m.end()
    out.append(CALL.sub(r"tc_\1(", text[i:n]))
    return "".join(out)


def main(argv):
    check = "--check" in argv
    changed = []
    for path in files():
        with open(path) as f:
            text = f.read()
        new = rewrite(text)
        if new != text:
            changed.append(os.path.relpath(path, ROOT))
            if not check:
                with open(path, "w") as f:
                    f.write(new)
    for name in changed:
        print(("raw allocation call in " if check else "routed: ") + name)
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
