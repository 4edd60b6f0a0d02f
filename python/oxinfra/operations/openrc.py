"""Operations on OpenRC services (pyinfra's ``openrc`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation


@builtin_operation("openrc.service")
def service(
    service: str,
    running=True,
    restarted=False,
    reloaded=False,
    command: str | None = None,
    enabled: bool | None = None,
    runlevel="default",
):
    """
    Start, stop, restart or reload an OpenRC service, and add it to or remove it from a
    runlevel.

    + service: the service's name
    + running: whether the service should be started (``None`` leaves it as it is)
    + restarted: restart the service when it is started
    + reloaded: reload the service when it is started
    + command: another action to run every time, as in ``rc-service <service> <command>``
    + enabled: whether the service should be in ``runlevel`` (``None`` leaves that alone)
    + runlevel: the runlevel whose services are read and changed

    **Example:**

    .. code:: python

        openrc.service(
            name="Load the firewall rules at boot",
            service="nftables",
            enabled=True,
            runlevel="boot",
        )
    """
    return {
        "service": service,
        "running": running,
        "restarted": restarted,
        "reloaded": reloaded,
        "command": command,
        "enabled": enabled,
        "runlevel": runlevel,
    }
