"""Operations on the host as a whole: commands, scripts, system settings, services,
packages, users and groups (pyinfra's ``server`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name; ``server.script_template`` renders its template here and
then plans a ``server.script`` of the result. ``server.crontab`` is ``crontab.crontab``
under another name, as in pyinfra.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import render_template, to_commands, to_plain
from oxinfra.operations import crontab as crontab_


@builtin_operation("server.reboot")
def reboot(delay=10, interval=1, reboot_timeout=300):
    """
    Restart the host and wait until it is reachable again.

    + delay: seconds to wait after asking for the restart before trying to reconnect
    + interval: seconds between two reconnection attempts
    + reboot_timeout: seconds after which the operation gives up waiting and fails

    The restart is confirmed by the host's uptime: a host that answers with an uptime
    that has not gone down is still counted as rebooting.

    **Example:**

    .. code:: python

        server.reboot(
            name="Restart into the new kernel",
            delay=30,
            reboot_timeout=900,
        )
    """
    return {"delay": delay, "interval": interval, "reboot_timeout": reboot_timeout}


@builtin_operation("server.wait")
def wait(port: int):
    """
    Pause until something on the host listens on a port, checking once a second with
    ``netstat``.

    + port: the port number to wait for

    ``netstat`` must be installed on the host.

    **Example:**

    .. code:: python

        server.wait(
            name="Wait for PostgreSQL to accept connections",
            port=5432,
        )
    """
    return {"port": port}


@builtin_operation("server.shell")
def shell(commands: str | list[str]):
    """
    Run shell code on the host as written.

    + commands: one command, or a list of commands run in order

    Facts are read before operations change anything, so facts later in the same deploy
    do not see what these commands change.

    **Example:**

    .. code:: python

        server.shell(
            name="Rebuild the font cache",
            commands=["fc-cache -f", "fc-list | wc -l"],
        )
    """
    return {"commands": to_commands(commands)}


@builtin_operation("server.script")
def script(src: str, args=()):
    """
    Copy a local script to the host, make it executable and run it.

    + src: the local script file, relative to the deploy directory
    + args: arguments given to the script, in order

    The arguments are written into the command line as they are, so the remote shell
    interprets them; quote any that hold spaces or special characters. The script runs
    on every deploy.

    **Example:**

    .. code:: python

        # files/bootstrap.sh is a local file next to the deploy.
        server.script(
            name="Bootstrap the node",
            src="files/bootstrap.sh",
            args=("--region", "eu-west"),
        )
    """
    return {"src": to_plain(src), "args": to_plain(args)}


@builtin_operation("server.script_template")
def script_template(src: str, args=(), **data):
    """
    Render a local Jinja2 script template, copy the result to the host and run it.

    + src: the local script template file
    + args: arguments given to the script, written into the command line as they are

    ``host``, ``state`` and ``inventory`` are available in the template; every other
    keyword argument of the call becomes a template variable of the same name, except
    ``jinja_env_kwargs``, which sets up the Jinja2 environment as in ``files.template``.
    The rendered script is run as ``server.script`` runs a script. Pass ``-v`` to see its
    output.

    **Example:**

    .. code:: python

        # templates/join-cluster.sh.j2 can use {{ cluster_token }}.
        server.script_template(
            name="Join the cluster",
            src="templates/join-cluster.sh.j2",
            cluster_token=cluster_token,
        )
    """
    # pyinfra forwards ``**data`` to ``files.template``, whose own parameter takes this key
    # rather than passing it to the template.
    jinja_env_kwargs = data.pop("jinja_env_kwargs", None)
    text = render_template(src, data, jinja_env_kwargs)
    return ("server.script", {"src": {"content": text}, "args": to_plain(args)})


@builtin_operation("server.modprobe")
def modprobe(module: str, present=True, force=False):
    """
    Load or unload kernel modules with ``modprobe``.

    + module: the module name, or a list of names
    + present: whether the modules should be loaded
    + force: pass ``-f`` to ``modprobe`` when loading or unloading

    Only the modules not yet in the wanted state are loaded or unloaded.

    **Example:**

    .. code:: python

        server.modprobe(
            name="Load the bridge netfilter module",
            module="br_netfilter",
        )
    """
    return {"module": to_plain(module), "present": present, "force": force}


@builtin_operation("server.mount")
def mount(
    path: str,
    mounted=True,
    options: list[str] | None = None,
    device: str | None = None,
    fs_type: str | None = None,
):
    """
    Mount or unmount a filesystem.

    + path: the mount point
    + mounted: whether a filesystem should be mounted there
    + options: list of mount options
    + device: the device or source to mount
    + fs_type: the filesystem type

    Options:
        A filesystem already mounted without some of the given options is remounted
        with them.

    ``/etc/fstab``:
        Only the running system is changed; the fstab file is left alone (use
        ``files.line`` to manage it).

    **Example:**

    .. code:: python

        server.mount(
            name="Mount the data volume",
            path="/mnt/data",
            device="/dev/vdb1",
            fs_type="ext4",
            options=["noatime"],
        )
    """
    return {
        "path": to_plain(path),
        "mounted": mounted,
        "options": to_plain(options),
        "device": to_plain(device),
        "fs_type": fs_type,
    }


@builtin_operation("server.hostname")
def hostname(hostname: str, hostname_file: str | None = None):
    """
    Set the host name, with ``hostnamectl`` where available and ``hostname`` elsewhere.

    + hostname: the host name to set
    + hostname_file: the file that keeps the host name across restarts

    Host name file:
        Only used on hosts without ``hostnamectl`` (which comes with systemd). When not
        given it is ``/etc/hostname`` on Linux and ``/etc/myname`` on OpenBSD; ``False``
        leaves every file alone.

    **Example:**

    .. code:: python

        server.hostname(
            name="Name the database server",
            hostname="db1.example.net",
        )
    """
    return {"hostname": hostname, "hostname_file": to_plain(hostname_file)}


@builtin_operation("server.etc_hosts")
def etc_hosts(
    ip: str,
    hostnames: str | list[str] | None = None,
    present: bool = True,
    path: str = "/etc/hosts",
):
    """
    Add, change or remove the entry of one IP address in ``/etc/hosts`` (or another
    hosts file).

    + ip: the IP address whose entry is managed
    + hostnames: one name (a string, split at whitespace) or a list of names for ``ip``
    + present: ``True`` to have the entry, ``False`` to remove it or some of its names
    + path: the hosts file to edit

    Behaviour:
        With ``present=True``, ``hostnames`` is required and every line for ``ip``
        becomes exactly ``<ip> <hostnames...>``; a missing entry is appended. All other
        lines stay as they are.

        With ``present=False`` and no ``hostnames``, every line for ``ip`` is removed.
        With ``hostnames``, only those names are taken off the lines for ``ip``, and a
        line left with no names is removed.

    A comment at the end of a rewritten line is lost.

    **Examples:**

    .. code:: python

        server.etc_hosts(
            name="Resolve the cache servers",
            ip="10.20.0.7",
            hostnames=["cache.internal", "cache"],
        )

        server.etc_hosts(
            name="Stop resolving the short name",
            ip="10.20.0.7",
            hostnames="cache",
            present=False,
        )
    """
    return {
        "ip": ip,
        "hostnames": to_plain(hostnames),
        "present": present,
        "path": to_plain(path),
    }


@builtin_operation("server.timezone")
def timezone(timezone: str):
    """
    Set the host's time zone.

    + timezone: a tz database name such as ``Europe/Paris`` or ``UTC``

    ``timedatectl`` is used where it exists (systemd hosts); otherwise
    ``/etc/localtime`` is linked to the zone file and ``/etc/timezone`` written.

    **Example:**

    .. code:: python

        server.timezone(
            name="Run on UTC",
            timezone="UTC",
        )
    """
    return {"timezone": timezone}


@builtin_operation("server.sysctl")
def sysctl(
    key: str,
    value: str | int | list[str | int],
    persist=False,
    persist_file="/etc/sysctl.conf",
):
    """
    Set a kernel parameter with ``sysctl``.

    + key: the parameter name
    + value: the wanted value, or a list of values for parameters holding several
    + persist: also write the setting to ``persist_file`` so it survives a restart
    + persist_file: the file the setting is written to when ``persist`` is set

    **Example:**

    .. code:: python

        server.sysctl(
            name="Allow more inotify watches",
            key="fs.inotify.max_user_watches",
            value=524288,
            persist=True,
        )
    """
    return {
        "key": key,
        "value": to_plain(value),
        "persist": persist,
        "persist_file": to_plain(persist_file),
    }


@builtin_operation("server.service")
def service(
    service: str,
    running=True,
    restarted=False,
    reloaded=False,
    command: str | None = None,
    enabled: bool | None = None,
):
    """
    Manage a service through whichever init system the host uses.

    + service: the service name
    + running: whether the service should be running
    + restarted: restart the service
    + reloaded: reload the service
    + command: a custom command to run for the service
    + enabled: whether the service should start at boot

    The init system is detected on the host (systemd, OpenRC, Upstart, runit, BSD rc.d
    or SysV init) and the matching operation of that system is planned; a host with none
    of them is an error.

    **Example:**

    .. code:: python

        server.service(
            name="Start chrony and enable it at boot",
            service="chronyd",
            running=True,
            enabled=True,
        )
    """
    return {
        "service": service,
        "running": running,
        "restarted": restarted,
        "reloaded": reloaded,
        "command": command,
        "enabled": enabled,
    }


@builtin_operation("server.packages")
def packages(
    packages: str | list[str],
    present=True,
):
    """
    Install or remove packages with whichever package manager the host has.

    + packages: one package name or a list of them
    + present: whether the packages should be installed

    The package manager is detected on the host (zypper, apk, apt, brew, dnf, pacman,
    xbps, yum or pkg, tried in that order) and the ``packages`` operation of that
    manager is planned; a host with none of them is an error.

    **Example:**

    .. code:: python

        server.packages(
            name="Install the usual tools",
            packages=["curl", "htop", "tmux"],
        )
    """
    return {"packages": to_plain(packages), "present": present}


crontab = crontab_.crontab


@builtin_operation("server.group")
def group(group: str, present=True, system=False, gid: int | str | None = None):
    """
    Create or remove a group.

    + group: the group name
    + present: whether the group should exist
    + system: create it as a system group
    + gid: the group id to create it with

    System groups:
        BSD systems have no separate system groups, so ``system`` has no effect there.

    **Examples:**

    .. code:: python

        server.group(
            name="Create the deploy group",
            group="deploy",
            gid=1500,
        )

        for name in ["audio", "video"]:
            server.group(
                name=f"Ensure the {name} group exists",
                group=name,
            )
    """
    return {"group": group, "present": present, "system": system, "gid": gid}


@builtin_operation("server.user_authorized_keys")
def user_authorized_keys(
    user: str,
    public_keys: str | list[str],
    group: str | None = None,
    delete_keys=False,
    authorized_key_directory: str | None = None,
    authorized_key_filename: str | None = None,
):
    """
    Manage the SSH ``authorized_keys`` file of a user.

    + user: the user whose keys are managed
    + public_keys: one public key or a list of them
    + group: group to give the key file and its directory (defaults to ``user``)
    + delete_keys: remove every key that is not in ``public_keys``
    + authorized_key_directory: directory of the key file (defaults to ``~user/.ssh``)
    + authorized_key_filename: name of the key file (defaults to ``authorized_keys``)

    Public keys:
        Each entry is either the text of a key or the path of a local file of keys, read
        relative to the deploy directory, one key a line.

    The key directory is kept at mode ``700`` and the key file at ``600``, both owned by
    ``user``. Missing keys are appended; with ``delete_keys`` the file is rewritten to
    hold exactly ``public_keys``.

    **Example:**

    .. code:: python

        server.user_authorized_keys(
            name="Let the CI runner in",
            user="deploy",
            public_keys=["ssh-ed25519 AAAAC3Nza... ci@runner", "keys/alice.pub"],
        )
    """
    return {
        "user": user,
        "public_keys": to_plain(public_keys),
        "group": group,
        "delete_keys": delete_keys,
        "authorized_key_directory": to_plain(authorized_key_directory),
        "authorized_key_filename": authorized_key_filename,
    }


@builtin_operation("server.user")
def user(
    user: str,
    present=True,
    home: str | None = None,
    shell: str | None = None,
    group: str | None = None,
    groups: list[str] | None = None,
    append=False,
    public_keys: str | list[str] | None = None,
    delete_keys=False,
    ensure_home=True,
    create_home=False,
    system=False,
    uid: int | None = None,
    comment: str | None = None,
    unique=True,
    password: str | None = None,
):
    """
    Create, update or remove a user, and optionally its SSH ``authorized_keys``.

    + user: the user name
    + present: whether the user should exist
    + home: the home directory
    + shell: the login shell
    + group: the primary group
    + groups: the supplementary groups
    + append: add ``groups`` to the user's current groups instead of replacing them
    + public_keys: one public key or a list of them for ``authorized_keys``
    + delete_keys: remove every key that is not in ``public_keys``
    + ensure_home: make sure the home directory exists and is owned by the user
    + create_home: have ``useradd`` create the home directory from the system skeleton
    + system: create a system account
    + uid: the user id to create the user with
    + comment: the GECOS comment
    + unique: refuse a ``uid`` another user already has; ``False`` allows duplicates
    + password: the password, already encrypted as the system stores it

    Home directory:
        ``home`` defaults to the existing user's home, or ``/home/<user>`` for a new
        user. ``create_home`` only matters when the user is created.

    Public keys:
        Each entry is either the text of a key or the path of a local file of keys, read
        relative to the deploy directory; they are managed as
        ``server.user_authorized_keys`` manages them, in ``<home>/.ssh``.

    **Examples:**

    .. code:: python

        server.user(
            name="Create the deploy user",
            user="deploy",
            shell="/bin/bash",
            groups=["docker"],
            append=True,
            public_keys=["keys/deploy.pub"],
        )

        server.user(
            name="Remove the old operator account",
            user="operator1",
            present=False,
        )
    """
    return {
        "user": user,
        "present": present,
        "home": to_plain(home),
        "shell": shell,
        "group": group,
        "groups": to_plain(groups),
        "append": append,
        "public_keys": to_plain(public_keys),
        "delete_keys": delete_keys,
        "ensure_home": ensure_home,
        "create_home": create_home,
        "system": system,
        "uid": uid,
        "comment": comment,
        "unique": unique,
        "password": password,
    }


@builtin_operation("server.locale")
def locale(
    locale: str,
    present=True,
):
    """
    Enable or disable a locale in ``/etc/locale.gen`` and run ``locale-gen``.

    + locale: the locale name, such as ``de_DE.UTF-8``
    + present: whether the locale should be enabled

    The locale must have exactly one line in ``/etc/locale.gen``; no line, or several,
    is an error.

    **Examples:**

    .. code:: python

        server.locale(
            name="Enable the German UTF-8 locale",
            locale="de_DE.UTF-8",
        )

        server.locale(
            name="Disable the Latin-1 locale",
            locale="de_DE.ISO-8859-1",
            present=False,
        )
    """
    return {"locale": locale, "present": present}


@builtin_operation("server.kill")
def kill(pid: int, signal: str = "TERM"):
    """
    Send a signal to a process.

    + pid: the process id
    + signal: the signal name or number, without the dash

    **Example:**

    .. code:: python

        server.kill(
            name="Ask the worker to reload",
            pid=4242,
            signal="HUP",
        )
    """
    return {"pid": pid, "signal": signal}


@builtin_operation("server.security_limit")
def security_limit(
    domain: str,
    limit_type: str,
    item: str,
    value: int,
):
    """
    Set a resource limit in ``/etc/security/limits.conf``.

    + domain: who the limit applies to: a user, ``@group`` or ``*``
    + limit_type: ``soft`` or ``hard``
    + item: the resource, such as ``nofile`` or ``nproc``
    + value: the limit

    The line for the same domain, type and item is replaced, or added when there is
    none.

    **Example:**

    .. code:: python

        server.security_limit(
            name="Raise the open file limit for the app user",
            domain="app",
            limit_type="hard",
            item="nofile",
            value=65536,
        )
    """
    return {"domain": domain, "limit_type": limit_type, "item": item, "value": value}
