"""``tune.run`` and ``tune.run_experiments`` (spec §1).

This module checks arguments, turns experiments into engine options and runs
the local executor (``_tunec.Run``) until every trial is finished. The per-
result work happens in C (a Stopper is called back after each result); Python
wakes up a few times a second to print the status table.
"""
import os
import sys
import time

from tunec import _capacity
from tunec.error import TuneError
from tunec.experiment import Experiment, convert_to_experiment_list


class TrialsFailedError(TuneError):
    """``TuneError("Trials did not complete", trials)`` whose message also
    names every failed trial and the start of its error (users otherwise have
    to dig the real error out of error.txt)."""

    def __str__(self):
        trials = self.args[1] if len(self.args) > 1 else []
        lines = ["Trials did not complete: {} of them".format(len(trials))]
        for trial in trials:
            where = " (error file: {})".format(trial.error_file) if trial.error_file else ""
            lines.append("- {} [{}], {} failure(s){}".format(trial, trial.status,
                                                             trial.num_failures, where))
            lines.extend("    " + line for line in _error_excerpt(trial.error_msg))
        return "\n".join(lines)


def _error_excerpt(text, head=4, tail=4):
    if not text:
        return []
    lines = text.rstrip().splitlines()
    if len(lines) <= head + tail + 1:
        return lines
    return lines[:head] + ["..."] + lines[-tail:]


# --------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------

def _check_resources(resources, where="resources_per_trial"):
    """The request as a dict (None: 1 CPU). The engine checks the keys and
    amounts (resources.c) before any trial starts."""
    if resources is None:
        return {"cpu": 1, "gpu": 0}
    if hasattr(resources, "_asdict"):
        resources = resources._asdict()
    if hasattr(resources, "bundles") and not isinstance(resources, dict):
        from tunec._with_resources import to_resources_dict   # a PlacementGroupFactory
        resources = to_resources_dict(resources, where)
    if not isinstance(resources, dict):
        raise TuneError("{} must be a dict, got {!r}".format(where, resources))
    return dict(resources)


# The experiment's request when each trial's comes from a with_resources
# callable: the engine reserves the trial's own (src/engine/runner_resources.c).
_PER_TRIAL_PLACEHOLDER = {"cpu": 0, "gpu": 0}


def _resources_for(exp):
    from tunec._with_resources import per_trial_request
    requested = exp.spec["resources_per_trial"]
    trainable = exp.trainable
    default = None
    if per_trial_request(trainable) is not None:
        default = _PER_TRIAL_PLACEHOLDER
    elif isinstance(trainable, type) and hasattr(trainable, "default_resource_request"):
        default = trainable.default_resource_request(exp.spec["config"])
    elif getattr(trainable, "_resources", None) is not None:    # tune.with_resources
        from tunec._with_resources import resource_request
        default = resource_request(trainable, exp.spec["config"])
    if default is not None:
        if requested is not None:
            raise ValueError(
                "Resources for {} have been automatically set to {} by its "
                "`default_resource_request()` method. Please clear the `resources_per_trial` "
                "option.".format(trainable, "a callable of each trial's config"
                                 if default is _PER_TRIAL_PLACEHOLDER else default))
        requested = default
    return _check_resources(requested)


def _check_loggers(loggers):
    """Which built-in files the engine writes: (JSON, CSV, TensorBoard), and
    the user's own Logger classes (run by tunec/_callbacks.py)."""
    if loggers is None:
        return (True, True, True), []
    if not isinstance(loggers, (list, tuple)):
        raise TuneError("loggers must be a list of Logger classes, got {!r}".format(loggers))
    from tunec.logger import _builtin_kind
    builtin = set()
    custom = []
    for logger in loggers:
        kind = _builtin_kind(logger)
        if kind:
            builtin.add(kind)
        elif isinstance(logger, type) or callable(logger):
            custom.append(logger)
        else:
            raise TuneError("loggers: {!r} is not a Logger class".format(logger))
    return ("json" in builtin, "csv" in builtin, "tbx" in builtin), custom


def _unsupported(name, value, default):
    if value is not default and value != default:
        raise NotImplementedError(
            "tune.run({}=...) is not supported by this tunec release yet".format(name))


def _seed_python_rngs(seed):
    """sample_from functions usually draw from `random` or `numpy.random`:
    seeding them makes a run's configs reproducible and lets a resumed run
    regenerate the same trials."""
    import random
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % (2 ** 32))


def _session_str():
    return time.strftime("%Y-%m-%d_%H-%M-%S")   # datetime.today()'s format, local time


def _trainable_blob(trainable):
    """What workers get for a trainable: a marker when the zygote forked at
    the top of this call holds it (tunec/_zygote.py, held_blob), else its
    cloudpickle bytes."""
    from tunec import _zygote
    return _zygote.held_blob(trainable) or _pickle(trainable, "the trainable {!r}".format(
        trainable))


