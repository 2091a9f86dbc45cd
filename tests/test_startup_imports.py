"""What the driver imports on tune.run's way to its first trial (issue 12,
start-up): every module costs the first trial its import time, so the
standard library's heavy ones (logging with traceback, inspect, typing,
dataclasses, cloudpickle with all of them) are left to the paths that use
them. A fresh driver records each import it makes until its first trial is
named, just before that trial's START."""

import pytest

from run_helpers import run_driver_script


# cloudpickle and what it imports: needed where the trainable travels as
# bytes (an exec'd zygote), not where the zygote forked from the driver
# holds it.
PICKLING = ("cloudpickle", "logging", "inspect", "typing", "dataclasses", "platform", "uuid",
            "traceback")
HEAVY = PICKLING + ("socket", "tunec.syncer", "tunec.analysis")


def imports_before_first_trial(tmp_path, run_args, env=None):
    out, _ = run_driver_script(tmp_path, """
        import json, sys
        import tunec as tune

        seen = []

        class Recorder:
            def find_spec(self, name, path=None, target=None):
                seen.append(name)
                return None

        sys.meta_path.insert(0, Recorder())

        def name(trial):
            seen.append("<first trial named>")
            return "trial"

        def train(config):
            tune.report(v=1)

        a = tune.run(train, verbose=0, local_dir=".", trial_name_creator=name, {})
        assert a.trials[0].last_result["v"] == 1
        print(json.dumps(seen[:seen.index("<first trial named>")]))
    """.format(run_args), env)
    return out


@pytest.mark.parametrize("run_args, env", [
    ("", None),
    ("config={'x': tune.grid_search([1, 2])}, stop={'training_iteration': 1}", None),
    ("", {"TUNEC_ZYGOTE": "exec"}),
], ids=["plain", "grid-and-stop", "exec-zygote"])
def test_no_heavy_import_before_the_first_trial(tmp_path, run_args, env):
    seen = imports_before_first_trial(tmp_path, run_args, env)
    assert "tunec._run" in seen      # the recorder saw tune.run's own imports
    expected = set(HEAVY) - set(PICKLING) if env else set(HEAVY)
    assert sorted(set(seen) & expected) == [], seen
