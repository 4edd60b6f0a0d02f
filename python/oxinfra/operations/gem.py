"""Ruby gems (pyinfra's ``gem`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("gem.packages")
def packages(packages: str | list[str] | None = None, present=True, latest=False):
    """
    Install, update or remove Ruby gems.

    + packages: one gem or a list
    + present: ``False`` removes the gems
    + latest: update installed gems that are given without a version

    Versions:
        A version is pinned as ``<name>:<version>``.

    **Example:**

    .. code:: python

        from pyinfra.operations import gem
        # The host needs Ruby's ``gem`` command.
        gem.packages(
            name="Static site generator",
            packages=["jekyll"],
        )
    """
    return {"packages": to_plain(packages), "present": present, "latest": latest}
