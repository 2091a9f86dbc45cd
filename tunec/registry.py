"""The trainable registry (spec §15.1): ``register_trainable`` and
``register_env``. Names map to functions or Trainable classes; tune.run
resolves a string through here."""
from tunec.error import TuneError

_trainables = {}
_envs = {}


def register_trainable(name, trainable):
    """Registers a function or Trainable subclass under `name`."""
    from tunec.trainable import Trainable
    if not isinstance(name, str):
        raise TypeError("register_trainable: name must be a str, got {!r}".format(name))
    if isinstance(trainable, type):
        if not issubclass(trainable, Trainable):
            raise TypeError("Second argument must be convertable to Trainable", trainable)
    elif not callable(trainable):
        raise TypeError("Second argument must be convertable to Trainable", trainable)
    else:
        from tunec.function_runner import call_style
        call_style(trainable)      # a function Tune cannot call fails here
    _trainables[name] = trainable


def register_env(name, env_creator):
    if not callable(env_creator):
        raise TypeError("Second argument must be a function.", env_creator)
    _envs[name] = env_creator


def get_trainable(name):
    try:
        return _trainables[name]
    except KeyError:
        raise TuneError("Unknown trainable: " + name) from None


def has_trainable(name):
    return name in _trainables


def get_env(name):
    return _envs.get(name)
