"""Function trainables: which call forms a function accepts (spec §3.1, §3.3,
§3.4, §18.12) and how a worker runs one.

The check runs on the driver before any trial starts, so a function with an
argument Tune cannot fill fails at ``tune.run`` with a message naming it.
"""
from numbers import Number

from tunec.error import TuneError
from tunec.trainable import Trainable

_EXTRA_ARGS = ("reporter", "checkpoint", "checkpoint_dir")
_FunctionType = type(lambda: None)
_CO_VARARGS = 0x04      # the code flags inspect reads (Include/cpython/code.h)
_CO_GENERATOR = 0x20


def _plain(func):
    """True for a Python function whose code object is its signature: no
    decorator's ``__wrapped__``, no ``__signature__``, not a partialmethod.
    Those are read without ``inspect`` (6-13 ms of a busy CPU to import, on
    the way to the first trial in the driver and in each worker)."""
    return type(func) is _FunctionType and not (
        hasattr(func, "__wrapped__") or hasattr(func, "__signature__")
        or hasattr(func, "_partialmethod"))


def _parameters(func):
    """(names of the positional parameters, how many of them have no
    default, whether there is ``*args``), as inspect.signature sees them;
    TypeError/ValueError where it cannot."""
    if _plain(func):
        code = func.__code__
        names = code.co_varnames[:code.co_argcount]
        return list(names), len(names) - len(func.__defaults__ or ()), \
            bool(code.co_flags & _CO_VARARGS)
    import inspect
    params = list(inspect.signature(func).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return ([p.name for p in positional], sum(p.default is p.empty for p in positional),
            any(p.kind == p.VAR_POSITIONAL for p in params))


def call_style(func):
    """How ``func`` is called: "config" (track/report style), "reporter"
    (``f(config, reporter)``), or "checkpoint_dir"/"checkpoint" (checkpointing
    functions, called with ``None`` until restores exist)."""
    try:
        positional, required, varargs = _parameters(func)
    except (TypeError, ValueError):
        return "reporter"      # Ray's fallback when inspection fails
    if varargs:
        return "config"
    if not positional:
        raise TuneError("Trainable function {} must take a `config` argument".format(
            _name(func)))
    if len(positional) == 1:
        return "reporter" if positional[0] == "reporter" else "config"
    extra = positional[1]
    if required > 2 or extra not in _EXTRA_ARGS or len(positional) > 2:
        bad = [p for p in positional[1:] if p not in _EXTRA_ARGS] or positional[2:]
        raise ValueError(
            "Unknown argument found in the Trainable function {}: {}. Arguments other than "
            "the 'config' arg must be one of ['reporter', 'checkpoint_dir', "
            "'checkpoint']".format(_name(func), bad))
    return extra


def _is_generator_function(func):
    """inspect.isgeneratorfunction, which reads the same flag of a plain function."""
    if type(func) is _FunctionType:
        return bool(func.__code__.co_flags & _CO_GENERATOR)
    import inspect
    return inspect.isgeneratorfunction(func)


def _name(func):
    return getattr(func, "__name__", repr(func))


def run_function(func, style, config, reporter, checkpoint=None):
    """Runs the user's function in the worker; reports go through the session.
    `checkpoint` is the path a restored trial starts from (given as
    ``checkpoint_dir=`` / ``checkpoint=``; 2.x code asks tune.get_checkpoint()).

    What the function produces is reported as Ray 1.x/2.x does: a returned
    value is one more result, and so is each value a generator function
    yields (``handle_output`` in Ray's function runner)."""
    if style == "config":
        call = lambda: func(config)                       # noqa: E731
    elif style == "reporter":
        call = lambda: func(config, reporter)             # noqa: E731
    else:
        call = lambda: func(config, **{style: checkpoint})  # noqa: E731
    if _is_generator_function(func):
        for output in call():
            report_output(output)
        return None
    output = call()
    report_output(output)
    return output


def report_output(output):
    """One returned or yielded value: a dict is a result, a number the result
    ``{"_metric": value}``, anything else an error in the trial. None (no
    return) and an empty dict report nothing. A number is reported even when
    it is 0: Ray's ``if not output`` drops a final score of 0.0, and no value a
    trainable produces may vanish without a result."""
    from tunec.session import _report
    if output is None or (isinstance(output, dict) and not output):
        return
    if isinstance(output, dict):
        _report(dict(output))
    elif isinstance(output, Number):
        _report({"_metric": output})
    else:
        raise ValueError(
            "Invalid return or yield value. Either return/yield a single number or a "
            "dictionary object in your trainable function (got {}).".format(
                type(output).__name__))


class FunctionRunner(Trainable):
    """Ray's Trainable wrapper of a function trainable. Under tune.run (and
    TrialRunner) tunec runs the wrapped function itself, in a worker, as it
    runs any function trainable; stepping an instance by hand is not
    supported."""

    _name = "func"
    _function = None

    def __init__(self, config=None, logger_creator=None):
        raise NotImplementedError(
            "{}: a wrap_function() class runs through tune.run or TrialRunner; tunec cannot "
            "step a function trainable by hand (train())".format(type(self).__name__))


def wrap_function(train_func, durable=False, warn=True):
    """Ray's wrap_function: a Trainable subclass for `train_func`, which
    tune.run, Experiment and register_trainable accept wherever they take the
    function (``_function`` is the function). Checks the call form now."""
    if durable:
        raise NotImplementedError("wrap_function(durable=True) needs syncing to upload_dir, "
                                  "which this tunec release does not have")
    call_style(train_func)
    name = getattr(train_func, "__name__", "func")
    return type("ImplicitFunc", (FunctionRunner,),
                {"_function": staticmethod(train_func), "_name": name, "__module__": __name__})


def unwrap_function(trainable):
    """The function a wrap_function() class wraps, else `trainable`."""
    if isinstance(trainable, type) and issubclass(trainable, FunctionRunner) and \
            trainable._function is not None:
        return trainable._function
    return trainable
