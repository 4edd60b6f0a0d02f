"""Operations on crontab entries (pyinfra's ``crontab`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name. pyinfra also offers ``crontab.crontab`` as
``server.crontab``; so does oxinfra.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("crontab.crontab")
def crontab(
    command: str,
    present=True,
    user: str | None = None,
    cron_name: str | None = None,
    minute: list[str | int] | str | int | None = None,
    hour: list[str | int] | str | int | None = None,
    month: list[str | int] | str | int | None = None,
    day_of_week: list[str | int] | str | int | None = None,
    day_of_month: list[str | int] | str | int | None = None,
    special_time: str | None = None,
    interpolate_variables=False,
):
    """
    Add, change or remove one entry of a user's crontab.

    + command: the command the entry runs
    + present: whether the entry should be in the crontab
    + user: whose crontab to edit (the connecting user's when not given)
    + cron_name: a name for the entry, kept in a comment above it
    + minute: the minutes to run at
    + hour: the hours to run at
    + month: the months to run in
    + day_of_week: the days of the week to run on
    + day_of_month: the days of the month to run on
    + special_time: a cron nickname such as ``@reboot`` or ``@daily``
    + interpolate_variables: let the shell expand variables in ``command`` while the
      crontab is edited

    Finding the entry:
        Without ``cron_name`` an entry is found by its command, so each command can be in
        a crontab once. With ``cron_name`` the entry is found by the name comment (or by
        its command), and a changed command replaces the old one instead of adding a
        second entry.

    Schedule:
        Each of ``minute``, ``hour``, ``month``, ``day_of_week`` and ``day_of_month`` is
        a number, cron text such as ``"*/10"``, or a list joined with commas; a field
        left out is ``*``. ``special_time`` replaces all five.

    The crontab is copied to a temporary file, edited there and installed with
    ``crontab``; ``crontab`` must be installed on the host.

    **Examples:**

    .. code:: python

        crontab.crontab(
            name="Rotate the app's uploads every Sunday at 3:15",
            command="/opt/app/bin/rotate-uploads",
            cron_name="rotate_uploads",
            day_of_week=0,
            hour=3,
            minute=15,
        )

        crontab.crontab(
            name="Poll the queue every ten minutes",
            command="/opt/app/bin/poll",
            minute="*/10",
            user="app",
        )

        crontab.crontab(
            name="Warm the cache after a restart",
            command="/opt/app/bin/warm-cache",
            special_time="@reboot",
        )
    """
    return {
        "command": command,
        "present": present,
        "user": user,
        "cron_name": cron_name,
        "minute": to_plain(minute),
        "hour": to_plain(hour),
        "month": to_plain(month),
        "day_of_week": to_plain(day_of_week),
        "day_of_month": to_plain(day_of_month),
        "special_time": special_time,
        "interpolate_variables": interpolate_variables,
    }
