"""The wire codes (frame types and flags, statuses, decisions, scheduler
events and actions, local mode's answers) are named once, in
src/engine/wire.h, and the Python side reads them from tunec._tunec."""
import ast
import pathlib
import re

from tunec import _tunec

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = ROOT / "src" / "engine" / "wire.h"
ROW = re.compile(r'X\((\w+), "(\w+)", (-?\d+)\)')

# The modules that speak to the engine in its codes.
SPEAKERS = ["tunec/schedulers/_bridge.py", "tunec/suggest/_bridge.py", "tunec/_local.py",
            "tunec/_worker.py", "tunec/_execute.py", "tunec/checkpoint.py"]
# Engine calls whose first argument is a wire code.
CODED_CALLS = {"send", "local_frame", "sched_act", "sched_builtin"}


def header_rows():
    rows = ROW.findall(HEADER.read_text())
    assert len(rows) > 40, "wire.h's X-macro rows were not found"
    return {py: int(value) for _c, py, value in rows}


def test_every_header_code_is_a_module_constant():
    rows = header_rows()
    assert _tunec.WIRE_CODES == rows
    for name, value in rows.items():
        assert getattr(_tunec, name) == value, name


def test_names_and_values_are_unique_within_a_list():
    text = HEADER.read_text()
    for block in re.findall(r"#define TC_WIRE_(\w+)\(X\)(.*?)(?:\n\n|\n/\*)", text, re.S):
        name, body = block
        if name == "ALL":
            continue
        values = [int(v) for _c, _p, v in ROW.findall(body)]
        assert values, name
        if name != "FRAME_FLAGS":          # flags of different frame types share bits
            assert len(values) == len(set(values)), name


def test_stub_declares_every_code():
    stub = (ROOT / "tunec" / "_tunec.pyi").read_text()
    for name in header_rows():
        assert re.search(r"^%s: int$" % name, stub, re.M), name


def _int_literals(node):
    return [n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and type(n.value) is int]


def test_python_side_mirrors_no_code():
    """No module-level constant made of numbers and no coded call with a
    literal first argument in the modules that speak the engine's codes."""
    problems = []
    for rel in SPEAKERS:
        tree = ast.parse((ROOT / rel).read_text(), rel)
        for node in tree.body:
            if isinstance(node, ast.Assign) and _int_literals(node.value):
                problems.append("%s:%d module-level number" % (rel, node.lineno))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in CODED_CALLS and node.args
                    and isinstance(node.args[0], ast.Constant)):
                problems.append("%s:%d literal code in %s()" % (rel, node.lineno,
                                                                node.func.attr))
    assert problems == []


def test_bridges_map_onto_the_engine_codes():
    from tunec.schedulers import _bridge as sched
    from tunec.schedulers.trial_scheduler import TrialScheduler
    assert sched._DECISIONS[TrialScheduler.STOP] == _tunec.SCHED_STOP
    assert sched._DECISIONS[TrialScheduler.NOOP] == _tunec.SCHED_NOOP
    assert sched._EVENT_CODES["remove"] == _tunec.EVENT_REMOVE
    assert (sched._ACT_STOP, sched._ACT_UNPAUSE) == (_tunec.SCHED_ACT_STOP,
                                                      _tunec.SCHED_ACT_UNPAUSE)
