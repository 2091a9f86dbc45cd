"""``tune.Tuner``: the Ray 2.x entry point, on the same engine as ``tune.run``.

``Tuner.fit`` turns ``param_space``, ``TuneConfig`` and ``RunConfig`` into the
keyword arguments of one ``tune.run`` call and wraps the ``ExperimentAnalysis``
it returns in a ``ResultGrid``: there is one run path, and every option is
checked (or refused) where ``tune.run`` checks it. As in Ray 2.x, a failed
trial does not make ``fit`` raise: its error is in the ResultGrid.

``fit`` pickles the Tuner's settings (not the trainable) to
``<experiment>/tuner.pkl`` before the run starts, so that
``Tuner.restore(path, trainable)`` can resume the experiment with the same
search space and options after the driver was killed; the resume itself is
``tune.run``'s (``resume=True`` with Ray 2.x's choices for unfinished and
errored trials).
"""
import os

from tunec.error import TuneError
from tunec.tune_config import RunConfig, TuneConfig

__all__ = ["Tuner"]

_STATE_FILE = "tuner.pkl"

# The spelling a Tuner user wrote for a tune.run option that tune.run refuses.
_SPELLINGS = {
    "callbacks": "RunConfig(callbacks=...)",
    "sync_config": "RunConfig(sync_config=...)",
}

_FAILED = ("The Ray Tune run failed. Please inspect the previous error messages for a cause. "
           "After fixing the issue (assuming that the error is not caused by your own "
           "application logic, but rather an error such as OOM), you can restart the run from "
           "scratch or continue this run. To continue this run, you can use: "
           "`tuner = Tuner.restore(\"{}\", trainable=...)`.")


