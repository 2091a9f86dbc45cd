"""Code written for Ray, run on tunec: ``import ray`` / ``from ray import
tune`` resolve to tunec while the aliases are installed (``tunec run``
installs them for a script's run; a notebook may call install()).

The rule for ``ray`` itself (the mode):
  "auto" (default) -- tunec's stand-in (tunec.compat.ray_shim), unless the
            script connects to a cluster (``ray.init(address=...)``, or
            RAY_ADDRESS set) and Ray is installed: then Ray's own ``ray``
            from that ray.init on.
  "shim"  -- always the stand-in, even where Ray is installed.
  "real"  -- always Ray's own ``ray`` (it must be installed).
In every mode ``ray.tune`` is tunec (``ray.tune.X`` is ``tunec.X``), and
``ray.air`` / ``ray.train`` are tunec's counterparts.

Trial workers inherit the aliases (TUNEC_RAY in their environment), so a
module of the user's that does ``from ray import tune`` imports there too.
"""
import contextlib
import importlib
import importlib.machinery
import os
import sys

from tunec.compat._finder import SHIM, RayAliasFinder

MODES = ("auto", "shim", "real")
ENV = "TUNEC_RAY"

_finder = None
_mode = None
_saved_env = None


def real_ray_installed():
    """Whether Ray's own package is on sys.path (looked up past the hook)."""
    return importlib.machinery.PathFinder.find_spec("ray") is not None


def installed_mode():
    """The mode of the installed aliases, or None."""
    return _mode


def install(mode="auto"):
    """Installs the aliases (replacing any installed ones)."""
    global _finder, _mode, _saved_env
    if mode not in MODES:
        raise ValueError("ray mode must be one of {}, got {!r}".format(", ".join(MODES), mode))
    if mode == "real" and not real_ray_installed():
        raise RuntimeError("ray mode 'real': Ray is not installed (pip install 'ray[tune]'), "
                           "or use mode 'auto' or 'shim' for tunec's stand-in")
    uninstall()
    loaded = sys.modules.get("ray")
    real_loaded = loaded is not None and not getattr(loaded, "__name__", "").startswith("tunec")
    _finder = RayAliasFinder("real" if mode == "real" or real_loaded else "shim")
    _mode = mode
    sys.meta_path.insert(0, _finder)
    _saved_env = os.environ.get(ENV)
    os.environ[ENV] = _finder.mode


def uninstall():
    """Removes the aliases and the tunec modules imported under ray names
    (Ray's own modules, once imported, stay)."""
    global _finder, _mode, _saved_env
    if _finder is None:
        return
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == "ray" or n.startswith("ray.")]:
        if getattr(sys.modules[name], "__name__", "").startswith("tunec"):
            del sys.modules[name]
    if _saved_env is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = _saved_env
    _finder = _mode = _saved_env = None


@contextlib.contextmanager
def ray_aliases(mode="auto"):
    """install(mode) for the duration of a with block."""
    install(mode)
    try:
        yield
    finally:
        uninstall()


def connect_real_ray():
    """The stand-in's ray.init was given a cluster address: in "auto" mode
    with Ray installed, ``ray`` becomes Ray's own module from here on (and
    for workers started later), which this returns; else None."""
    if _finder is None or _mode != "auto" or _finder.mode == "real" or not real_ray_installed():
        return None
    _finder.mode = "real"
    os.environ[ENV] = "real"
    for name in [n for n in sys.modules if n == "ray" or n.startswith("ray.")]:
        if getattr(sys.modules[name], "__name__", "").startswith(SHIM):
            del sys.modules[name]
    real = importlib.import_module("ray")
    for part in ("tune", "air", "train"):
        if "ray." + part in sys.modules:
            setattr(real, part, sys.modules["ray." + part])
    return real


def install_from_environment():
    """In a trial's worker: the aliases its driver had (TUNEC_RAY)."""
    mode = os.environ.get(ENV)
    if mode in ("shim", "real") and _finder is None:
        install("real" if mode == "real" and real_ray_installed() else "shim")
