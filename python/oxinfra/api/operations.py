"""Executing the prepared operations, as pyinfra's `pyinfra.api.operations.run_ops`.
The engine runs them (operation by operation across hosts, `serial` or `no_wait`);
this module then gives the state's callback handlers the events of that run in the
order pyinfra triggers them, and raises pyinfra's exception when the run stopped."""

from __future__ import annotations

from typing import Any

from oxinfra import _core, context
from oxinfra.api.exceptions import PyinfraError


def run_ops(state: Any, serial: bool = False, no_wait: bool = False) -> None:
    """Runs every prepared operation on the active hosts: by default one operation at a
    time on all hosts; `serial` host by host; `no_wait` every host through all its
    operations without waiting for the others. Raises `PyinfraError` when no host is
    left or more than `FAIL_PERCENT` failed."""
    state.is_executing = True
    hosts = state.inventory.get_active_hosts()
    strategy = "serial" if serial else "no_wait" if no_wait else "default"
    stopped = None
    with context.use(state=state):
        try:
            state.engine.run(strategy)
        except _core.EngineError as error:
            stopped = error
    if state.callback_handlers:
        if strategy == "default":
            _replay_by_operation(state, hosts, stopped is not None)
        else:
            _replay_by_host(state, hosts)
    if stopped is not None:
        raise PyinfraError(str(stopped)) from stopped


def _host_events(state: Any, host: Any, op_hash: str) -> bool | None:
    """Triggers one host's events of one operation (its nested operations in between);
    returns whether the host is still fine, or None when the operation did not run."""
    state.trigger_callbacks("operation_host_start", host, op_hash)
    if op_hash not in state.ops.get(host, {}):
        return True  # pyinfra's "Skipped": the host does not have this operation
    result = state.result(host, op_hash)
    if result is None:
        return None
    for nested_hash, data in list(state.ops[host].items()):
        if data.parent_op_hash == op_hash:
            _host_events(state, host, nested_hash)
    retries, max_retries = result["retries"], result["max_retries"]
    for attempt in range(1, retries + 1):
        state.trigger_callbacks("operation_host_retry", host, op_hash, attempt, max_retries)
    if result["success"]:
        state.trigger_callbacks("operation_host_success", host, op_hash, retries)
        return True
    state.trigger_callbacks("operation_host_error", host, op_hash, retries, max_retries)
    return bool(result["ignored_error"])


def _replay_by_operation(state: Any, hosts: list[Any], stopped: bool) -> None:
    order = state.get_op_order()
    ran = [op_hash for op_hash in order if any(state.result(host, op_hash) is not None for host in hosts if op_hash in state.ops.get(host, {}))]
    active = list(hosts)
    for op_hash in order:
        if op_hash not in ran:
            if any(op_hash in state.ops.get(host, {}) for host in active):
                return  # the run stopped before this operation
            continue
        state.trigger_callbacks("operation_start", op_hash)
        failed = [host for host in active if _host_events(state, host, op_hash) is False]
        active = [host for host in active if host not in failed]
        if failed and stopped and op_hash == ran[-1]:
            return  # pyinfra raises before the operation's end when the run stops here
        state.trigger_callbacks("operation_end", op_hash)


def _replay_by_host(state: Any, hosts: list[Any]) -> None:
    order = state.get_op_order()
    for host in hosts:
        for op_hash in order:
            fine = _host_events(state, host, op_hash)
            if not fine:
                break
