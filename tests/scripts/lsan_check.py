"""Reads the LeakSanitizer reports `make check-asan` collected and fails on
any leak of tunec's own memory.

Every process of the suite (pytest, the workers, the CLI and script runs it
starts) writes its sanitizer report to LOG_DIR/asan.PID. At exit the
interpreter keeps much of its memory on purpose (interned objects, module
state, NumPy's caches), so a leak report from a Python process is never empty;
what tunec answers for here is the memory its C code allocated itself. A
leak counts as ours when the function that called the allocator is in the
engine or the extension (src/engine, src/ext, the _tunec module, or the tc_*
hook every engine allocation and jansson's go through); the sanitizer build
keeps frame pointers, so that frame is always there.

A Python object our code created (a float made by convert.c, say) and still
alive when the interpreter exits is allocated by the interpreter: it is left
by whatever held it at exit, which Python does not promise to free. Such
stacks are counted and printed apart, not failed: reference leaks are
tests/test_leaks.py's to catch (1,000 calls of each entry point, flat
reference counts and RSS).

Only direct leaks are judged: an indirect leak is reachable from another
leaked block, so it is either owned by one of our direct leaks (reported with
it) or by a Python object the interpreter kept at exit (not ours).

Reports that are not leak reports (an ASan error or UBSan) make the process
that wrote them fail its test already; they are listed here so that the run's
output names them, but do not decide the exit status.

Usage: lsan_check.py LOG_DIR     exit 0: no leak of ours; 1: some, printed.
"""
import os
import re
import sys

_LEAK_HEAD = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\)")
_FRAME = re.compile(r"^\s*#\d+ ")
# A frame of tunec's own code: a source path of the engine or the extension,
# the extension module's file, or the allocation hook of src/engine/alloc.c.
_OURS = re.compile(r"(src/engine/|src/ext/|/_tunec\.cpython|\bin tc_(malloc|calloc|realloc|strdup|strndup)\b)")


def leaks_in(text):
    """The leak blocks of one report: (kind, bytes, objects, frames)."""
    blocks, current = [], None
    for line in text.splitlines():
        head = _LEAK_HEAD.match(line)
        if head:
            current = (head.group(1), int(head.group(2)), int(head.group(3)), [])
            blocks.append(current)
        elif current is not None and _FRAME.match(line):
            current[3].append(line.strip())
        elif current is not None and line.strip() == "":
            if current[3]:
                current = None
    return blocks


def ours(block):
    """A direct leak our C code allocated: the allocator's caller is ours."""
    kind, _, _, frames = block
    return kind == "Direct" and len(frames) > 1 and bool(_OURS.search(frames[1]))


def made_by_us(block):
    """A direct leak of an interpreter allocation our code asked for (an
    object alive at exit), not counted as ours."""
    kind, _, _, frames = block
    return kind == "Direct" and not ours(block) and any(_OURS.search(f) for f in frames)


def other_errors(text):
    """First lines of sanitizer reports that are not leak reports."""
    return [line.strip() for line in text.splitlines()
            if ("ERROR: AddressSanitizer" in line or "runtime error:" in line)
            and "LeakSanitizer" not in line]


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    log_dir = argv[1]
    names = sorted(os.listdir(log_dir)) if os.path.isdir(log_dir) else []
    found = processes = python_only = objects = 0
    for name in names:
        with open(os.path.join(log_dir, name), errors="replace") as f:
            text = f.read()
        blocks = leaks_in(text)
        if blocks:
            processes += 1
        mine = [b for b in blocks if ours(b)]
        python_only += len(blocks) - len(mine)
        for kind, size, count, frames in (b for b in blocks if made_by_us(b)):
            objects += 1
            callers = [f for f in frames if _OURS.search(f)]
            print(f"{name}: (not judged) {size} byte(s) in {count} Python object(s) alive at "
                  f"exit, made at {callers[0].split(' in ', 1)[-1]}")
        for kind, size, count, frames in mine:
            found += 1
            print(f"{name}: {kind} leak of {size} byte(s) in {count} object(s):")
            for frame in frames:
                print("    " + frame)
        for error in other_errors(text):
            print(f"{name}: (reported by its test) {error}")
    print(f"lsan_check: {len(names)} report file(s); {processes} process(es) left memory at exit; "
          f"{python_only} leak stack(s) of the interpreter's, {objects} of them objects our code "
          f"made; {found} of tunec's own allocations")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
