"""Packages, repositories and keys of Debian-family hosts with ``apt-get`` (pyinfra's
``apt`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name. ``_update`` and ``_upgrade`` are the same operations as
``update`` and ``upgrade``, as in pyinfra.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("apt.key")
def key(
    src: str | None = None,
    keyserver: str | None = None,
    keyid: str | list[str] | None = None,
    dest: str | None = None,
    present: bool = True,
):
    """
    Install or remove GPG keys that APT uses to check repositories, as keyring files
    under ``/etc/apt/keyrings/`` (``apt-key`` is not used).

    + src: a key file on the host, or an ``http(s)`` URL to fetch it from
    + keyserver: a keyserver to receive the keys named by ``keyid`` from
    + keyid: one key ID or a list of them: what to fetch from ``keyserver``, or which
      keys to remove
    + dest: the keyring file: an absolute path, or a file name inside
      ``/etc/apt/keyrings/``
    + present: whether the key should be installed; ``False`` removes it

    Keyring names:
        Without ``dest`` the file is named after the URL's host and file name, the local
        file's name, or the key IDs (``keyserver-<ids>.gpg``).

    Armored keys:
        A key in ASCII armor is converted to a binary keyring with ``gpg --dearmor``;
        keys from a keyserver are exported in binary form.

    Removal:
        With ``dest`` and no ``keyid`` the keyring file is deleted. With ``keyid`` only
        the matching keys are deleted, and a keyring left empty is removed; without
        ``dest`` every keyring in APT's keyring directories is searched. An armored
        keyring holding other keys as well cannot be edited and is an error.

    **Examples:**

    .. code:: python

        apt.key(
            name="Trust the vendor's signing key",
            src="https://packages.example.com/signing-key.asc",
            dest="example.gpg",
        )

        apt.key(
            name="Drop a revoked key wherever APT keeps it",
            keyid="0xDEADBEEF",
            present=False,
        )
    """
    return {"src": src, "keyserver": keyserver, "keyid": to_plain(keyid), "dest": dest, "present": present}


@builtin_operation("apt.repo")
def repo(src: str, present=True, filename: str | None = None):
    """
    Add or remove a one-line APT source.

    + src: the source line, for example ``deb http://deb.example.org/debian bookworm main``
    + present: whether the source should be configured
    + filename: keep the line in ``/etc/apt/sources.list.d/<filename>.list`` instead of
      ``/etc/apt/sources.list``

    A source counts as configured when the same repository (type, URL, suite, components
    and options) appears in any sources file, one-line or deb822.

    **Example:**

    .. code:: python

        apt.repo(
            name="Add the internal mirror",
            src="deb [trusted=yes] http://mirror.internal/debian ./",
            filename="internal",
        )
    """
    return {"src": src, "present": present, "filename": filename}


@builtin_operation("apt.sources_file")
def sources_file(
    filename: str,
    types: list[str] | str = "deb",
    uris: list[str] | str | None = None,
    suites: list[str] | str | None = None,
    components: list[str] | str | None = None,
    architectures: list[str] | str | None = None,
    signed_by: str | None = None,
    present: bool = True,
):
    """
    Write or remove a deb822 ``.sources`` file in ``/etc/apt/sources.list.d/``.

    + filename: the file's name, without the ``.sources`` extension
    + types: ``deb``, ``deb-src`` or both
    + uris: the repository URLs (at least one)
    + suites: the suites, such as ``bookworm`` (at least one)
    + components: the components, such as ``main``
    + architectures: architectures to restrict the repository to
    + signed_by: absolute path of the keyring that signs the repository
    + present: whether the file should exist

    Fields that take several values accept a list or one string of space-separated
    values. Nothing is written when every repository the file would describe is already
    configured, in this file or another.

    **Example:**

    .. code:: python

        apt.sources_file(
            name="Add the vendor repository",
            filename="vendor",
            uris="https://packages.example.com/debian",
            suites="bookworm",
            components=["main"],
            signed_by="/etc/apt/keyrings/example.gpg",
        )
    """
    return {
        "filename": filename,
        "types": to_plain(types),
        "uris": to_plain(uris),
        "suites": to_plain(suites),
        "components": to_plain(components),
        "architectures": to_plain(architectures),
        "signed_by": signed_by,
        "present": present,
    }


@builtin_operation("apt.ppa")
def ppa(src: str, present=True):
    """
    Add or remove an Ubuntu PPA with ``apt-add-repository``.

    + src: the PPA, written ``ppa:<user>/<repository>``
    + present: whether the PPA should be configured

    ``apt-add-repository`` (package ``software-properties-common``) must be installed on
    the host. The command runs on every deploy.

    **Example:**

    .. code:: python

        apt.ppa(
            name="Add the deadsnakes PPA",
            src="ppa:deadsnakes/ppa",
        )
    """
    return {"src": src, "present": present}


@builtin_operation("apt.deb")
def deb(src: str, present=True, force=False):
    """
    Install or remove the package of a ``.deb`` file.

    + src: a ``.deb`` file on the host, or a URL to download it from
    + present: whether the package should be installed
    + force: pass ``--force-yes`` to ``apt-get``

    The package counts as installed when the file's package is installed at the file's
    version. Installing runs ``dpkg -i``, then ``apt-get install -f`` to bring in missing
    dependencies, then ``dpkg -i`` again to finish the configuration.

    URLs:
        The file is downloaded to a temporary file first. Until it has been downloaded
        the package cannot be known, so removing by URL only works once the file is on
        the host.

    **Example:**

    .. code:: python

        apt.deb(
            name="Install the agent",
            src="https://downloads.example.com/agent_1.2.0_amd64.deb",
        )
    """
    return {"src": to_plain(src), "present": present, "force": force}


@builtin_operation("apt.update")
def update(cache_time: int | None = None):
    """
    Refresh the package lists with ``apt-get update``.

    + cache_time: skip the update while the last one is younger than this many seconds

    Without ``cache_time`` the update runs on every deploy. With it, the time of the last
    update is read from ``/var/lib/apt/periodic/update-success-stamp``, which is touched
    after each update (Ubuntu maintains that file, Debian does not).

    **Example:**

    .. code:: python

        apt.update(
            name="Refresh package lists at most hourly",
            cache_time=3600,
        )
    """
    return {"cache_time": cache_time}


_update = update


@builtin_operation("apt.upgrade")
def upgrade(auto_remove: bool = False):
    """
    Upgrade every installed package with ``apt-get upgrade``.

    + auto_remove: also remove dependencies that no package needs any more

    A simulated run decides first: when it would change nothing, nothing runs.

    **Example:**

    .. code:: python

        apt.upgrade(
            name="Upgrade packages and clean up",
            auto_remove=True,
        )
    """
    return {"auto_remove": auto_remove}


_upgrade = upgrade


@builtin_operation("apt.dist_upgrade")
def dist_upgrade(auto_remove: bool = False):
    """
    Upgrade every installed package with ``apt-get dist-upgrade``, which may install or
    remove packages to do so.

    + auto_remove: also remove dependencies that no package needs any more

    A simulated run decides first: when it would change nothing, nothing runs.

    **Example:**

    .. code:: python

        apt.dist_upgrade(
            name="Move to the new point release",
        )
    """
    return {"auto_remove": auto_remove}


@builtin_operation("apt.packages")
def packages(
    packages: str | list[str] | None = None,
    present=True,
    latest=False,
    update=False,
    cache_time: int | None = None,
    upgrade=False,
    force=False,
    no_recommends=False,
    allow_downgrades=False,
    purge=False,
    extra_install_args: str | None = None,
    extra_uninstall_args: str | None = None,
):
    """
    Install or remove packages with ``apt-get``, optionally updating the package lists
    and upgrading first.

    + packages: one package or a list of them
    + present: whether the packages should be installed
    + latest: also upgrade installed packages that have no pinned version
    + update: run ``apt-get update`` first
    + cache_time: with ``update``, skip it while the last update is younger than this
      many seconds
    + upgrade: run ``apt-get upgrade`` first
    + force: pass ``--force-yes`` to ``apt-get``
    + no_recommends: do not install recommended packages
    + allow_downgrades: let a pinned version be older than the installed one
    + purge: remove with ``apt-get purge``, configuration files included
    + extra_install_args: more arguments for the install command, written as they are
    + extra_uninstall_args: more arguments for the remove command, written as they are

    Versions:
        Pin a version as ``apt`` does: ``<package>=<version>``. A pinned package counts
        as installed only at that version.

    ``update``:
        Without ``cache_time`` the update runs on every deploy, so the operation always
        reports a change; see ``apt.update``.

    **Examples:**

    .. code:: python

        apt.packages(
            name="Install the web stack",
            packages=["nginx", "curl"],
            update=True,
            cache_time=3600,
        )

        apt.packages(
            name="Keep jq current",
            packages="jq",
            latest=True,
        )
    """
    return {
        "packages": to_plain(packages),
        "present": present,
        "latest": latest,
        "update": update,
        "cache_time": cache_time,
        "upgrade": upgrade,
        "force": force,
        "no_recommends": no_recommends,
        "allow_downgrades": allow_downgrades,
        "purge": purge,
        "extra_install_args": extra_install_args,
        "extra_uninstall_args": extra_uninstall_args,
    }
