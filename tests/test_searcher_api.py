"""The searcher protocol end to end (spec §9.3–9.4), with real workers: when
the engine asks, what the searcher hears and in which order, None and
FINISHED, errors in a user's searcher, ConcurrencyLimiter, Repeater, the
0.8.0-style SuggestionAlgorithm, and the tunec.search (2.x) names."""
import os
import traceback

import pytest

import tunec as tune
from tunec.suggest import (ConcurrencyLimiter, Repeater, SearchGenerator, Searcher,
                           SuggestionAlgorithm)
from tunec.suggest.repeater import TRIAL_INDEX
from run_helpers import no_hang, run


class Recording(Searcher):
    """Suggests x = 1, 2, ...; logs every call."""

    def __init__(self, limit=None, stall_every=None, **kw):
        super().__init__(metric="score", mode="max", **kw)
        self.limit, self.stall_every = limit, stall_every
        self.n = 0
        self.asked = 0
        self.log = []

    def suggest(self, trial_id):
        self.asked += 1
        if self.stall_every and self.asked % self.stall_every == 0:
            self.log.append(("none", trial_id))
            return None
        if self.limit is not None and self.n >= self.limit:
            self.log.append(("finished", trial_id))
            return Searcher.FINISHED
        self.n += 1
        self.log.append(("suggest", trial_id, self.n))
        return {"x": self.n}

    def on_trial_result(self, trial_id, result):
        self.log.append(("result", trial_id, result["score"]))

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.log.append(("complete", trial_id, result and result.get("score"), error))


def two_reports(config):
    for i in range(2):
        tune.report(score=config["x"] * 10 + i)


def check_order(log):
    """Each trial: suggested, then its results, then exactly one end."""
    state = {}
    for entry in log:
        kind, trial_id = entry[0], entry[1]
        if kind == "suggest":
            assert trial_id not in state, log
            state[trial_id] = "live"
        elif kind == "result":
            assert state.get(trial_id) == "live", log
        elif kind == "complete":
            assert state.get(trial_id) == "live", log
            state[trial_id] = "done"
    return state


def test_protocol_order_results_and_num_samples(tmp_path):
    s = Recording()
    with no_hang("tune.run"):
        analysis = run(two_reports, tmp_path, search_alg=s, num_samples=4, config={"y": 7})
    state = check_order(s.log)
    assert sorted(state.values()) == ["done"] * 4          # num_samples trials, all ended
    assert s.n == 4                                          # never asked for a fifth
    by_id = {t.trial_id: t for t in analysis.trials}
    for entry in s.log:
        if entry[0] == "suggest":
            assert by_id[entry[1]].config == {"y": 7, "x": entry[2]}   # merged over config
        if entry[0] == "complete":
            x = by_id[entry[1]].config["x"]
            assert entry[2:] == (x * 10 + 1, False)           # the last result
    results = [e for e in s.log if e[0] == "result"]
    assert len(results) == 8
    tags = sorted(t.experiment_tag for t in analysis.trials)
    assert tags == ["1_x=1", "2_x=2", "3_x=3", "4_x=4"]


def test_finished_ends_the_search_before_num_samples(tmp_path):
    s = Recording(limit=3)
    with no_hang("tune.run"):
        analysis = run(two_reports, tmp_path, search_alg=s, num_samples=10)
    assert len(analysis.trials) == 3
    assert [e[0] for e in s.log].count("finished") == 1      # not asked again after FINISHED


def test_none_means_ask_again_later(tmp_path):
    s = Recording(stall_every=2)
    with no_hang("tune.run"):
        analysis = run(two_reports, tmp_path, search_alg=s, num_samples=3)
    assert len(analysis.trials) == 3
    assert any(e[0] == "none" for e in s.log)
    check_order(s.log)


def test_errored_trial_ends_with_error_flag(tmp_path):
    def fails_on_two(config):
        if config["x"] == 2:
            raise RuntimeError("trial two fails")
        tune.report(score=config["x"])

    s = Recording()
    with no_hang("tune.run"):
        run(fails_on_two, tmp_path, search_alg=s, num_samples=3, raise_on_failed_trial=False)
    ends = {e[1]: e for e in s.log if e[0] == "complete"}
    errored = [e for e in ends.values() if e[3]]
    assert len(ends) == 3 and len(errored) == 1 and errored[0][2] is None


