//! Operations of `pyinfra/operations/postgres.py` (SQL, roles, databases, dumps and
//! loads through `psql` and `pg_dump`) and the deprecated `postgresql.*` names pyinfra
//! keeps for them (`pyinfra/operations/postgresql.py`), which plan the same way.
//!
//! Every operation takes the `psql_*` arguments that say how to reach the server.
//! Passwords (`psql_password`, a role's `password`) are secrets: sent to the host,
//! shown masked. SQL is written as pyinfra writes it (names in double quotes) and the
//! whole statement is quoted as one shell word.

use serde::Deserialize;
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_core::command::CommandPart;
use oxinfra_facts::mysql::truthy_text;
use oxinfra_facts::postgres::{PsqlTarget, execute_psql_command, psql_command};

use crate::mysql::python_eq;
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

const SQL_PARAMS: &[&str] = &["sql", "psql_user", "psql_password", "psql_host", "psql_port", "psql_database"];
const ROLE_PARAMS: &[&str] = &[
    "role",
    "present",
    "password",
    "login",
    "superuser",
    "inherit",
    "createdb",
    "createrole",
    "replication",
    "connection_limit",
    "psql_user",
    "psql_password",
    "psql_host",
    "psql_port",
    "psql_database",
];
const DATABASE_PARAMS: &[&str] = &[
    "database",
    "present",
    "owner",
    "template",
    "encoding",
    "lc_collate",
    "lc_ctype",
    "tablespace",
    "connection_limit",
    "psql_user",
    "psql_password",
    "psql_host",
    "psql_port",
    "psql_database",
];
const DUMP_PARAMS: &[&str] = &["dest", "psql_user", "psql_password", "psql_host", "psql_port", "psql_database"];
const LOAD_PARAMS: &[&str] = &["src", "psql_user", "psql_password", "psql_host", "psql_port", "psql_database"];

/// The operations of this module, then their deprecated `postgresql.*` names.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "postgres.sql",
        params: SQL_PARAMS,
        plan: |arguments, plan| sql(&parse_arguments("postgres.sql", arguments)?, plan),
    },
    OperationDef {
        name: "postgres.role",
        params: ROLE_PARAMS,
        plan: |arguments, plan| role(&parse_arguments("postgres.role", arguments)?, plan),
    },
    OperationDef {
        name: "postgres.database",
        params: DATABASE_PARAMS,
        plan: |arguments, plan| database(&parse_arguments("postgres.database", arguments)?, plan),
    },
    OperationDef {
        name: "postgres.dump",
        params: DUMP_PARAMS,
        plan: |arguments, plan| dump(&parse_arguments("postgres.dump", arguments)?, plan),
    },
    OperationDef {
        name: "postgres.load",
        params: LOAD_PARAMS,
        plan: |arguments, plan| load(&parse_arguments("postgres.load", arguments)?, plan),
    },
    OperationDef {
        name: "postgresql.sql",
        params: SQL_PARAMS,
        plan: |arguments, plan| sql(&parse_arguments("postgresql.sql", arguments)?, plan),
    },
    OperationDef {
        name: "postgresql.role",
        params: ROLE_PARAMS,
        plan: |arguments, plan| role(&parse_arguments("postgresql.role", arguments)?, plan),
    },
    OperationDef {
        name: "postgresql.database",
        params: DATABASE_PARAMS,
        plan: |arguments, plan| database(&parse_arguments("postgresql.database", arguments)?, plan),
    },
    OperationDef {
        name: "postgresql.dump",
        params: DUMP_PARAMS,
        plan: |arguments, plan| dump(&parse_arguments("postgresql.dump", arguments)?, plan),
    },
    OperationDef {
        name: "postgresql.load",
        params: LOAD_PARAMS,
        plan: |arguments, plan| load(&parse_arguments("postgresql.load", arguments)?, plan),
    },
];

fn yes() -> bool {
    true
}

/// The `psql_*` arguments every operation here takes.
macro_rules! psql_connection {
    ($args:expr) => {
        PsqlTarget {
            user: $args.psql_user.as_ref(),
            password: $args.psql_password.as_ref(),
            host: $args.psql_host.as_ref(),
            port: $args.psql_port.as_ref(),
            database: $args.psql_database.as_ref(),
        }
    };
}

/// SQL text written by the operation (names already in double quotes).
fn statement(text: String) -> StringCommand {
    StringCommand::raw(text)
}

