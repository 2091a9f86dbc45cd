"""``Trial``: the driver's view of one trial (``ray.tune.trial.Trial``).

The C engine owns the trial table; ``tune.run`` builds these objects from the
engine's snapshots (``Trial._from_snapshot``) for progress reports, stoppers,
``ExperimentAnalysis`` and the user. They are plain data: changing one does not
change the running experiment.
"""
import platform


class Location:
    """Where a trial runs: ``pid=<pid>`` on this host, ``<host>:<pid>`` elsewhere."""

    def __init__(self, hostname=None, pid=None):
        self.hostname = hostname
        self.pid = pid

    def __str__(self):
        if not self.pid:
            return ""
        if self.hostname == platform.node():
            return "pid={}".format(self.pid)
        return "{}:{}".format(self.hostname, self.pid)


class Trial:
    """One trial. Status strings and attribute names follow Ray Tune 0.8."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    TERMINATED = "TERMINATED"
    ERROR = "ERROR"

    def __init__(self, trainable_name, config=None, trial_id=None, local_dir=None,
                 evaluated_params=None, experiment_tag="", resources=None,
                 stopping_criterion=None, max_failures=0, custom_trial_name=None):
        self.trainable_name = trainable_name
        self.config = config or {}
        self.trial_id = trial_id
        self.local_dir = local_dir
        self.evaluated_params = evaluated_params or {}
        self.experiment_tag = experiment_tag
        self.resources = resources or {"cpu": 1, "gpu": 0}
        self.stopping_criterion = stopping_criterion or {}
        self.max_failures = max_failures
        self.custom_trial_name = custom_trial_name
        self.status = Trial.PENDING
        self.logdir = None
        self.last_result = {}
        self.metric_analysis = {}
        self.num_failures = 0
        self.error_file = None
        self.error_msg = None
        self.start_time = None
        self.last_update_time = float("-inf")
        self.location = Location()

    # -- names ------------------------------------------------------------
    def __str__(self):
        """``<trainable>[_<env>]_<trial_id>``, or the custom name (spec §5.6)."""
        if self.custom_trial_name:
            return self.custom_trial_name
        identifier = str(self.trainable_name)
        env = self.config.get("env") if isinstance(self.config, dict) else None
        if env:
            identifier += "_" + (env.__name__ if isinstance(env, type) else str(env))
        identifier += "_" + str(self.trial_id)
        return identifier.replace("/", "_")

    __repr__ = __str__

    def is_finished(self):
        return self.status in (Trial.TERMINATED, Trial.ERROR)

    @property
    def node_ip(self):
        return self.last_result.get("node_ip")

    # -- engine snapshots -------------------------------------------------
    @classmethod
    def _from_snapshot(cls, snap):
        """Builds a Trial from an engine snapshot dict (keys as attributes)."""
        trial = cls.__new__(cls)
        trial.__init__(snap.get("trainable_name"))
        trial._update_from_snapshot(snap)
        return trial

    def _update_from_snapshot(self, snap):
        for key, value in snap.items():
            if key == "location":
                self.location = Location(*value) if value else Location()
            else:
                setattr(self, key, value)
