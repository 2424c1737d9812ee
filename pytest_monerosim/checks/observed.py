"""How check functions announce themselves, so reports can show each check as a step.

:func:`observed` decorates every public check where it is defined (so
``checks.consensus.consensus_reached`` and ``checks.consensus_reached`` are the
same wrapped function); while a listener is installed (with
:func:`listening`), every call reports its name, its arguments (after the
run) and whether it passed. With no listener the wrapper costs one context
variable lookup. The plugin installs a listener per test that turns checks
into Allure steps and ``check`` events on the bus.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class CheckListener(Protocol):
    def check_started(self, name: str, args: dict[str, str]) -> Any:
        """Return a token handed back to :meth:`check_finished`."""

    def check_finished(self, token: Any, name: str, error: BaseException | None) -> None: ...


_listeners: ContextVar[tuple[CheckListener, ...]] = ContextVar("monerosim_check_listeners", default=())


def describe_args(args: tuple[Any, ...], kwargs: dict[str, Any], limit: int = 80) -> dict[str, str]:
    out = {f"arg{i}": _short(a, limit) for i, a in enumerate(args[1:], 1)}
    out.update({k: _short(v, limit) for k, v in kwargs.items()})
    return out


def _short(value: Any, limit: int) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def call_string(name: str, args: dict[str, str]) -> str:
    inner = ", ".join(v if k.startswith("arg") else f"{k}={v}" for k, v in args.items())
    return f"{name}({inner})"


def observed(fn: F) -> F:
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        listeners = _listeners.get()
        if not listeners:
            return fn(*args, **kwargs)
        described = describe_args(args, kwargs)
        tokens = [(lst, lst.check_started(name, described)) for lst in listeners]
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:
            for lst, token in reversed(tokens):
                lst.check_finished(token, name, exc)
            raise
        for lst, token in reversed(tokens):
            lst.check_finished(token, name, None)
        return value

    wrapper.__monerosim_observed__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


@contextmanager
def listening(listener: CheckListener) -> Iterator[None]:
    token = _listeners.set(_listeners.get() + (listener,))
    try:
        yield
    finally:
        _listeners.reset(token)
