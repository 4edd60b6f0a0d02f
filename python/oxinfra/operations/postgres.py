"""PostgreSQL roles, databases, SQL, dumps and loads (pyinfra's ``postgres`` module).

The host needs the ``psql`` client (and ``pg_dump`` for ``postgres.dump``). Every
operation here also takes these arguments, saying how to reach the server:

    + ``psql_user``: the role to connect as
    + ``psql_password``: that role's password (never shown in output)
    + ``psql_host``: the server's host name
    + ``psql_port``: the server's port
    + ``psql_database``: the database to connect to

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation


@builtin_operation("postgres.sql")
def sql(
    sql: str,
    psql_user: str | None = None,
    psql_password: str | None = None,
    psql_host: str | None = None,
    psql_port: int | None = None,
    psql_database: str | None = None,
):
    """
    Run SQL with ``psql``, on every run.

    + sql: the statement or statements to run
    + psql_*: how to reach the server, see the module's arguments above

    **Example:**

    .. code:: python

        postgres.sql(
            name="Refresh the report view",
            sql="REFRESH MATERIALIZED VIEW monthly_report",
            psql_database="reports",
            _sudo_user="postgres",
        )
    """
    return {
        "sql": sql,
        "psql_user": psql_user,
        "psql_password": psql_password,
        "psql_host": psql_host,
        "psql_port": psql_port,
        "psql_database": psql_database,
    }


@builtin_operation("postgres.role")
def role(
    role: str,
    present: bool = True,
    password: str | None = None,
    login: bool = True,
    superuser: bool = False,
    inherit: bool = False,
    createdb: bool = False,
    createrole: bool = False,
    replication: bool = False,
    connection_limit: int | None = None,
    psql_user: str | None = None,
    psql_password: str | None = None,
    psql_host: str | None = None,
    psql_port: int | None = None,
    psql_database: str | None = None,
):
    """
    Create or drop a PostgreSQL role.

    + role: the role's name
    + present: whether the role should exist
    + password: the role's password (never shown in output)
    + login: whether the role may log in
    + superuser: whether the role is a superuser
    + inherit: whether the role gets the privileges of the roles it belongs to
    + createdb: whether the role may create databases
    + createrole: whether the role may create roles
    + replication: whether the role may start streaming replication
    + connection_limit: how many connections the role may hold at once
    + psql_*: how to reach the server, see the module's arguments above

    Existing roles:
        Attributes asked for that an existing role lacks are added with ``ALTER ROLE``;
        none are taken away. A given ``password`` is set on every run, since the
        current one cannot be compared.

    **Example:**

    .. code:: python

        postgres.role(
            name="Create the application's role",
            role="webapp",
            password=host.data.webapp_db_password,
            createdb=True,
            _sudo_user="postgres",
        )
    """
    return {
        "role": role,
        "present": present,
        "password": password,
        "login": login,
        "superuser": superuser,
        "inherit": inherit,
        "createdb": createdb,
        "createrole": createrole,
        "replication": replication,
        "connection_limit": connection_limit,
        "psql_user": psql_user,
        "psql_password": psql_password,
        "psql_host": psql_host,
        "psql_port": psql_port,
        "psql_database": psql_database,
    }


@builtin_operation("postgres.database")
def database(
    database: str,
    present=True,
    owner: str | None = None,
    template: str | None = None,
    encoding: str | None = None,
    lc_collate: str | None = None,
    lc_ctype: str | None = None,
    tablespace: str | None = None,
    connection_limit: int | None = None,
    psql_user: str | None = None,
    psql_password: str | None = None,
    psql_host: str | None = None,
    psql_port: int | None = None,
    psql_database: str | None = None,
):
    """
    Create or drop a PostgreSQL database.

    + database: the database's name
    + present: whether the database should exist
    + owner: the role that owns the database
    + template: the template to create the database from
    + encoding: the database's character encoding
    + lc_collate: the database's collation order
    + lc_ctype: the database's character classification
    + tablespace: the tablespace the database lives in
    + connection_limit: how many connections the database accepts at once
    + psql_*: how to reach the server, see the module's arguments above

    Existing databases:
        The owner, tablespace and connection limit of an existing database are changed
        to match; ``template``, ``encoding``, ``lc_collate`` and ``lc_ctype`` only apply
        when the database is created.

    **Example:**

    .. code:: python

        postgres.database(
            name="Create the application's database",
            database="webapp",
            owner="webapp",
            encoding="UTF8",
            _sudo_user="postgres",
        )
    """
    return {
        "database": database,
        "present": present,
        "owner": owner,
        "template": template,
        "encoding": encoding,
        "lc_collate": lc_collate,
        "lc_ctype": lc_ctype,
        "tablespace": tablespace,
        "connection_limit": connection_limit,
        "psql_user": psql_user,
        "psql_password": psql_password,
        "psql_host": psql_host,
        "psql_port": psql_port,
        "psql_database": psql_database,
    }


@builtin_operation("postgres.dump")
def dump(
    dest: str,
    psql_user: str | None = None,
    psql_password: str | None = None,
    psql_host: str | None = None,
    psql_port: int | None = None,
    psql_database: str | None = None,
):
    """
    Write a database out as SQL with ``pg_dump``, on every run.

    + dest: the file on the host to write the dump to
    + psql_*: how to reach the server (``psql_database`` is the database dumped)

    **Example:**

    .. code:: python

        postgres.dump(
            name="Dump the application's database",
            dest="/var/backups/webapp.sql",
            psql_database="webapp",
            _sudo_user="postgres",
        )
    """
    return {
        "dest": dest,
        "psql_user": psql_user,
        "psql_password": psql_password,
        "psql_host": psql_host,
        "psql_port": psql_port,
        "psql_database": psql_database,
    }


@builtin_operation("postgres.load")
def load(
    src: str,
    psql_user: str | None = None,
    psql_password: str | None = None,
    psql_host: str | None = None,
    psql_port: int | None = None,
    psql_database: str | None = None,
):
    """
    Run an SQL file into a database with ``psql``, on every run.

    + src: the SQL file on the host
    + psql_*: how to reach the server (``psql_database`` is the database loaded into)

    **Example:**

    .. code:: python

        postgres.load(
            name="Restore the application's database into a copy",
            src="/var/backups/webapp.sql",
            psql_database="webapp_copy",
            _sudo_user="postgres",
        )
    """
    return {
        "src": src,
        "psql_user": psql_user,
        "psql_password": psql_password,
        "psql_host": psql_host,
        "psql_port": psql_port,
        "psql_database": psql_database,
    }
