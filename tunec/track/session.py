"""``TrackSession``: ``tune.track`` outside ``tune.run`` (Ray 0.8
``track/session.py``, spec §3.1).

A script that calls ``track.init()`` and ``track.log(**metrics)`` without
Tune gets one trial directory, ``<experiment_dir>/<trial_name>_<date><random>``
(``experiment_dir`` defaults to ``~/ray_results/default``), with the files a
trial has: ``params.json``/``params.pkl``, ``result.json``, ``progress.csv``
and TensorBoard events, written by the ``UnifiedLogger``. No engine runs:
this is a plain Python logging loop, as in Ray.
"""
import datetime
import os

from tunec.result import DEFAULT_RESULTS_DIR, TRAINING_ITERATION


class TrackSession:
    """Logs the results of one standalone session into its own trial directory.

    Attributes:
        trial_id: the session's id (``<trial_name>_<8 hex>`` when named).
        logdir: the trial directory.
        trial_config: the parameters written to params.json.
    """

    is_tune_session = False

    def __init__(self, trial_name="", experiment_dir=None, upload_dir=None,
                 trial_config=None):
        from tunec.logger import UnifiedLogger
        from tunec.trial import Trial
        if upload_dir:
            raise NotImplementedError("Upload Dir is not yet implemented.")
        self._iteration = -1      # Ray's counter: the first row is iteration 0
        self.trial_id = Trial.generate_id()
        if trial_name:
            self.trial_id = trial_name + "_" + self.trial_id
        if experiment_dir is None:
            experiment_dir = os.path.join(DEFAULT_RESULTS_DIR, "default")
        self._experiment_dir = os.path.abspath(os.path.expanduser(os.fspath(experiment_dir)))
        self._logdir = Trial.create_logdir(trial_name, self._experiment_dir)
        self._upload_dir = upload_dir
        self.trial_config = dict(trial_config or {})
        self.trial_config["trial_id"] = self.trial_id
        self._logger = UnifiedLogger(self.trial_config, self._logdir)

    def log(self, **metrics):
        """Logs one result: `metrics` plus ``trial_id`` and, unless given,
        ``training_iteration`` (0 for the first call)."""
        self._iteration += 1
        row = dict(metrics)
        row["trial_id"] = self.trial_id
        row.setdefault(TRAINING_ITERATION, self._iteration)
        self._logger.on_result(row)

    def close(self):
        self.trial_config["trial_completed"] = True
        self.trial_config["end_time"] = datetime.datetime.now().isoformat()
        self._logger.update_config(self.trial_config)
        self._logger.close()

    @property
    def logdir(self):
        return self._logdir

    @property
    def experiment_dir(self):
        return self._experiment_dir