/// `PASSWORD '<secret>'`.
fn password_clause(password: String) -> StringCommand {
    let mut literal = StringCommand::raw("'");
    literal.push(CommandPart::Secret(password));
    literal = literal.text("'");
    literal.separator = String::new();
    StringCommand::raw("PASSWORD").nested(literal)
}

/// Arguments of `postgres.sql`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlArgs {
    /// The SQL to run: one statement or several.
    pub sql: String,
    /// The role `psql` connects as.
    #[serde(default)]
    pub psql_user: Option<Value>,
    /// That role's password (a secret).
    #[serde(default)]
    pub psql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub psql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub psql_port: Option<Value>,
    /// The database to connect to.
    #[serde(default)]
    pub psql_database: Option<Value>,
}

/// `postgres.sql`: runs SQL with `psql`, every time.
pub fn sql(args: &SqlArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    plan.push(execute_psql_command(statement(args.sql.clone()), &psql_connection!(args)));
    Ok(())
}

/// Arguments of `postgres.role`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleArgs {
    /// The role's name.
    pub role: String,
    /// Whether the role should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// The role's password (a secret); given, it is set on every run, as the current
    /// one cannot be read back.
    #[serde(default)]
    pub password: Option<Value>,
    /// Whether the role may log in.
    #[serde(default = "yes")]
    pub login: bool,
    /// Whether the role is a superuser.
    #[serde(default)]
    pub superuser: bool,
    /// Whether the role gets the privileges of the roles it is a member of.
    #[serde(default)]
    pub inherit: bool,
    /// Whether the role may create databases.
    #[serde(default)]
    pub createdb: bool,
    /// Whether the role may create other roles.
    #[serde(default)]
    pub createrole: bool,
    /// Whether the role may start streaming replication.
    #[serde(default)]
    pub replication: bool,
    /// How many connections the role may hold at once.
    #[serde(default)]
    pub connection_limit: Option<Value>,
    /// The role `psql` connects as.
    #[serde(default)]
    pub psql_user: Option<Value>,
    /// That role's password (a secret).
    #[serde(default)]
    pub psql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub psql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub psql_port: Option<Value>,
    /// The database to connect to.
    #[serde(default)]
    pub psql_database: Option<Value>,
}

/// `postgres.role`: creates or drops a role; an existing role gets the attributes
/// asked for that it lacks, never loses one.
pub fn role(args: &RoleArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let target = psql_connection!(args);
    let roles = plan.fact("postgres.PostgresRoles", &target.fact_arguments())?;
    let name = &args.role;
    let current = roles.get(name);

    if !args.present {
        match current {
            Some(_) => plan.push(execute_psql_command(statement(format!("DROP ROLE \"{name}\"")), &target)),
            None => plan.noop(format!("postgresql role {name} does not exist")),
        }
        return Ok(());
    }
    let connection_limit = truthy_text(args.connection_limit.as_ref());
    let password = truthy_text(args.password.as_ref());

    let Some(current) = current else {
        let mut sql = statement(format!("CREATE ROLE \"{name}\""));
        for (keyword, wanted) in [
            ("LOGIN", args.login),
            ("SUPERUSER", args.superuser),
            ("INHERIT", args.inherit),
            ("CREATEDB", args.createdb),
            ("CREATEROLE", args.createrole),
            ("REPLICATION", args.replication),
        ] {
            if wanted {
                sql = sql.text(keyword);
            }
        }
        if let Some(limit) = &connection_limit {
            sql = sql.text(format!("CONNECTION LIMIT {limit}"));
        }
        if let Some(password) = password {
            sql = sql.nested(password_clause(password));
        }
        plan.push(execute_psql_command(sql, &target));
        return Ok(());
    };

    // pyinfra compares with the fact's keys as named here; `login` and
    // `connection_limit` are `canlogin` and `connlimit` in `PostgresRoles`, so only a
    // fact that has those names triggers these two changes.
    let differs = |key: &str, wanted: &Value| current.get(key).is_some_and(|value| !python_eq(value, wanted));
    let mut sql = statement(format!("ALTER ROLE \"{name}\""));
    let mut changed = false;
    for (keyword, key, wanted) in [
        ("LOGIN", "login", args.login),
        ("SUPERUSER", "superuser", args.superuser),
        ("INHERIT", "inherit", args.inherit),
        ("CREATEDB", "createdb", args.createdb),
        ("CREATEROLE", "createrole", args.createrole),
    ] {
        if wanted && differs(key, &Value::Bool(true)) {
            sql = sql.text(keyword);
            changed = true;
        }
    }
    if let (Some(limit), Some(wanted)) = (&connection_limit, &args.connection_limit) {
        if differs("connection_limit", wanted) {
            sql = sql.text(format!("CONNECTION LIMIT {limit}"));
            changed = true;
        }
    }
    if let Some(password) = password {
        sql = sql.nested(password_clause(password));
        changed = true;
    }
    if changed {
        plan.push(execute_psql_command(sql, &target));
    } else {
        plan.noop(format!("postgresql role {name} exists and does not need updates"));
    }
    Ok(())
}

