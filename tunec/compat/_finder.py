"""The import hook that makes ``ray.tune`` mean tunec (docs/migration.md,
"Running unchanged scripts").

A meta path finder placed first on ``sys.meta_path``. It maps a ``ray`` module
name to the tunec module that stands in for it and hands back that very module
object, so ``ray.tune.schedulers.ASHAScheduler is
tunec.schedulers.ASHAScheduler`` and a pickled object names its tunec module,
which a worker imports without any hook.

Two modes:
  "shim" -- no Ray: ``ray`` itself is tunec.compat.ray_shim, and every
            ``ray.X`` is ``tunec.compat.ray_shim.X``.
  "real" -- Ray's own ``ray`` package: only ``ray.tune``, ``ray.air`` and
            ``ray.train`` (and their submodules) are tunec's.
"""
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

SHIM = "tunec.compat.ray_shim"

# ray.tune.<path> -> tunec.<path>, by name, so that any module tunec grows
# resolves. Ray 2.x renamed ray.tune.suggest to ray.tune.search: both lead
# to tunec.search where it exists, else tunec.suggest.
_TUNE_RENAMES = {"search": ("search", "suggest"), "suggest": ("suggest", "search")}


def tunec_candidates(name):
    """The tunec modules that may stand in for the ray module `name`, best
    first; () when tunec does not handle it in "real" mode terms."""
    parts = name.split(".")
    if parts[:2] == ["ray", "tune"]:
        rest = parts[2:]
        if not rest:
            return ("tunec",)
        heads = _TUNE_RENAMES.get(rest[0], (rest[0],))
        return tuple(".".join(["tunec", head] + rest[1:]) for head in heads)
    if len(parts) >= 2 and parts[1] in ("air", "train"):
        rest = parts[1:]
        return (".".join(["tunec"] + rest), ".".join([SHIM] + rest))
    return ()


def _exists(module_name):
    if module_name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module_name) is not None
    except ImportError:        # a parent package is missing
        return False


class _AliasLoader(importlib.abc.Loader):
    """Loads a ray name as the tunec module `target` (or fails saying what
    the shim lacks). The import system returns what sys.modules holds under
    the name once exec_module is done, so the target module itself is what
    the importer gets; nothing of the target is overwritten."""

    def __init__(self, target, missing=None):
        self.target = target
        self.missing = missing

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if self.target is None:
            raise ModuleNotFoundError(self.missing, name=module.__name__)
        sys.modules[module.__name__] = importlib.import_module(self.target)


class RayAliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, mode):
        if mode not in ("shim", "real"):
            raise ValueError("RayAliasFinder: mode must be 'shim' or 'real', got {!r}".format(mode))
        self.mode = mode

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "ray" and not fullname.startswith("ray."):
            return None
        candidates = tunec_candidates(fullname)
        if self.mode == "shim":
            candidates = candidates or (SHIM + fullname[len("ray"):],)
        elif not candidates:
            return None            # Ray's own module
        for candidate in candidates:
            if _exists(candidate):
                return self._spec(fullname, candidate)
        if fullname.startswith(("ray.tune", "ray.air", "ray.train")):
            if self.mode == "real" and not fullname.startswith("ray.tune"):
                return None        # Ray's own ray.air/ray.train module, which tunec lacks
            return self._spec(fullname, None, missing=(
                "No module named {!r}: tunec has no counterpart of it (looked for {}); "
                "see docs/migration.md".format(fullname, " and ".join(candidates))))
        return self._spec(fullname, None, missing=(
            "No module named {!r}: Ray is not installed, and tunec's stand-in for Ray has "
            "ray.init, ray.shutdown, ray.put, ray.get, ray.wait, ray.remote, ray.tune, ray.air "
            "and ray.train only; install Ray for the rest".format(fullname)))

    @staticmethod
    def _spec(fullname, target, missing=None):
        # is_package: a package spec lets `import ray.tune.x` look for x.
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target, missing),
                                              is_package=True)
