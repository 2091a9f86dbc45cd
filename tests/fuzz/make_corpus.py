#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus: tests/fuzz/corpus/<target>/ (run by `make test-fuzz`).

A few small, valid inputs per parser, each shaped like what tunec itself writes or
receives, so libFuzzer starts from the interesting paths instead of from nothing. The
files are committed; rerun this script after changing SEEDS. Inputs the
fuzzers found are kept separately, committed, in tests/fuzz/regress/<target>/.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

RESULT = ('{"loss": 0.25, "acc": NaN, "nested": {"a": [1, 2.5, "x"], "b": null}, '
          '"done": false, "training_iteration": 3, "time_this_iter_s": 0.01, '
          '"config": null, "trial_id": "a1b2c3", "date": "2026-01-01_00-00-00", '
          '"timestamp": 1700000000, "hostname": "h", "node_ip": "127.0.0.1", "pid": 42}')

DOMAIN = {"$tunec": "domain"}


def dom(kind, **kw):
    return dict(DOMAIN, kind=kind, **kw)


def frame(kind, trial, payload, flags=0):
    return struct.pack("=IHHi", len(payload), kind, flags, trial) + payload


SEEDS = {
    "proto": [
        frame(1, -1, b'{"pid": 1, "hostname": "h", "node_ip": "127.0.0.1"}'),
        frame(2, 0, RESULT.encode(), flags=2) + frame(7, 0, b"") + frame(5, 0, b""),
        frame(6, 3, b'{"dir": "checkpoint_000001", "path": "x", "iteration": 1}'),
        frame(4, 1, b"Traceback (most recent call last):\n  boom\n")[:20],
    ],
    "json": [
        RESULT.encode(),
        b'[1, -0.0, 1e308, -Infinity, Infinity, "\\u00e9\\ud83d\\ude00", true, {}]',
        b'{"k\\u0000": "v", "big": 123456789012345678901234567890}',
        b'"\\ud800"',
        b"[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]",
    ],
    "scan": [
        RESULT.encode(),
        b'{"a": {"b": {"c": [1, {"d": NaN}]}}, "s": "esc\\n\\"q\\"", "done": true}',
        b'{"config": {"lr": 0.1}, "x": -Infinity}',
    ],
    "table_json": [
        (RESULT + "\n" + RESULT.replace("0.25", "0.5") + "\n").encode(),
        b'{"a": 1}\n{"a": "x", "b": [1, 2]}\nnot json\n{"a": 2',
        b'{"a": true}\n\n{"a": {"deep": 1}}\n',
    ],
    "table_csv": [
        b"loss,acc,training_iteration,config/lr\n0.25,0.5,1,0.1\n0.2,nan,2,0.1\n",
        b'a,"b,c",a\n1,"x ""y""",3\n1,2\n4,5,6,7\n',
        b"x,y\r\n1,True\r\n2,False\r\n3,",
        b"a\x00b,a\x00c\n1,2\n",
    ],
    "space": [
        b"\x01" + json.dumps({"config": {"a": {"grid_search": [1, 2]},
                                         "u": dom("uniform", lower=0, upper=1)}}).encode(),
        b"\x03" + json.dumps({"config": {"c": dom("choice", categories=["a", "b"]),
                                         "i": dom("qrandint", lower=0, upper=100, q=7),
                                         "l": [dom("loguniform", lower=1e-5, upper=1)],
                                         "n": dom("randn", mean=0, sd=1, shape=[2])},
                              "points_to_evaluate": [{"c": "a"}]}).encode(),
        b"\x02" + json.dumps({"config": {"a": {"grid_search": [1, 2, 3]}},
                              "shuffle": True}).encode(),
        b"\x00" + json.dumps({"config": {"f": {"$tunec": "sample_from", "id": 1}}}).encode(),
    ],
    "options": [
        json.dumps({"experiments": [{"name": "exp", "num_samples": 2, "spec": {"config": {}},
                                     "local_dir": "/tmp/x", "stop": {"training_iteration": 3},
                                     "checkpoint_freq": 1, "keep_checkpoints_num": 2,
                                     "checkpoint_score_attr": "min-loss"}],
                    "capacity": {"cpu": 2, "gpu": 0}, "max_concurrent": 2,
                    "scheduler": {"spec": {"type": "asha", "metric": "loss", "mode": "min"}},
                    "fail_fast": True}).encode(),
        json.dumps({"experiments": [], "resume": {"records": {}, "resume_unfinished": True}}).encode(),
        b'{"max_concurrent": "3"}',
    ],
    # fuzz_state.c: snapshot NUL journal
    "state": [
        b'{"checkpoints": [{"trial_id": "00000", "status": "TERMINATED", "logdir": "/exp/t0", '
        b'"last_result": {"score": 1}, "metric_analysis": {}}, "{\\"trial_id\\": \\"00001\\"}"], '
        b'"runner_data": {"tunec": {"experiments": [{"name": "e", "seed": 1}]}}}\0'
        b'{"event": "start", "record": {"trial_id": "00002", "config": {"x": NaN}}}\n'
        b'{"event": "status", "trial_id": "00002", "status": "TERMINATED", "last_result": {}, '
        b'"metric_analysis": {}, "n_results": 1}\n'
        b'{"event": "checkpoint", "trial_id": "00000", "checkpoints": [{"dir": "c", "path": "c/x", '
        b'"iteration": 1}, {"dir": "../x"}]}\n'
        b'{"event": "reconfig", "trial_id": "00001", "config": {"x": 2}, "experiment_tag": "t"}\n'
        b'{"event": "status", "trial_id": "00002", "sta',
        b'{"checkpoints": [], "checkpoints": [{"trial_id": "a"}, {"trial_id": "a"}]}\0junk\n\n[1]\n',
        b'{"event": "start", "record": {"trial_id": "\\u00e9", "logdir": "x/../y"}}\n',
    ],
}


def main():
    root = os.path.join(HERE, "corpus")
    for target, seeds in SEEDS.items():
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        for i, data in enumerate(seeds):
            with open(os.path.join(d, "seed_%02d" % i), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
