"""Library adapters against the real libraries, with real workers:
NevergradSearch, ZOOptSearch, TuneBOHB with HyperBandForBOHB (issue 10
items 3 and 4). Per adapter: the space conversion, a small tune.run in which
the library's suggestions are used and the library records the results,
points_to_evaluate, what it cannot express, save/restore. BOHB: pauses,
budget-tagged results, and the order of events that makes HyperBandForBOHB
wait for the searcher."""
import os
import sys

import pytest

import tunec as tune
from adapter_trainables import Steps, quadratic
from run_helpers import no_hang, run

ng = pytest.importorskip("nevergrad")
zoopt = pytest.importorskip("zoopt")
ConfigSpace = pytest.importorskip("ConfigSpace")
pytest.importorskip("hpbandster")

from tunec.schedulers import HyperBandForBOHB  # noqa: E402
from tunec.suggest.bohb import TuneBOHB  # noqa: E402
from tunec.suggest.nevergrad import NevergradSearch  # noqa: E402
from tunec.suggest.zoopt import ZOOptSearch  # noqa: E402

SPACE = {"x": tune.uniform(-2, 2), "lr": tune.loguniform(1e-4, 1e-1),
         "n": tune.randint(1, 5), "act": tune.choice(["relu", "tanh"]),
         "nested": {"y": tune.uniform(0, 1)}, "const": 7}


def run_search(tmp_path, searcher, config, num_samples):
    tune.init(num_cpus=2)
    with no_hang("tune.run"):
        return run(quadratic, tmp_path, search_alg=searcher, config=config, metric="loss",
                   mode="min", num_samples=num_samples)


def assert_suggestions_used(analysis, suggested):
    """Every trial ran the config the library suggested for it (merged over
    the constants), and only those."""
    by_id = {t.trial_id: t for t in analysis.trials}
    assert set(by_id) == set(suggested)
    for trial_id, config in suggested.items():
        got = by_id[trial_id].config
        assert got["const"] == 7
        for key, value in config.items():
            assert got[key] == value, (trial_id, key)
        assert by_id[trial_id].status == "TERMINATED"


def recording(cls):
    """A subclass that keeps what suggest returned, per trial id."""
    class Recording(cls):
        def suggest(self, trial_id):
            config = super().suggest(trial_id)
            if isinstance(config, dict):
                self.given = getattr(self, "given", {})
                self.given[trial_id] = config
            return config
    return Recording


# --------------------------------------------------------------------------
# ImportError naming the pip package
# --------------------------------------------------------------------------

@pytest.mark.parametrize("module, cls, package", [
    ("tunec.suggest.nevergrad", "NevergradSearch", "pip install nevergrad"),
    ("tunec.suggest.zoopt", "ZOOptSearch", "pip install zoopt"),
    ("tunec.suggest.bohb", "TuneBOHB", "pip install hpbandster ConfigSpace"),
])
def test_missing_library_names_the_pip_package(tmp_path, module, cls, package):
    # A child process where the library's import fails.
    code = ("import sys; sys.modules['nevergrad'] = None; sys.modules['zoopt'] = None; "
            "sys.modules['hpbandster'] = None; sys.modules['ConfigSpace'] = None\n"
            "import importlib; c = getattr(importlib.import_module({!r}), {!r})\n"
            "try:\n    c()\nexcept ImportError as e:\n    print('IMPORTERROR', e)\n"
            .format(module, cls))
    import subprocess
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert "IMPORTERROR" in out.stdout and package in out.stdout, (out.stdout, out.stderr)


# --------------------------------------------------------------------------
# Nevergrad
# --------------------------------------------------------------------------

def ng_bounds(param):
    return [float(b.ravel()[0]) for b in param.bounds]


def test_nevergrad_space_conversion():
    space = NevergradSearch.convert_search_space(SPACE)
    assert isinstance(space, ng.p.Dict)
    params = dict(space.items())
    assert set(params) == {"x", "lr", "n", "act", "nested/y"}
    assert type(params["x"]).__name__ == "Scalar" and ng_bounds(params["x"]) == [-2, 2]
    assert type(params["lr"]).__name__ == "Log"
    assert ng_bounds(params["lr"]) == pytest.approx([1e-4, 1e-1])
    assert ng_bounds(params["n"]) == [1, 4] and params["n"].integer   # randint's upper excluded
    assert type(params["act"]).__name__ == "Choice"
    assert list(params["act"].choices.value) == ["relu", "tanh"]


