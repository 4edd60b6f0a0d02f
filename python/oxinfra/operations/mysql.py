"""MySQL and MariaDB users, databases, privileges, SQL, dumps and loads (pyinfra's
``mysql`` module).

The host needs the ``mysql`` client (and ``mysqldump`` for ``mysql.dump``). Every
operation here also takes these arguments, saying how to reach the server:

    + ``mysql_user``: the account to connect as
    + ``mysql_password``: that account's password (never shown in output)
    + ``mysql_host``: the server's host name
    + ``mysql_port``: the server's port

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("mysql.sql")
def sql(
    sql: str,
    database: str | None = None,
    mysql_user: str | None = None,
    mysql_password: str | None = None,
    mysql_host: str | None = None,
    mysql_port: int | None = None,
):
    """
    Run SQL with ``mysql``, on every run.

    + sql: the statement or statements to run
    + database: the database to open first
    + mysql_*: how to reach the server, see the module's arguments above

    **Example:**

    .. code:: python

        mysql.sql(
            name="Purge old sessions",
            sql="DELETE FROM sessions WHERE expires < NOW()",
            database="webapp",
        )
    """
    return {
        "sql": sql,
        "database": database,
        "mysql_user": mysql_user,
        "mysql_password": mysql_password,
        "mysql_host": mysql_host,
        "mysql_port": mysql_port,
    }


@builtin_operation("mysql.user")
def user(
    user: str,
    present: bool = True,
    user_hostname: str = "localhost",
    password: str | None = None,
    privileges: str | list[str] | None = None,
    require: str | None = None,
    require_cipher: str | None = None,
    require_issuer: str | None = None,
    require_subject: str | None = None,
    max_connections: int | None = None,
    max_queries_per_hour: int | None = None,
    max_updates_per_hour: int | None = None,
    max_connections_per_hour: int | None = None,
    mysql_user: str | None = None,
    mysql_password: str | None = None,
    mysql_host: str | None = None,
    mysql_port: int | None = None,
):
    """
    Create, update or drop a MySQL user.

    + user: the user's name
    + present: whether the user should exist
    + user_hostname: the host the user connects from
    + password: the user's password, set when the user is created (never shown in output)
    + privileges: global privileges the user should have, as ``mysql.privileges`` sets them
    + require: ``"SSL"`` or ``"X509"``: the kind of encrypted connection the user must use
    + require_cipher: with ``require="X509"``, the cipher the connection must use
    + require_issuer: with ``require="X509"``, the issuer of the client certificate
    + require_subject: with ``require="X509"``, the subject of the client certificate
    + max_connections: how many connections the user may hold at once
    + max_queries_per_hour: how many queries the user may send per hour
    + max_updates_per_hour: how many updates the user may send per hour
    + max_connections_per_hour: how many times per hour the user may connect
    + mysql_*: how to reach the server, see the module's arguments above

    Accounts:
        A MySQL account is the name and the host together: another ``user_hostname``
        makes another user, it does not rename one.

    Passwords:
        The current password cannot be read back, so the password of an existing user
        is left as it is.

    **Examples:**

    .. code:: python

        mysql.user(
            name="Create the application's user",
            user="webapp",
            password=host.data.webapp_db_password,
            max_connections=20,
        )

        mysql.user(
            name="Create a reporting user that must present a certificate",
            user="reports",
            user_hostname="%",
            require="X509",
            require_subject="/CN=reports",
        )
    """
    return {
        "user": user,
        "present": present,
        "user_hostname": user_hostname,
        "password": password,
        "privileges": to_plain(privileges),
        "require": require,
        "require_cipher": require_cipher,
        "require_issuer": require_issuer,
        "require_subject": require_subject,
        "max_connections": max_connections,
        "max_queries_per_hour": max_queries_per_hour,
        "max_updates_per_hour": max_updates_per_hour,
        "max_connections_per_hour": max_connections_per_hour,
        "mysql_user": mysql_user,
        "mysql_password": mysql_password,
        "mysql_host": mysql_host,
        "mysql_port": mysql_port,
    }


@builtin_operation("mysql.database")
def database(
    database: str,
    present: bool = True,
    collate: str | None = None,
    charset: str | None = None,
    user: str | None = None,
    user_hostname: str = "localhost",
    user_privileges: str | list[str] = "ALL",
    mysql_user: str | None = None,
    mysql_password: str | None = None,
    mysql_host: str | None = None,
    mysql_port: int | None = None,
):
    """
    Create or drop a MySQL database, and give a user privileges on it.

    + database: the database's name
    + present: whether the database should exist
    + collate: the collation to create the database with
    + charset: the character set to create the database with
    + user: a user to give privileges on the database
    + user_hostname: the host of that user
    + user_privileges: the privileges that user should have on the database
    + mysql_*: how to reach the server, see the module's arguments above

    Collation and character set:
        Both only apply when the database is created; an existing database keeps its own.

    **Example:**

    .. code:: python

        mysql.database(
            name="Create the application's database",
            database="webapp",
            charset="utf8mb4",
            user="webapp",
            user_privileges=["SELECT", "INSERT", "UPDATE", "DELETE"],
        )
    """
    return {
        "database": database,
        "present": present,
        "collate": collate,
        "charset": charset,
        "user": user,
        "user_hostname": user_hostname,
        "user_privileges": to_plain(user_privileges),
        "mysql_user": mysql_user,
        "mysql_password": mysql_password,
        "mysql_host": mysql_host,
        "mysql_port": mysql_port,
    }


@builtin_operation("mysql.privileges")
def privileges(
    user: str,
    privileges: str | list[str] | set[str],
    user_hostname="localhost",
    database="*",
    table="*",
    flush=True,
    with_grant_option=False,
    mysql_user: str | None = None,
    mysql_password: str | None = None,
    mysql_host: str | None = None,
    mysql_port: int | None = None,
):
    """
    Make a user's privileges on every database, one database or one table exactly these.

    + user: the user whose privileges are managed
    + privileges: every privilege the user should have there; others are revoked
    + user_hostname: the host of the user
    + database: the database the privileges apply to, ``*`` for every database
    + table: the table the privileges apply to, ``*`` for every table (needs ``database``)
    + flush: reload the grant tables after a change
    + with_grant_option: whether the user may pass its privileges on (``GRANT OPTION``)
    + mysql_*: how to reach the server, see the module's arguments above

    **Example:**

    .. code:: python

        mysql.privileges(
            name="Let the reporting user read the orders table",
            user="reports",
            user_hostname="%",
            privileges=["SELECT"],
            database="webapp",
            table="orders",
        )
    """
    return {
        "user": user,
        "privileges": to_plain(privileges),
        "user_hostname": user_hostname,
        "database": database,
        "table": table,
        "flush": flush,
        "with_grant_option": with_grant_option,
        "mysql_user": mysql_user,
        "mysql_password": mysql_password,
        "mysql_host": mysql_host,
        "mysql_port": mysql_port,
    }


_privileges = privileges  # pyinfra's name for use where an argument is called `privileges`


@builtin_operation("mysql.dump")
def dump(
    dest: str,
    database: str | None = None,
    mysql_user: str | None = None,
    mysql_password: str | None = None,
    mysql_host: str | None = None,
    mysql_port: int | None = None,
):
    """
    Write a database out as SQL with ``mysqldump``, on every run.

    + dest: the file on the host to write the dump to
    + database: the database to dump
    + mysql_*: how to reach the server, see the module's arguments above

    **Example:**

    .. code:: python

        mysql.dump(
            name="Dump the application's database",
            dest="/var/backups/webapp.sql",
            database="webapp",
        )
    """
    return {
        "dest": dest,
        "database": database,
        "mysql_user": mysql_user,
        "mysql_password": mysql_password,
        "mysql_host": mysql_host,
        "mysql_port": mysql_port,
    }


@builtin_operation("mysql.load")
def load(
    src: str,
    database: str | None = None,
    mysql_user: str | None = None,
    mysql_password: str | None = None,
    mysql_host: str | None = None,
    mysql_port: int | None = None,
):
    """
    Run an SQL file into a database with ``mysql``, on every run.

    + src: the SQL file on the host
    + database: the database to load into
    + mysql_*: how to reach the server, see the module's arguments above

    **Example:**

    .. code:: python

        mysql.load(
            name="Restore the application's database into a copy",
            src="/var/backups/webapp.sql",
            database="webapp_copy",
        )
    """
    return {
        "src": src,
        "database": database,
        "mysql_user": mysql_user,
        "mysql_password": mysql_password,
        "mysql_host": mysql_host,
        "mysql_port": mysql_port,
    }
