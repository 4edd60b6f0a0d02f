"""Operations that run Python on the controller at execute time."""

from __future__ import annotations

from typing import Any, Callable

from oxinfra.api.command import FunctionCommand
from oxinfra.api.operation import operation


@operation(is_idempotent=False)
def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Execute a Python function during the run, on the controller.

    + function: the function to run; it may call other operations (they run at once)
    + args: positional arguments for the function
    + kwargs: keyword arguments for the function

    A function that takes both `state` and `host` parameters is called with them first,
    as in pyinfra 2. Returning `False` fails the operation.

    **Example:**

    .. code:: python

        def print_host_name():
            print(host.name)

        python.call(name="Show the host", function=print_host_name)
    """
    yield FunctionCommand(function, args, kwargs)


@operation(is_idempotent=False)
def raise_exception(exception: type[BaseException], *args: Any, **kwargs: Any) -> Any:
    """Raise an exception during the run, failing the operation.

    + exception: the exception class to raise
    + args: positional arguments for the exception
    + kwargs: keyword arguments for the exception
    """

    def raise_exc(*args: Any, **kwargs: Any) -> None:
        raise exception(*args, **kwargs)

    yield FunctionCommand(raise_exc, args, kwargs)
