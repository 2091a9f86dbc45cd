"""The search-library adapters (OptunaSearch, HyperOptSearch, SkOptSearch,
BayesOptSearch) against the real libraries, with real workers: how each
converts tunec domains, that tune.run's trials run the library's own
suggestions and the library hears every result, points_to_evaluate first,
the library's own space object, the errors for what a library cannot
express, and save/restore."""
import importlib.util
import math
import os
import re
import sys

import pytest

import tunec as tune
from tunec.suggest.bayesopt import BayesOptSearch
from tunec.suggest.hyperopt import HyperOptSearch
from tunec.suggest.optuna import OptunaSearch
from tunec.suggest.skopt import SkOptSearch
from run_helpers import no_hang, run

# The libraries are imported inside the tests only: trial workers import this
# module for its trainables and should not pay for optuna, sklearn and the rest.
pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("optuna", "hyperopt", "skopt", "bayes_opt")),
    reason="the search libraries are not installed (make venv installs them)")


def quadratic(config):
    x, y = config["x"], config["nest"]["y"]
    tune.report(loss=(x - 1) ** 2 + (y + 2) ** 2)


SPACE = {"x": tune.uniform(-4.0, 4.0), "nest": {"y": tune.uniform(-4.0, 4.0)}, "const": 7}
POINTS = [{"x": 1.0, "nest": {"y": -2.0}}, {"x": -3.0, "nest": {"y": 3.0}}]


CLASSES = {"optuna": OptunaSearch, "hyperopt": HyperOptSearch, "skopt": SkOptSearch,
           "bayesopt": BayesOptSearch}


# -- what the library recorded: [(flat params, value as tune.run saw it)] ----
def optuna_records(s):
    return [(t.params, t.value) for t in s._ot_study.trials if t.value is not None]


def hyperopt_records(s):
    out = []
    for t in s._hpopt_trials.trials:
        if t["result"].get("status") == "ok":
            vals = {k: v[0] for k, v in t["misc"]["vals"].items()}
            out.append((vals, s.metric_op * t["result"]["loss"]))
    return out


def skopt_records(s):
    opt = s._skopt_opt
    return [(dict(zip(s._parameter_names, x)), s._metric_op * y) for x, y in zip(opt.Xi, opt.yi)]


def bayesopt_records(s):
    return [(r["params"], s._metric_op * r["target"]) for r in s.optimizer.res]


ADAPTERS = {
    "optuna": (lambda **kw: OptunaSearch(seed=5, **kw), optuna_records),
    "hyperopt": (lambda **kw: HyperOptSearch(random_state_seed=5, n_initial_points=4, **kw),
                 hyperopt_records),
    # acq_optimizer="sampling": skopt's default (lbfgs restarts) takes seconds a suggestion
    "skopt": (lambda **kw: SkOptSearch(optimizer_kwargs={
        "random_state": 5, "n_initial_points": 4, "acq_optimizer": "sampling",
        "acq_optimizer_kwargs": {"n_points": 1000}}, **kw),
              skopt_records),
    "bayesopt": (lambda **kw: BayesOptSearch(random_state=5, random_search_steps=4, **kw),
                 bayesopt_records),
}


@pytest.mark.parametrize("lib", sorted(ADAPTERS))
def test_tune_run_trials_are_the_librarys_suggestions(tmp_path, lib):
    make, records = ADAPTERS[lib]
    searcher = make(points_to_evaluate=POINTS)
    with no_hang("tune.run"):
        analysis = run(quadratic, tmp_path, config=SPACE, metric="loss", mode="min",
                       num_samples=8, search_alg=searcher)
    assert (searcher.metric, searcher.mode) == ("loss", "min")     # from tune.run
    trials = sorted(analysis.trials, key=lambda t: t.trial_id)
    assert len(trials) == 8 and all(t.status == "TERMINATED" for t in trials)
    # points_to_evaluate are the first two trials, in order
    assert [{"x": t.config["x"], "nest": t.config["nest"]} for t in trials[:2]] == POINTS
    assert all(t.config["const"] == 7 for t in trials)
    # every trial ran a config the library proposed, and the library heard its result
    recorded = records(searcher)
    assert len(recorded) == 8
    for t in trials:
        point = {"x": t.config["x"], "nest/y": t.config["nest"]["y"]}
        matches = [v for p, v in recorded
                   if all(math.isclose(float(p[k]), point[k], abs_tol=1e-12) for k in point)]
        assert matches, (t.config, recorded)
        assert math.isclose(matches[0], t.last_result["loss"], rel_tol=1e-12)
    assert len({(t.config["x"], t.config["nest"]["y"]) for t in trials}) >= 6


