"""SELinux booleans, file types, file context mappings and port types (pyinfra's
``selinux`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name. ``Boolean`` and ``Protocol`` are pyinfra's enums; their
members arrive at the planners as their values.
"""

from __future__ import annotations

from enum import Enum

from oxinfra.api.operation import builtin_operation


class Boolean(Enum):
    """The two states of an SELinux boolean."""

    ON = "on"
    OFF = "off"


class Protocol(Enum):
    """The protocols SELinux gives port types for."""

    UDP = "udp"
    TCP = "tcp"
    SCTP = "sctp"
    DCCP = "dccp"


@builtin_operation("selinux.boolean")
def boolean(bool_name: str, value: Boolean, persistent=False):
    """
    Turn an SELinux boolean on or off.

    + bool_name: the boolean's name
    + value: the state it should have, ``Boolean.ON``/``Boolean.OFF`` (or ``"on"``/``"off"``)
    + persistent: also store the value in the policy so it outlives a reboot

    Changing booleans takes root privileges.

    **Example:**

    .. code:: python

        from oxinfra.operations.selinux import Boolean

        selinux.boolean(
            name="Let the web server open network connections",
            bool_name="httpd_can_network_connect",
            value=Boolean.ON,
            persistent=True,
        )
    """
    return {"bool_name": bool_name, "value": value, "persistent": persistent}


@builtin_operation("selinux.file_context")
def file_context(path: str, se_type: str):
    """
    Give one path an SELinux type with ``chcon``.

    + path: the file or directory to label
    + se_type: the SELinux type it should have

    **Example:**

    .. code:: python

        selinux.file_context(
            name="Let the web server read the site",
            path="/srv/site",
            se_type="httpd_sys_content_t",
        )
    """
    return {"path": path, "se_type": se_type}


@builtin_operation("selinux.file_context_mapping")
def file_context_mapping(target: str, se_type: str | None = None, present=True):
    """
    Add, change or remove a file context mapping of the SELinux policy.

    + target: the path expression the mapping covers, such as ``/srv/site(/.*)?``
    + se_type: the SELinux type matching files get (needed when ``present``)
    + present: whether the mapping should exist

    A mapping labels files as they are created or relabelled; files that already exist
    keep their type until ``restorecon`` is run on them.

    **Example:**

    .. code:: python

        selinux.file_context_mapping(
            name="Label everything under /srv/site as web content",
            target=r"/srv/site(/.*)?",
            se_type="httpd_sys_content_t",
        )
    """
    return {"target": target, "se_type": se_type, "present": present}


@builtin_operation("selinux.port")
def port(protocol: Protocol | str, port_num: int, se_type: str | None = None, present=True):
    """
    Give a network port an SELinux type, or take its type away.

    + protocol: ``tcp``, ``udp``, ``sctp`` or ``dccp`` (or a ``Protocol``)
    + port_num: the port number
    + se_type: the SELinux type the port should have (needed when ``present``)
    + present: whether the port should have that type

    Changing port types takes root privileges. The current type is read with
    ``sepolicy`` when the host has it, else from the full ``semanage port`` listing.

    **Example:**

    .. code:: python

        from oxinfra.operations.selinux import Protocol

        selinux.port(
            name="Let the web server listen on 8443",
            protocol=Protocol.TCP,
            port_num=8443,
            se_type="http_port_t",
        )
    """
    return {"protocol": protocol, "port_num": port_num, "se_type": se_type, "present": present}
