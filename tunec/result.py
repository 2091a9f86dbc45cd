"""Result keys, file names and directories (``ray.tune.result``, spec §4).

Plain constants: every result dict, log file and analysis column tunec
writes uses these names, so a Ray Tune user's code that imports them from
``ray.tune.result`` keeps working against ``tunec.result``.
"""
import os

# -- result keys (spec §4 table) ----------------------------------------------
# Filled by the driver: the trial ended on this result.
DONE = "done"
# Set by the user to force a persistent checkpoint after this result.
SHOULD_CHECKPOINT = "should_checkpoint"
# Where the trial process runs.
HOSTNAME = "hostname"
NODE_IP = "node_ip"
PID = "pid"
# Driver-filled identity of the trial.
TRIAL_ID = "trial_id"
EXPERIMENT_TAG = "experiment_tag"
# The anonymous metric of ``tune.report(value)`` (0.8.7+).
DEFAULT_METRIC = "_metric"
# Conventional user metrics: default progress columns and scheduler metrics.
EPISODE_REWARD_MEAN = "episode_reward_mean"
MEAN_LOSS = "mean_loss"
NEG_MEAN_LOSS = "neg_mean_loss"
MEAN_ACCURACY = "mean_accuracy"
# Counters: *_this_iter are reported by the user, *_total accumulated by train.
EPISODES_THIS_ITER = "episodes_this_iter"
EPISODES_TOTAL = "episodes_total"
TIMESTEPS_THIS_ITER = "timesteps_this_iter"
TIMESTEPS_TOTAL = "timesteps_total"
# Seconds: this iteration (user value wins) and the running sum.
TIME_THIS_ITER_S = "time_this_iter_s"
TIME_TOTAL_S = "time_total_s"
# 1-based count of train() calls.
TRAINING_ITERATION = "training_iteration"

# Magic keys used internally: a duplicate final result of a function trainable
# (sets done on the previous result) and the trial-info config entry.
RESULT_DUPLICATE = "__duplicate__"
TRIAL_INFO = "__trial_info__"

DEFAULT_EXPERIMENT_INFO_KEYS = ("trainable_name", EXPERIMENT_TAG, TRIAL_ID)
DEFAULT_RESULT_KEYS = (TRAINING_ITERATION, TIME_TOTAL_S, TIMESTEPS_TOTAL,
                       MEAN_ACCURACY, MEAN_LOSS)

# Keys `train` fills on every result; progress reporters never show them as
# user metrics (ray.tune.result.AUTO_RESULT_KEYS, 1.x).
AUTO_RESULT_KEYS = (
    TRAINING_ITERATION, TIME_TOTAL_S, EPISODES_TOTAL, TIMESTEPS_TOTAL, NODE_IP,
    HOSTNAME, PID, TIME_TOTAL_S, TIME_THIS_ITER_S, "timestamp", "experiment_id",
    "date", "time_since_restore", "iterations_since_restore",
    "timesteps_since_restore", "config",
)

# -- files (spec §10.1) ---------------------------------------------------------
EXPR_PARAM_FILE = "params.json"
EXPR_PARAM_PICKLE_FILE = "params.pkl"
EXPR_PROGRESS_FILE = "progress.csv"
EXPR_RESULT_FILE = "result.json"
# automlboard status files; Tune itself does not write them.
JOB_META_FILE = "job_status.json"
EXPR_META_FILE = "trial_status.json"

# Prefix of config columns in analysis dataframes: "config/<key>" (spec §4, §17.10).
CONFIG_PREFIX = "config/"

# Where experiments go by default (spec §18.8): TEST_TMPDIR, else
# TUNE_RESULT_DIR, else ~/ray_results; "~" is expanded. Read once at import,
# as Ray does.
DEFAULT_RESULTS_DIR = os.path.expanduser(
    os.environ.get("TEST_TMPDIR")
    or os.environ.get("TUNE_RESULT_DIR")
    or "~/ray_results")
