"""Services supervised by runit (pyinfra's ``runit`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation

# pyinfra's runit module exposes the two `files` operations it builds on.
from oxinfra.operations.files import file, link

__all__ = ["auto", "file", "link", "manage", "service", "wait_runsv"]


@builtin_operation("runit.service")
def service(
    service: str,
    running: bool = True,
    restarted: bool = False,
    reloaded: bool = False,
    command: str | None = None,
    enabled: bool | None = None,
    managed: bool = True,
    svdir: str = "/var/service",
    sourcedir: str = "/etc/sv",
):
    """
    Put a service under runit's supervision (or take it out), choose whether it starts
    by itself, and start, stop, restart or reload it.

    + service: the service's folder name in ``sourcedir``
    + running: whether the service should be up (``None`` leaves it as it is)
    + restarted: restart the service when it is up
    + reloaded: reload the service when it is up
    + command: another ``sv`` command to run on the service every time, as in
      ``sv <command> <service>``
    + enabled: whether the service starts by itself, through its ``down`` file
      (``None`` keeps what it was)
    + managed: whether runit should supervise the service

      runit supervises the services linked into ``svdir``. ``managed=False`` removes
      the link; the other settings then do nothing, except ``enabled``, which still
      sets the ``down`` file.

    + svdir: the service directory runit watches, for instance a user's own
    + sourcedir: the folder holding the service's definition, for instance
      ``/etc/sv.local`` for services of the administrator's own

    A service that runit starts supervising is linked while held down, and the
    operation waits (up to 10 seconds) for runit to pick it up before anything else, so
    that a service meant to be stopped never starts.

    **Example:**

    .. code:: python

        runit.service(
            name="Supervise and run the queue worker",
            service="worker",
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
        "managed": managed,
        "svdir": svdir,
        "sourcedir": sourcedir,
    }


@builtin_operation("runit.manage")
def manage(
    service: str,
    managed: bool = True,
    svdir: str = "/var/service",
    sourcedir: str = "/etc/sv",
):
    """
    Link a service into runit's service directory, or remove the link.

    + service: the service's folder name in ``sourcedir``
    + managed: whether the link ``<svdir>/<service>`` should be there
    + svdir: the service directory runit watches
    + sourcedir: the folder holding the service's definition

    **Example:**

    .. code:: python

        runit.manage(
            name="Stop supervising the old agent",
            service="old-agent",
            managed=False,
        )
    """
    return {"service": service, "managed": managed, "svdir": svdir, "sourcedir": sourcedir}


@builtin_operation("runit.wait_runsv")
def wait_runsv(
    service: str,
    svdir: str = "/var/service",
    timeout: int = 10,
):
    """
    Wait until runit runs a supervisor (``runsv``) for a service.

    + service: the service to wait for
    + svdir: the service directory runit watches
    + timeout: how many seconds to wait before failing

    ``runsvdir`` looks for new services every five seconds. The wait runs every time.

    **Example:**

    .. code:: python

        runit.wait_runsv(
            name="Wait for runit to see the new worker",
            service="worker",
            timeout=15,
        )
    """
    return {"service": service, "svdir": svdir, "timeout": timeout}


@builtin_operation("runit.auto")
def auto(
    service: str,
    auto: bool = True,
    sourcedir: str = "/etc/sv",
):
    """
    Choose whether a runit service starts by itself, through its ``down`` file.

    + service: the service's folder name in ``sourcedir``
    + auto: whether the service should start by itself (no ``<sourcedir>/<service>/down``)
    + sourcedir: the folder holding the service's definition

    **Example:**

    .. code:: python

        runit.auto(
            name="Only start the backup service by hand",
            service="backup",
            auto=False,
        )
    """
    return {"service": service, "auto": auto, "sourcedir": sourcedir}
