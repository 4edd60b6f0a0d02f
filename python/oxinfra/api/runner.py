"""`await oxinfra.api.run(...)`: a whole run (connect, prepare, execute, disconnect) from
asyncio code. The run happens in a worker thread; the engine releases the GIL while it
waits on hosts, so the event loop keeps serving its other tasks meanwhile."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from typing import Any, Callable, Union

from oxinfra.api.config import Config
from oxinfra.api.connect import connect_all, disconnect_all
from oxinfra.api.deploy import add_deploy
from oxinfra.api.inventory import Inventory, make_inventory
from oxinfra.api.operations import run_ops
from oxinfra.api.state import BaseStateCallback, State

Deploy = Union[Callable[..., Any], Iterable[Callable[..., Any]], None]


def load_inventory(inventory: Any) -> Inventory:
    """An `Inventory` from what the CLI takes as INVENTORY (`@local`, `web1,web2`, an
    `inventory.py` file, with `group_data/` beside it) or from a list of host names."""
    if isinstance(inventory, Inventory):
        return inventory
    if isinstance(inventory, str):
        return make_inventory(inventory, {}, [], os.getcwd())
    return Inventory((list(inventory), {}))


def run_blocking(
    inventory: Any,
    deploy: Deploy = None,
    *,
    config: Config | None = None,
    callbacks: Iterable[BaseStateCallback] = (),
    serial: bool = False,
    no_wait: bool = False,
    check_for_changes: bool = False,
    human_output: bool = False,
) -> State:
    """What `run` does, in the calling thread."""
    functions = [] if deploy is None else [deploy] if callable(deploy) else list(deploy)
    state = State(load_inventory(inventory), config, check_for_changes=check_for_changes, human_output=human_output)
    for handler in callbacks:
        state.add_callback_handler(handler)
    try:
        connect_all(state)
        for function in functions:
            add_deploy(state, function)
        run_ops(state, serial=serial, no_wait=no_wait)
    finally:
        disconnect_all(state)
    return state


async def run(
    inventory: Any,
    deploy: Deploy = None,
    *,
    config: Config | None = None,
    callbacks: Iterable[BaseStateCallback] = (),
    serial: bool = False,
    no_wait: bool = False,
    check_for_changes: bool = False,
    human_output: bool = False,
) -> State:
    """Runs a deploy on an inventory without blocking the event loop; returns the
    finished `State` (results per host and operation).

    `inventory` is an `Inventory`, an inventory string as the CLI takes it (`@local`,
    `web1,web2`, `inventory.py`) or a list of host names. `deploy` is a function, or a
    list of functions, called once per connected host to prepare its operations (a
    `@deploy`, or `functools.partial(files.file, path="/x")` for a single operation).
    Callback handlers are called as things happen, in the engine's threads. Only
    warnings and errors reach stderr unless `human_output=True`. Raises `PyinfraError`
    when no host is left; the hosts are disconnected in every case. Cancelling the
    awaiting task does not stop a run that has started."""
    return await asyncio.to_thread(
        run_blocking,
        inventory,
        deploy,
        config=config,
        callbacks=callbacks,
        serial=serial,
        no_wait=no_wait,
        check_for_changes=check_for_changes,
        human_output=human_output,
    )
