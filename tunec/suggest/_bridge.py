"""How ``tune.run(search_alg=...)`` hands a searcher to the engine (spec §9).

* ``BasicVariantGenerator``: nothing runs in Python; the engine expands the
  space itself (its options go to the engine).
* A ``Searcher`` (0.8.5+), a ``SearchGenerator`` around one, or a 0.8.0-style
  ``SuggestionAlgorithm``: the engine (src/engine/runner_search.c) decides
  when a trial could start and only then calls :meth:`SearchBridge.suggest`;
  results and trial ends come back through :meth:`SearchBridge.event`.

Crash safety and resume. The bridge writes ``searcher-state-<session>.pkl``
into the experiment directory (atomically: temporary file, rename) after
every suggestion (and FINISHED), and at the end of the run. It holds the
searcher's own ``save`` bytes, the newest suggestion (trial id and config),
the trial ids whose end the searcher has heard of, and whether it said
FINISHED. The engine journals each suggested trial when it creates it,
after the file is written. The suggestion is the one write the guarantee
needs: a trial end is not saved on its own — a kill before the next
suggestion leaves a state that has not heard of it, and the resume delivers
it again. No fsync: a killed driver (SIGKILL) cannot tear a renamed file,
and the engine's journal is written through to the OS the same way. On
resume:

* the searcher is restored from the newest file of an earlier session (or
  of this one: a resume within the same second has the same session name;
  the file is read before it is rewritten);
* the engine recreates every recorded trial with its recorded config (no
  suggestion is asked twice for one trial);
* a suggestion given out just before the kill, whose trial the engine had
  not recorded yet, is handed out again for the same trial id without
  asking the searcher (none is lost);
* trial ends the restored searcher had not heard of are delivered again;
  those it had are dropped (each end is heard once).
"""
import os

from tunec import _lazylog, _tunec
from tunec.suggest.suggestion import (Searcher, SearchGenerator, SuggestionAlgorithm,
                                      _restore_bytes, _saved_bytes)

logger = _lazylog.getLogger("ray.tune.suggest")

STATE_GLOB = Searcher.CKPT_FILE_TMPL.format("*")


class _SuggestionAlgorithmSearcher(Searcher):
    """A 0.8.0–0.8.4 SuggestionAlgorithm seen through the Searcher protocol."""

    def __init__(self, alg):
        self.alg = alg
        self._metric, self._mode = alg.metric, alg.mode

    def suggest(self, trial_id):
        return self.alg.suggest(trial_id)

    def on_trial_result(self, trial_id, result):
        self.alg.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.alg.on_trial_complete(trial_id, result=result, error=error, early_terminated=False)

    def save(self, checkpoint_path):
        self.alg.save(checkpoint_path)

    def restore(self, checkpoint_path):
        self.alg.restore(checkpoint_path)


