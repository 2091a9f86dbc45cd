"""Exceptions of tunec, named as in ``ray.tune.error``."""


class TuneError(Exception):
    """General error class raised by tunec (``ray.tune.TuneError``)."""


class AbortTrialExecution(TuneError):
    """The trial cannot proceed (failed actor reuse or restore)."""


class TuneManagerError(TuneError):
    """Web-server command errors."""


class RecursiveDependencyError(Exception):
    """A ``sample_from`` function touched a value that is not resolved yet."""