@pytest.mark.parametrize("lib", ["optuna", "hyperopt"])
def test_seeded_suggestions_are_the_librarys_own_draws(tmp_path, lib):
    """With a seed, the first (random-phase) configs are what the library
    gives standalone for the same space and seed."""
    import optuna, hyperopt
    if lib == "optuna":
        searcher = OptunaSearch(seed=11)
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=11))
        dists = {"x": optuna.distributions.FloatDistribution(-4.0, 4.0),
                 "nest/y": optuna.distributions.FloatDistribution(-4.0, 4.0)}
        expected = [study.ask(fixed_distributions=dists).params for _ in range(3)]
    else:
        import numpy as np
        searcher = HyperOptSearch(random_state_seed=11)
        space = {"x": hyperopt.hp.uniform("x", -4.0, 4.0),
                 "nest/y": hyperopt.hp.uniform("nest/y", -4.0, 4.0)}
        trials, rstate = hyperopt.Trials(), np.random.RandomState(11)
        domain = hyperopt.Domain(lambda s: s, space)
        expected = []
        for _ in range(3):
            docs = hyperopt.tpe.suggest(trials.new_trial_ids(1), domain, trials,
                                        rstate.randint(2 ** 31 - 1))
            trials.insert_trial_docs(docs)
            trials.refresh()
            expected.append({k: v[0] for k, v in docs[0]["misc"]["vals"].items()})
    with no_hang("tune.run"):
        analysis = run(quadratic, tmp_path, config=SPACE, metric="loss", mode="min",
                       num_samples=3, search_alg=searcher)
    got = [{"x": t.config["x"], "nest/y": t.config["nest"]["y"]}
           for t in sorted(analysis.trials, key=lambda t: t.trial_id)]
    assert got == [{k: float(v) for k, v in e.items()} for e in expected]


def _native(lib):
    """Each library's own space object, metric and mode in the constructor."""
    if lib == "optuna":
        import optuna
        dist = optuna.distributions.FloatDistribution
        return OptunaSearch({"x": dist(-4, 4), "nest/y": dist(-4, 4)}, metric="loss",
                            mode="min", seed=1)
    if lib == "hyperopt":
        from hyperopt import hp
        return HyperOptSearch({"x": hp.uniform("x", -4, 4), "nest": {"y": hp.uniform("y", -4, 4)}},
                              metric="loss", mode="min", random_state_seed=1)
    if lib == "skopt":
        import skopt
        opt = skopt.Optimizer([(-4.0, 4.0), (-4.0, 4.0)], random_state=1, n_initial_points=3)
        return SkOptSearch(opt, ["x", "nest/y"], metric="loss", mode="min")
    return BayesOptSearch({"x": (-4, 4), "nest/y": (-4, 4)}, metric="loss", mode="min",
                          random_state=1, random_search_steps=2)


def flat_quadratic(config):
    y = config["nest"]["y"] if "nest" in config else config["nest/y"]
    tune.report(loss=(config["x"] - 1) ** 2 + (y + 2) ** 2)


@pytest.mark.parametrize("lib", sorted(CLASSES))
def test_the_librarys_own_space_object(tmp_path, lib):
    searcher = _native(lib)
    with no_hang("tune.run"):
        analysis = run(flat_quadratic, tmp_path, num_samples=3, search_alg=searcher)
    assert len(analysis.trials) == 3
    for t in analysis.trials:
        assert -4 <= t.config["x"] <= 4 and t.last_result["loss"] >= 0


# -- conversion -------------------------------------------------------------
def test_optuna_conversion_table():
    import optuna
    d = optuna.distributions
    table = [
        (tune.uniform(-1, 2), d.FloatDistribution(-1, 2)),
        (tune.loguniform(1e-3, 1), d.FloatDistribution(1e-3, 1, log=True)),
        (tune.quniform(0.05, 1, 0.1), d.FloatDistribution(0.1, 1.0, step=0.1)),
        (tune.qloguniform(0.1, 10, 0.1), d.FloatDistribution(0.1, 10, log=True)),
        (tune.randint(0, 5), d.IntDistribution(0, 4)),
        (tune.qrandint(1, 10, 3), d.IntDistribution(3, 9, step=3)),
        (tune.lograndint(1, 100), d.IntDistribution(1, 99, log=True)),
        (tune.qlograndint(2, 100, 2), d.IntDistribution(2, 100, log=True)),
        (tune.choice(["a", 2, None]), d.CategoricalDistribution(["a", 2, None])),
    ]
    for domain, expected in table:
        assert OptunaSearch.convert_search_space({"p": {"q": domain}}) == {"p/q": expected}


