"""Operations on SysV init scripts in ``/etc/init.d`` (pyinfra's ``sysvinit`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("sysvinit.service")
def service(
    service: str,
    running=True,
    restarted=False,
    reloaded=False,
    enabled: bool | None = None,
    command: str | None = None,
):
    """
    Start, stop, restart or reload a service through its ``/etc/init.d`` script, and
    enable or disable it at boot.

    + service: the script's name in ``/etc/init.d``
    + running: whether the service should be running (``None`` leaves it as it is)
    + restarted: restart the service when it is running
    + reloaded: reload the service when it is running
    + enabled: whether the service should start at boot (``None`` leaves that alone)
    + command: another action of the script to run every time, as in
      ``/etc/init.d/<service> <command>``

    Enabling:
        A service with no ``/etc/rc*.d/S*<service>`` link is enabled with the
        distribution's own tool: ``update-rc.d`` on Debian and Ubuntu, ``chkconfig`` on
        CentOS, Fedora and RHEL, ``rc-update`` on Gentoo. Elsewhere nothing is done;
        ``sysvinit.enable`` makes the links directly. Disabling removes every start
        link of the service.

    **Example:**

    .. code:: python

        sysvinit.service(
            name="Restart the log daemon and start it at boot",
            service="rsyslog",
            restarted=True,
            enabled=True,
        )
    """
    return {
        "service": service,
        "running": running,
        "restarted": restarted,
        "reloaded": reloaded,
        "enabled": enabled,
        "command": command,
    }


@builtin_operation("sysvinit.enable")
def enable(
    service: str,
    start_priority=20,
    stop_priority=80,
    start_levels=(2, 3, 4, 5),
    stop_levels=(0, 1, 6),
):
    """
    Enable an ``/etc/init.d`` script by linking it into the runlevel folders
    ``/etc/rcN.d`` yourself.

    + service: the script's name in ``/etc/init.d``
    + start_priority: the number in the start links' names, which orders the start
    + stop_priority: the number in the stop links' names, which orders the stop
    + start_levels: the runlevels in which the service is started
    + stop_levels: the runlevels in which the service is stopped

    Links already pointing at the script are left as they are.

    **Example:**

    .. code:: python

        sysvinit.enable(
            name="Run the agent in multi-user runlevels only",
            service="monitoring-agent",
            start_levels=(3, 5),
            stop_levels=(0, 1, 2, 4, 6),
        )
    """
    return {
        "service": service,
        "start_priority": start_priority,
        "stop_priority": stop_priority,
        "start_levels": to_plain(start_levels),
        "stop_levels": to_plain(stop_levels),
    }
