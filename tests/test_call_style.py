"""function_runner.call_style reads a plain function's code object instead
of inspect.signature (issue 12, start-up): both must give the same answer
for every form a trainable can take."""
import functools
import inspect

import pytest

from tunec import function_runner
from tunec.function_runner import _is_generator_function, _parameters, _plain, call_style


def _by_inspect(func):
    params = list(inspect.signature(func).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return ([p.name for p in positional], sum(p.default is p.empty for p in positional),
            any(p.kind == p.VAR_POSITIONAL for p in params))


def f_config(config): pass
def f_reporter(config, reporter): pass
def f_only_reporter(reporter): pass
def f_checkpoint_dir(config, checkpoint_dir=None): pass
def f_checkpoint(config, checkpoint=None): pass
def f_posonly(config, /, reporter): pass
def f_kwonly(config, *, extra): pass
def f_varargs(*args): pass
def f_config_varargs(config, *args, **kwargs): pass
def f_defaults(config=None, reporter=None): pass
def f_three(config, reporter, other): pass
def f_bad_second(config, other): pass
def f_none(): pass
def f_locals(config):
    x = 1
    return x
def f_generator(config):
    yield {"v": 1}


@functools.wraps(f_reporter)
def f_wrapped(*args, **kwargs):
    return f_reporter(*args, **kwargs)


def f_signature(*args): pass
f_signature.__signature__ = inspect.signature(f_checkpoint)


class Callable:
    def __call__(self, config, reporter): pass


FUNCTIONS = [f_config, f_reporter, f_only_reporter, f_checkpoint_dir, f_checkpoint, f_posonly,
             f_kwonly, f_varargs, f_config_varargs, f_defaults, f_three, f_bad_second, f_none,
             f_locals, f_generator, f_wrapped, f_signature, Callable(),
             functools.partial(f_three, other=1), lambda config: None, lambda c, r: None]


def _style(func):
    try:
        return call_style(func)
    except Exception as exc:   # noqa: B902 - the error is compared too
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: getattr(f, "__name__", repr(f)))
def test_the_code_object_answers_as_inspect_does(func, monkeypatch):
    assert _parameters(func) == _by_inspect(func)
    assert _is_generator_function(func) == inspect.isgeneratorfunction(func)
    fast = _style(func)
    monkeypatch.setattr(function_runner, "_plain", lambda f: False)   # inspect for all
    assert _style(func) == fast


def test_decorated_and_odd_callables_go_through_inspect():
    assert _plain(f_config) and _plain(f_generator)
    assert not _plain(f_wrapped)          # __wrapped__: the wrapped function's signature
    assert not _plain(f_signature)        # __signature__ wins
    assert not _plain(Callable()) and not _plain(functools.partial(f_three, other=1))
    assert call_style(f_wrapped) == "reporter"
    assert call_style(f_signature) == "checkpoint"


@pytest.mark.parametrize("func, style", [
    (f_config, "config"), (f_reporter, "reporter"), (f_only_reporter, "reporter"),
    (f_checkpoint_dir, "checkpoint_dir"), (f_checkpoint, "checkpoint"),
    (f_posonly, "reporter"), (f_kwonly, "config"), (f_varargs, "config"),
    (f_config_varargs, "config"), (f_defaults, "reporter"), (f_locals, "config"),
])
def test_call_styles(func, style):
    assert call_style(func) == style


@pytest.mark.parametrize("func, error", [
    (f_none, "must take a `config` argument"),
    (f_three, "Unknown argument found"),
    (f_bad_second, "Unknown argument found"),
])
def test_functions_tune_cannot_call(func, error):
    with pytest.raises(Exception, match=error):
        call_style(func)