def test_skopt_conversion_table():
    import skopt
    sp = skopt.space
    table = [
        (tune.uniform(-1, 2), sp.Real(-1, 2)),
        (tune.loguniform(1e-3, 1), sp.Real(1e-3, 1, prior="log-uniform")),
        (tune.quniform(0.05, 1, 0.1), sp.Real(0.1, 1.0)),
        (tune.randint(0, 5), sp.Integer(0, 4)),
        (tune.qrandint(1, 10, 3), sp.Integer(3, 9)),
        (tune.lograndint(1, 100), sp.Integer(1, 99, prior="log-uniform")),
        (tune.choice(["a", "b"]), sp.Categorical(["a", "b"])),
    ]
    for domain, expected in table:
        assert SkOptSearch.convert_search_space({"p": domain}) == {"p": expected}


def bayes_opt_2():
    """Whether the installed bayes_opt has 2.0's acquisition functions (ints
    and categories searched) or is 1.x (floats only): `make venv` gets 1.4
    while nevergrad pins it, and the tests follow whichever pip resolved."""
    from tunec.suggest.bayesopt import _acquisition_api
    return _acquisition_api()


BAYESOPT_FLOATS = [
    (tune.uniform(-1, 2), (-1.0, 2.0)),
    (tune.loguniform(1e-3, 1), (1e-3, 1.0)),
    (tune.quniform(0.05, 1, 0.1), (0.1, 1.0)),
]
BAYESOPT_INTS_AND_CATEGORIES = [
    (tune.randint(0, 5), (0, 4, int)),
    (tune.qrandint(1, 10, 3), (3, 9, int)),
    (tune.choice(["a", "b"]), ("a", "b")),
]


def test_bayesopt_conversion_table():
    for domain, expected in BAYESOPT_FLOATS:
        assert BayesOptSearch.convert_search_space({"p": domain}) == {"p": expected}
    for domain, expected in BAYESOPT_INTS_AND_CATEGORIES:
        if bayes_opt_2():
            assert BayesOptSearch.convert_search_space({"p": domain}) == {"p": expected}
        else:       # 1.x searches floats only; Ray refuses these too
            with pytest.raises(ValueError, match=r"cannot search {} at config\['n'\]\['p'\]: "
                               r"bayes_opt 1\.\S+ searches floats only".format(
                                   re.escape(repr(domain)))):
                BayesOptSearch.convert_search_space({"n": {"p": domain}})


@pytest.mark.parametrize("kind", ["ucb", "ei", "poi"])
def test_bayesopt_utility_kwargs_choose_the_acquisition(kind):
    """Ray's utility_kwargs reach the installed library's own form: 2.0's
    acquisition function object, or 1.x's UtilityFunction."""
    import bayes_opt
    s = BayesOptSearch({"x": (0.0, 1.0)}, metric="loss", mode="min",
                       utility_kwargs={"kind": kind, "kappa": 1.5, "xi": 0.25})
    if bayes_opt_2():
        names = {"ucb": "UpperConfidenceBound", "ei": "ExpectedImprovement",
                 "poi": "ProbabilityOfImprovement"}
        assert type(s._acquisition).__name__ == names[kind] and s._utility is None
    else:
        assert isinstance(s._utility, bayes_opt.UtilityFunction) and s._acquisition is None
        assert (s._utility.kind, s._utility.kappa, s._utility.xi) == (kind, 1.5, 0.25)
    with pytest.raises(ValueError, match=r"utility_kwargs.*kind must be .*got 'pi'"):
        BayesOptSearch(utility_kwargs={"kind": "pi"})


