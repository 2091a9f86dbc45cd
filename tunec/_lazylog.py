"""Module loggers that import ``logging`` only when they are used (issue 12,
start-up).

``logging`` (with ``traceback``, ``string``, ``threading``) costs a busy CPU
10-15 ms; the modules on tune.run's way to its first trial name a logger
when imported but log only on rare paths. ``getLogger(name)`` is a stand-in
whose every attribute is looked up on ``logging.getLogger(name)`` at the
moment of use, so what a user configured on that logger (level, handlers,
``propagate``), before or after, applies as before.
"""


class _Logger:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __getattr__(self, attr):
        import logging
        return getattr(logging.getLogger(self.name), attr)

    def __repr__(self):
        return "<lazy logger {}>".format(self.name)


def getLogger(name):   # noqa: N802 - logging's own spelling
    return _Logger(name)