class Tuner:
    """Tunes ``trainable`` over ``param_space``.

    Args:
        trainable: a function, a ``tune.Trainable`` subclass or a registered
            name (possibly wrapped by ``tune.with_parameters`` /
            ``tune.with_resources``).
        param_space: the search space (``tune.run``'s ``config``).
        tune_config: a ``TuneConfig`` (search and scheduling).
        run_config: a ``RunConfig`` (name, storage, stopping, checkpoints,
            failures, reporting).
        _tuner_kwargs: further ``tune.run`` keyword arguments (Ray's escape
            hatch; tunec's ``seed=`` among them).
    """

    def __init__(self, trainable=None, *, param_space=None, tune_config=None, run_config=None,
                 _tuner_kwargs=None):
        if trainable is None:
            raise ValueError("Tuner: a trainable is required (a function, a tune.Trainable "
                             "subclass or a registered name)")
        if param_space is not None and not isinstance(param_space, dict):
            raise ValueError("The `param_space` passed to the `Tuner` must be a dict. Got "
                             "'{}' instead.".format(type(param_space)))
        if tune_config is not None and not isinstance(tune_config, TuneConfig):
            raise TypeError("Tuner(tune_config=...): expected a tune.TuneConfig, got {!r}"
                            .format(tune_config))
        if run_config is not None and not isinstance(run_config, RunConfig):
            raise TypeError("Tuner(run_config=...): expected a tune.RunConfig, got {!r}"
                            .format(run_config))
        from tunec.experiment import _trainable_name
        self._trainable_name = _trainable_name(trainable)[0]   # a bad trainable fails here
        self._trainable = trainable
        self._param_space = param_space or {}
        self._tune_config = tune_config or TuneConfig()
        self._run_config = run_config or RunConfig()
        self._tuner_kwargs = dict(_tuner_kwargs or {})
        self._resume = None           # the restore choices, set by Tuner.restore
        self._experiment_path = None

    # -- where -----------------------------------------------------------------
    def _experiment_dir(self):
        """``<storage_path>/<name>``; the name defaults to
        ``<trainable>_<date>`` (Ray 2.x), fixed at the first fit."""
        if self._experiment_path is None:
            from tunec.experiment import check_local_path, default_local_dir
            from tunec.trial import date_str
            from tunec import _storage
            storage = self._run_config.storage_path
            if storage is not None and _storage.is_uri(os.fspath(storage)):
                storage = None     # the local copy is in ~/ray_results; tune.run syncs it
            elif storage is not None:
                storage = check_local_path("RunConfig(storage_path)", storage)
            name = self._run_config.name or "{}_{}".format(self._trainable_name, date_str())
            self._experiment_path = os.path.join(default_local_dir(storage), name)
        return self._experiment_path

    # -- running ---------------------------------------------------------------
    def _run_kwargs(self, exp_dir):
        from tunec import _storage
        storage = self._run_config.storage_path
        if storage is None or not _storage.is_uri(os.fspath(storage)):
            storage = os.path.dirname(exp_dir)
        kwargs = dict(config=self._param_space, name=os.path.basename(exp_dir),
                      storage_path=storage, raise_on_failed_trial=False)
        kwargs.update(self._tune_config.run_kwargs())
        kwargs.update(self._run_config.run_kwargs())
        if self._resume is not None:
            kwargs.update(resume=True, **self._resume)
        kwargs.update(self._tuner_kwargs)
        return kwargs

    def fit(self):
        """Runs the experiment (or, after ``Tuner.restore``, resumes it) and
        returns a ``ResultGrid``. Raises TuneError when the run itself fails,
        saying how to continue it; trials that fail are in the ResultGrid."""
        from tunec import _run
        from tunec.result_grid import ResultGrid
        exp_dir = self._experiment_dir()
        kwargs = self._run_kwargs(exp_dir)
        self._save_state(exp_dir)
        try:
            analysis = _run.run(self._trainable, **kwargs)
        except (NotImplementedError, ValueError, TypeError) as exc:
            _discard_state(exp_dir)
            respelled = _respelled(exc)
            if respelled is exc:
                raise
            raise respelled from None
        except TuneError as exc:
            if _discard_state(exp_dir):
                raise
            raise TuneError(_FAILED.format(exp_dir)) from exc
        return ResultGrid(analysis)

    def get_results(self):
        """The ResultGrid of this Tuner's experiment as it is on disk (after
        ``fit``, or of a restored experiment without fitting it)."""
        from tunec.analysis import ExperimentAnalysis
        from tunec.result_grid import ResultGrid
        exp_dir = self._experiment_dir()
        if not Tuner.can_restore(exp_dir):
            raise RuntimeError("Tuner.get_results(): no experiment at {} yet; call fit() first"
                               .format(exp_dir))
        analysis = ExperimentAnalysis(exp_dir, default_metric=self._tune_config.metric,
                                      default_mode=self._tune_config.mode)
        return ResultGrid(analysis)

    # -- restoring -------------------------------------------------------------
    def _save_state(self, exp_dir):
        """tuner.pkl: what Tuner.restore needs besides the trainable."""
        import cloudpickle
        state = {"param_space": self._param_space, "tune_config": self._tune_config,
                 "run_config": self._run_config, "trainable_name": self._trainable_name,
                 "tuner_kwargs": self._tuner_kwargs}
        try:
            blob = cloudpickle.dumps(state)
        except Exception as exc:   # noqa: B902 - whatever the user's objects raise
            raise TuneError("Tuner.fit(): cannot save the Tuner's settings for Tuner.restore "
                            "(param_space, TuneConfig and RunConfig must be picklable): {}"
                            .format(exc)) from exc
        os.makedirs(exp_dir, exist_ok=True)
        path = os.path.join(exp_dir, _STATE_FILE)
        tmp = "{}.tmp.{}".format(path, os.getpid())
        with open(tmp, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def can_restore(cls, path):
        """Whether ``path`` is an experiment directory that can be restored."""
        from tunec import _resume
        path = os.path.expanduser(os.fspath(path))
        return os.path.isdir(path) and _resume.has_state(path)

    @classmethod
    def restore(cls, path, trainable, resume_unfinished=True, resume_errored=False,
                restart_errored=False, param_space=None, storage_filesystem=None):
        """A Tuner that continues the experiment in ``path`` when fitted.

        ``trainable`` must be given again (it is not saved). Unfinished trials
        continue from their newest checkpoint (``resume_unfinished``); errored
        ones are resumed from theirs (``resume_errored``) or started over
        (``restart_errored``), else they stay as they ended. ``param_space``
        replaces the saved one (Ray: to pass fresh object references); it must
        generate the same trials.
        """
        import pickle
        if storage_filesystem is not None:
            raise NotImplementedError("Tuner.restore(storage_filesystem=...) is not supported by "
                                      "tunec: it has no remote storage")
        path = os.fspath(path)
        from tunec import _storage
        if _storage.is_uri(path):
            path = _download_experiment(path)
        path = os.path.abspath(os.path.expanduser(path))
        if not cls.can_restore(path):
            raise ValueError("Tuner.restore: {} is not an experiment directory with a saved "
                             "experiment state".format(path))
        state_file = os.path.join(path, _STATE_FILE)
        if not os.path.exists(state_file):
            raise ValueError("Tuner.restore: {} has no {}: the experiment was not run by a "
                             "Tuner; resume it with tune.run(..., resume=True)".format(
                                 path, _STATE_FILE))
        with open(state_file, "rb") as f:
            state = pickle.load(f)
        tuner = cls(trainable,
                    param_space=param_space if param_space is not None else state["param_space"],
                    tune_config=state["tune_config"], run_config=state["run_config"],
                    _tuner_kwargs=state.get("tuner_kwargs"))
        tuner._experiment_path = path      # wherever the experiment is now
        tuner._resume = {"resume_unfinished": bool(resume_unfinished),
                         "resume_errored": bool(resume_errored),
                         "restart_errored": bool(restart_errored)}
        return tuner


def _discard_state(exp_dir):
    """Removes tuner.pkl (and the directory, when that leaves it empty) if
    tune.run refused its arguments before starting anything: a bad option
    leaves no experiment behind. True when it did."""
    from tunec import _resume
    if _resume.has_state(exp_dir):
        return False
    try:
        os.unlink(os.path.join(exp_dir, _STATE_FILE))
        os.rmdir(exp_dir)
    except OSError:
        pass
    return True


def _respelled(exc):
    """tune.run's refusal of an option, named as the Tuner user wrote it."""
    message = str(exc)
    for option, spelling in _SPELLINGS.items():
        if message.startswith("tune.run({}=".format(option)):
            return NotImplementedError("{} is not supported by this tunec release yet ({})"
                                       .format(spelling, message))
    return exc


def _download_experiment(uri):
    """Tuner.restore("s3://bucket/exp"): the experiment downloaded into
    ``~/ray_results/<exp>`` (staged, so a failed download changes nothing);
    the run keeps syncing to the URI's parent (its RunConfig.storage_path)."""
    from tunec import _sync_plan, syncer
    from tunec.experiment import default_local_dir
    name = uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    local = os.path.join(default_local_dir(None), name)
    _sync_plan.download(syncer.make_syncer("auto", "Tuner.restore(path)"), uri, local)
    return local