def _worker_env():
    path = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
    return ["PYTHONPATH=" + os.pathsep.join(path), "PYTHONUNBUFFERED=1"]


def _pickle(obj, what):
    try:
        import cloudpickle
        return cloudpickle.dumps(obj)
    except ImportError:
        import pickle
        try:
            return pickle.dumps(obj)
        except Exception as exc:
            raise TuneError("cannot send {} to worker processes: {}; install cloudpickle for "
                            "functions defined in __main__ or a notebook".format(what, exc))
    except Exception as exc:
        raise TuneError("cannot send {} to worker processes: {}".format(what, exc)) from exc


# --------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------

def run(run_or_experiment, name=None, stop=None, config=None, resources_per_trial=None,
        num_samples=1, local_dir=None, upload_dir=None, trial_name_creator=None, loggers=None,
        sync_to_cloud=None, sync_to_driver=None, checkpoint_freq=0, checkpoint_at_end=False,
        sync_on_checkpoint=True, keep_checkpoints_num=None, checkpoint_score_attr=None,
        global_checkpoint_period=10, export_formats=None, max_failures=0, fail_fast=False,
        restore=None, search_alg=None, scheduler=None, with_server=False, server_port=None,
        verbose=2, progress_reporter=None, resume=False, queue_trials=False, reuse_actors=False,
        trial_executor=None, raise_on_failed_trial=True, return_trials=False,
        ray_auto_init=True, *, metric=None, mode=None, time_budget_s=None, storage_path=None,
        max_concurrent_trials=None, log_to_file=False, trial_dirname_creator=None,
        sync_config=None, callbacks=None, checkpoint_config=None, seed=None,
        resume_unfinished=True, resume_errored=False, restart_errored=False):
    """Runs an experiment and returns an ExperimentAnalysis (spec §1).

    tunec extensions: ``seed`` makes the generated configs reproducible;
    ``resume_unfinished``/``resume_errored``/``restart_errored`` choose, with
    ``resume``, what happens to unfinished and errored trials (Ray 2.x's
    ``Tuner.restore`` choices).
    """
    # The worker fork server starts first, before anything else is imported
    # or checked: it gets ready while the options are checked and the
    # trials generated, and a zygote forked now holds this call's trainable
    # (issue 12: the first trial starts sooner; tunec/_zygote.py, prestart).
    from tunec import _zygote
    if not _capacity._settings.get("local_mode"):
        _zygote.prestart(_trainables_of(run_or_experiment))
    _check_python_options(metric=metric, raise_on_failed_trial=raise_on_failed_trial,
                          return_trials=return_trials)
    if mode is not None and mode not in ("min", "max"):
        raise ValueError("mode must be 'min' or 'max', got {!r}".format(mode))
    if verbose not in (0, 1, 2, 3) and not isinstance(verbose, bool):
        raise ValueError("verbose must be 0, 1, 2 or 3, got {!r}".format(verbose))
    fail_fast, raise_on_error = _fail_fast_mode(fail_fast)
    if resume in (False, None):      # Ray's defaults; tunec._resume only to resume
        resuming, resume_unfinished, resume_errored, restart_errored = False, True, False, False
    else:
        from tunec import _resume
        resuming, resume_unfinished, resume_errored, restart_errored = _resume.mode(
            resume, resume_unfinished, resume_errored, restart_errored)
    if sync_to_cloud is not None and upload_dir is None:
        raise ValueError("Need `upload_dir` if `sync_to_cloud` given.")
    # A timedelta exists only once datetime was imported: tune.run need not import it.
    datetime = sys.modules.get("datetime")
    if datetime is not None and isinstance(time_budget_s, datetime.timedelta):
        time_budget_s = time_budget_s.total_seconds()
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TypeError("seed must be an int, got {!r}".format(seed))
    if trial_name_creator is not None and not callable(trial_name_creator):
        raise TypeError("trial_name_creator must be callable")
    if trial_dirname_creator is not None and not callable(trial_dirname_creator):
        raise TypeError("trial_dirname_creator must be callable")
    from tunec import export
    export_formats = export.validate(export_formats)
    if checkpoint_config is not None:
        from tunec.checkpoint import CheckpointConfig
        if not isinstance(checkpoint_config, CheckpointConfig):
            raise TypeError("checkpoint_config must be a tune.CheckpointConfig, got {!r}".format(
                checkpoint_config))
        keep_checkpoints_num = checkpoint_config.num_to_keep
        checkpoint_score_attr = checkpoint_config.score_attr()
        checkpoint_freq = checkpoint_config.checkpoint_frequency
        checkpoint_at_end = bool(checkpoint_config.checkpoint_at_end)
    if restore is not None and not os.path.exists(os.path.expanduser(restore)):
        raise ValueError("restore: checkpoint {} does not exist".format(restore))
    # Features that come with later issues fail loudly rather than being ignored.
    if server_port is not None and (not isinstance(server_port, int)
                                    or isinstance(server_port, bool)
                                    or not 0 <= server_port <= 65535):
        raise ValueError("server_port must be an int in [0, 65535], got {!r}".format(
            server_port))
    if (with_server or server_port is not None) and _capacity._settings.get("local_mode"):
        raise NotImplementedError("with_server is not supported in local mode")
    _unsupported("trial_executor", trial_executor, None)
    # What the options leave unused is not imported (issue 12: the first
    # trial waits for every module imported on the way).
    replaced_loggers = set()
    if callbacks is None:
        callbacks = []
    else:
        from tunec._callbacks import split_callbacks
        callbacks, replaced_loggers = split_callbacks(callbacks)
    _unsupported("sync_to_driver", sync_to_driver, None)
    sched_spec, sched_hosted = None, False
    if scheduler is not None:
        from tunec.schedulers import _bridge
        sched_spec, sched_hosted = _bridge.plan(scheduler, metric, mode)
    variant_order = {}
    if search_alg is not None:
        from tunec.suggest import BasicVariantGenerator
    if search_alg is not None and isinstance(search_alg, BasicVariantGenerator):
        # The engine's space expansion orders the variants (src/engine/space.c).
        variant_order = {"points_to_evaluate": search_alg._points_to_evaluate,
                         "shuffle": search_alg._shuffle}
        if search_alg._random_state is not None and seed is None:
            seed = search_alg._random_state
        if search_alg._max_concurrent:
            max_concurrent_trials = min(max_concurrent_trials or search_alg._max_concurrent,
                                        search_alg._max_concurrent)

    stopper, stop_dict = None, {}
    if stop is not None:
        from tunec.stopper import make_stopper
        stopper, stop_dict = make_stopper(stop)
    from tunec import _storage, _sync_plan
    storage_uri = None
    if storage_path is not None and _storage.is_uri(os.fspath(storage_path)):
        storage_uri = os.fspath(storage_path)    # local copy in local_dir (~/ray_results)
    elif storage_path is not None:
        from tunec.experiment import check_local_path
        local_dir = check_local_path("storage_path", storage_path)
    if upload_dir is None and isinstance(run_or_experiment, Experiment):
        upload_dir = run_or_experiment.spec["upload_dir"]
    sync = _sync_plan.plan(upload_dir, sync_config, sync_to_cloud, sync_on_checkpoint,
                           storage_uri)

    if getattr(search_alg, "_until_finished", False):
        # A round-based searcher (tunec.automl) says itself when the search
        # ends, as Ray's SearchAlgorithms do: num_samples does not cap it.
        num_samples = -1
    if isinstance(run_or_experiment, list) and all(isinstance(e, Experiment)
                                                   for e in run_or_experiment):
        experiments = list(run_or_experiment)
    elif isinstance(run_or_experiment, Experiment):
        experiments = [run_or_experiment]
    else:
        experiments = [Experiment(name, run_or_experiment, stop=stop_dict, config=config,
                                  resources_per_trial=resources_per_trial,
                                  num_samples=num_samples, local_dir=local_dir,
                                  trial_name_creator=trial_name_creator,
                                  trial_dirname_creator=trial_dirname_creator,
                                  log_to_file=log_to_file, loggers=loggers,
                                  max_failures=max_failures, checkpoint_freq=checkpoint_freq,
                                  checkpoint_at_end=checkpoint_at_end,
                                  keep_checkpoints_num=keep_checkpoints_num,
                                  checkpoint_score_attr=checkpoint_score_attr,
                                  export_formats=export_formats, restore=restore)]
    searcher = None
    if search_alg is not None:
        from tunec.suggest import _bridge as search_bridge
        if len(experiments) != 1 and not isinstance(search_alg, BasicVariantGenerator):
            raise ValueError("search_alg: a searcher runs exactly one experiment, got {}".format(
                len(experiments)))
        searcher = search_bridge.plan(search_alg, metric, mode, experiments[0].spec["config"],
                                      {"num_samples": experiments[0].spec["num_samples"]})
    resume_info = _resume_info(experiments[0], resume, resuming, resume_unfinished,
                               resume_errored, restart_errored, sync)
    runner = _Runner(experiments, stopper=stopper, fail_fast=fail_fast, verbose=int(verbose),
                     progress_reporter=progress_reporter, time_budget_s=time_budget_s,
                     max_concurrent=max_concurrent_trials, seed=seed,
                     state_period_s=global_checkpoint_period, metric=metric, mode=mode,
                     reuse_actors=reuse_actors, resume_info=resume_info,
                     scheduler=(scheduler, sched_spec, sched_hosted),
                     searcher=(search_alg, searcher),
                     variant_order=variant_order,
                     server=(bool(with_server) or server_port is not None, server_port),
                     callbacks=(callbacks, replaced_loggers))
    syncs = [_sync_plan.ExperimentSync(os.path.join(exp.local_dir, exp.name),
                                       _sync_plan.remote_dir(sync[0], exp.name), *sync[1:])
             for exp in experiments] if sync else []
    runner.step_hooks.extend(s.saw_checkpoints for s in syncs)
    for exp_sync in syncs:
        # Where a DurableTrainable uploads its checkpoints (tunec/durable_trainable.py).
        from tunec.durable_trainable import REMOTE_FILE
        os.makedirs(exp_sync.local_dir, exist_ok=True)
        with open(os.path.join(exp_sync.local_dir, REMOTE_FILE), "w") as f:
            f.write(exp_sync.remote)
    try:
        trials = runner.run()
    finally:
        for exp_sync in syncs:
            exp_sync.close()
    if raise_on_error:
        _raise_trial_error(trials)

    incomplete = [trials[i] for i, status in enumerate(trials.statuses())
                  if status != "TERMINATED"]
    if incomplete:
        if raise_on_failed_trial:
            raise TrialsFailedError("Trials did not complete", incomplete)
        import logging
        logging.getLogger("ray.tune.tune").error("Trials did not complete: %s", incomplete)
    if return_trials:
        return list(trials)
    from tunec.analysis import ExperimentAnalysis
    return ExperimentAnalysis(runner.state_file, trials=trials, default_metric=metric,
                              default_mode=mode)