def _has_unresolved(value):
    from tunec.sample import Domain, sample_from
    if isinstance(value, (Domain, sample_from)) or callable(value):
        return True
    if isinstance(value, dict):
        if set(value) == {"grid_search"}:
            return True
        return any(_has_unresolved(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_unresolved(v) for v in value)
    return False


def plan(search_alg, metric, mode, config, public_spec):
    """The searcher the engine will ask (None: the engine's own
    BasicVariantGenerator), after ``set_search_properties`` as Ray's
    tune.run calls it. Raises before any trial starts."""
    from tunec.suggest.basic_variant import BasicVariantGenerator
    if search_alg is None or isinstance(search_alg, BasicVariantGenerator):
        return None
    if isinstance(search_alg, SearchGenerator):
        searcher = search_alg.searcher
    elif isinstance(search_alg, Searcher):
        searcher = search_alg
    elif isinstance(search_alg, SuggestionAlgorithm):
        searcher = _SuggestionAlgorithmSearcher(search_alg)
    else:
        raise TypeError("search_alg must be a Searcher, SearchGenerator, SuggestionAlgorithm or "
                        "BasicVariantGenerator, got {!r}".format(type(search_alg).__name__))
    ok = searcher.set_search_properties(metric, mode, config or {}, **public_spec)
    if not ok:
        if config and _has_unresolved(config):
            raise ValueError(
                "You passed a `config` parameter to `tune.run()` with unresolved parameters, "
                "but the search algorithm was already instantiated with a search space. Make "
                "sure that `config` does not contain any more parameter definitions - include "
                "them in the search algorithm's search space if necessary.")
        own = (searcher.metric, searcher.mode)
        if (metric and own[0] and metric != own[0]) or (mode and own[1] and mode != own[1]):
            raise ValueError(
                "You passed a `metric` or `mode` argument to `tune.run()`, but the search "
                "algorithm was already instantiated with their own `metric` and `mode` "
                "parameters. Either remove the arguments from your search algorithm or from "
                "your call to `tune.run()`")
        if (metric or mode) and isinstance(searcher, Searcher):
            # The base class sets nothing; Ray's searchers take tune.run's.
            searcher._set_metric_mode(metric, mode)
    return searcher


def _flat_result(text):
    """The result as Ray's runner hands it to a searcher: flattened, except
    HyperBandForBOHB's ``hyperband_info``, which Ray's scheduler adds to the
    flat result (TuneBOHB reads ``result["hyperband_info"]["budget"]``)."""
    if not text:
        return None
    import json
    from tunec.logger import _flatten_dict
    result = json.loads(text)
    info = result.pop("hyperband_info", None)
    result = _flatten_dict(result)
    if info is not None:
        result["hyperband_info"] = info
    return result


class SearchBridge:
    """The callbacks of a Python searcher (``search_suggest``,
    ``search_event``)."""

    def __init__(self, searcher, exp_dir, session_str, functions, objects, resuming):
        from tunec.sample import _Codec
        self.searcher = searcher
        self.codec = _Codec(functions, objects, len(functions) + len(objects))
        self.exp_dir = exp_dir
        self.path = os.path.join(exp_dir, Searcher.CKPT_FILE_TMPL.format(session_str))
        self.last = None          # (trial_id, encoded config) of the newest suggestion
        self.completed = set()    # trial ids whose end the searcher has heard of
        self.finished = False
        self.can_save = True
        if resuming:
            self._restore()

    # -- engine callbacks --------------------------------------------------
    def suggest(self, trial_id):
        if self.finished:
            return Searcher.FINISHED
        if self.last is not None and self.last[0] == trial_id:
            return self.last[1]   # given out before a kill, its trial never recorded
        config = self.searcher.suggest(trial_id)
        if config is None:
            return None
        if isinstance(config, str) and config == Searcher.FINISHED:
            self.finished = True
            self.save()
            return Searcher.FINISHED
        if not isinstance(config, dict):
            raise TypeError("{}.suggest({!r}) must return a dict, None or Searcher.FINISHED, "
                            "got {!r}".format(type(self.searcher).__name__, trial_id, config))
        encoded = self.codec.encode(config, ["config"])
        self.last = (trial_id, encoded)
        self.save()
        return encoded

    def event(self, code, trial_id, text):
        result = _flat_result(text)
        if code == _tunec.EVENT_RESULT:
            self.searcher.on_trial_result(trial_id, result)
            return
        if code in (_tunec.EVENT_PAUSE, _tunec.EVENT_UNPAUSE):   # HyperBandForBOHB only
            # Ray's HyperBandForBOHB calls searcher.on_pause/on_unpause
            # (TuneBOHB's); other searchers do not have them.
            name = "on_pause" if code == _tunec.EVENT_PAUSE else "on_unpause"
            hook = getattr(self.searcher, name, None)
            if hook is not None:
                hook(trial_id)
            return
        if trial_id in self.completed:
            return    # a resumed run: the restored searcher heard of it already
        if code == _tunec.EVENT_ERROR:
            self.searcher.on_trial_complete(trial_id, result=None, error=True)
        else:
            self.searcher.on_trial_complete(trial_id, result=result)
        self.completed.add(trial_id)
        # Not saved here: see the module's note (the next suggestion saves it).

    # -- state ---------------------------------------------------------------
    def save(self):
        if not os.path.isdir(self.exp_dir):
            return
        inner = _saved_bytes(self.searcher, self.path) if self.can_save else None
        if inner is None and self.can_save:
            self.can_save = False
            logger.warning("%s does not implement save(): a resumed run starts it afresh",
                           type(self.searcher).__name__)
        import pickle
        data = pickle.dumps({"searcher": inner, "last": self.last,
                             "completed": sorted(self.completed), "finished": self.finished})
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.path)

    def _restore(self):
        # Read before this session writes; a resume within the same second
        # has the same session name, so its own path may be the newest.
        import glob
        paths = sorted(glob.glob(os.path.join(self.exp_dir, STATE_GLOB)))
        if not paths:
            return
        with open(paths[-1], "rb") as f:
            import pickle
            state = pickle.load(f)
        self.last = state["last"]
        self.completed = set(state["completed"])
        self.finished = state["finished"]
        if state["searcher"] is not None:
            _restore_bytes(self.searcher, state["searcher"], self.path)
        else:
            logger.warning("the earlier session's %s could not be saved: it starts afresh",
                           type(self.searcher).__name__)


def native_spec(search_alg, searcher, functions, objects, seed):
    """The engine's ``searcher`` option when the engine runs the search
    itself (a TPESearch given as search_alg, or in a SearchGenerator), else
    None. Wrapped in a ConcurrencyLimiter or Repeater it is a Python
    searcher like any other."""
    if searcher is None:
        return None
    from tunec.suggest.tpe import TPESearch
    if type(searcher) is not TPESearch or not (
            search_alg is searcher or isinstance(search_alg, SearchGenerator)):
        return None
    return searcher.engine_spec(functions, objects, seed)


def engine_setup(searcher, exp_dir, session_str, functions, objects, resuming):
    """``(callbacks, bridge)`` for the engine; nothing when searcher is None."""
    if searcher is None:
        return {}, None
    bridge = SearchBridge(searcher, exp_dir, session_str, functions, objects, resuming)
    return {"search_suggest": bridge.suggest, "search_event": bridge.event}, bridge