class Exploding(Recording):
    def __init__(self, where):
        super().__init__()
        self.where = where

    def suggest(self, trial_id):
        if self.where == "suggest" and self.n == 1:
            raise ValueError("boom in suggest")
        return super().suggest(trial_id)

    def on_trial_complete(self, trial_id, result=None, error=False):
        if self.where == "complete":
            raise KeyError("boom in on_trial_complete")


@pytest.mark.parametrize("where,exc", [("suggest", ValueError), ("complete", KeyError)])
def test_error_in_user_searcher_fails_the_run_with_its_traceback(tmp_path, where, exc):
    with no_hang("tune.run"), pytest.raises(exc) as info:
        run(two_reports, tmp_path, search_alg=Exploding(where), num_samples=3)
    text = "".join(traceback.format_exception(info.type, info.value, info.tb))
    assert "boom in" in text and ("def suggest" in text or "in suggest" in text or
                                  "in on_trial_complete" in text), text


def test_concurrency_limiter_caps_running_trials(tmp_path):
    """Trials log their start and end into one file; the overlap of those
    intervals is what ran at once, whatever the speed."""
    events = str(tmp_path / "events")

    def logged(config):
        with open(events, "a") as f:
            f.write("start\n")
        for i in range(3):
            tune.report(score=config["x"])
        with open(events, "a") as f:
            f.write("end\n")

    inner = Recording()
    with no_hang("tune.run"):
        run(logged, tmp_path, search_alg=ConcurrencyLimiter(inner, max_concurrent=2),
            num_samples=6, resources_per_trial={"cpu": 0.1})
    live = peak = 0
    with open(events) as f:
        for line in f:
            live += 1 if line.strip() == "start" else -1
            peak = max(peak, live)
    assert 1 <= peak <= 2
    assert inner.n == 6 and len(check_order(inner.log)) == 6


def test_repeater_averages_repeats(tmp_path):
    class Once(Searcher):
        def __init__(self):
            super().__init__(metric="score", mode="max")
            self.completed = []

        def suggest(self, trial_id):
            return {"x": len(self.completed) + 1}

        def on_trial_complete(self, trial_id, result=None, error=False):
            self.completed.append((trial_id, result))

    def by_index(config):
        tune.report(score=config["x"] * 100 + config[TRIAL_INDEX])

    inner = Once()
    with no_hang("tune.run"):
        analysis = run(by_index, tmp_path, search_alg=Repeater(inner, repeat=3), num_samples=3)
    assert sorted(t.config[TRIAL_INDEX] for t in analysis.trials) == [0, 1, 2]
    assert len(inner.completed) == 1
    primary, result = inner.completed[0]
    assert primary == min(t.trial_id for t in analysis.trials)
    assert result == {"score": pytest.approx(101.0)}      # mean of 100, 101, 102


def test_suggestion_algorithm_08_with_underscore_suggest(tmp_path):
    class Old(SuggestionAlgorithm):
        def __init__(self):
            super().__init__(metric="score", mode="max")
            self.ended = []

        def _suggest(self, trial_id):
            return {"x": 5}

        def on_trial_complete(self, trial_id, result=None, error=False, early_terminated=False):
            self.ended.append((result["score"], error, early_terminated))

    alg = Old()
    with no_hang("tune.run"):
        analysis = run(two_reports, tmp_path, search_alg=alg, num_samples=2)
    assert [t.config["x"] for t in analysis.trials] == [5, 5]
    assert alg.ended == [(51, False, False)] * 2


def test_search_generator_and_metric_mode_from_tune_run(tmp_path):
    class Plain(Searcher):
        def suggest(self, trial_id):
            return {"x": 1}

        def on_trial_complete(self, trial_id, result=None, error=False):
            pass

    s = Plain()
    with no_hang("tune.run"):
        run(two_reports, tmp_path, search_alg=SearchGenerator(s), num_samples=1,
            metric="score", mode="min")
    assert (s.metric, s.mode) == ("score", "min")


def test_unresolved_config_with_a_searcher_that_has_its_space(tmp_path):
    with pytest.raises(ValueError, match="unresolved parameters"):
        run(two_reports, tmp_path, search_alg=Recording(), config={"y": tune.uniform(0, 1)})
    assert not os.path.exists(tmp_path / "two_reports")


def test_2x_names():
    import tunec.search as search
    from tunec.search.concurrency_limiter import ConcurrencyLimiter as CL
    from tunec.search.searcher import Searcher as S
    assert S is Searcher and CL is ConcurrencyLimiter and search.Repeater is Repeater
    with pytest.raises(DeprecationWarning):
        Searcher(max_concurrent=2)
    with pytest.raises(ValueError):
        Searcher(metric="a", mode="maximum")