def _trainables_of(run_or_experiment):
    """The trainable objects tune.run was given, as Experiment keeps them."""
    items = run_or_experiment if isinstance(run_or_experiment, list) else [run_or_experiment]
    return [e.trainable if isinstance(e, Experiment) else e for e in items]


def _check_python_options(metric, raise_on_failed_trial, return_trials):
    """The options the engine never sees, checked in the engine's words
    (src/engine/options.c) before anything runs: Python's truthiness would
    otherwise turn raise_on_failed_trial="no" into True."""
    if metric is not None and not isinstance(metric, str):
        raise TypeError("tune.run(metric=...): expected str, got {}".format(
            type(metric).__name__))
    for name, value in (("raise_on_failed_trial", raise_on_failed_trial),
                        ("return_trials", return_trials)):
        if not isinstance(value, bool):
            raise TypeError("tune.run({}=...): expected bool, got {}".format(
                name, type(value).__name__))


def _fail_fast_mode(fail_fast):
    """(fail_fast for the engine, raise the trial's own exception). Ray:
    a bool, or "raise" in any case; the engine checks the type of the rest."""
    if isinstance(fail_fast, str):
        if fail_fast.upper() != "RAISE":
            raise ValueError("tune.run(fail_fast=...): must be a bool or 'raise', got "
                             "{!r}".format(fail_fast))
        return True, True
    return fail_fast, False