@pytest.mark.parametrize("config, path", [
    ({"a": tune.quniform(0, 1, 0.1)}, "config['a']"),
    ({"a": {"b": tune.randn(0, 1)}}, "config['a']['b']"),
    ({"a": tune.grid_search([1, 2])}, "config['a']"),
    ({"a": tune.sample_from(lambda spec: 1)}, "config['a']"),
    ({"a": [tune.uniform(0, 1)]}, "config['a'][0]"),
])
def test_nevergrad_unsupported_names_the_path(tmp_path, config, path):
    with pytest.raises(ValueError, match=path.replace("[", r"\[").replace("]", r"\]")):
        NevergradSearch.convert_search_space(config)
    tune.init(num_cpus=2)
    with pytest.raises(ValueError, match="NevergradSearch"):
        run(quadratic, tmp_path, search_alg=NevergradSearch(), config=config, metric="loss",
            mode="min", num_samples=2)
    assert not os.path.exists(os.path.join(str(tmp_path), "quadratic"))  # before any trial


def test_nevergrad_run_uses_and_tells_the_library(tmp_path):
    points = [{"x": 0.5, "lr": 0.01, "n": 2, "act": "tanh", "nested": {"y": 0.25}}]
    searcher = recording(NevergradSearch)(optimizer=ng.optimizers.OnePlusOne,
                                          points_to_evaluate=points)
    analysis = run_search(tmp_path, searcher, SPACE, 10)
    assert_suggestions_used(analysis, searcher.given)
    assert len(analysis.trials) == 10
    assert searcher._nevergrad_opt.num_tell == 10
    first = analysis.trials[0].config
    assert first["x"] == 0.5 and first["n"] == 2 and first["act"] == "tanh"
    assert first["nested"]["y"] == pytest.approx(0.25)
    # Nevergrad minimises the loss it was told: its recommendation is a
    # configuration some trial ran, with the least loss.
    best = min(analysis.trials, key=lambda t: t.last_result["loss"])
    assert searcher._nevergrad_opt.provide_recommendation().value["x"] == pytest.approx(
        best.config["x"])


def test_nevergrad_own_space_and_instance(tmp_path):
    space = ng.p.Dict(x=ng.p.Scalar(lower=0, upper=1), **{"nested/y": ng.p.Scalar(0.5)})
    opt = ng.optimizers.RandomSearch(parametrization=space, budget=8)
    searcher = recording(NevergradSearch)(optimizer=opt, metric="loss", mode="min")
    tune.init(num_cpus=2)
    with no_hang("tune.run"):
        analysis = run(quadratic, tmp_path, search_alg=searcher, num_samples=8,
                       config={"n": 1, "const": 7})
    assert_suggestions_used(analysis, searcher.given)
    assert all(0 <= t.config["x"] <= 1 for t in analysis.trials)
    assert opt.num_tell == 8
    with pytest.raises(ValueError, match="not both"):
        NevergradSearch(optimizer=opt, space={"x": tune.uniform(0, 1)})


def test_nevergrad_names_over_one_array_as_in_ray_08():
    # Ray 0.8's nevergrad_example: OnePlusOne(2) with two names; each name
    # is one element of the optimizer's single array parameter.
    searcher = NevergradSearch(ng.optimizers.OnePlusOne(2), ["height", "width"],
                               metric="mean_loss", mode="min",
                               points_to_evaluate=[{"height": 1.5, "width": -2.0}])
    first = searcher.suggest("0")
    assert first == {"height": 1.5, "width": -2.0}
    second = searcher.suggest("1")
    assert set(second) == {"height", "width"}
    assert all(isinstance(v, float) for v in second.values())
    searcher.on_trial_complete("0", {"mean_loss": 1.0})
    assert searcher._nevergrad_opt.num_tell == 1
    with pytest.raises(ValueError, match="positional parameters"):
        NevergradSearch(ng.optimizers.OnePlusOne(3), ["height", "width"])


def test_nevergrad_save_restore_continues(tmp_path):
    space = {"x": tune.uniform(0, 1)}
    a = NevergradSearch(optimizer=ng.optimizers.OnePlusOne, space=space, metric="loss",
                        mode="max")
    for i in range(3):
        cfg = a.suggest(str(i))
        a.on_trial_complete(str(i), {"loss": cfg["x"]})
    pending = a.suggest("3")
    path = str(tmp_path / "ng.pkl")
    a.save(path)
    b = NevergradSearch(optimizer=ng.optimizers.OnePlusOne, space=space, metric="loss",
                        mode="max")
    b.restore(path)
    assert b._nevergrad_opt.num_tell == 3 and b._nevergrad_opt.num_ask == 4
    b.on_trial_complete("3", {"loss": pending["x"]})      # the live trial survives
    assert b._nevergrad_opt.num_tell == 4
    assert 0 <= b.suggest("4")["x"] <= 1


# --------------------------------------------------------------------------
# ZOOpt
# --------------------------------------------------------------------------

