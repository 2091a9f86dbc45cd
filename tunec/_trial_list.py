"""The trials ``tune.run`` returns, built on demand (issue 12).

A finished run of 100,000 trials keeps them compactly in the engine; a
Python ``Trial`` (a few KB of dicts each) is made from the engine's snapshot
when the user reaches it, and is kept only while the user holds it: the same
index gives the same object as long as it is alive, as a list would. The
list is read-only, like the snapshot it is (changing a Trial never changed
the run).
"""
import collections.abc
import weakref


class TrialList(collections.abc.Sequence):
    """A read-only sequence of ``Trial`` over a finished run's engine."""

    def __init__(self, runner):
        self._runner = runner
        self._n = len(runner.run_handle.trial_statuses())
        self._alive = weakref.WeakValueDictionary()

    def __len__(self):
        return self._n

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        index = index.__index__()
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("trial index out of range")
        trial = self._alive.get(index)
        if trial is None:
            trial = self._runner._trial(self._runner.run_handle.trial_snapshot(index))
            self._alive[index] = trial
        return trial

    def statuses(self):
        """Every trial's status, without building the trials."""
        return self._runner.run_handle.trial_statuses()

    def __eq__(self, other):
        if isinstance(other, (list, TrialList)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __add__(self, other):
        return list(self) + list(other)

    def __radd__(self, other):
        return list(other) + list(self)

    def __repr__(self):
        return repr(list(self))
