"""``ray.tune.trial_runner.TrialRunner`` (0.8): a runner that code and tests
drive by hand — ``add_trial``, ``step``, ``get_trials``, ``is_finished``.

It is a façade over the engine tune.run uses, not a second implementation:
each added Trial becomes a one-trial experiment of a ``_tunec.Run`` (its
config, stop criteria, resources, checkpoint options and its own trial_id),
and ``step()`` runs the engine until one batch of worker events has been
handled (``Run.step(timeout, once=True)``), as Ray's step handles one event.
Trials run in real worker processes and write the usual files. The Trial
objects handed in are the ones ``get_trials()`` returns, updated from the
engine after every step.
"""
import json
import os
import sys

from tunec.error import TuneError
from tunec.result import DEFAULT_RESULTS_DIR

# How long one step() waits for an event when trials are running.
_STEP_TIMEOUT_S = 5.0


def _unsupported(what):
    raise NotImplementedError("TrialRunner({}=...) is not supported by this tunec release; "
                              "use tune.run for it".format(what))


class TrialRunner:
    """Ray 0.8's TrialRunner on tunec's engine."""

    CKPT_FILE_TMPL = "experiment_state-{}.json"
    VALID_RESUME_TYPES = [True, "LOCAL", "REMOTE", "PROMPT"]

    def __init__(self, search_alg=None, scheduler=None, launch_web_server=False,
                 local_checkpoint_dir=None, remote_checkpoint_dir=None, sync_to_cloud=None,
                 stopper=None, resume=False, server_port=None, fail_fast=False, verbose=True,
                 checkpoint_period=10, trial_executor=None, callbacks=None):
        from tunec.ray_trial_executor import RayTrialExecutor
        from tunec.schedulers import _bridge
        from tunec.suggest import BasicVariantGenerator
        if search_alg is not None and type(search_alg) is not BasicVariantGenerator:
            _unsupported("search_alg")
        if launch_web_server:
            _unsupported("launch_web_server")
        if remote_checkpoint_dir or sync_to_cloud:
            _unsupported("remote_checkpoint_dir" if remote_checkpoint_dir else "sync_to_cloud")
        if resume:
            _unsupported("resume")
        if trial_executor is not None and not isinstance(trial_executor, RayTrialExecutor):
            _unsupported("trial_executor")
        if fail_fast not in (True, False):
            raise ValueError("TrialRunner(fail_fast=...): expected a bool, got {!r}".format(
                fail_fast))
        from tunec._callbacks import split_callbacks
        # Hooks run inside step(), on this thread (tunec/_callbacks.py).
        self._callback_list = split_callbacks(callbacks)[0]
        self._dispatcher = None
        self._search_alg = search_alg
        self._scheduler_alg = scheduler
        self._sched_plan = _bridge.plan(scheduler, None, None)
        self._stopper = stopper
        self._fail_fast = fail_fast
        self._verbose = verbose
        self._checkpoint_period = checkpoint_period
        self._local_checkpoint_dir = local_checkpoint_dir
        self.trial_executor = trial_executor or RayTrialExecutor()
        self.trial_executor._runner = self
        self._trials = []             # every Trial, in the order added (engine order)
        self._unsent = []             # added before the engine exists
        self._by_id = {}              # trial_id -> Trial
        self._trainable_ids = {}      # trainable name -> engine trainable id
        self._blobs = []
        self._handle = None
        self._bridge = None
        self._engine_done = True
        self._session_str = None

    # -- Ray's API ------------------------------------------------------------
    @property
    def scheduler_alg(self):
        return self._scheduler_alg

    def add_trial(self, trial):
        """Adds a PENDING trial; the engine starts it when resources allow."""
        if trial.trial_id in self._by_id:
            raise ValueError("TrialRunner.add_trial: trial {} was added already".format(trial))
        options, blob = self._experiment_options(trial)
        if self._handle is not None:
            self._handle.add_experiment(json.dumps(options), blob)
        else:
            self._unsent.append(options)
        trial.set_runner(self)
        self._trials.append(trial)
        self._by_id[trial.trial_id] = trial
        self._engine_done = False

    def step(self):
        """Runs the engine until it has handled one batch of events (a trial
        started, a result, a trial ending), then updates the trials."""
        if self.is_finished():
            raise TuneError("Called step when all trials finished?")
        if self._handle is None:
            self._start_engine()
        self._engine_done = self._handle.step(_STEP_TIMEOUT_S, True)
        if self._stopper is not None and self._stopper.stop_all():
            self._handle.stop_all()
        self._update_trials()
        if self._dispatcher is not None:
            self._dispatcher.pump()
            if self.is_finished():
                self._dispatcher.close()

    def is_finished(self):
        """True once every trial is finished and the engine has nothing left
        to do (checkpoints taken at the end included)."""
        return self._engine_done and all(t.is_finished() for t in self._trials)

    def get_trials(self):
        self._update_trials()
        return list(self._trials)

    def get_trial(self, tid):
        self._update_trials()
        return self._by_id.get(tid)

    def has_resources(self, resources):
        """Whether `resources` (a Resources or dict) fits the free capacity."""
        from tunec import _capacity
        request = resources._asdict() if hasattr(resources, "_asdict") else dict(resources)
        if self._handle is not None:
            return self._handle.has_resources(request)
        capacity = _capacity.current()
        return (request.get("cpu", 1) + request.get("extra_cpu", 0) <= capacity["num_cpus"]
                and request.get("gpu", 0) + request.get("extra_gpu", 0)
                <= capacity["num_gpus"])

    def request_stop_trial(self, trial):
        self.stop_trial(trial)

    def stop_trial(self, trial):
        """Stops `trial` (a PENDING or PAUSED one ends at once, a RUNNING one
        at the engine's next step)."""
        index = self._index_of(trial)
        if index is None and self._handle is not None:
            self._handle.step(0.0, True)     # an added trial enters the engine here
            index = self._index_of(trial)
        if index is None:
            trial.set_status(trial.TERMINATED)     # not in the engine yet: never starts
            self._drop_unsent(trial)
            return
        self._handle.sched_act(1, index)
        self._update_trials()

    def checkpoint(self, force=False):
        """Writes experiment_state-<session>.json now."""
        if self._handle is not None:
            self._handle.write_state()

    def debug_string(self, delim="\n"):
        from collections import Counter
        lines = []
        if self._handle is not None:
            lines.append(self._handle.resources_string())
        counts = Counter(t.status for t in self.get_trials())
        lines.append("Number of trials: {} ({})".format(
            len(self._trials), ", ".join("{} {}".format(n, s) for s, n in sorted(counts.items()))))
        return delim.join(lines)

    def cleanup_trials(self):
        """Ends the worker processes (running trials are stopped)."""
        if self._handle is not None:
            self._handle.stop_all()
            while not self._handle.step(0.25):
                pass
            self._handle.shutdown()
            self._update_trials()
            self._engine_done = True
            if self._dispatcher is not None:
                self._dispatcher.close()

    def __getstate__(self):
        raise NotImplementedError("TrialRunner cannot be pickled in tunec: the engine's state "
                                  "is in experiment_state-<session>.json (checkpoint())")

    # -- the engine -----------------------------------------------------------
    def _experiment_options(self, trial):
        """The engine experiment that runs exactly `trial`, and the pickled
        trainable when the engine has not got it yet."""
        from tunec import registry, sample
        from tunec._run import _pickle
        from tunec.function_runner import unwrap_function
        from tunec.stopper import make_stopper
        name = trial.trainable_name
        blob = None
        if name not in self._trainable_ids:
            trainable = unwrap_function(registry.get_trainable(name))
            blob = _pickle(trainable, "the trainable {!r}".format(trainable))
            self._trainable_ids[name] = len(self._trainable_ids)
            self._blobs.append(blob)
        spec_json, functions, objects = sample.encode_space(trial.config)
        if functions or objects:
            raise NotImplementedError(
                "TrialRunner.add_trial: trial {} has config values that are not plain data "
                "({}); tunec's TrialRunner takes resolved JSON-like configs".format(
                    trial, ", ".join(sorted(type(v).__name__ for v in
                                            list(functions.values()) + list(objects.values())))))
        _, stop = make_stopper(trial.stopping_criterion or None)
        local_dir = os.path.abspath(os.path.expanduser(
            self._local_checkpoint_dir or trial.local_dir or DEFAULT_RESULTS_DIR))
        options = {
            "name": os.path.basename(local_dir) or "default",
            "exp_dir": local_dir,
            "trainable_name": name,
            "trainable_id": self._trainable_ids[name],
            "stop": stop or None,
            "resources": dict(trial.resources._asdict()),
            "num_samples": 1,
            "spec": json.loads(spec_json),
            "seed": int.from_bytes(os.urandom(7), "little"),
            "max_failures": trial.max_failures,
            "checkpoint_freq": trial.checkpoint_freq,
            "checkpoint_at_end": bool(trial.checkpoint_at_end),
            "keep_checkpoints_num": trial.keep_checkpoints_num,
            "checkpoint_score_attr": trial.checkpoint_score_attr,
            "restore": trial.restore_path,
            "trial_id": trial.trial_id,
        }
        return options, blob

    def _start_engine(self):
        from tunec import _capacity, _tunec
        from tunec._run import _session_str, _worker_env
        if not self._unsent:
            raise TuneError("TrialRunner.step: no trial was added")
        capacity = _capacity.current()
        self._session_str = _session_str()
        exp_dir = self._unsent[0]["exp_dir"]
        options = {
            "experiments": self._unsent,
            "capacity": {"cpu": capacity["num_cpus"], "gpu": capacity["num_gpus"],
                         "custom": capacity["resources"]},
            "gpu_names": capacity["gpu_names"],
            "worker_argv": [sys.executable, "-m", "tunec._worker", "3"],
            "worker_env": _worker_env(),
            "fail_fast": self._fail_fast,
            "local_mode": False,
            "session_str": self._session_str,
            "state_period_s": float(self._checkpoint_period or 10),
            "stop_grace_s": float(os.environ.get("TUNEC_STOP_GRACE_S", 10)),
            "max_len_identifier": int(os.environ.get("MAX_LEN_IDENTIFIER", 130)),
            "heartbeat_timeout_s": float(os.environ.get("TUNEC_HEARTBEAT_TIMEOUT_S", 30)),
            "reuse_actors": bool(getattr(self.trial_executor, "_reuse_actors", False)),
            "journal": os.path.join(exp_dir, "experiment_state-{}.journal".format(
                self._session_str)),
        }
        callbacks = {}
        if self._stopper is not None:
            callbacks["stopper"] = self._stopper
        spec, hosted = self._sched_plan
        if spec is not None:
            from tunec.schedulers import _bridge
            options["scheduler"], sched_callbacks, self._bridge = _bridge.engine_setup(
                self._scheduler_alg, spec, hosted, {}, {},
                int.from_bytes(os.urandom(7), "little"), self._trial_of_snapshot)
            callbacks.update(sched_callbacks)
        self._handle = _tunec.Run(json.dumps(options), list(self._blobs), callbacks)
        if self._bridge is not None:
            self._bridge.handle = self._handle
        self._unsent = []
        if self._callback_list:
            from tunec._callbacks import Dispatcher
            self._dispatcher = Dispatcher(self._handle, self._callback_list,
                                          self._trial_of_snapshot, self._apply)
            self._dispatcher.setup()
            self._dispatcher.start_sync()

    def _trial_of_snapshot(self, snap):
        """The Trial for an engine snapshot, updated (a scheduler's view)."""
        trial = self._by_id.get(snap.get("trial_id"))
        if trial is None:
            from tunec.trial import Trial
            trial = Trial._from_snapshot(snap)
            trial.set_runner(self)
            self._trials.append(trial)
            self._by_id[trial.trial_id] = trial
            return trial
        self._apply(trial, snap)
        return trial

    @staticmethod
    def _apply(trial, snap):
        # The Trial keeps what its creator gave it: its config and tag.
        snap = {k: v for k, v in snap.items()
                if k not in ("config", "experiment_tag", "evaluated_params")}
        trial._update_from_snapshot(snap)

    def _update_trials(self):
        if self._handle is None:
            return
        for snap in self._handle.trials():
            self._trial_of_snapshot(snap)

    def _index_of(self, trial):
        if self._handle is None:
            return None
        for index, snap in enumerate(self._handle.trials()):
            if snap.get("trial_id") == trial.trial_id:
                return index
        return None

    def _drop_unsent(self, trial):
        self._unsent = [o for o in self._unsent if o["trial_id"] != trial.trial_id]