ZO_SPACE = {"x": tune.uniform(-2, 2), "n": tune.randint(1, 5),
            "act": tune.choice(["relu", "tanh"]), "nested": {"y": tune.quniform(0, 1, 0.01)},
            "const": 7}


def test_zoopt_space_conversion():
    from zoopt import ValueType
    dims = ZOOptSearch.convert_search_space(ZO_SPACE)
    assert dims == {"x": (ValueType.CONTINUOUS, [-2, 2], 1e-10),
                    "n": (ValueType.DISCRETE, [1, 4], True),
                    "act": (ValueType.GRID, ["relu", "tanh"]),
                    "nested/y": (ValueType.CONTINUOUS, [0, 1], 0.01)}


@pytest.mark.parametrize("config, path, why", [
    ({"a": tune.loguniform(1e-3, 1)}, "config['a']", "log"),
    ({"a": {"b": tune.qrandint(0, 10, 2)}}, "config['a']['b']", "step"),
    ({"a": tune.randn()}, "config['a']", "bounds"),
    ({"a": tune.grid_search([1, 2])}, "config['a']", "grid_search"),
])
def test_zoopt_unsupported_names_the_path(config, path, why):
    with pytest.raises(ValueError, match=path.replace("[", r"\[").replace("]", r"\]")) as e:
        ZOOptSearch.convert_search_space(config)
    assert why in str(e.value)


def test_zoopt_bad_arguments():
    with pytest.raises(ValueError, match="budget"):
        ZOOptSearch(budget=None)
    with pytest.raises(ValueError, match="parallel_num"):
        ZOOptSearch(budget=5, parallel_num=0)


def test_zoopt_run_uses_and_tells_the_library(tmp_path):
    points = [{"x": 0.5, "n": 2, "act": "tanh", "nested": {"y": 0.25}}]
    searcher = recording(ZOOptSearch)(budget=12, parallel_num=2, points_to_evaluate=points,
                                      seed=3)
    analysis = run_search(tmp_path, searcher, ZO_SPACE, 12)
    assert_suggestions_used(analysis, searcher.given)
    n = len(analysis.trials)
    assert 6 <= n <= 12          # ZOOpt's budget ends the search (FINISHED)
    assert searcher.optimizer.complete_num == n
    first = analysis.trials[0].config
    assert (first["x"], first["n"], first["act"], first["nested"]["y"]) == (0.5, 2, "tanh", 0.25)
    best = min(analysis.trials, key=lambda t: t.last_result["loss"])
    assert searcher.optimizer.get_best_solution().get_value() == pytest.approx(
        best.last_result["loss"])


def test_zoopt_save_restore_continues(tmp_path):
    a = ZOOptSearch(budget=20, dim_dict={"x": tune.uniform(0, 1)}, metric="loss", mode="min",
                    parallel_num=2)
    for i in range(3):
        cfg = a.suggest(str(i))
        a.on_trial_complete(str(i), {"loss": cfg["x"]})
    path = str(tmp_path / "zo.pkl")
    a.save(path)
    b = ZOOptSearch(budget=20, dim_dict={"x": tune.uniform(0, 1)}, metric="loss", mode="min",
                    parallel_num=2)
    b.restore(path)
    assert b.optimizer.complete_num == 3
    got = [b.suggest(str(i)) for i in range(3, 6)]
    assert any(isinstance(g, dict) for g in got)


# --------------------------------------------------------------------------
# BOHB
# --------------------------------------------------------------------------

def test_bohb_space_conversion():
    cs = TuneBOHB.convert_search_space(SPACE)
    hp = {h.name: h for h in cs.values()}
    assert set(hp) == {"x", "lr", "n", "act", "nested/y"}
    assert isinstance(hp["x"], ConfigSpace.UniformFloatHyperparameter)
    assert (hp["x"].lower, hp["x"].upper, hp["x"].log) == (-2, 2, False)
    assert hp["lr"].log and hp["lr"].lower == pytest.approx(1e-4)
    assert isinstance(hp["n"], ConfigSpace.UniformIntegerHyperparameter)
    assert (hp["n"].lower, hp["n"].upper) == (1, 4)
    assert list(hp["act"].choices) == ["relu", "tanh"]


@pytest.mark.parametrize("config, path", [
    ({"a": tune.qloguniform(1e-3, 1, 1e-3)}, "config['a']"),
    ({"a": {"b": tune.randn(0, 1)}}, "config['a']['b']"),
    ({"a": tune.sample_from(lambda spec: 1)}, "config['a']"),
])
def test_bohb_unsupported_names_the_path(config, path):
    with pytest.raises(ValueError, match=path.replace("[", r"\[").replace("]", r"\]")):
        TuneBOHB.convert_search_space(config)


