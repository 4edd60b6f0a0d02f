"""pyinfra's state callbacks, triggered as the engine's events arrive. The engine calls
a `Dispatcher` with each event (JSON text) from its own threads while a step runs, and
waits for it; the dispatcher triggers the callbacks pyinfra triggers at that moment,
with pyinfra's arguments:

- `host_connect`: `host_connect(host)`, or `host_connect_error(host, ConnectError(reason))`;
- `operation_start` (default strategy only): `operation_end` of the operation before it,
  then `operation_start(op_hash)`;
- `command`: `operation_host_start(host, op_hash)`, the first time for that host and
  operation (a nested operation's parent starts first);
- `host_result`: `operation_host_start` if not yet, `operation_host_retry` per retry,
  then `operation_host_success` or `operation_host_error` (nothing more for a host that
  skips the operation).

`run_ops` closes the last operation (`operation_end`, unless the run stopped there).
An exception raised by a callback handler stops further callbacks and is raised again
by the API call that was running (`connect_all`, `run_ops`)."""

from __future__ import annotations

import json
import threading
import weakref
from typing import Any

from oxinfra.api.exceptions import ConnectError


class Dispatcher:
    """Turns one state's engine events into its callback handlers' calls. It holds the
    state weakly: the engine that calls it belongs to the state."""

    def __init__(self, state: Any) -> None:
        self._state = weakref.ref(state)
        # Events of different hosts arrive from different threads; callbacks run one at
        # a time, each host's in the order its events happened.
        self._lock = threading.RLock()
        self._hosts: dict[str, Any] = {}
        self._strategy: str | None = None
        self._operation: str | None = None
        self._started: set[tuple[str, str]] = set()
        self._error: BaseException | None = None

    def __call__(self, text: str) -> None:
        state = self._state()
        if state is None:
            return
        event = json.loads(text)
        handle = getattr(self, f"_on_{event['event']}", None)
        if handle is None:
            return
        with self._lock:
            if self._error is not None:
                return
            try:
                handle(state, event)
            except BaseException as error:  # raised again by the API call that is running
                self._error = error

    def raise_error(self) -> None:
        """Raises (once) the exception a callback handler raised, if one did."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    def begin_run(self, strategy: str) -> None:
        """`run_ops` starts with `strategy` (default, serial or `no_wait`)."""
        with self._lock:
            self._strategy = strategy
            self._operation = None
            self._started.clear()

    def end_run(self, stopped: bool) -> None:
        """`run_ops` ended; pyinfra ends the last operation unless the run stopped on it."""
        state = self._state()
        with self._lock:
            if state is not None and not stopped and self._error is None:
                try:
                    self._end_operation(state)
                except BaseException as error:
                    self._error = error
            self._strategy = None
            self._operation = None

    def _host(self, state: Any, name: str) -> Any:
        if name not in self._hosts:
            self._hosts = {host.name: host for host in state.inventory}
        return self._hosts[name]

    def _end_operation(self, state: Any) -> None:
        if self._operation is not None:
            op_hash, self._operation = self._operation, None
            state.trigger_callbacks("operation_end", op_hash)

    def _host_start(self, state: Any, host: Any, op_hash: str) -> None:
        if (host.name, op_hash) in self._started:
            return
        self._started.add((host.name, op_hash))
        data = state.ops.get(host, {}).get(op_hash)
        parent = getattr(data, "parent_op_hash", None)
        if parent is not None:
            self._host_start(state, host, parent)  # a nested operation starts inside its parent
        state.trigger_callbacks("operation_host_start", host, op_hash)

    def _on_host_connect(self, state: Any, event: dict[str, Any]) -> None:
        host = self._host(state, event["host"])
        if event["ok"]:
            state.trigger_callbacks("host_connect", host)
        else:
            state.trigger_callbacks("host_connect_error", host, ConnectError(event.get("error") or f"Could not connect to {host.name}"))

    def _on_operation_start(self, state: Any, event: dict[str, Any]) -> None:
        # The serial and no-wait strategies run host by host: pyinfra has no operation
        # start or end there, and nested operations have none either.
        if event["nested"] or self._strategy != "default":
            return
        self._end_operation(state)
        self._operation = event["operation"]
        state.trigger_callbacks("operation_start", event["operation"])

    def _on_command(self, state: Any, event: dict[str, Any]) -> None:
        self._host_start(state, self._host(state, event["host"]), event["operation"])

    def _on_host_result(self, state: Any, event: dict[str, Any]) -> None:
        host, op_hash = self._host(state, event["host"]), event["operation"]
        self._host_start(state, host, op_hash)
        status = event["status"]
        if status == "skipped":
            return
        retries, max_retries = event["retries"], event["max_retries"]
        for attempt in range(1, retries + 1):
            state.trigger_callbacks("operation_host_retry", host, op_hash, attempt, max_retries)
        if status in ("success", "no_change"):
            state.trigger_callbacks("operation_host_success", host, op_hash, retries)
        else:
            state.trigger_callbacks("operation_host_error", host, op_hash, retries, max_retries)
