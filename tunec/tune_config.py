"""The 2.x configuration objects of a ``Tuner``: ``TuneConfig`` (``ray.tune``),
``RunConfig`` and ``FailureConfig`` (``ray.train``; ``ray.air.config`` in 2.0-2.6).

They hold what ``tune.run`` takes as keyword arguments, grouped as Ray 2.x
groups them; ``Tuner.fit`` turns them back into one ``tune.run`` call
(``run_kwargs``), so every value is checked where ``tune.run`` checks it and
an option ``tune.run`` refuses is refused here too. Only the checks Ray's own
dataclasses make at construction are made here.
"""
import dataclasses
from typing import Any, Callable, List, Optional, Union

from tunec.checkpoint import CheckpointConfig

__all__ = ["TuneConfig", "RunConfig", "FailureConfig", "CheckpointConfig"]


@dataclasses.dataclass
class TuneConfig:
    """How to search: Ray 2.x ``tune.TuneConfig`` with Ray's defaults."""

    mode: Optional[str] = None
    metric: Optional[str] = None
    search_alg: Optional[Any] = None
    scheduler: Optional[Any] = None
    num_samples: int = 1
    max_concurrent_trials: Optional[int] = None
    time_budget_s: Optional[Any] = None
    reuse_actors: Optional[bool] = None
    trial_name_creator: Optional[Callable] = None
    trial_dirname_creator: Optional[Callable] = None

    def __post_init__(self):
        if self.mode not in (None, "min", "max"):
            raise ValueError("TuneConfig(mode=...): must be 'min', 'max' or None, got {!r}"
                             .format(self.mode))

    def run_kwargs(self):
        kwargs = dict(metric=self.metric, mode=self.mode, search_alg=self.search_alg,
                      scheduler=self.scheduler, num_samples=self.num_samples,
                      max_concurrent_trials=self.max_concurrent_trials,
                      time_budget_s=self.time_budget_s,
                      trial_name_creator=self.trial_name_creator,
                      trial_dirname_creator=self.trial_dirname_creator)
        if self.reuse_actors is not None:
            kwargs["reuse_actors"] = self.reuse_actors
        return kwargs


@dataclasses.dataclass
class FailureConfig:
    """Ray 2.x ``FailureConfig``: retries per trial, and whether one failed
    trial ends the experiment (``fail_fast=True``, or ``"raise"`` to raise
    the trial's own exception)."""

    max_failures: int = 0
    fail_fast: Union[bool, str] = False

    def __post_init__(self):
        if isinstance(self.fail_fast, str) and self.fail_fast.upper() != "RAISE":
            raise ValueError("FailureConfig(fail_fast=...): must be a bool or 'raise', got {!r}"
                             .format(self.fail_fast))


@dataclasses.dataclass
class RunConfig:
    """Where and how an experiment runs: Ray 2.x ``RunConfig``.

    ``storage_path`` defaults to ``~/ray_results`` (``TUNE_RESULT_DIR``), and
    ``name`` to ``<trainable name>_<date>`` (Ray 2.x); ``local_dir`` is the
    2.0-2.6 spelling of ``storage_path``.
    """

    name: Optional[str] = None
    storage_path: Optional[str] = None
    storage_filesystem: Optional[Any] = None
    callbacks: Optional[List[Any]] = None
    stop: Optional[Any] = None
    failure_config: Optional[FailureConfig] = None
    sync_config: Optional[Any] = None
    checkpoint_config: Optional[CheckpointConfig] = None
    progress_reporter: Optional[Any] = None
    verbose: Optional[int] = None
    log_to_file: Union[bool, str, tuple] = False
    local_dir: Optional[str] = None

    def __post_init__(self):
        if self.failure_config is not None and not isinstance(self.failure_config, FailureConfig):
            raise TypeError("RunConfig(failure_config=...): expected a FailureConfig, got {!r}"
                            .format(self.failure_config))
        if self.checkpoint_config is not None and \
                not isinstance(self.checkpoint_config, CheckpointConfig):
            raise TypeError("RunConfig(checkpoint_config=...): expected a CheckpointConfig, "
                            "got {!r}".format(self.checkpoint_config))
        if self.storage_filesystem is not None:
            raise NotImplementedError("RunConfig(storage_filesystem=...) is not supported by "
                                      "tunec: it has no remote storage; give storage_path as a "
                                      "directory on this machine")
        if self.local_dir is not None:
            if self.storage_path is not None:
                raise ValueError("RunConfig: give storage_path or its old spelling local_dir, "
                                 "not both")
            self.storage_path, self.local_dir = self.local_dir, None

    def run_kwargs(self):
        failure = self.failure_config or FailureConfig()
        kwargs = dict(stop=self.stop, callbacks=self.callbacks, sync_config=self.sync_config,
                      checkpoint_config=self.checkpoint_config,
                      progress_reporter=self.progress_reporter, log_to_file=self.log_to_file,
                      max_failures=failure.max_failures, fail_fast=failure.fail_fast)
        if self.verbose is not None:
            kwargs["verbose"] = int(self.verbose)
        return kwargs
