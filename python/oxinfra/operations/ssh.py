"""Reaching a third machine from the host over SSH (pyinfra's ``ssh`` module): record its
host key, run commands on it, copy files to and from it.

The SSH client, keys and ``known_hosts`` used are the host's, not the controller's:
``controller -> host <-> other machine``.

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("ssh.keyscan")
def keyscan(hostname: str, force=False, port=22):
    """
    Make sure the host's ``~/.ssh/known_hosts`` holds another machine's host key.

    + hostname: the machine whose key should be recorded
    + force: when a key is recorded already, remove it and scan again
    + port: the machine's SSH port

    ``~/.ssh`` is created (mode 700) when missing. The key is appended as
    ``ssh-keyscan`` reports it, without checking it against anything: scan only
    machines reached over a network you trust.

    **Example:**

    .. code:: python

        ssh.keyscan(
            name="Trust the Git server's host key",
            hostname="git.example.com",
        )
    """
    return {"hostname": to_plain(hostname), "force": force, "port": to_plain(port)}


@builtin_operation("ssh.command")
def command(hostname: str, command: str, user: str | None = None, port=22):
    """
    Run a command on another machine, through ``ssh`` on the host, on every deploy.

    + hostname: the machine to connect to
    + command: the shell command to run there
    + user: the user to connect as, instead of the SSH client's default
    + port: the machine's SSH port

    **Example:**

    .. code:: python

        ssh.command(
            name="Ask the replica for its lag",
            hostname="db-replica.internal",
            command="psql -Atc 'select now() - pg_last_xact_replay_timestamp()'",
            user="postgres",
        )
    """
    return {"hostname": to_plain(hostname), "command": to_plain(command), "user": to_plain(user), "port": to_plain(port)}


@builtin_operation("ssh.upload")
def upload(
    hostname: str,
    filename: str,
    remote_filename: str | None = None,
    port=22,
    user: str | None = None,
    use_remote_sudo=False,
    ssh_keyscan=False,
):
    """
    Copy a file from the host to another machine with ``scp``, on every deploy.

    + hostname: the machine to copy to
    + filename: the file on the host
    + remote_filename: where it goes on the machine; ``filename`` when not given
    + port: the machine's SSH port
    + user: the user to connect as, instead of the SSH client's default
    + use_remote_sudo: copy to a temporary file, then move it into place with ``sudo``
      on the machine (for destinations the connecting user cannot write)
    + ssh_keyscan: record the machine's host key first, as ``ssh.keyscan``

    **Example:**

    .. code:: python

        ssh.upload(
            name="Hand the backup to the archive machine",
            hostname="archive.internal",
            filename="/var/backups/db.sql.gz",
            remote_filename="/srv/archive/db.sql.gz",
            use_remote_sudo=True,
        )
    """
    return {
        "hostname": to_plain(hostname),
        "filename": to_plain(filename),
        "remote_filename": to_plain(remote_filename),
        "port": to_plain(port),
        "user": to_plain(user),
        "use_remote_sudo": use_remote_sudo,
        "ssh_keyscan": ssh_keyscan,
    }


@builtin_operation("ssh.download")
def download(
    hostname: str,
    filename: str,
    local_filename: str | None = None,
    force=False,
    port=22,
    user: str | None = None,
    ssh_keyscan=False,
):
    """
    Copy a file from another machine to the host with ``scp``, unless the host has it.

    + hostname: the machine to copy from
    + filename: the file on the machine
    + local_filename: where it goes on the host; ``filename`` when not given
    + force: copy even when the file is on the host already
    + port: the machine's SSH port
    + user: the user to connect as, instead of the SSH client's default
    + ssh_keyscan: record the machine's host key first, as ``ssh.keyscan``

    Only the file's presence on the host is checked, not its content. Something other
    than a file at ``local_filename`` is an error.

    **Example:**

    .. code:: python

        ssh.download(
            name="Fetch the cluster's CA certificate",
            hostname="ca.internal",
            filename="/etc/pki/ca.crt",
            local_filename="/usr/local/share/ca-certificates/internal.crt",
        )
    """
    return {
        "hostname": to_plain(hostname),
        "filename": to_plain(filename),
        "local_filename": to_plain(local_filename),
        "force": force,
        "port": to_plain(port),
        "user": to_plain(user),
        "ssh_keyscan": ssh_keyscan,
    }
