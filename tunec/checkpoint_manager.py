"""``ray.tune.checkpoint_manager`` (0.8): ``Checkpoint`` and the driver-side
``CheckpointManager`` of one trial.

Which persistent checkpoints survive is decided by the engine's retention
rule (src/engine/checkpoint.c, through ``_tunec.CheckpointRetention``) — the
rule tune.run applies to every trial: the newest checkpoint is kept until a
newer one replaces it, plus the `keep_checkpoints_num` best by
`checkpoint_score_attr` ("min-" in front: lower is better). A checkpoint
whose result lacks the attribute is never among the best. On equal scores
the newer checkpoint ranks higher (Ray 2.x; Ray 0.8's heap keeps the older).
"""
import logging

from tunec.result import TRAINING_ITERATION
from tunec.trial import Checkpoint

logger = logging.getLogger("ray.tune.checkpoint_manager")

__all__ = ["Checkpoint", "CheckpointManager"]


class _KeepNumError(ValueError, AssertionError):
    """Ray asserts keep_checkpoints_num > 0; either exception type catches it."""


class CheckpointManager:
    """Manages the checkpoints of one trial on the driver."""

    def __init__(self, keep_checkpoints_num, checkpoint_score_attr, delete_fn=None):
        from tunec import _tunec
        if keep_checkpoints_num is not None and keep_checkpoints_num <= 0:
            raise _KeepNumError("keep_checkpoints_num must be greater than 0.")
        self.keep_checkpoints_num = keep_checkpoints_num or float("inf")
        checkpoint_score_attr = checkpoint_score_attr or TRAINING_ITERATION
        self._checkpoint_score_desc = checkpoint_score_attr.startswith("min-")
        self._checkpoint_score_attr = (checkpoint_score_attr[4:] if self._checkpoint_score_desc
                                       else checkpoint_score_attr)
        self.delete = delete_fn
        self.newest_persistent_checkpoint = Checkpoint(Checkpoint.PERSISTENT, None)
        self.newest_memory_checkpoint = Checkpoint(Checkpoint.MEMORY, None)
        self._retention = _tunec.CheckpointRetention(keep_checkpoints_num or 0)
        self._by_key = {}      # retention key -> (Checkpoint, priority or None)
        self._next_key = 0

    @property
    def newest_checkpoint(self):
        """The newest checkpoint, memory or persistent, by training iteration."""
        return max([self.newest_persistent_checkpoint, self.newest_memory_checkpoint],
                   key=lambda c: c.result.get(TRAINING_ITERATION, -1))

    def on_checkpoint(self, checkpoint):
        """Tracks `checkpoint` as the newest; a persistent one goes through
        the retention rule, and the checkpoints it drops are deleted."""
        if checkpoint.storage == Checkpoint.MEMORY:
            self.newest_memory_checkpoint = checkpoint
            return
        self.newest_persistent_checkpoint = checkpoint
        try:
            priority = self._priority(checkpoint)
        except KeyError:
            logger.error("Result dict has no key: %s. checkpoint_score_attr must be set to a "
                         "key in the result dict.", self._checkpoint_score_attr)
            priority = None
        key = str(self._next_key)
        self._next_key += 1
        self._by_key[key] = (checkpoint, priority)
        result = checkpoint.result or {}
        for dropped in self._retention.add(key, int(result.get(TRAINING_ITERATION) or 0),
                                           priority):
            old, _ = self._by_key.pop(dropped)
            if self.delete is not None:
                self.delete(old)

    def best_checkpoints(self):
        """The best persistent checkpoints, worst first (Ray's order). The
        newest is among them only if its score earns it a place."""
        scored = [self._by_key[k] for k in self._retention.keys()
                  if self._by_key[k][1] is not None]
        if len(scored) > self.keep_checkpoints_num:
            scored = scored[:-1]       # the newest, kept only for being newest
        return [c for c, _ in sorted(scored, key=lambda pair: pair[1])]

    def _priority(self, checkpoint):
        priority = checkpoint.result[self._checkpoint_score_attr]
        return -priority if self._checkpoint_score_desc else priority

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("delete")
        state.pop("_retention")
        state["_kept"] = [(k, self._by_key[k]) for k in self._retention.keys()]
        return state

    def __setstate__(self, state):
        from tunec import _tunec
        kept = state.pop("_kept")
        self.__dict__.update(state)
        self.delete = None
        keep = self.keep_checkpoints_num
        self._retention = _tunec.CheckpointRetention(0 if keep == float("inf") else keep)
        for key, (checkpoint, priority) in kept:
            self._retention.add(key, int((checkpoint.result or {}).get(TRAINING_ITERATION) or 0),
                                priority)
