"""``AutoMLSearcher`` (``ray.tune.automl.search_policy``): a searcher that
works in rounds. Each round it selects a batch of configs; once every trial
of the batch has ended, ``_feedback`` sees them all and says whether to
run another round.

Ray's version is a runner-facing ``SearchAlgorithm`` (``next_trials``);
tunec's engine asks a ``Searcher`` for one config whenever a trial could
start, so this is a ``Searcher``: ``suggest`` hands out the round's configs,
then returns None (ask again later) until the round is over, and
``Searcher.FINISHED`` once ``_feedback`` said TERMINATE.
"""
import logging
import math
import time

from tunec.suggest.suggestion import Searcher

logger = logging.getLogger(__name__)


def deep_insert(path_list, value, config):
    """Puts `value` at the nested path `path_list` of `config`."""
    if len(path_list) > 1:
        deep_insert(path_list[1:], value, config.setdefault(path_list[0], {}))
    else:
        config[path_list[0]] = value


class _RoundTrial:
    """What ``_feedback`` sees of one trial of a round (Ray passes its
    Trial objects with these attributes)."""

    def __init__(self, trial_id, param_config, extra_arg):
        self.trial_id = trial_id
        self.param_config = param_config
        self.extra_arg = extra_arg
        self.results = []
        self.best_result = None
        self.status = "RUNNING"


class AutoMLSearcher(Searcher):
    """Base class of the round-based searchers: subclasses implement
    ``_select`` and ``_feedback``. Maximises ``reward_attr``."""

    CONTINUE = "CONTINUE"
    TERMINATE = "TERMINATE"
    _until_finished = True     # tune.run ignores num_samples: the rounds end the search

    def __init__(self, search_space, reward_attr):
        super().__init__(metric=reward_attr, mode="max")
        self.search_space = search_space
        self.reward_attr = reward_attr
        self.best_trial = None
        self._is_finished = False
        self._pending = []           # (param_config, extra_arg) not handed out yet
        self._running_trials = {}    # trial_id -> _RoundTrial of this round
        self._completed_trials = {}
        self._unfinished_count = 0
        self._iteration = 0
        self._total_trial_num = 0
        self._start_ts = 0

    def set_search_properties(self, metric, mode, config, **spec):
        # The space is the SearchSpace's and the reward is maximised: the
        # run's metric, mode and config take nothing away from it.
        return True

    def get_best_trial(self):
        """The round trial with the best ``reward_attr`` so far."""
        return self.best_trial

    def is_finished(self):
        return self._is_finished

    def suggest(self, trial_id):
        if self._is_finished:
            return Searcher.FINISHED
        if not self._pending:
            if self._unfinished_count > 0:
                return None          # this round is still running
            self._begin_round()
            if not self._pending:
                self._is_finished = True
                return Searcher.FINISHED
        param_config, extra_arg = self._pending.pop(0)
        self._running_trials[trial_id] = _RoundTrial(trial_id, param_config, extra_arg)
        self._unfinished_count += 1
        config = {}
        for path, value in param_config.items():
            deep_insert(path.split("."), value, config)
        return config

    def _begin_round(self):
        configs, extra_args = self._select()
        if not extra_args:
            extra_args = [None] * len(configs)
        self._pending = list(zip(configs, extra_args))
        self._iteration += 1
        self._total_trial_num += len(self._pending)
        self._start_ts = time.time()
        logger.info("=========== BEGIN Experiment-Round: %s [%s NEW | %s TOTAL] ===========",
                    self._iteration, len(self._pending), self._total_trial_num)

    def on_trial_result(self, trial_id, result):
        trial = self._running_trials.get(trial_id)
        if not result or trial is None or self.reward_attr not in result:
            return
        trial.results.append(result)
        if trial.best_result is None or \
                result[self.reward_attr] > trial.best_result[self.reward_attr]:
            trial.best_result = result
        if self.best_trial is None or \
                result[self.reward_attr] > self.best_trial.best_result[self.reward_attr]:
            self.best_trial = trial

    def on_trial_complete(self, trial_id, result=None, error=False):
        trial = self._running_trials.get(trial_id)
        if trial is None:
            return
        self.on_trial_result(trial_id, result)
        trial.status = "ERROR" if error else "TERMINATED"
        self._unfinished_count -= 1
        if self._unfinished_count > 0 or self._pending:
            return
        trials = list(self._running_trials.values())
        succeeded = sum(t.status == "TERMINATED" for t in trials)
        logger.info("=========== END Experiment-Round: %s [%s SUCC | %s FAIL] this round, "
                    "elapsed=%.2f, BEST %s=%s ===========", self._iteration, succeeded,
                    len(trials) - succeeded, time.time() - self._start_ts, self.reward_attr,
                    self.best_trial.best_result[self.reward_attr] if self.best_trial else None)
        if self._feedback(trials) == AutoMLSearcher.TERMINATE:
            self._is_finished = True
        self._completed_trials.update(self._running_trials)
        self._running_trials = {}

    def _reward(self, trial):
        """A trial's best reward; -inf for one that reported none (an
        errored trial sorts last instead of breaking the round)."""
        if trial.best_result is None:
            return -math.inf
        return trial.best_result[self.reward_attr]

    def _select(self):
        """([{dotted path: value}, ...], [extra arg per config] or None):
        the configs of the next round."""
        raise NotImplementedError

    def _feedback(self, trials):
        """Sees the ended trials of the round; returns CONTINUE or TERMINATE."""
        raise NotImplementedError


class GridSearch(AutoMLSearcher):
    """One round: every combination of the space's choices."""

    def _select(self):
        from tunec.suggest.variant_generator import generate_variants
        return [config for _, config in generate_variants(self.search_space.to_grid_search())], \
            None

    def _feedback(self, trials):
        return AutoMLSearcher.TERMINATE


class RandomSearch(AutoMLSearcher):
    """One round: ``repeat`` random draws of the space."""

    def __init__(self, search_space, reward_attr, repeat):
        super().__init__(search_space, reward_attr)
        self.repeat = repeat

    def _select(self):
        from tunec.suggest.variant_generator import generate_variants
        choices = self.search_space.to_random_choice()
        return [config for _ in range(self.repeat)
                for _, config in generate_variants(choices)], None

    def _feedback(self, trials):
        return AutoMLSearcher.TERMINATE