def test_hyperopt_conversion_table():
    """HyperOpt's expressions do not compare: check the distribution node
    each becomes, with its arguments."""
    def node(expr):
        while expr.name in ("float", "int", "hyperopt_param"):
            expr = expr.pos_args[-1]
        return expr.name, [a.obj for a in expr.pos_args if a.name == "literal"] + \
            [v.obj for _, v in expr.named_args if v.name == "literal"]
    ln = math.log
    table = [
        (tune.uniform(-1, 2), ("uniform", [-1, 2])),
        (tune.loguniform(1e-3, 1), ("loguniform", [ln(1e-3), ln(1)])),
        (tune.quniform(0.05, 1, 0.1), ("quniform", [0.1, 1.0, 0.1])),
        (tune.qloguniform(0.1, 10, 0.1), ("qloguniform", [ln(0.1), ln(10), 0.1])),
        (tune.randint(0, 5), ("quniform", [0, 4, 1])),
        (tune.qrandint(1, 10, 3), ("quniform", [3, 9, 3])),
        (tune.lograndint(1, 100), ("qloguniform", [0.0, ln(99), 1])),
        (tune.randn(1, 2), ("normal", [1, 2])),
        (tune.qrandn(1, 2, 0.5), ("qnormal", [1, 2, 0.5])),
    ]
    for domain, expected in table:
        name, args = node(HyperOptSearch.convert_search_space({"p": domain})["p"])
        assert (name, sorted(args)) == (expected[0], sorted(expected[1])), domain
    choice = HyperOptSearch.convert_search_space({"p": tune.choice(["a", "b"])})["p"]
    assert choice.name == "switch"


ALL_DOMAINS = {"u": tune.uniform(-1, 2), "lu": tune.loguniform(1e-3, 1),
               "qu": tune.quniform(0.05, 1, 0.1), "qlu": tune.qloguniform(0.1, 10, 0.1),
               "ri": tune.randint(0, 5), "qri": tune.qrandint(1, 10, 3),
               "lri": tune.lograndint(1, 100), "qlri": tune.qlograndint(2, 100, 2),
               "c": tune.choice(["a", "b", 3])}


def in_domain(domain, v):
    if isinstance(domain, tune.sample.Categorical):
        return v in domain.categories
    if isinstance(domain, tune.sample.Integer) and type(v) is not int:
        return False
    if isinstance(domain, tune.sample.Float) and type(v) is not float:
        return False
    if domain.q is not None:
        on_grid = math.isclose(v / domain.q, round(v / domain.q), abs_tol=1e-9)
        return on_grid and domain.lower - 1e-9 <= v <= domain.upper + 1e-9
    hi_ok = v < domain.upper if isinstance(domain, tune.sample.Integer) else v <= domain.upper
    return domain.lower <= v and hi_ok


STANDALONE = {
    "optuna": lambda: OptunaSearch(seed=2),
    "hyperopt": lambda: HyperOptSearch(random_state_seed=2),
    "skopt": lambda: SkOptSearch(optimizer_kwargs={"random_state": 2, "n_initial_points": 40}),
    "bayesopt": lambda: BayesOptSearch(random_state=2, random_search_steps=40, patience=40,
                                       skip_duplicate=False),
}


@pytest.mark.parametrize("lib", sorted(STANDALONE))
def test_suggestions_lie_in_the_tunec_domains(lib):
    """Whatever the library proposes, the config is a value of each tunec
    domain: an int for int domains, a multiple of q within the bounds for
    quantized ones (rounded where the library has no quantization)."""
    domains = ALL_DOMAINS
    if lib == "bayesopt" and not bayes_opt_2():    # 1.x: floats only
        domains = {k: d for k, d in ALL_DOMAINS.items() if isinstance(d, tune.sample.Float)}
    searcher = STANDALONE[lib]()
    assert searcher.set_search_properties("loss", "min", domains)
    for i in range(25):
        config = searcher.suggest("t%d" % i)
        for key, domain in domains.items():
            assert in_domain(domain, config[key]), (key, domain, config[key])
        searcher.on_trial_complete("t%d" % i, {"loss": float(i % 7)})


# -- errors -----------------------------------------------------------------
@pytest.mark.parametrize("lib", sorted(STANDALONE))
def test_grid_search_under_a_searcher_is_refused_before_any_trial(tmp_path, lib):
    config = {"x": tune.uniform(0, 1), "nest": {"g": tune.grid_search([1, 2])}}
    with pytest.raises(ValueError, match=r"grid_search at config\['nest'\]\['g'\]"):
        run(quadratic, tmp_path, config=config, metric="loss", mode="min",
            search_alg=STANDALONE[lib]())
    assert not any(os.scandir(tmp_path)) or not any(
        n.startswith("quadratic_") for _, _, files in os.walk(tmp_path) for n in files)


