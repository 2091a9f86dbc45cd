"""tunec/_plain_json.py: tune.run's options and search space as JSON text
without the json module (issue 12, start-up). For plain data it must write
what json.dumps(obj, ensure_ascii=False) writes; for anything else it must
decline, so that json (and its default= handler) decides as before."""
import json

import numpy as np
import pytest

import tunec as tune
from tunec import _plain_json, sample

PLAIN = [
    None, True, False, 0, -1, 2 ** 63, -2 ** 63 - 1, 10 ** 30, 0.1, 1 / 3, 1e300, 5e-324, -0.0,
    float("nan"), float("inf"), float("-inf"), "", "a\"b\\c\n\t\x00", "é ☃ \u2028 𝄞",
    [], {}, (1, "x"), [1, [2, [3, {"a": None}]]], {"k": {"nested": [1.5, "s", False]}},
]

NOT_PLAIN = [
    np.int64(3), np.float32(0.5), {1: "int key"}, {("a",): 1}, "\udc80", {"\udc80": 1},
    {"k": object()}, [set()], b"bytes", type("MyInt", (int,), {})(3),
]


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_data_is_written_as_json_writes_it(value):
    assert _plain_json.dumps(value) == json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("value", NOT_PLAIN, ids=repr)
def test_anything_else_is_left_to_json(value):
    assert _plain_json.dumps(value) is None
    assert _plain_json.dumps({"options": [value]}) is None


def test_deep_nesting_is_left_to_json():
    deep = []
    for _ in range(500):
        deep = [deep]
    assert _plain_json.dumps(deep) is None


@pytest.mark.parametrize("config", [
    {"lr": tune.loguniform(1e-4, 1e-1), "layers": tune.grid_search([[1, 2], (3,)]),
     "name": "é", "big": 10 ** 30, "nan": float("nan"), "np": np.int64(4),
     "fn": tune.sample_from(lambda spec: 1), "obj": object()},
    {"nested": {"a": {"b": [1, {"c": tune.choice(["x", "y"])}]}}},
])
def test_the_search_space_tree_is_what_its_text_reads_back_as(config):
    text, functions, objects = sample.encode_space(config)
    tree, functions2, objects2 = sample.encode_space_tree(config)
    # As text (NaN != NaN): what tune.run now puts into its options is what
    # it used to read back from the text.
    assert json.dumps(tree) == json.dumps(json.loads(text))
    assert sorted(functions) == sorted(functions2) and sorted(objects) == sorted(objects2)
