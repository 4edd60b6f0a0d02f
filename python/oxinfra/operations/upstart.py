"""Jobs of the Upstart init system, with ``initctl`` (pyinfra's ``upstart`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation


@builtin_operation("upstart.service")
def service(
    service: str,
    running=True,
    restarted=False,
    reloaded=False,
    command: str | None = None,
    enabled: bool | None = None,
):
    """
    Start, stop, restart or reload an Upstart job, and let it start at boot or not.

    + service: the job's name
    + running: whether the job should be running (``None`` leaves it as it is)
    + restarted: restart the job when it is running
    + reloaded: reload the job when it is running
    + command: another ``initctl`` command to run on the job every time, as in
      ``initctl <command> <service>``
    + enabled: whether the job should start at boot (``None`` leaves that alone)

    Starting at boot:
        A job's runlevels are written in its own configuration file, so they are not
        edited. Instead an override file decides: ``/etc/init/<service>.override``
        holding ``manual`` keeps the job from starting by itself (``enabled=False``),
        and removing that file lets it start again (``enabled=True``).

    **Example:**

    .. code:: python

        upstart.service(
            name="Keep the cache daemon running but out of the boot sequence",
            service="memcached",
            running=True,
            enabled=False,
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
