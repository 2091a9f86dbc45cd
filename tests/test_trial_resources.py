"""tune.with_resources with a callable of the config: each trial reserves its
own request (src/engine/runner_resources.c), seen inside the trial through
get_context().get_trial_resources(), and the capacity admits trials by it.
Overlap is read from start/end lines the trials append to a shared log,
never from timing."""
import os

import pytest

import tunec as tune
from tunec import TuneError
from tunec.suggest import Searcher
from run_helpers import wait_for



@pytest.fixture(autouse=True)
def _shutdown():
    yield
    tune.shutdown()


def run(trainable, tmp_path, **kw):
    kw.setdefault("verbose", 0)
    return tune.run(trainable, local_dir=str(tmp_path / "out"), **kw)


def head_cpus():
    return tune.get_context().get_trial_resources().bundles[0]["CPU"]


def log_line(path, text):
    with open(path, "a") as f:      # one short O_APPEND write per line
        f.write(text + "\n")


def read_log(path):
    with open(path) as f:
        return [line.split() for line in f.read().splitlines()]


def test_trials_reserve_their_own_cpus(tmp_path):
    """2 CPUs; trials asking for 2, 1, 1, 2. The 1-CPU trials each wait until
    the other has started (they must run side by side); the log then shows
    that at no point did the running trials hold more than 2 CPUs, so each
    2-CPU trial ran alone."""
    tune.init(num_cpus=2)
    log = str(tmp_path / "log")
    open(log, "w").close()

    def fn(config):
        me = tune.get_trial_id()
        log_line(log, "start {} {}".format(me, head_cpus()))
        if config["n"] == 1:
            wait_for(lambda: sum(1 for w in read_log(log) if w[0] == "start" and w[2] == "1")
                     >= 2, "the other 1-CPU trial")
        tune.report(cpus=head_cpus())
        log_line(log, "end {} {}".format(me, head_cpus()))

    analysis = run(tune.with_resources(fn, lambda config: {"cpu": config["n"]}), tmp_path,
                   config={"n": tune.grid_search([2, 1, 1, 2])})
    assert [t.status for t in analysis.trials] == ["TERMINATED"] * 4
    assert [t.last_result["cpus"] for t in analysis.trials] == [2, 1, 1, 2]
    assert [t.resources.cpu for t in analysis.trials] == [2, 1, 1, 2]
    running, most, pair_overlapped = {}, 0, False
    for event, trial, cpus in read_log(log):
        if event == "start":
            running[trial] = float(cpus)
        else:
            del running[trial]
        most = max(most, sum(running.values()))
        pair_overlapped |= sorted(running.values()) == [1.0, 1.0]
    assert most == 2
    assert pair_overlapped


def test_a_request_that_never_fits_fails_before_any_trial(tmp_path):
    tune.init(num_cpus=2)
    started = tmp_path / "started"
    started.mkdir()

    def fn(config):
        (started / tune.get_trial_id()).touch()

    with pytest.raises(TuneError, match=r"with_resources: trial fn_00001 \(1_n=3\).*"
                                        r"Insufficient cluster resources"):
        run(tune.with_resources(fn, lambda config: {"cpu": config["n"]}), tmp_path,
            config={"n": tune.grid_search([1, 3])})
    assert os.listdir(started) == []


def test_a_bad_request_names_with_resources(tmp_path):
    tune.init(num_cpus=2)
    with pytest.raises(TuneError, match="with_resources"):
        run(tune.with_resources(lambda config: None, lambda config: ["cpu"]), tmp_path,
            config={"n": tune.grid_search([1, 2])})


def test_gpus_per_trial(tmp_path):
    """Fake devices (tune.init(num_gpus=2)): a trial asking for 2 GPUs sees
    both in CUDA_VISIBLE_DEVICES, one asking for 1 sees one."""
    tune.init(num_cpus=4, num_gpus=2)

    def fn(config):
        bundle = tune.get_context().get_trial_resources().bundles[0]
        tune.report(cuda=os.environ.get("CUDA_VISIBLE_DEVICES"), gpus=bundle["GPU"])

    analysis = run(tune.with_resources(fn, lambda config: {"cpu": 1, "gpu": config["g"]}),
                   tmp_path, config={"g": tune.grid_search([2, 1])})
    two, one = (t.last_result for t in analysis.trials)
    assert (two["gpus"], sorted(two["cuda"].split(","))) == (2, ["0", "1"])
    assert one["gpus"] == 1 and one["cuda"] in ("0", "1")


def test_placement_group_factory_and_class_trainable(tmp_path):
    tune.init(num_cpus=3)

    class Reports(tune.Trainable):
        def step(self):
            return {"bundles": tune.get_context().get_trial_resources().bundles, "done": True}

    def request(config):
        return tune.PlacementGroupFactory([{"CPU": config["n"]}, {"CPU": 1}])

    analysis = run(tune.with_resources(Reports, request), tmp_path,
                   config={"n": tune.grid_search([1, 2])})
    assert [t.last_result["bundles"] for t in analysis.trials] == [
        [{"CPU": 1, "GPU": 0}, {"CPU": 1, "GPU": 0}], [{"CPU": 2, "GPU": 0}, {"CPU": 1, "GPU": 0}]]


def test_searcher_trials_get_their_own_request(tmp_path):
    tune.init(num_cpus=2)

    class Counts(Searcher):
        def __init__(self):
            super().__init__(metric="cpus", mode="max")
            self.n = 0

        def suggest(self, trial_id):
            self.n += 1
            return {"n": 2 if self.n % 2 else 1}

        def on_trial_complete(self, trial_id, result=None, error=False):
            pass

    def fn(config):
        tune.report(cpus=head_cpus())

    analysis = run(tune.with_resources(fn, lambda config: {"cpu": config["n"]}), tmp_path,
                   search_alg=Counts(), num_samples=3)
    assert [t.last_result["cpus"] for t in analysis.trials] == [2, 1, 2]


def test_resume_recomputes_the_request(tmp_path):
    """A trial that errored is rerun on resume with the request its config
    gives (the callable is asked again, not read from the state)."""
    tune.init(num_cpus=2)
    flag = tmp_path / "fail"
    flag.touch()

    def fn(config):
        if config["n"] == 2 and flag.exists():
            raise RuntimeError("first session")
        tune.report(cpus=head_cpus())

    trainable = tune.with_resources(fn, lambda config: {"cpu": config["n"]})
    first = run(trainable, tmp_path, name="exp", config={"n": tune.grid_search([1, 2])},
                raise_on_failed_trial=False)
    assert [t.status for t in first.trials] == ["TERMINATED", "ERROR"]
    flag.unlink()
    second = run(trainable, tmp_path, name="exp", config={"n": tune.grid_search([1, 2])},
                 resume="ERRORED_ONLY")
    assert [t.status for t in second.trials] == ["TERMINATED", "TERMINATED"]
    assert [t.last_result["cpus"] for t in second.trials] == [1, 2]
