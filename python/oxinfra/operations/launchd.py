"""Jobs of macOS's launchd, with ``launchctl`` (pyinfra's ``launchd`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation


@builtin_operation("launchd.service")
def service(
    service: str,
    running=True,
    restarted=False,
    command: str | None = None,
):
    """
    Start, stop or restart a launchd job.

    + service: the job's label
    + running: whether the job should be running (``None`` leaves it as it is)
    + restarted: restart the job when it was running; ``launchctl`` has no restart, so
      the job is stopped and started again
    + command: accepted for compatibility; as in pyinfra, it is never run

    **Example:**

    .. code:: python

        launchd.service(
            name="Restart the local DNS cache",
            service="com.apple.mDNSResponder",
            restarted=True,
        )
    """
    return {"service": service, "running": running, "restarted": restarted, "command": command}
