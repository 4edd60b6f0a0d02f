"""Python virtual environments and pip packages (pyinfra's ``pip`` module), system-wide or
inside a virtualenv.

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("pip.virtualenv")
def virtualenv(
    path: str,
    python: str | None = None,
    venv=False,
    site_packages=False,
    always_copy=False,
    present=True,
):
    """
    Create or delete a Python virtual environment.

    + python: the interpreter the environment is built from
    + venv: build it with the standard library's ``venv`` module instead of ``virtualenv``
    + site_packages: let the environment import the system's installed packages
    + always_copy: copy the interpreter's files into the environment instead of linking them
    + present: ``False`` deletes the environment

    An environment counts as there once its ``bin/activate`` script exists: a folder
    without one is built into.

    **Example:**

    .. code:: python

        from pyinfra.operations import pip
        pip.virtualenv(
            name="Environment of the web app",
            path="/srv/app/env",
            python="python3",
        )
    """
    return {
        "path": to_plain(path),
        "python": to_plain(python),
        "venv": venv,
        "site_packages": site_packages,
        "always_copy": always_copy,
        "present": present,
    }


@builtin_operation("pip.venv")
def venv(
    path: str,
    python: str | None = None,
    site_packages=False,
    always_copy=False,
    present=True,
):
    """
    Create or delete a Python virtual environment with the standard library's ``venv``
    module (``pip.virtualenv`` with ``venv=True``).

    + python: the interpreter that runs ``-m venv`` (``python`` when not given)
    + site_packages: let the environment import the system's installed packages
    + always_copy: copy the interpreter's files into the environment instead of linking them
    + present: ``False`` deletes the environment

    **Example:**

    .. code:: python

        pip.venv(
            name="Environment of the web app",
            path="/srv/app/env",
            python="python3",
        )
    """
    return {
        "path": to_plain(path),
        "python": to_plain(python),
        "site_packages": site_packages,
        "always_copy": always_copy,
        "present": present,
    }


@builtin_operation("pip.packages")
def packages(
    packages: str | list[str] | None = None,
    present=True,
    latest=False,
    requirements: str | None = None,
    pip="pip",
    virtualenv: str | None = None,
    virtualenv_kwargs: dict | None = None,
    extra_install_args: str | None = None,
):
    """
    Install, upgrade or remove pip packages.

    + packages: one package or a list, each as pip takes it (``name``, ``name==1.2``, ``name @ url``)
    + present: ``False`` removes the packages
    + latest: upgrade installed packages that are given without a version
    + requirements: a requirements file on the host, handed to pip on every run
    + pip: the pip command, a name on the ``PATH`` or a path
    + virtualenv: a virtualenv to install into, created first when it is missing
    + virtualenv_kwargs: arguments for ``pip.virtualenv`` when it creates ``virtualenv``
    + extra_install_args: shell text added to ``pip install`` (``--no-index --find-links /srv/wheels``)

    Virtualenv:
        With ``virtualenv``, pip is the environment's ``bin/<pip>``; the environment is
        made by ``pip.virtualenv`` with ``virtualenv_kwargs`` when its ``bin/activate``
        is missing.

    Versions:
        A version is pinned as pip pins it, ``<name>==<version>``. Installed packages are
        matched by lower-case name (PEP 426) and, when a version is given, that version.

    **Example:**

    .. code:: python

        pip.packages(
            name="Libraries of the web app",
            packages=["flask", "gunicorn==21.2.0"],
            virtualenv="/srv/app/env",
            virtualenv_kwargs={"venv": True, "python": "python3"},
        )
    """
    return {
        "packages": to_plain(packages),
        "present": present,
        "latest": latest,
        "requirements": to_plain(requirements),
        "pip": to_plain(pip),
        "virtualenv": to_plain(virtualenv),
        "virtualenv_kwargs": to_plain(virtualenv_kwargs),
        "extra_install_args": extra_install_args,
    }