/// Arguments of `postgres.database`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseArgs {
    /// The database's name.
    pub database: String,
    /// Whether the database should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// The role that owns the database.
    #[serde(default)]
    pub owner: Option<String>,
    /// The template the database is created from (creation only).
    #[serde(default)]
    pub template: Option<String>,
    /// The character encoding (creation only).
    #[serde(default)]
    pub encoding: Option<String>,
    /// The collation, `LC_COLLATE` (creation only).
    #[serde(default)]
    pub lc_collate: Option<String>,
    /// The character classification, `LC_CTYPE` (creation only).
    #[serde(default)]
    pub lc_ctype: Option<String>,
    /// The tablespace the database lives in.
    #[serde(default)]
    pub tablespace: Option<String>,
    /// How many connections the database accepts at once.
    #[serde(default)]
    pub connection_limit: Option<Value>,
    /// The role `psql` connects as.
    #[serde(default)]
    pub psql_user: Option<Value>,
    /// That role's password (a secret).
    #[serde(default)]
    pub psql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub psql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub psql_port: Option<Value>,
    /// The database to connect to.
    #[serde(default)]
    pub psql_database: Option<Value>,
}

/// A non-empty optional text (Python's `if value:`).
fn given(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|value| !value.is_empty())
}

/// `postgres.database`: creates or drops a database; an existing one gets the owner,
/// tablespace and connection limit asked for (the rest can only be set at creation).
pub fn database(args: &DatabaseArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let target = psql_connection!(args);
    let databases = plan.fact("postgres.PostgresDatabases", &target.fact_arguments())?;
    let name = &args.database;
    let connection_limit = truthy_text(args.connection_limit.as_ref());

    if !args.present {
        match databases.get(name) {
            Some(_) => plan.push(execute_psql_command(statement(format!("DROP DATABASE \"{name}\"")), &target)),
            None => plan.noop(format!("postgresql database {name} does not exist")),
        }
        return Ok(());
    }

    let Some(current) = databases.get(name) else {
        let mut sql = statement(format!("CREATE DATABASE \"{name}\""));
        for (keyword, value) in [
            ("OWNER", given(args.owner.as_ref()).map(|owner| format!("\"{owner}\""))),
            ("TEMPLATE", given(args.template.as_ref()).map(str::to_owned)),
            ("ENCODING", given(args.encoding.as_ref()).map(str::to_owned)),
            ("LC_COLLATE", given(args.lc_collate.as_ref()).map(|collate| format!("'{collate}'"))),
            ("LC_CTYPE", given(args.lc_ctype.as_ref()).map(|ctype| format!("'{ctype}'"))),
            ("TABLESPACE", given(args.tablespace.as_ref()).map(str::to_owned)),
            ("CONNECTION LIMIT", connection_limit.clone()),
        ] {
            if let Some(value) = value {
                sql = sql.text(format!("{keyword} {value}"));
            }
        }
        plan.push(execute_psql_command(sql, &target));
        return Ok(());
    };

    for (keyword, wanted, current_value) in [
        ("TEMPLATE", given(args.template.as_ref()), current.get("istemplate")),
        ("ENCODING", given(args.encoding.as_ref()), current.get("encoding")),
        ("LC_COLLATE", given(args.lc_collate.as_ref()), None),
        ("LC_CTYPE", given(args.lc_ctype.as_ref()), None),
    ] {
        let Some(wanted) = wanted else { continue };
        let same = current_value.is_some_and(|value| !value.is_null() && python_eq(value, &Value::String(wanted.to_owned())));
        if !same {
            plan.noop(format!("postgresql database {name} already exists, skipping {keyword}"));
        }
    }

    let differs = |key: &str, wanted: &Value| current.get(key).is_some_and(|value| !python_eq(value, wanted));
    let mut sql = StringCommand::new();
    if let Some(owner) = given(args.owner.as_ref()) {
        if differs("owner", &Value::String(owner.to_owned())) {
            sql = sql.text(format!("ALTER DATABASE \"{name}\" OWNER TO \"{owner}\";"));
        }
    }
    if let Some(tablespace) = given(args.tablespace.as_ref()) {
        if differs("tablespace", &Value::String(tablespace.to_owned())) {
            sql = sql.text(format!("ALTER DATABASE \"{name}\" SET TABLESPACE \"{tablespace}\";"));
        }
    }
    if let (Some(limit), Some(wanted)) = (&connection_limit, &args.connection_limit) {
        if differs("connlimit", wanted) {
            sql = sql.text(format!("ALTER DATABASE \"{name}\" CONNECTION LIMIT {limit};"));
        }
    }
    if sql.parts.is_empty() {
        plan.noop(format!("postgresql database {name} already exists with the same parameters"));
    } else {
        plan.push(execute_psql_command(sql, &target));
    }
    Ok(())
}

