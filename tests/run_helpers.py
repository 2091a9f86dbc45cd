"""Helpers of the end-to-end tests: a quiet tune.run into a test's tmp_path,
and a trial's result.json rows."""
import json
import os

import tunec as tune


def run(trainable, tmp_path, **kw):
    kw.setdefault("verbose", 0)
    return tune.run(trainable, local_dir=str(tmp_path), **kw)


def rows(trial):
    with open(os.path.join(trial.logdir, "result.json")) as f:
        return [json.loads(line) for line in f]
