"""Services of the BSD init system, scripts in ``/etc/rc.d`` and ``/usr/local/etc/rc.d``
(pyinfra's ``bsdinit`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation


@builtin_operation("bsdinit.service")
def service(
    service: str,
    running=True,
    restarted=False,
    reloaded=False,
    command: str | None = None,
    enabled: bool | None = None,
):
    """
    Start, stop, restart or reload a service through its rc.d script, and enable or
    disable it at boot.

    + service: the script's name
    + running: whether the service should be running (``None`` leaves it as it is)
    + restarted: restart the service when it is running
    + reloaded: reload the service when it is running
    + command: another action of the script to run every time, as in
      ``/etc/rc.d/<service> <command>``
    + enabled: whether the service should start at boot (``None`` leaves that alone)

    The script in ``/etc/rc.d`` is used when there is one, else the one in
    ``/usr/local/etc/rc.d``. Enabling writes ``<service>_enable="YES"`` into
    ``/etc/rc.conf.local``; disabling removes that line.

    **Example:**

    .. code:: python

        bsdinit.service(
            name="Run the SSH daemon now and at boot",
            service="sshd",
            running=True,
            enabled=True,
        )
    """
    return {
        "service": service,
        "running": running,
        "restarted": restarted,
        "reloaded": reloaded,
        "command": command,
        "enabled": enabled,
    }
