"""Connecting and disconnecting every host of a run, as pyinfra's `pyinfra.api.connect`.
The engine opens the connections concurrently, reporting each host as it connects or
fails (the state's `host_connect` and `host_connect_error` callbacks, see
`oxinfra.api.callbacks`); this module turns the outcome into the state's activated
hosts and pyinfra's exceptions."""

from __future__ import annotations

from typing import Any

from oxinfra import _core
from oxinfra.api.exceptions import PyinfraError


def connect_all(state: Any) -> None:
    """Connects to every host of the inventory at once. Hosts that fail are left out of
    the run; raises `PyinfraError` when none is left or more than `FAIL_PERCENT` failed."""
    hosts = list(state.inventory)
    for host in hosts:
        state.trigger_callbacks("host_before_connect", host)
    stopped = None
    try:
        state.engine.connect_all()
    except _core.EngineError as error:
        stopped = error
    if state.dispatcher is not None:
        state.dispatcher.raise_error()
    active = set(state.engine.active_hosts())
    for host in hosts:
        if host.index in active:
            state.activate_host(host)
    if stopped is not None:
        raise PyinfraError(str(stopped)) from stopped


def disconnect_all(state: Any) -> None:
    """Closes the connection of every host that connected."""
    state.engine.disconnect_all()
    for host in sorted(state.activated_hosts, key=lambda host: host.index):
        state.trigger_callbacks("host_disconnect", host)
