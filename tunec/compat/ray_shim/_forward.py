"""Module-level ``__getattr__`` for the ray.air / ray.train stand-ins: each
name is tunec's namesake, looked up when first used, so names other parts of
tunec add (the Tuner API's RunConfig, ...) appear here without a change."""
import importlib


def forwarder(module_name, names):
    """A module __getattr__ giving tunec.<names[n]> for n, else AttributeError
    naming what tunec lacks."""

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        target = names.get(name, name)
        tunec = importlib.import_module("tunec")
        try:
            return getattr(tunec, target)
        except AttributeError:
            raise AttributeError("module {!r} has no attribute {!r}: tunec has no {} yet "
                                 "(see docs/migration.md)".format(module_name, name,
                                                                  "tune." + target)) from None
    return __getattr__
