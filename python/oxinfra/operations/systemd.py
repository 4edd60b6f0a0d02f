"""Operations on systemd units (pyinfra's ``systemd`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation


@builtin_operation("systemd.daemon_reload")
def daemon_reload(user_mode=False, machine: str | None = None, user_name: str | None = None):
    """
    Make systemd read its unit files again, after they changed.

    + user_mode: talk to the connecting user's own manager (``systemctl --user``)
    + machine: the container or machine whose manager to talk to
    + user_name: talk to this user's manager, on ``machine`` or on this host

    The reload runs every time.

    **Example:**

    .. code:: python

        systemd.daemon_reload(
            name="Pick up the new unit files",
        )
    """
    return {"user_mode": user_mode, "machine": machine, "user_name": user_name}


@builtin_operation("systemd.service")
def service(
    service: str,
    running=True,
    restarted=False,
    reloaded=False,
    command: str | None = None,
    enabled: bool | None = None,
    daemon_reload=False,
    user_mode=False,
    machine: str | None = None,
    user_name: str | None = None,
):
    """
    Start, stop, restart or reload a systemd unit, and enable or disable it at boot.

    + service: the unit; a name without a type suffix (``.timer``, ``.socket``...) is
      taken as a ``.service``
    + running: whether the unit should be active (``None`` leaves it as it is)
    + restarted: restart the unit when it is active
    + reloaded: reload the unit when it is active
    + command: a ``systemctl`` verb to run on the unit every time
    + enabled: whether the unit should start at boot (``None`` leaves that alone)
    + daemon_reload: reload systemd first, so that changed unit files are read
    + user_mode: manage the connecting user's units (``systemctl --user``)
    + machine: the container or machine whose manager to talk to
    + user_name: manage this user's units, on ``machine`` or on this host

    A restart or reload of a unit that is not active only starts it.

    **Examples:**

    .. code:: python

        systemd.service(
            name="Run the web server now and at boot",
            service="nginx",
            running=True,
            enabled=True,
        )

        systemd.service(
            name="Switch on the nightly backup timer",
            service="backup.timer",
            enabled=True,
            daemon_reload=True,
        )
    """
    return {
        "service": service,
        "running": running,
        "restarted": restarted,
        "reloaded": reloaded,
        "command": command,
        "enabled": enabled,
        "daemon_reload": daemon_reload,
        "user_mode": user_mode,
        "machine": machine,
        "user_name": user_name,
    }