def _raise_trial_error(trials):
    """fail_fast="raise": the first failed trial's own exception, as Ray
    re-raises it (the worker pickled it into error.pkl)."""
    import pickle
    for trial in trials:
        if trial.status != "ERROR":
            continue
        path = os.path.join(trial.logdir or "", "error.pkl")
        try:
            with open(path, "rb") as f:
                exc = pickle.load(f)
        except Exception:   # noqa: B902 - unpicklable or missing: say what is known
            exc = None
        if isinstance(exc, BaseException):
            raise exc
        raise TuneError("Trial {} failed:\n{}".format(trial, trial.error_msg or ""))


def _reporter_search_properties(reporter, metric, mode):
    """Ray 1.x: the reporter gets tune.run's metric and mode (what
    sort_by_metric sorts by); a reporter that has its own is an error."""
    if reporter is None or not hasattr(reporter, "set_search_properties"):
        return
    if (metric or mode) and reporter.set_search_properties(metric, mode) is False:
        raise ValueError(
            "You passed a `metric` or `mode` argument to `tune.run()`, but the reporter you are "
            "using was already instantiated with their own `metric` and `mode` parameters. "
            "Either remove the arguments from your reporter or from your call to `tune.run()`")
    if getattr(reporter, "_sort_by_metric", False) and not (
            getattr(reporter, "_metric", None) and getattr(reporter, "_mode", None)):
        import warnings
        warnings.warn("Both 'metric' and 'mode' must be set to be able to sort by metric. "
                      "No sorting is performed.")


def _options_text(options):
    """The options as JSON text; json itself only for what is not plain
    data (tunec/_plain_json.py)."""
    from tunec import _plain_json
    text = _plain_json.dumps(options)
    if text is None:
        import json
        text = json.dumps(options, default=_json_default)
    return text


def _json_default(value):
    """What json.dumps cannot hold: numpy integers and floats become numbers;
    anything else a marker the engine names in its error ("got Foo")."""
    import numbers
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return {"$pytype": type(value).__name__}


