"""What the integration logger callbacks share: Ray's ``LoggerCallback``
(``log_trial_start``/``log_trial_result``/``log_trial_end`` called from the
``Callback`` hooks, tunec/logger.py) and the result/config flattening."""
from tunec.logger import LoggerCallback  # noqa: F401 - re-exported for the integrations


def numeric_metrics(result, exclude=()):
    """The flattened (``a/b``) int/float entries of a result, bools and the
    bookkeeping in ``exclude`` left out: what a tracker can plot."""
    import numbers
    from tunec.logger import _flatten_dict
    metrics = {}
    for key, value in _flatten_dict(result).items():
        if key.split("/", 1)[0] in exclude or isinstance(value, bool):
            continue
        if isinstance(value, numbers.Number) and not isinstance(value, complex):
            metrics[key] = float(value)
    return metrics


def flat_config(config):
    from tunec.logger import _flatten_dict
    return _flatten_dict(dict(config or {}))


# Result fields that are bookkeeping, not metrics (Ray's excludes).
NOT_METRICS = ("done", "should_checkpoint", "trial_id", "experiment_id", "date", "timestamp",
               "pid", "hostname", "node_ip", "config", "experiment_tag", "training_iteration")
