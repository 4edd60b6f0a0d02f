"""Programs installed with ``cargo install`` (pyinfra's ``cargo`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("cargo.packages")
def packages(packages: str | list[str] | None = None, present=True, latest=False):
    """
    Install, upgrade or remove crates with ``cargo install``.

    + packages: one crate or a list
    + present: ``False`` removes the crates
    + latest: install again the installed crates given without a version, which upgrades them

    Versions:
        A version is pinned as cargo pins it, ``<name>@<version>``.

    **Example:**

    .. code:: python

        from pyinfra.operations import cargo
        cargo.packages(
            name="Search tool",
            packages=["ripgrep"],
        )
    """
    return {"packages": to_plain(packages), "present": present, "latest": latest}