def _resume_info(exp, resume, resuming, resume_unfinished, resume_errored, restart_errored,
                 sync=None):
    """What the engine needs to resume, or None for a fresh start."""
    if not resuming:
        return None
    from tunec import _resume
    exp_dir = os.path.join(exp.local_dir, exp.name)
    exists = _resume.has_state(exp_dir)
    if str(resume).upper().startswith("AUTO") and not exists:
        return None
    if str(resume).upper().startswith("PROMPT"):
        answer = input("Resume from local directory {}? [y/N] ".format(exp_dir)) if exists else ""
        if answer.strip().lower() not in ("y", "yes"):
            return None
    if str(resume).upper().startswith("REMOTE"):
        if sync is None:
            raise ValueError("Called resume from remote without remote directory.")
        from tunec import _sync_plan
        _sync_plan.download(sync[1], _sync_plan.remote_dir(sync[0], exp.name), exp_dir)
    records, runner_data = _resume.load(exp_dir)
    return {"records": records, "seeds": _resume.recorded_seeds(runner_data),
            "resume_unfinished": resume_unfinished, "resume_errored": resume_errored,
            "restart_errored": restart_errored}


def run_experiments(experiments, search_alg=None, scheduler=None, with_server=False,
                    server_port=None, verbose=2, progress_reporter=None, resume=False,
                    queue_trials=False, reuse_actors=False, trial_executor=None,
                    raise_on_failed_trial=True, concurrent=True):
    """Runs a list/dict of experiments and returns the list of Trials."""
    experiments = convert_to_experiment_list(experiments)
    kwargs = dict(search_alg=search_alg, scheduler=scheduler, with_server=with_server,
                  server_port=server_port, verbose=verbose, progress_reporter=progress_reporter,
                  resume=resume, queue_trials=queue_trials, reuse_actors=reuse_actors,
                  trial_executor=trial_executor, raise_on_failed_trial=raise_on_failed_trial,
                  return_trials=True)
    if concurrent:
        return run(experiments, **kwargs)
    trials = []
    for exp in experiments:
        trials += run(exp, **kwargs)
    return trials


# --------------------------------------------------------------------------
# the driver loop
# --------------------------------------------------------------------------

