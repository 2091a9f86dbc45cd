"""The extension's .pyi stub names exactly what the module exports."""
import ast
import os

from tunec import _tunec


def stub_names():
    path = os.path.join(os.path.dirname(_tunec.__file__), "_tunec.pyi")
    tree = ast.parse(open(path).read())
    names, members = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        if isinstance(node, ast.ClassDef):
            members[node.name] = {n.name if isinstance(n, ast.FunctionDef) else n.target.id
                                  for n in node.body
                                  if isinstance(n, (ast.FunctionDef, ast.AnnAssign))}
    return names, members


def test_stub_matches_module():
    names, members = stub_names()
    public = {n for n in dir(_tunec) if not n.startswith("_")}
    assert names == public
    for cls, attrs in members.items():
        have = {n for n in dir(getattr(_tunec, cls)) if not n.startswith("_")} | {"__init__"}
        assert attrs - have == set(), cls
        assert {n for n in have if not n.startswith("_")} - attrs == set(), cls