/// Arguments of `postgres.dump`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DumpArgs {
    /// The file on the host the SQL dump is written to.
    pub dest: String,
    /// The role `pg_dump` connects as.
    #[serde(default)]
    pub psql_user: Option<Value>,
    /// That role's password (a secret).
    #[serde(default)]
    pub psql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub psql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub psql_port: Option<Value>,
    /// The database to dump.
    #[serde(default)]
    pub psql_database: Option<Value>,
}

/// `postgres.dump`: writes a database out as SQL with `pg_dump`, every time.
pub fn dump(args: &DumpArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    plan.push(
        StringCommand::new()
            .nested(psql_command(&psql_connection!(args), "pg_dump"))
            .text(">")
            .quoted(&args.dest),
    );
    Ok(())
}

/// Arguments of `postgres.load`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadArgs {
    /// The SQL file on the host to run.
    pub src: String,
    /// The role `psql` connects as.
    #[serde(default)]
    pub psql_user: Option<Value>,
    /// That role's password (a secret).
    #[serde(default)]
    pub psql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub psql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub psql_port: Option<Value>,
    /// The database to load into.
    #[serde(default)]
    pub psql_database: Option<Value>,
}

/// `postgres.load`: runs an SQL file with `psql`, every time.
pub fn load(args: &LoadArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    plan.push(
        StringCommand::new()
            .nested(psql_command(&psql_connection!(args), "psql"))
            .text("<")
            .quoted(&args.src),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::mysql::test_support::planned;
    use serde_json::json;

    #[test]
    fn role_created_with_connection_password_masks_both_secrets() {
        let (commands, _) = planned(
            "postgres.role",
            json!({"role": "app", "password": "s3", "psql_password": "root pw", "login": false}),
            json!({"postgres.PostgresRoles": {}}),
        );
        assert_eq!(
            commands,
            vec![(
                "PGPASSWORD='root pw' psql -Ac 'CREATE ROLE \"app\" PASSWORD '\"'\"'s3'\"'\"''".to_owned(),
                "PGPASSWORD='*MASKED*' psql -Ac 'CREATE ROLE \"app\" PASSWORD '\"'\"'*MASKED*'\"'\"''".to_owned()
            )]
        );
    }

    #[test]
    fn existing_database_skips_creation_only_settings() {
        let (commands, noop) = planned(
            "postgres.database",
            json!({"database": "db", "encoding": "UTF8", "connection_limit": 5}),
            json!({"postgres.PostgresDatabases": {"db": {"encoding": "LATIN1", "connlimit": 5}}}),
        );
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("postgresql database db already exists with the same parameters"));
    }

    #[test]
    fn database_connection_limit_is_altered() {
        let (commands, _) = planned(
            "postgres.database",
            json!({"database": "db", "connection_limit": 5}),
            json!({"postgres.PostgresDatabases": {"db": {"connlimit": -1}}}),
        );
        assert_eq!(commands[0].0, "psql -Ac 'ALTER DATABASE \"db\" CONNECTION LIMIT 5;'");
    }

    #[test]
    fn dropping_a_missing_role_is_a_noop() {
        let (commands, noop) = planned(
            "postgres.role",
            json!({"role": "gone", "present": false}),
            json!({"postgres.PostgresRoles": {}}),
        );
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("postgresql role gone does not exist"));
    }
}
