"""Operations on remote files, directories and links (pyinfra's ``files`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name; ``files.template`` renders its template here and then
plans a ``files.put`` of the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import render_template, to_plain

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path
    from typing import IO


@builtin_operation("files.download")
def download(
    src: str,
    dest: str,
    user: str | None = None,
    group: str | None = None,
    mode: int | str | None = None,
    cache_time: int | None = None,
    force=False,
    sha384sum: str | None = None,
    sha256sum: str | None = None,
    sha1sum: str | None = None,
    md5sum: str | None = None,
    headers: dict[str, str] | None = None,
    insecure=False,
    proxy: str | None = None,
    limit_rate: str | None = None,
    temp_dir: str | Path | None = None,
    extra_curl_args: dict[str, str] | None = None,
    extra_wget_args: dict[str, str] | None = None,
):
    """
    Fetch a file from a URL onto the remote host with ``curl`` (or ``wget`` when curl is
    missing).

    + src: the URL to fetch
    + dest: remote path the file is saved as
    + user: owner to give the saved file
    + group: group to give the saved file
    + mode: permissions to give the saved file
    + cache_time: when ``dest`` already exists, fetch again only once it is older than
      this many seconds
    + force: fetch the file on every run, even when ``dest`` already exists
    + sha384sum: expected SHA-384 digest of the file (see below)
    + sha256sum: expected SHA-256 digest of the file (see below)
    + sha1sum: expected SHA-1 digest of the file (see below)
    + md5sum: expected MD5 digest of the file (see below)
    + headers: mapping of HTTP header names to values sent with the request
    + insecure: skip TLS certificate verification
    + proxy: HTTP proxy to fetch through, written ``http://<proxy host>:<port>``
    + limit_rate: bandwidth cap in the form curl and wget accept (``500k``, ``2M``)
    + temp_dir: remote directory for the partial download (defaults to the ``_temp_dir``
      global argument, then the usual temporary directory)
    + extra_curl_args: mapping of extra curl options to their values
    + extra_wget_args: mapping of extra wget options to their values

    Checksums:
        An existing ``dest`` whose digest differs from a given checksum is fetched again,
        and every fetched file is checked against the given checksums; a mismatch fails
        the operation.

    The file is fetched to a temporary name and moved into place, so a failed transfer
    never leaves a half-written ``dest``. When no fetch is needed, the owner, group and
    mode of the existing file are still corrected.

    **Example:**

    .. code:: python

        files.download(
            name="Fetch the Grafana repository definition",
            src="https://rpm.grafana.com/grafana.repo",
            dest="/etc/yum.repos.d/grafana.repo",
            mode="644",
        )
    """
    return {
        "src": to_plain(src),
        "dest": to_plain(dest),
        "user": user,
        "group": group,
        "mode": mode,
        "cache_time": cache_time,
        "force": force,
        "sha384sum": sha384sum,
        "sha256sum": sha256sum,
        "sha1sum": sha1sum,
        "md5sum": md5sum,
        "headers": to_plain(headers),
        "insecure": insecure,
        "proxy": proxy,
        "limit_rate": limit_rate,
        "temp_dir": to_plain(temp_dir),
        "extra_curl_args": to_plain(extra_curl_args),
        "extra_wget_args": to_plain(extra_wget_args),
    }


@builtin_operation("files.line")
def line(
    path: str,
    line: str,
    present=True,
    replace: str | None = None,
    flags: list[str] | None = None,
    backup=False,
    interpolate_variables=False,
    escape_regex_characters=False,
    ensure_newline=False,
    extended_regex=False,
):
    """
    Make sure a line is in (or absent from) a remote file, finding it with ``grep`` and
    editing it with ``sed``.

    + path: the remote file to edit
    + line: text or regular expression that identifies the line
    + present: whether a matching line should exist
    + replace: with ``present=True``, the full text matching lines are rewritten to
    + flags: ``sed`` flags used when rewriting or deleting lines
    + backup: keep a copy of the file before editing it (see below)
    + interpolate_variables: allow shell variables in ``replace`` to be expanded
    + escape_regex_characters: treat ``line`` as literal text rather than a pattern
    + ensure_newline: start the appended line on a fresh line when the file does not end
      with a newline
    + extended_regex: give ``-E`` to ``grep`` and ``sed`` so ``+``, ``?`` and ``(a|b)``
      work unescaped; off by default, which means basic regular expressions

    Matching:
        A ``line`` that is not anchored is widened to ``^.*LINE.*$``, so it matches any
        line containing it (a commented-out copy included) and the whole line is
        replaced, never a part of it; use ``files.replace`` to change part of a line.
        Anchor with ``^`` and ``$`` to match one exact line: the anchors only guide the
        match and are removed from the text that gets appended.

    Special characters:
        Characters such as ``*`` or ``.`` are pattern syntax. Escape them (Python's
        ``re.escape``) or set ``escape_regex_characters``.

    Backup:
        ``True`` copies the file to a name ending in the ISO date of the machine running
        the deploy before any edit; a string is used as that suffix instead.

    Appending:
        When ``present=True`` and no line matches, ``line`` (or ``replace``, if given) is
        added at the end of the file, which is created if needed.

    **Examples:**

    .. code:: python

        files.line(
            name="Turn on IP forwarding in sysctl.conf",
            path="/etc/sysctl.conf",
            line="^net.ipv4.ip_forward",
            replace="net.ipv4.ip_forward = 1",
        )

        files.line(
            name="Drop the legacy mirror from the hosts file",
            path="/etc/hosts",
            line="old-mirror.example.net",
            present=False,
        )
    """
    return {
        "path": to_plain(path),
        "line": line,
        "present": present,
        "replace": replace,
        "flags": to_plain(flags),
        "backup": backup,
        "interpolate_variables": interpolate_variables,
        "escape_regex_characters": escape_regex_characters,
        "ensure_newline": ensure_newline,
        "extended_regex": extended_regex,
    }


@builtin_operation("files.replace")
def replace(
    path: str,
    text: str | None = None,
    replace: str | None = None,
    flags: list[str] | None = None,
    backup=False,
    interpolate_variables=False,
    extended_regex=False,
    match=None,
):
    """
    Substitute text inside a remote file with ``sed``.

    + path: the remote file to edit
    + text: text or regular expression to look for
    + replace: what each match is replaced with
    + flags: ``sed`` flags for the substitution (``g``, ``i`` ...)
    + backup: keep a copy of the file before editing it (see below)
    + interpolate_variables: allow shell variables in ``replace`` to be expanded
    + extended_regex: give ``-E`` to ``grep`` and ``sed`` so ``+``, ``?`` and ``(a|b)``
      work unescaped; off by default, which means basic regular expressions
    + match: deprecated spelling of ``text``, used only when ``text`` is not given

    Both ``text`` and ``replace`` are required. Nothing runs when the file exists and
    contains no match.

    Backup:
        ``True`` copies the file to a name ending in the ISO date of the machine running
        the deploy before any edit; a string is used as that suffix instead.

    **Example:**

    .. code:: python

        files.replace(
            name="Point the client at the new server",
            path="/etc/app/client.conf",
            text="old-server.example.net",
            replace="new-server.example.net",
        )
    """
    return {
        "path": to_plain(path),
        "text": text,
        "replace": replace,
        "flags": to_plain(flags),
        "backup": backup,
        "interpolate_variables": interpolate_variables,
        "extended_regex": extended_regex,
        "match": match,
    }


@builtin_operation("files.sync")
def sync(
    src: str,
    dest: str,
    user: str | None = None,
    group: str | None = None,
    mode: str | None = None,
    dir_mode: str | None = None,
    delete=False,
    exclude: str | list[str] | tuple[str] | None = None,
    exclude_dir: str | list[str] | tuple[str] | None = None,
    add_deploy_dir=True,
):
    """
    Mirror a local directory onto the remote host, optionally deleting what is not there
    locally.

    + src: the local directory to copy from
    + dest: the remote directory to copy into
    + user: owner to give the copied files and directories
    + group: group to give the copied files and directories
    + mode: permissions of the copied files, and of directories too unless ``dir_mode``
      is given
    + dir_mode: permissions of the copied directories
    + delete: remove remote files and symlinks that have no local counterpart
    + exclude: one pattern or a list/tuple of patterns; matching file names are skipped
      (``*.pyc``)
    + exclude_dir: one pattern or a list/tuple of patterns; matching directories are
      skipped (``node_modules``)
    + add_deploy_dir: read ``src`` relative to the deploy directory rather than the
      current working directory

    Deleting:
        ``delete`` removes surplus files and symlinks only; surplus directories are kept.

    Exclusions:
        Patterns are ``fnmatch`` patterns. ``exclude`` is tested against each file name,
        ``exclude_dir`` against each directory's path relative to ``src``. ``fnmatch``
        gives ``/`` no special meaning, so to skip a directory name at any depth list
        both forms, for example ``exclude_dir=["build", "*/build"]``.

    Symlinks:
        Local symlinks, to files or directories, are recreated on the remote host with
        the same target text, relative or absolute. Directories reached through a
        symlink are not descended into.

    **Example:**

    .. code:: python

        files.sync(
            name="Publish the static site",
            src="site/public",
            dest="/var/www/site",
            delete=True,
            exclude="*.map",
        )
    """
    return {
        "src": to_plain(src),
        "dest": to_plain(dest),
        "user": user,
        "group": group,
        "mode": mode,
        "dir_mode": dir_mode,
        "delete": delete,
        "exclude": to_plain(exclude),
        "exclude_dir": to_plain(exclude_dir),
        "add_deploy_dir": add_deploy_dir,
    }


@builtin_operation("files.rsync")
def rsync(src: str, dest: str, flags: list[str] | None = None):
    """
    Copy a local directory to the remote host by running the ``rsync`` program on the
    machine running the deploy.

    + src: the local directory to copy from
    + dest: the remote directory to copy into
    + flags: options given to ``rsync``; ``-ax --delete`` when not given

    Notes:
        This operation is experimental and works only over SSH and with ``@local``. Over
        SSH, ``rsync`` uses the host's SSH configuration, known hosts file and strict host
        key checking setting, and of the privilege global arguments only ``sudo`` and
        ``sudo_user`` apply. The operation runs on every deploy and leaves it to
        ``rsync`` to work out what needs copying.

    **Example:**

    .. code:: python

        files.rsync(
            name="Copy the build output",
            src="dist/",
            dest="/srv/app/",
            flags=["-a", "--delete", "--exclude=.git"],
        )
    """
    return {"src": to_plain(src), "dest": to_plain(dest), "flags": to_plain(flags)}


@builtin_operation("files.get")
def get(
    src: str,
    dest: str,
    add_deploy_dir=True,
    create_local_dir=False,
    force=False,
):
    """
    Copy a file from the remote host to the machine running the deploy.

    + src: the remote file to fetch
    + dest: local path to save it as
    + add_deploy_dir: read ``dest`` relative to the deploy directory
    + create_local_dir: create the local parent directory of ``dest`` when missing
    + force: fetch the file even when the local copy already has the same content

    Notes:
        The remote file may be copied to a temporary file before the transfer, so this is
        a poor fit for very large files.

    **Example:**

    .. code:: python

        files.get(
            name="Collect the generated CA certificate",
            src="/etc/ssl/private/ca.pem",
            dest="collected/ca.pem",
            create_local_dir=True,
        )
    """
    return {
        "src": to_plain(src),
        "dest": to_plain(dest),
        "add_deploy_dir": add_deploy_dir,
        "create_local_dir": create_local_dir,
        "force": force,
    }


@builtin_operation("files.put")
def put(
    src: str | IO[Any],
    dest: str,
    user: str | None = None,
    group: str | None = None,
    mode: int | str | bool | None = None,
    add_deploy_dir=True,
    create_remote_dir=True,
    force=False,
    assume_exists=False,
    atime: datetime | float | str | bool | None = None,
    mtime: datetime | float | str | bool | None = None,
):
    """
    Send a local file, or the contents of a file-like object, to the remote host.

    + src: local file name, or an object with a ``read`` method, holding the content
    + dest: the remote file to write
    + user: owner to give the remote file
    + group: group to give the remote file
    + mode: permissions to give the remote file; ``True`` copies the local file's
    + add_deploy_dir: read ``src`` relative to the deploy directory
    + create_remote_dir: create the parent directory of ``dest`` when missing
    + force: upload even when the remote file already has the same content
    + assume_exists: do not fail when the local file is missing at planning time
    + atime: access time the remote file should have; ``True`` copies the local file's
    + mtime: modification time the remote file should have; ``True`` copies the local
      file's

    ``dest``:
        When ``dest`` is an existing remote directory, the file is written inside it
        under its local name.

    ``mode``:
        ``True`` applies the local file's permissions after the upload. Otherwise give
        the full octal permissions (user, group and other digits) as an ``int`` or a
        ``str``.

    ``create_remote_dir``:
        A missing parent directory is created with the ``user`` and ``group`` given here,
        but not with ``mode``; use ``files.directory`` to set a directory's permissions.

    ``atime`` and ``mtime``:
        ``False`` or ``None`` leave the time alone. ``True`` takes the time from the local
        file. Other values may be a ``datetime``, a POSIX timestamp, a string holding
        either, or the path of a file on the remote host whose time is copied (as
        ``touch -r`` does). A ``datetime`` without a time zone is read in the remote
        host's local time. Two times count as equal when they share the same whole second
        and are less than a second apart. Each time is set on its own; there is no single
        argument for both.

    Notes:
        The file may be copied to a temporary file before it is moved into place, so this
        is a poor fit for very large files.

        A ``mode`` that is neither a boolean nor a full octal permission set is always
        treated as different from the remote file's, so the operation reports a change on
        every run.

        Setting ``atime`` usually means a change on every run: reading the file to compare
        checksums updates its access time, unless the filesystem is mounted ``noatime``
        or ``relatime``.

    **Examples:**

    .. code:: python

        files.put(
            name="Install the nginx site",
            src="files/nginx/site.conf",
            dest="/etc/nginx/sites-available/site.conf",
            mode="644",
        )

        files.put(
            name="Write a marker file from memory",
            src=StringIO("managed by oxinfra\\n"),
            dest="/etc/managed-by",
        )
    """
    return {
        "src": to_plain(src),
        "dest": to_plain(dest),
        "user": user,
        "group": group,
        "mode": mode,
        "add_deploy_dir": add_deploy_dir,
        "create_remote_dir": create_remote_dir,
        "force": force,
        "assume_exists": assume_exists,
        "atime": to_plain(atime),
        "mtime": to_plain(mtime),
    }


@builtin_operation("files.template")
def template(
    src: str | IO[Any],
    dest: str,
    user: str | None = None,
    group: str | None = None,
    mode: int | str | None = None,
    create_remote_dir: bool = True,
    jinja_env_kwargs: dict[str, Any] | None = None,
    **data,
):
    """
    Render a Jinja2 template on the machine running the deploy and write the result to the
    remote host.

    + src: template file name, or an object with a ``read`` method holding the template
    + dest: the remote file to write
    + user: owner to give the remote file
    + group: group to give the remote file
    + mode: permissions to give the remote file
    + create_remote_dir: create the parent directory of ``dest`` when missing
    + jinja_env_kwargs: keyword arguments for the Jinja2 ``Environment`` the template is
      rendered with

    Template variables:
        ``host``, ``state`` and ``inventory`` are always available in the template. Any
        other keyword argument of the call (``**data``) becomes a variable of the same
        name; dictionaries and lists work as usual.

    ``create_remote_dir``:
        A missing parent directory is created with the ``user`` and ``group`` given here,
        but not with ``mode``; use ``files.directory`` to set a directory's permissions.

    ``jinja_env_kwargs``:
        Settings such as ``trim_blocks``, ``undefined`` or custom delimiters, passed as
        keyword arguments to Jinja2's ``Environment``
        (https://jinja.palletsprojects.com/en/3.0.x/api/#jinja2.Environment).

    Notes:
        Templates are conventionally kept in a ``templates`` folder with a ``.j2``
        suffix. ``extends``, ``import`` and ``include`` look templates up from the
        current working directory. An error in the template is reported with the file
        name, the line number and the lines around it.

        The rendered text is uploaded as ``files.put`` would upload it.

    **Examples:**

    .. code:: python

        files.template(
            name="Render the app configuration",
            src="templates/app.conf.j2",
            dest="/etc/app/app.conf",
            mode="640",
            group="app",
            listen_port=8080,
            upstreams=["10.0.0.11", "10.0.0.12"],
        )

        # The template may also come from memory; host facts are reachable via host.
        files.template(
            name="Write the message of the day",
            src=StringIO("Welcome to {{ host.name }}\\n"),
            dest="/etc/motd",
        )
    """
    text = render_template(src, data, jinja_env_kwargs)
    return (
        "files.put",
        {
            "src": {"content": text},
            "dest": to_plain(dest),
            "user": user,
            "group": group,
            "mode": mode,
            "add_deploy_dir": False,
            "create_remote_dir": create_remote_dir,
            "force": False,
            "assume_exists": False,
            "atime": None,
            "mtime": None,
        },
    )


@builtin_operation("files.move")
def move(src: str, dest: str, overwrite=False):
    """
    Move a remote file, directory or link into a remote directory.

    + src: the remote file, directory or link to move
    + dest: the existing remote directory to move ``src`` into
    + overwrite: replace an entry of the same name already in ``dest``

    Without ``overwrite``, an entry of the same name in ``dest`` is an error.

    **Example:**

    .. code:: python

        files.move(
            name="Archive last night's dump",
            src="/var/backups/nightly.sql.gz",
            dest="/var/backups/archive",
            overwrite=True,
        )
    """
    return {"src": to_plain(src), "dest": to_plain(dest), "overwrite": overwrite}


@builtin_operation("files.copy")
def copy(src: str, dest: str, overwrite=False):
    """
    Copy a remote file, directory or link into a remote directory.

    + src: the remote file, directory or link to copy
    + dest: the existing remote directory to copy ``src`` into
    + overwrite: replace an entry of the same name already in ``dest``

    Without ``overwrite``, an identical copy already in ``dest`` means nothing to do, and
    a different one is an error.

    **Example:**

    .. code:: python

        files.copy(
            name="Keep a copy of the stock configuration",
            src="/etc/ssh/sshd_config",
            dest="/root/stock-config",
        )
    """
    return {"src": to_plain(src), "dest": to_plain(dest), "overwrite": overwrite}


@builtin_operation("files.link")
def link(
    path: str,
    target: str | None = None,
    present=True,
    user: str | None = None,
    group: str | None = None,
    symbolic=True,
    create_remote_dir=True,
    force=False,
    force_backup=True,
    force_backup_dir: str | None = None,
):
    """
    Create, update or remove a link.

    + path: where the link lives
    + target: what the link points at
    + present: whether the link should exist
    + user: owner to give the link
    + group: group to give the link
    + symbolic: make a symbolic link; ``False`` makes a hard link
    + create_remote_dir: create the parent directory of ``path`` when missing
    + force: when something other than a link is at ``path``, move it aside (or delete
      it) and carry on
    + force_backup: with ``force``, keep what was there as a backup; ``False`` deletes it
    + force_backup_dir: with ``force``, the directory the backup is moved to

    ``create_remote_dir``:
        A missing parent directory is created with the ``user`` and ``group`` given here,
        but not with a mode; use ``files.directory`` to set a directory's permissions.

    Changing the target:
        An existing link that points somewhere else is removed and made again with the new
        target.

    **Example:**

    .. code:: python

        files.link(
            name="Enable the nginx site",
            path="/etc/nginx/sites-enabled/site.conf",
            target="/etc/nginx/sites-available/site.conf",
        )
    """
    return {
        "path": to_plain(path),
        "target": to_plain(target),
        "present": present,
        "user": user,
        "group": group,
        "symbolic": symbolic,
        "create_remote_dir": create_remote_dir,
        "force": force,
        "force_backup": force_backup,
        "force_backup_dir": to_plain(force_backup_dir),
    }


@builtin_operation("files.file")
def file(
    path: str,
    present=True,
    user: str | None = None,
    group: str | None = None,
    mode: int | str | None = None,
    touch=False,
    create_remote_dir=True,
    force=False,
    force_backup=True,
    force_backup_dir: str | None = None,
):
    """
    Create, update or remove a regular file.

    + path: the remote file
    + present: whether the file should exist
    + user: owner to give the file
    + group: group to give the file
    + mode: permissions of the file, as octal digits (``644`` or ``"0644"``)
    + touch: update the file's timestamps even when it already exists
    + create_remote_dir: create the parent directory of ``path`` when missing
    + force: when something other than a file is at ``path``, move it aside (or delete
      it) and carry on
    + force_backup: with ``force``, keep what was there as a backup; ``False`` deletes it
    + force_backup_dir: with ``force``, the directory the backup is moved to

    ``create_remote_dir``:
        A missing parent directory is created with the ``user`` and ``group`` given here,
        but not with ``mode``; use ``files.directory`` to set a directory's permissions.

    **Example:**

    .. code:: python

        # /srv/app/secrets is created with the default umask if it is missing.
        files.file(
            name="Ensure the token file exists and is private",
            path="/srv/app/secrets/token",
            user="app",
            group="app",
            mode="600",
        )
    """
    return {
        "path": to_plain(path),
        "present": present,
        "user": user,
        "group": group,
        "mode": mode,
        "touch": touch,
        "create_remote_dir": create_remote_dir,
        "force": force,
        "force_backup": force_backup,
        "force_backup_dir": to_plain(force_backup_dir),
    }


@builtin_operation("files.directory")
def directory(
    path: str,
    present=True,
    user: str | None = None,
    group: str | None = None,
    mode: int | str | None = None,
    recursive=False,
    force=False,
    force_backup=True,
    force_backup_dir: str | None = None,
    _no_check_owner_mode=False,
    _no_fail_on_link=False,
):
    """
    Create, update or remove a directory.

    + path: the remote directory
    + present: whether the directory should exist
    + user: owner to give the directory
    + group: group to give the directory
    + mode: permissions of the directory
    + recursive: apply ``user``, ``group`` and ``mode`` to everything below as well
    + force: when something other than a directory is at ``path``, move it aside (or
      delete it) and carry on
    + force_backup: with ``force``, keep what was there as a backup; ``False`` deletes it
    + force_backup_dir: with ``force``, the directory the backup is moved to

    ``recursive``:
        The tree is only changed when the top directory differs: the mode is applied to
        the whole tree when the top directory's mode differs, and owner and group are
        applied together when either differs on the top directory.

    The two parameters starting with ``_`` are for use by other operations.

    **Examples:**

    .. code:: python

        files.directory(
            name="Ensure the upload folder exists",
            path="/srv/app/uploads",
            user="app",
            group="www-data",
            mode="2775",
        )

        files.directory(
            name="Remove the old release",
            path="/srv/app/releases/2023-01",
            present=False,
        )
    """
    return {
        "path": to_plain(path),
        "present": present,
        "user": user,
        "group": group,
        "mode": mode,
        "recursive": recursive,
        "force": force,
        "force_backup": force_backup,
        "force_backup_dir": to_plain(force_backup_dir),
        "_no_check_owner_mode": _no_check_owner_mode,
        "_no_fail_on_link": _no_fail_on_link,
    }


@builtin_operation("files.flags")
def flags(path: str, flags: list[str] | None = None, present=True):
    """
    Set or clear BSD/macOS file flags with ``chflags``.

    + path: the remote file or directory
    + flags: one flag name or a list of them
    + present: ``True`` sets the flags, ``False`` clears them

    Only flags not already in the wanted state are changed; no flags means nothing to do.

    **Examples:**

    .. code:: python

        files.flags(
            name="Show ~/Library in the Finder",
            path="~/Library",
            flags="hidden",
            present=False,
        )

        files.flags(
            name="Make the audit log append-only",
            path="/var/audit/current",
            flags=["sappnd"],
            _sudo=True,
        )
    """
    return {"path": to_plain(path), "flags": to_plain(flags), "present": present}


@builtin_operation("files.block")
def block(
    path: str,
    content: str | list[str] | None = None,
    present=True,
    line: str | None = None,
    backup=False,
    escape_regex_characters=False,
    try_prevent_shell_expansion=False,
    before=False,
    after=False,
    marker: str | None = None,
    begin: str | None = None,
    end: str | None = None,
):
    """
    Keep a block of text, fenced by marker lines, in (or out of) a remote file.

    + path: the remote file to edit
    + content: the text between the markers, one string or a list of lines
    + present: whether the block should be in the file
    + line: regular expression of the line to place a new block next to
    + backup: keep a copy of the file before editing it (as ``files.line`` does)
    + escape_regex_characters: treat ``line`` as literal text rather than a pattern
    + try_prevent_shell_expansion: no longer has any effect; ``content`` is always written
      as given, with no shell expansion
    + before: place a new block before ``line``
    + after: place a new block after ``line``
    + marker: template of the fence lines, where ``{mark}`` stands for ``begin`` or
      ``end``; ``# {mark} PYINFRA BLOCK`` by default
    + begin: what ``{mark}`` becomes in the opening fence; ``BEGIN`` by default
    + end: what ``{mark}`` becomes in the closing fence; ``END`` by default

    Placing a new block:
        ``content`` is required when ``present=True``. An existing block has its content
        replaced where it stands. A new block goes before or after the first line
        matching ``line`` (set exactly one of ``before`` and ``after``); when ``line``
        matches nothing, or the file does not exist yet, it goes at the end. Without
        ``line``, ``before`` and ``after`` must be equal: both set puts the block at the
        start of the file, neither at the end.

    Files:
        A missing file is created, with the default umask. An existing file keeps its
        owner and permissions.

    Removing:
        With ``present=False`` the fenced block is deleted; ``content`` and ``line`` play
        no part.

    Content is quoted for the shell before it reaches ``awk``, so ``$(...)``, backticks
    and quotes land in the file literally.

    **Examples:**

    .. code:: python

        files.block(
            name="Pin the internal mirrors in /etc/hosts",
            path="/etc/hosts",
            content="10.1.0.5 mirror-a\\n10.1.0.6 mirror-b",
            line=".*localhost",
            after=True,
        )

        files.block(
            name="Add shell aliases",
            path="/home/deploy/.bashrc",
            content=["alias ll='ls -l'", "alias gs='git status'"],
            marker="# {mark} MANAGED ALIASES",
        )

        files.block(
            name="Remove the mirrors again",
            path="/etc/hosts",
            present=False,
        )
    """
    return {
        "path": to_plain(path),
        "content": to_plain(content),
        "present": present,
        "line": line,
        "backup": backup,
        "escape_regex_characters": escape_regex_characters,
        "try_prevent_shell_expansion": try_prevent_shell_expansion,
        "before": before,
        "after": after,
        "marker": marker,
        "begin": begin,
        "end": end,
    }


@builtin_operation("files.unarchive")
def unarchive(
    src: str,
    dest: str,
    remote_src: bool = False,
    creates: str | None = None,
    extra_opts: list[str] | None = None,
    user: str | None = None,
    group: str | None = None,
):
    """
    Unpack an archive into a directory on the remote host.

    + src: the archive: a local file, or a remote one when ``remote_src`` is set
    + dest: the existing remote directory to unpack into
    + remote_src: ``src`` is already on the remote host; otherwise it is uploaded first
      and the uploaded copy removed afterwards
    + creates: a remote path whose existence means the archive was already unpacked, so
      nothing is done
    + extra_opts: additional arguments for ``tar`` or ``unzip``
    + user: owner to give everything under ``dest`` afterwards
    + group: group to give everything under ``dest`` afterwards

    Formats:
        Chosen by the file name: ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``/``.tbz2``,
        ``.tar.xz``/``.txz``, ``.tar.zst`` and ``.zip``.

    Without ``creates`` the archive is unpacked on every run.

    **Examples:**

    .. code:: python

        files.unarchive(
            name="Unpack the JDK already on the host",
            src="/tmp/jdk-21_linux-x64_bin.tar.gz",
            dest="/opt/java",
            remote_src=True,
            creates="/opt/java/jdk-21/bin/java",
        )

        files.unarchive(
            name="Ship and unpack the release bundle",
            src="dist/app-2.4.0.zip",
            dest="/srv/app",
            user="app",
            group="app",
        )
    """
    return {
        "src": to_plain(src),
        "dest": to_plain(dest),
        "remote_src": remote_src,
        "creates": to_plain(creates),
        "extra_opts": to_plain(extra_opts),
        "user": user,
        "group": group,
    }