class _Runner:
    """One tune.run: builds the engine's options, drives ``_tunec.Run`` and
    reports progress."""

    def __init__(self, experiments, stopper, fail_fast, verbose, progress_reporter,
                 time_budget_s, max_concurrent, seed, state_period_s, metric, mode,
                 reuse_actors=False, resume_info=None, scheduler=(None, None, False),
                 searcher=(None, None), variant_order=None, server=(False, None),
                 callbacks=((), ())):
        from tunec import export, sample
        self.experiments = experiments
        self.stopper = stopper
        # Called with the trials' checkpoint signature about once a second
        # (tunec/_sync_plan.py: sync on checkpoint).
        self.step_hooks = []
        self._hook_time = 0.0
        self.verbose = verbose
        self.functions = {}
        self.objects = {}
        self.trainables = []
        self.name_creators = []
        self.dirname_creators = []
        # On a Ray cluster (tunec/_ray_executor.py) trials run as actors and
        # the engine reserves the cluster's resources; else this machine's.
        ray_cluster = None
        if "ray" in sys.modules:     # else there is no cluster to ask about
            from tunec import _ray_executor
            ray_cluster = _ray_executor.cluster()
        capacity = _capacity.current() if ray_cluster is None else \
            _ray_executor.capacity(ray_cluster)
        self.local_mode = capacity["local_mode"]
        self.session_str = _session_str()
        exp_options = []
        python_callbacks, replaced_loggers = callbacks
        legacy_loggers = {}
        for exp in experiments:
            spec = exp.spec
            (log_json, log_csv, log_tbx), custom = _check_loggers(spec["loggers"])
            if custom:
                legacy_loggers[len(exp_options)] = custom
            # A subclass of a built-in LoggerCallback writes that file itself.
            log_json = log_json and "json" not in replaced_loggers
            log_csv = log_csv and "csv" not in replaced_loggers
            log_tbx = log_tbx and "tbx" not in replaced_loggers
            spec_tree, functions, objects = sample.encode_space_tree(
                spec["config"], id_offset=len(self.functions) + len(self.objects))
            self.functions.update(functions)
            self.objects.update(objects)
            spec_tree.update(self._variant_order(variant_order or {}))
            # Experiments that share a trainable share its id, unless their
            # export formats differ (tunec/export.py).
            sent = export.with_formats(exp.trainable, spec["export_formats"])
            if sent not in self.trainables:
                self.trainables.append(sent)
            exp_seed = seed if seed is not None else int.from_bytes(os.urandom(7), "little")
            exp_seed += len(exp_options)
            if resume_info and resume_info["seeds"].get(exp.name) is not None and seed is None:
                exp_seed = resume_info["seeds"][exp.name]   # regenerate the same trials
            if functions:
                _seed_python_rngs(exp_seed)
            exp_options.append({
                "name": exp.name,
                "exp_dir": os.path.join(exp.local_dir, exp.name),
                "trainable_name": exp.run_identifier,
                "trainable_id": self.trainables.index(sent),
                "stop": spec["stop"] or None,
                "resources": _resources_for(exp),
                "num_samples": spec["num_samples"],
                "spec": spec_tree,
                "seed": exp_seed,
                "max_failures": spec["max_failures"],
                "checkpoint_freq": spec["checkpoint_freq"],
                # The engine checks its type (None is Ray's "not set").
                "checkpoint_at_end": spec["checkpoint_at_end"] or False,
                "keep_checkpoints_num": spec["keep_checkpoints_num"],
                "checkpoint_score_attr": spec["checkpoint_score_attr"],
                "restore": spec["restore"],
                "log_json": log_json,
                "log_csv": log_csv,
                "log_tbx": log_tbx,
                # Checked by the engine, sent with each trial's START; the
                # worker redirects its stdout/stderr (tunec/_log_to_file.py).
                "log_to_file": spec["log_to_file"],
            })
            if spec["trial_name_creator"] is not None:
                self.name_creators.append(spec["trial_name_creator"])
            if spec["trial_dirname_creator"] is not None:
                self.dirname_creators.append(spec["trial_dirname_creator"])
        for what, creators in (("trial_name_creator", self.name_creators),
                               ("trial_dirname_creator", self.dirname_creators)):
            if len(set(map(id, creators))) > 1:
                raise NotImplementedError("different {}s per experiment are not "
                                          "supported".format(what))
        self.exp_options = exp_options      # the REST server adds to these
        self.state_file = os.path.join(exp_options[0]["exp_dir"],
                                       "experiment_state-{}.json".format(self.session_str))
        options = {
            "experiments": exp_options,
            "capacity": {"cpu": capacity["num_cpus"], "gpu": capacity["num_gpus"],
                         "custom": capacity["resources"]},
            "gpu_names": capacity["gpu_names"],
            "worker_argv": [sys.executable, "-m", "tunec._worker", "3"],
            "worker_env": _worker_env(),
            "fail_fast": fail_fast,
            "local_mode": bool(self.local_mode),
            "max_concurrent": max_concurrent,
            "time_budget_s": time_budget_s,
            "session_str": self.session_str,
            "state_period_s": state_period_s,
            # How long a worker may ignore a STOP before it is killed (its
            # trial is over either way); an environment knob for tests.
            "stop_grace_s": float(os.environ.get("TUNEC_STOP_GRACE_S", 10)),
            "max_len_identifier": int(os.environ.get("MAX_LEN_IDENTIFIER", 130)),
            "heartbeat_timeout_s": float(os.environ.get("TUNEC_HEARTBEAT_TIMEOUT_S", 30)),
            "reuse_actors": reuse_actors,
            "journal": os.path.join(exp_options[0]["exp_dir"],
                                    "experiment_state-{}.journal".format(self.session_str)),
        }
        from tunec import _tunec
        blobs = [b"" if self.local_mode else _trainable_blob(t) for t in self.trainables]
        callbacks = {"resolver": sample.make_resolver(self.functions, self.objects)}
        from tunec._with_resources import engine_callback
        trial_resources = engine_callback([exp.trainable for exp in experiments], self.objects)
        if trial_resources is not None:
            callbacks["trial_resources"] = trial_resources
        self.launcher = None
        if ray_cluster is not None:
            self.launcher = _ray_executor.RayLauncher(
                ray_cluster, options["worker_env"], _ray_executor.factory_table(experiments))
            callbacks["launcher"] = self.launcher
        if stopper is not None:
            callbacks["stopper"] = stopper
        if self.objects:
            callbacks["objects"] = self._pickle_objects
        if self.name_creators:
            creator = self.name_creators[0]
            callbacks["name_creator"] = lambda snap: creator(self._trial(snap))
        if self.dirname_creators:
            dirname_creator = self.dirname_creators[0]
            callbacks["dirname_creator"] = lambda snap: dirname_creator(self._trial(snap))
        self.scheduler, self.bridge = scheduler[0], None
        if scheduler[1] is not None:
            from tunec.schedulers import _bridge
            sched_seed = seed if seed is not None else int.from_bytes(os.urandom(7), "little")
            options["scheduler"], sched_callbacks, self.bridge = _bridge.engine_setup(
                scheduler[0], scheduler[1], scheduler[2], self.functions, self.objects,
                sched_seed, self._trial)
            callbacks.update(sched_callbacks)
        native, self.search_bridge = None, None
        search_alg, searcher = searcher
        if searcher is not None:     # else the engine's own variant generation
            from tunec.suggest import _bridge as search_bridge
            native = search_bridge.native_spec(search_alg, searcher, self.functions,
                                               self.objects, exp_options[0]["seed"])
            if native is not None:
                options["searcher"] = native
                searcher = None
            search_callbacks, self.search_bridge = search_bridge.engine_setup(
                searcher, exp_options[0]["exp_dir"], self.session_str, self.functions,
                self.objects, resuming=resume_info is not None)
            callbacks.update(search_callbacks)
        if resume_info is not None:
            options["resume"] = {k: resume_info[k] for k in (
                "resume_unfinished", "resume_errored", "restart_errored")}
            # The state the engine's reader indexed goes to the engine as
            # it is: records are parsed there when their trials come back.
            options["resume"]["records"] = {}
            callbacks["resume_state"] = resume_info["records"].handle
        self.reporter = self._make_reporter(progress_reporter, metric, mode)
        _reporter_search_properties(self.reporter, metric, mode)
        bar = sys.modules.get("tunec.progress_bar")   # a ProgressBarReporter imported it
        if bar is not None and isinstance(self.reporter, bar.ProgressBarReporter) \
                and native is None and searcher is None and self.reporter._total_samples is None:
            self.reporter.set_total_samples(bar.expected_trials(experiments))
        # The engine checks every option by name and type (src/engine/options.c).
        self.run_handle = _tunec.Run(_options_text(options), blobs, callbacks)
        callbacks.pop("resume_state", None)   # the engine took it
        if not self.local_mode and self.launcher is None:
            from tunec import _zygote
            unheld = None
            if not all(blob.startswith(_zygote.HELD) for blob in blobs):
                _zygote.expect_pickles()
            if any(blob.startswith(_zygote.HELD) for blob in blobs):
                # A worker the zygote does not fork (it failed) gets the bytes.
                sent = list(self.trainables)
                unheld = lambda: [_pickle(t, "the trainable {!r}".format(t))  # noqa: E731
                                  for t in sent]
            self.run_handle.use_zygote(_zygote.ensure(), unheld)
        if self.bridge is not None:
            self.bridge.handle = self.run_handle
        if scheduler[1] is not None and scheduler[1]["kind"] != "fifo":
            # A built-in's debug_string reads the engine (frozen at the end).
            scheduler[0]._engine_debug = self.run_handle.sched_debug
        self._printed = {}
        self.callbacks = None
        python_callbacks = list(python_callbacks)
        if legacy_loggers:
            from tunec._callbacks import LegacyLoggerCallback
            python_callbacks.append(LegacyLoggerCallback(legacy_loggers))
        if python_callbacks:
            from tunec._callbacks import Dispatcher
            self.callbacks = Dispatcher(self.run_handle, python_callbacks, self._trial,
                                        self._update_trial)
            self.callbacks.setup(stop=experiments[0].spec["stop"] or None,
                                 num_samples=experiments[0].spec["num_samples"],
                                 total_num_samples=sum(max(e.spec["num_samples"], 0)
                                                       for e in experiments))
        self.server = None
        if server[0]:
            # The REST API (tunec/web_server.py): its thread only queues
            # requests; _run_workers applies them between engine steps.
            from tunec.web_server import TuneServer
            self.server = TuneServer(port=server[1], token_dir=exp_options[0]["exp_dir"])
            self.server.start()

    # -- helpers ------------------------------------------------------------
    def _variant_order(self, order):
        """BasicVariantGenerator's points_to_evaluate and shuffle as keys of
        the engine's spec, the points encoded like the config."""
        from tunec import sample
        keys = {}
        if order.get("shuffle"):
            keys["shuffle"] = True
        points = []
        for point in order.get("points_to_evaluate") or []:
            tree, functions, objects = sample.encode_space_tree(
                point, id_offset=len(self.functions) + len(self.objects))
            self.functions.update(functions)
            self.objects.update(objects)
            points.append(tree["config"])
        if points:
            keys["points_to_evaluate"] = points
        return keys

    def _pickle_objects(self, ids):
        return _pickle({i: self.objects[i] for i in ids}, "config values")

    def _trial(self, snap):
        from tunec.sample import decode_value
        snap = dict(snap)
        snap["config"] = decode_value(snap["config"], self.objects)
        exp = self.experiments[snap.get("tunec_experiment") or 0]
        from tunec.trial import Trial   # imported when a Trial is first asked for
        return Trial._from_snapshot(snap, exp.spec)

    def _update_trial(self, trial, snap):
        from tunec.sample import decode_value
        snap = dict(snap)
        snap["config"] = decode_value(snap["config"], self.objects)
        trial._update_from_snapshot(snap)

    def trials(self):
        return [self._trial(s) for s in self.run_handle.trials()]

    def _make_reporter(self, reporter, metric, mode):
        if self.verbose == 0:
            return None
        if reporter is None:
            from tunec.progress_reporter import detect_reporter
            reporter = detect_reporter(self.verbose)
        return reporter

    def _report(self, done=False):
        if self.reporter is None:
            return
        trials = None
        if self.verbose >= 2:
            trials = self.trials()
            self._print_results(trials, done)
        if not self.reporter.should_report(trials or [], done=done):
            return
        trials = trials or self.trials()
        self.reporter.report(trials, done, self._sched_debug(),
                             self.run_handle.resources_string())

    def _sched_debug(self):
        if self.bridge is not None:
            return self.bridge.debug_string()
        return self.run_handle.sched_debug()

    def _print_results(self, trials, done):
        """verbose=2: "Result for <trial>:" blocks, at most every 5 s per trial
        and always on termination (spec §12)."""
        from tunec.progress_reporter import trial_result_str
        now = time.time()
        for trial in trials:
            if not trial.last_result or trial.last_result.get("training_iteration") is None \
                    and not trial.is_finished():
                continue
            key = trial.trial_id
            seen = self._printed.get(key)
            stamp = (trial.last_result.get("training_iteration"), trial.status)
            if seen is not None and seen[0] == stamp:
                continue
            if seen is not None and now - seen[1] < 5 and not trial.is_finished():
                continue
            self._printed[key] = (stamp, now)
            print(trial_result_str(trial, trial.last_result))

    # -- main loop ----------------------------------------------------------
    def run(self):
        if self.callbacks is None:
            return self._run()
        self.callbacks.start()
        try:
            trials = self._run()
        except BaseException:
            self.callbacks.close(raise_error=False)
            self.callbacks.check()    # a hook's error explains the failure best
            raise
        self.callbacks.close()
        return trials

    def _run(self):
        if self.local_mode:
            from tunec._local import run_local
            try:
                run_local(self)
            except KeyboardInterrupt:
                self.run_handle.write_state()
                self._resume_hint()
                raise
            self.run_handle.write_state()
        else:
            self._run_workers()    # the last step wrote the final state
        self.run_handle.close_journal()
        if self.search_bridge is not None:
            self.search_bridge.save()
        self._report(done=True)
        if self.scheduler is not None and hasattr(self.scheduler, "_engine_debug"):
            final = self.run_handle.sched_debug()
            self.scheduler._engine_debug = lambda: final
        from tunec._trial_list import TrialList
        return TrialList(self)    # Trial objects made when asked (issue 12)

    def _run_workers(self):
        handle = self.run_handle
        requests = None
        if self.server is not None:
            from tunec._web_requests import RunRequests
            requests = RunRequests(self)
        try:
            while not handle.step(0.25):
                if self.callbacks is not None and self.callbacks.error is not None:
                    self._callback_failed(handle)
                if requests is not None:
                    self.server.process_requests(requests)
                # stop_all() is asked after every result by the engine (one
                # callback with __call__); asking it here too, between steps,
                # lets a TimeoutStopper end an experiment whose trials
                # report rarely, as Ray's step loop does.
                if self.stopper is not None and self.stopper.stop_all():
                    handle.stop_all()
                self._run_step_hooks()
                self._report()
        except KeyboardInterrupt:
            self._interrupted(handle)
            raise
        finally:
            if self.server is not None:
                self.server.shutdown()
            handle.shutdown()
            from tunec import _zygote
            _zygote.reap()
            if self.launcher is not None:
                self.launcher.close()

    def _callback_failed(self, handle):
        """A hook raised: the trials stop (and can be resumed), then the
        error is raised."""
        handle.interrupt()
        while not handle.step(0.25):
            pass
        handle.write_state()
        self.callbacks.check()

    def _run_step_hooks(self):
        if not self.step_hooks or time.monotonic() - self._hook_time < 1.0:
            return
        self._hook_time = time.monotonic()
        signature = tuple((s.get("trial_id"), str(s.get("checkpoint")))
                          for s in self.run_handle.trials())
        for hook in self.step_hooks:
            hook(signature)

    def _interrupted(self, handle):
        """First Ctrl-C: stop gracefully (running class trainables save a
        checkpoint), write the state and say how to resume. A second Ctrl-C
        stops at once."""
        print("\ntunec: stopping the experiment (press Ctrl+C again to stop at once)...",
              file=sys.stderr, flush=True)
        try:
            handle.interrupt()
            while not handle.step(0.25):
                pass
        except KeyboardInterrupt:
            handle.shutdown(0)
        handle.write_state()
        self._resume_hint()

    def _resume_hint(self):
        print("tunec: experiment stopped. Resume it with tune.run(..., name={!r}, "
              "local_dir={!r}, resume=True).".format(self.experiments[0].name,
                                                     self.experiments[0].local_dir),
              file=sys.stderr, flush=True)