class EventLog(TuneBOHB):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.events = []

    def suggest(self, trial_id):
        config = super().suggest(trial_id)
        if config is not None:
            self.events.append(("suggest", trial_id, config))
        return config

    def on_trial_result(self, trial_id, result):
        self.events.append(("result", trial_id, result["training_iteration"],
                            result.get("hyperband_info")))
        super().on_trial_result(trial_id, result)

    def on_pause(self, trial_id):
        self.events.append(("pause", trial_id))
        super().on_pause(trial_id)

    def on_unpause(self, trial_id):
        self.events.append(("unpause", trial_id))
        super().on_unpause(trial_id)

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.events.append(("complete", trial_id))
        super().on_trial_complete(trial_id, result, error)


def test_bohb_with_hyperband_for_bohb(tmp_path):
    searcher = EventLog(space={"x": tune.uniform(0, 1)}, max_concurrent=2, seed=1,
                        bohb_config={"min_points_in_model": 3},
                        points_to_evaluate=[{"x": 0.3}])
    tune.init(num_cpus=2)
    with no_hang("tune.run"):
        analysis = run(Steps, tmp_path, search_alg=searcher,
                       scheduler=HyperBandForBOHB(max_t=9, reduction_factor=3),
                       metric="loss", mode="min", num_samples=10)
    ev = searcher.events
    trials = {t.trial_id: t for t in analysis.trials}
    assert len(trials) == 10 and all(t.status == "TERMINATED" for t in trials.values())
    suggested = {e[1]: e[2] for e in ev if e[0] == "suggest"}
    assert set(suggested) == set(trials)
    for tid, config in suggested.items():
        assert trials[tid].config["x"] == config["x"]
    assert trials["00000"].config["x"] == 0.3                 # points_to_evaluate first

    # Results at a milestone carry the budget (the bracket's milestone), the
    # others an empty hyperband_info; hpbandster recorded them per budget.
    tagged = [e for e in ev if e[0] == "result" and e[3]]
    assert all(e[3] == {"budget": e[2]} for e in tagged)
    assert all(e[3] == {} for e in ev if e[0] == "result" and not e[3])
    budgets = {e[3]["budget"] for e in tagged}
    assert {1, 4, 9} <= budgets               # milestones 1, 1+3, 9 of max_t=9, eta=3
    assert set(searcher.bohber.configs) == budgets
    assert sum(len(v) for v in searcher.bohber.configs.values()) == len(tagged)

    # Pauses: a trial paused at a milestone; its budget-tagged result reaches
    # the searcher right after the pause, and it runs again only after an
    # unpause. Paused trials do not count against max_concurrent, so new
    # suggestions fill their slots.
    pauses = [i for i, e in enumerate(ev) if e[0] == "pause"]
    assert pauses
    for i in pauses:
        tid = ev[i][1]
        assert ev[i + 1][0] == "result" and ev[i + 1][1] == tid and ev[i + 1][3], ev[i:i + 2]
        later = [e for e in ev[i + 2:] if e[1] == tid and e[0] in ("result", "unpause",
                                                                    "complete")]
        assert later and later[0][0] in ("unpause", "complete"), (tid, later[:2])
    assert any(e[0] == "suggest" for e in ev[pauses[0]:])

    # The wait: a bracket's trials are halved (unpaused) only after the
    # searcher has heard every live member's result at that milestone.
    for i, e in enumerate(ev):
        if e[0] != "unpause":
            continue
        tid = e[1]
        budget = [x for x in ev[:i] if x[0] == "result" and x[1] == tid and x[3]][-1][3]
        assert budget, (tid, ev[:i])
    # Largest bracket first: the first trials share the first milestone, 1.
    assert [e[3]["budget"] for e in tagged[:3]] == [1, 1, 1]


def test_bohb_suggest_waits_for_paused_slots_and_save_restore(tmp_path):
    s = TuneBOHB(space={"x": tune.uniform(0, 1)}, max_concurrent=2, metric="loss", mode="min",
                 seed=0)
    assert s.suggest("a") is not None and s.suggest("b") is not None
    assert s.suggest("c") is None                 # two running: waits
    s.on_pause("a")
    c = s.suggest("c")
    assert c is not None                          # a paused trial frees its slot
    s.on_trial_result("c", {"loss": 0.5, "training_iteration": 1,
                            "hyperband_info": {"budget": 1}})
    path = str(tmp_path / "bohb.pkl")
    s.save(path)
    t = TuneBOHB(space={"x": tune.uniform(0, 1)}, max_concurrent=2, metric="loss", mode="min")
    t.restore(path)
    assert t.running == {"b", "c"} and t.paused == {"a"}
    assert t.trial_to_params["c"] == c
    assert len(t.bohber.configs[1]) == 1
    t.on_unpause("a")
    assert t.suggest("d") is None
