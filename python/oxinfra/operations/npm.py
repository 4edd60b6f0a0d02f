"""npm (Node.js) packages, global or of one project folder (pyinfra's ``npm`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("npm.packages")
def packages(
    packages: str | list[str] | None = None,
    present=True,
    latest=False,
    directory: str | None = None,
):
    """
    Install, update or remove npm packages.

    + packages: one package or a list
    + present: ``False`` removes the packages
    + latest: update installed packages that are given without a version
    + directory: the project folder whose packages these are; global packages when not given

    Versions:
        A version is pinned as npm pins it, ``<name>@<version>``.

    **Example:**

    .. code:: python

        from pyinfra.operations import npm
        npm.packages(
            name="Front-end build tools",
            packages=["typescript", "esbuild@0.19.2"],
            directory="/srv/app",
        )
    """
    return {"packages": to_plain(packages), "present": present, "latest": latest, "directory": to_plain(directory)}