@pytest.mark.parametrize("lib", sorted(STANDALONE))
def test_what_a_library_cannot_express_names_the_config_path(lib):
    cls = CLASSES[lib]
    with pytest.raises(ValueError, match=r"sample_from at config\['a'\]\['f'\]"):
        cls.convert_search_space({"a": {"f": tune.sample_from(lambda spec: 1)}})
    with pytest.raises(ValueError, match=r"inside the list at config\['l'\]"):
        cls.convert_search_space({"l": [tune.uniform(0, 1)]})
    if lib != "hyperopt":
        with pytest.raises(ValueError, match=r"cannot search tune.randn\(0.0, 1.0\) at "
                                             r"config\['n'\]"):
            cls.convert_search_space({"n": tune.randn(0.0, 1.0)})
    else:
        with pytest.raises(ValueError, match=r"cannot search tune.randn\(2, 3, 4\) at config\['n'\]"):
            cls.convert_search_space({"n": tune.randn(2, 3, 4)})


def test_optuna_refuses_categories_it_cannot_store():
    with pytest.raises(ValueError, match=r"config\['c'\].*None, bool, int, float or str"):
        OptunaSearch.convert_search_space({"c": tune.choice([[1, 2], [3]])})


@pytest.mark.parametrize("lib,module,pip", [
    ("optuna", "optuna", "optuna"), ("hyperopt", "hyperopt", "hyperopt"),
    ("skopt", "skopt", "scikit-optimize"), ("bayesopt", "bayes_opt", "bayesian-optimization")])
def test_missing_library_names_the_pip_package(monkeypatch, lib, module, pip):
    monkeypatch.setitem(sys.modules, module, None)     # `import module` raises ImportError
    cls = CLASSES[lib]
    with pytest.raises(ImportError, match="{} needs {}: pip install {}".format(
            cls.__name__, module, pip)):
        cls()


# -- save / restore ---------------------------------------------------------
@pytest.mark.parametrize("lib", sorted(ADAPTERS))
def test_save_restore_round_trip(tmp_path, lib):
    """A restored searcher continues exactly where the saved one stood:
    it accepts the end of a trial that was live at the save, and suggests
    what the saved one suggests next."""
    make, records = ADAPTERS[lib]
    space = {"x": tune.uniform(-4.0, 4.0), "nest": {"y": tune.uniform(-4.0, 4.0)}}
    a = make()
    a.set_search_properties("loss", "min", space)
    for i in range(4):
        assert isinstance(a.suggest("t%d" % i), dict)
        if i < 3:
            a.on_trial_complete("t%d" % i, {"loss": float(i)})
    path = str(tmp_path / "state.pkl")
    a.save(path)                                   # t3 is live
    b = make()
    b.set_search_properties("loss", "min", space)
    b.restore(path)
    for s in (a, b):
        s.on_trial_complete("t3", {"loss": 0.5})
    assert records(b) == records(a) and len(records(b)) == 4
    assert b.suggest("t4") == a.suggest("t4")


def test_2x_module_paths():
    from tunec.search.bayesopt import BayesOptSearch as B
    from tunec.search.hyperopt import HyperOptSearch as H
    from tunec.search.optuna import OptunaSearch as O
    from tunec.search.skopt import SkOptSearch as S
    assert (O, H, S, B) == (OptunaSearch, HyperOptSearch, SkOptSearch, BayesOptSearch)


def test_hyperopt_points_take_a_category_or_its_index():
    # 1.x gives the category itself; Ray 0.8's hyperopt_example gives hp.choice
    # its index ("activation": 0 for "relu").
    from hyperopt import hp
    space = {"width": hp.uniform("width", 0, 20), "act": hp.choice("act", ["relu", "tanh"])}
    points = [{"width": 1.0, "act": 1}, {"width": 2.0, "act": "relu"}]
    searcher = HyperOptSearch(space, metric="loss", mode="min", points_to_evaluate=points)
    assert searcher.suggest("a") == {"width": 1.0, "act": "tanh"}
    assert searcher.suggest("b") == {"width": 2.0, "act": "relu"}
    with pytest.raises(ValueError, match="`act`.*nor an index"):
        HyperOptSearch(space, metric="loss", mode="min",
                       points_to_evaluate=[{"width": 1.0, "act": 2}])
