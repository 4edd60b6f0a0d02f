"""`@deploy(name, data_defaults)`: a function of operations that runs as one named
deploy, with its own global arguments and data defaults."""

from __future__ import annotations

import functools
from typing import Any, Callable

from oxinfra import context
from oxinfra.api.arguments import ARGUMENTS
from oxinfra.api.exceptions import PyinfraError


def deploy(name: str | None = None, data_defaults: dict[str, Any] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorates a function of operations; `name` prefixes its operations' names."""
    if callable(name):
        raise PyinfraError('`@deploy` must be called: use `@deploy()` or `@deploy("Name")`')

    def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
        deploy_name = name or function.__name__

        @functools.wraps(function)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            host = context.current("host")
            if host is None:
                raise PyinfraError(f"deploy `{deploy_name}` was called outside a run")
            global_arguments = {key: kwargs.pop(key) for key in list(kwargs) if key in ARGUMENTS}
            with host.deploy(deploy_name, global_arguments, data_defaults):
                return function(*args, **kwargs)

        decorated._inner = function  # type: ignore[attr-defined]
        return decorated

    return decorator


def add_deploy(state: Any, deploy_func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Prepares a deploy function (its operations) on every active host, or on `host=`
    (one host or a list), as pyinfra's API."""
    import oxinfra

    if oxinfra.is_cli:
        raise PyinfraError("`add_deploy` should not be called when oxinfra is executing in CLI mode")
    hosts = kwargs.pop("host", None)
    if hosts is None:
        hosts = state.inventory.get_active_hosts()
    elif not isinstance(hosts, (list, tuple, set)):
        hosts = [hosts]
    for host in hosts:
        with context.use(host=host, state=state, inventory=state.inventory, config=state.config):
            deploy_func(*args, **kwargs)
