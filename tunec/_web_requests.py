"""What the REST API's requests do to a running tune.run (tunec/web_server.py
queues them; the driver loop in tunec/_run.py calls ``RunRequests`` between
engine steps, so every change goes through the engine's own calls:
``Run.add_experiment``, ``Run.sched_act`` (stop one trial), ``Run.stop_all``).
"""
import json
import os
import random

from tunec.web_server import bad_request

# Keys a POSTed spec may hold (tune.Experiment's, as plain JSON).
SPEC_KEYS = ("run", "config", "stop", "num_samples", "resources_per_trial", "max_failures")
MAX_SAMPLES = 10000
# Driver passes (0.25 s each) an added experiment's trials may take to appear.
ADD_WAIT_PASSES = 40
_STOP = 1       # Run.sched_act's "stop this trial"


def _json_safe(value):
    """`value` as JSON can hold it: what it cannot becomes its repr."""
    return json.loads(json.dumps(value, default=repr, allow_nan=True))


def trial_info(trial):
    """Ray's trial info, in JSON (no pickles)."""
    return {"id": trial.trial_id, "trainable_name": trial.trainable_name,
            "config": _json_safe(trial.config), "status": trial.status,
            "result": _json_safe(trial.last_result or None),
            "experiment_tag": trial.experiment_tag, "logdir": trial.logdir}


class RunRequests:
    """``apply(action, *args)`` for TuneServer.process_requests, over one
    ``tunec._run._Runner``."""

    def __init__(self, runner):
        self.runner = runner

    def __call__(self, action, *args):
        return getattr(self, "_" + action)(*args)

    # -- reading --------------------------------------------------------------
    def _snapshots(self):
        return self.runner.run_handle.trials()

    def _find(self, trial_id):
        for index, snap in enumerate(self._snapshots()):
            if snap.get("trial_id") == trial_id:
                return index, self.runner._trial(snap)
        raise bad_request("no trial with id {!r}".format(trial_id), 404)

    def _list(self):
        return 200, {"trials": [trial_info(t) for t in self.runner.trials()]}

    def _get(self, trial_id):
        return 200, {"trial": trial_info(self._find(trial_id)[1])}

    # -- steering -------------------------------------------------------------
    def _stop(self, trial_id):
        index, trial = self._find(trial_id)
        if not trial.is_finished():
            self.runner.run_handle.sched_act(_STOP, index)
            trial = self._find(trial_id)[1]
        return 200, {"trial": trial_info(trial)}

    def _stop_all(self):
        self.runner.run_handle.stop_all()
        return self._list()

    def _stop_experiment(self):
        self.runner.run_handle.stop_all()
        return 200, {}

    def _add(self, name, spec):
        index = self._add_experiment(name, spec)
        passes = [0]

        def answer():
            trials = [self.runner._trial(s) for s in self._snapshots()
                      if s.get("tunec_experiment") == index]
            passes[0] += 1
            if trials or passes[0] > ADD_WAIT_PASSES:
                return 201, {"trials": [trial_info(t) for t in trials]}
            return None

        return None, answer

    def _add_experiment(self, name, spec):
        """Checks a POSTed experiment and hands it to the engine; returns the
        engine's experiment index."""
        from tunec import export, sample
        from tunec._run import _json_default, _pickle, _resources_for
        from tunec.experiment import Experiment
        runner = self.runner
        if not isinstance(name, str) or not name or name in (".", "..") or "/" in name \
                or "\0" in name or len(name) > 255:
            raise bad_request("name: an experiment name (a directory name), got {!r}".format(
                name))
        if not isinstance(spec, dict):
            raise bad_request("spec: a JSON object, got {!r}".format(spec))
        unknown = sorted(set(spec) - set(SPEC_KEYS))
        if unknown:
            raise bad_request("spec: unknown keys {} (allowed: {})".format(
                unknown, ", ".join(SPEC_KEYS)))
        run = spec.get("run")
        if not isinstance(run, str):
            raise bad_request("spec.run: the name of a registered trainable or of this run's, "
                              "got {!r}".format(run))
        config = spec.get("config", {})
        if not isinstance(config, dict):
            raise bad_request("spec.config: a JSON object, got {!r}".format(config))
        num_samples = spec.get("num_samples", 1)
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) \
                or not 1 <= num_samples <= MAX_SAMPLES:
            raise bad_request("spec.num_samples: an int in [1, {}], got {!r}".format(
                MAX_SAMPLES, num_samples))
        template = runner.exp_options[0]
        known = {o["trainable_name"]: (o["trainable_id"], runner.experiments[i])
                 for i, o in enumerate(runner.exp_options)}
        if run in known:
            trainable = known[run][1].trainable
        else:
            from tunec import registry
            if not registry.has_trainable(run):
                raise bad_request("spec.run: no trainable named {!r} (registered: tune."
                                  "register_trainable; this run's: {})".format(
                                      run, sorted(known)))
            trainable = run
        exp = Experiment(name, trainable, stop=spec.get("stop"), config=config,
                         resources_per_trial=spec.get("resources_per_trial"),
                         num_samples=num_samples, local_dir=runner.experiments[0].local_dir,
                         max_failures=spec.get("max_failures", 0))
        spec_json, functions, objects = sample.encode_space(exp.spec["config"])
        if functions or objects:
            raise bad_request("spec.config: plain JSON values and grid_search only")
        blob = None
        if run in known:
            trainable_id = known[run][0]
        else:
            sent = export.with_formats(exp.trainable, exp.spec["export_formats"])
            if sent in runner.trainables:
                trainable_id = runner.trainables.index(sent)
            else:
                blob = _pickle(sent, "the trainable {!r}".format(run))
                trainable_id = len(runner.trainables)
        options = dict(template)
        options.pop("trial_id", None)
        options.update({
            "name": exp.name,
            "exp_dir": os.path.join(exp.local_dir, exp.name),
            "trainable_name": exp.run_identifier,
            "trainable_id": trainable_id,
            "stop": exp.spec["stop"] or None,
            "resources": _resources_for(exp),
            "num_samples": num_samples,
            "spec": json.loads(spec_json),
            "seed": random.SystemRandom().getrandbits(56),
            "max_failures": exp.spec["max_failures"],
            "restore": None,
        })
        index = runner.run_handle.add_experiment(json.dumps(options, default=_json_default),
                                                 blob)
        if blob is not None:
            runner.trainables.append(sent)
        runner.experiments.append(exp)
        runner.exp_options.append(options)
        return index
