"""The old names of the ``postgres`` operations (pyinfra's deprecated ``postgresql``
module): each plans exactly as the ``postgres`` operation of the same name and warns
that it is deprecated.

pyinfra declares these as ``(*args, **kwargs)`` and passes everything on; here they carry
the ``postgres`` signatures, so wrong arguments are reported when the operation is
called, as for every other operation.
"""

from __future__ import annotations

from typing import Any, Callable

from oxinfra.api.operation import OperationMeta, _wrap


def _deprecated(planner: str, deprecated_for: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., OperationMeta]]:
    """``builtin_operation`` for an operation kept under a deprecated name."""

    def decorator(function: Callable[..., Any]) -> Callable[..., OperationMeta]:
        return _wrap(function, planner, True, deprecated_for)

    return decorator


@_deprecated("postgresql.sql", deprecated_for="postgres.sql")
def sql(
    sql: str,
    psql_user: str | None = None,
    psql_password: str | None = None,
    psql_host: str | None = None,
    psql_port: int | None = None,
    psql_database: str | None = None,
):
    """
    Deprecated name of ``postgres.sql``: run SQL with ``psql``, on every run.

    + sql: the statement or statements to run
    + psql_*: how to reach the server, as for ``postgres.sql``
    """
    return {
        "sql": sql,
        "psql_user": psql_user,
        "psql_password": psql_password,
        "psql_host": psql_host,
        "psql_port": psql_port,
        "psql_database": psql_database,
    }


@_deprecated("postgresql.role", deprecated_for="postgres.role")
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
    Deprecated name of ``postgres.role``: create or drop a PostgreSQL role.

    + role: the role's name
    + present: whether the role should exist
    + password: the role's password (never shown in output)
    + login/superuser/inherit/createdb/createrole/replication: the role's attributes
    + connection_limit: how many connections the role may hold at once
    + psql_*: how to reach the server, as for ``postgres.role``
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


@_deprecated("postgresql.database")
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
    Deprecated name of ``postgres.database``: create or drop a PostgreSQL database.

    + database: the database's name
    + present: whether the database should exist
    + owner/template/encoding/lc_collate/lc_ctype/tablespace/connection_limit: the
      database's settings, as for ``postgres.database``
    + psql_*: how to reach the server, as for ``postgres.database``
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


@_deprecated("postgresql.dump")
def dump(
    dest: str,
    psql_user: str | None = None,
    psql_password: str | None = None,
    psql_host: str | None = None,
    psql_port: int | None = None,
    psql_database: str | None = None,
):
    """
    Deprecated name of ``postgres.dump``: write a database out as SQL with ``pg_dump``.

    + dest: the file on the host to write the dump to
    + psql_*: how to reach the server, as for ``postgres.dump``
    """
    return {
        "dest": dest,
        "psql_user": psql_user,
        "psql_password": psql_password,
        "psql_host": psql_host,
        "psql_port": psql_port,
        "psql_database": psql_database,
    }


@_deprecated("postgresql.load")
def load(
    src: str,
    psql_user: str | None = None,
    psql_password: str | None = None,
    psql_host: str | None = None,
    psql_port: int | None = None,
    psql_database: str | None = None,
):
    """
    Deprecated name of ``postgres.load``: run an SQL file into a database with ``psql``.

    + src: the SQL file on the host
    + psql_*: how to reach the server, as for ``postgres.load``
    """
    return {
        "src": src,
        "psql_user": psql_user,
        "psql_password": psql_password,
        "psql_host": psql_host,
        "psql_port": psql_port,
        "psql_database": psql_database,
    }
