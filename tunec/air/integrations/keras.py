"""``ray.air.integrations.keras`` (2.x): ``ReportCheckpointCallback``."""
__all__ = ["ReportCheckpointCallback"]


def __getattr__(name):
    if name == "ReportCheckpointCallback":
        from tunec.integration import keras
        return keras.ReportCheckpointCallback
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
