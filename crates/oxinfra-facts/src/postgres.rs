//! Facts of `pyinfra/facts/postgres.py` (roles and databases, read with `psql`), the
//! deprecated names pyinfra keeps for them in `pyinfra/facts/postgresql.py`
//! (`postgresql.PostgresqlRoles`, `postgresql.PostgresqlDatabases`), and the `psql`
//! command lines the `postgres` operations share.
//!
//! The connecting password travels as `PGPASSWORD=<secret>`, shown masked. pyinfra
//! writes the database, user, host and port into the command as they are; here they
//! enter quoted, which reads the same for every value that needs no quoting.

use oxinfra_core::StringCommand;
use oxinfra_core::command::CommandPart;
use oxinfra_core::pyrepr::python_str;
use serde_json::{Map, Value};

use crate::mysql::{parse_columns_and_rows, truthy_text, try_int};
use crate::registry::{FactDef, FactError, Param, default_dict};

/// The facts of this module, then their deprecated `postgresql.*` names.
pub const FACTS: &[FactDef] = &[
    roles_fact("postgres.PostgresRoles"),
    databases_fact("postgres.PostgresDatabases"),
    roles_fact("postgresql.PostgresqlRoles"),
    databases_fact("postgresql.PostgresqlDatabases"),
];

/// The parameters of every fact here: how to reach the server.
const CONNECTION: &[Param] = &[
    Param::optional("psql_user", "null"),
    Param::optional("psql_password", "null"),
    Param::optional("psql_host", "null"),
    Param::optional("psql_port", "null"),
    Param::optional("psql_database", "null"),
];

const ROLES_SQL: &str = "SELECT * FROM pg_catalog.pg_roles";
const DATABASES_SQL: &str = "SELECT pg_catalog.pg_encoding_to_char(encoding), *, pg_catalog.pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database";

const fn roles_fact(name: &'static str) -> FactDef {
    FactDef {
        name,
        params: CONNECTION,
        command: |arguments| execute_psql_command(StringCommand::raw(ROLES_SQL), &PsqlTarget::from_arguments(arguments)),
        requires_command: Some(|_| "psql".to_owned()),
        process: |_, output| roles(output),
        default: default_dict,
        shell_executable: None,
    }
}

const fn databases_fact(name: &'static str) -> FactDef {
    FactDef {
        name,
        params: CONNECTION,
        command: |arguments| execute_psql_command(StringCommand::raw(DATABASES_SQL), &PsqlTarget::from_arguments(arguments)),
        requires_command: Some(|_| "psql".to_owned()),
        process: |_, output| databases(output),
        default: default_dict,
        shell_executable: None,
    }
}

/// How `psql` (or `pg_dump`) reaches the server: pyinfra's `psql_*` arguments, each
/// used only when truthy.
#[derive(Debug, Clone, Copy, Default)]
pub struct PsqlTarget<'a> {
    /// The role to connect as (`-U`).
    pub user: Option<&'a Value>,
    /// Its password (`PGPASSWORD`), a secret.
    pub password: Option<&'a Value>,
    /// The server's host name (`-h`).
    pub host: Option<&'a Value>,
    /// The server's port (`-p`).
    pub port: Option<&'a Value>,
    /// The database to connect to (`-d`).
    pub database: Option<&'a Value>,
}

impl<'a> PsqlTarget<'a> {
    /// The target named by a fact's bound `psql_*` arguments.
    pub fn from_arguments(arguments: &'a Map<String, Value>) -> Self {
        Self {
            user: arguments.get("psql_user"),
            password: arguments.get("psql_password"),
            host: arguments.get("psql_host"),
            port: arguments.get("psql_port"),
            database: arguments.get("psql_database"),
        }
    }

    /// The `psql_*` arguments of the facts above, `None` where not given.
    pub fn fact_arguments(&self) -> Vec<(&'static str, Value)> {
        let value = |value: Option<&Value>| value.cloned().unwrap_or(Value::Null);
        vec![
            ("psql_user", value(self.user)),
            ("psql_password", value(self.password)),
            ("psql_host", value(self.host)),
            ("psql_port", value(self.port)),
            ("psql_database", value(self.database)),
        ]
    }
}

/// `[PGPASSWORD=<secret>] <executable> [-d db] [-U user] [-h host] [-p port]`
/// (pyinfra's `make_psql_command`).
pub fn psql_command(target: &PsqlTarget<'_>, executable: &str) -> StringCommand {
    let mut command = StringCommand::new();
    if let Some(password) = truthy_text(target.password) {
        let mut assignment = StringCommand::raw("PGPASSWORD");
        assignment.push(CommandPart::Quoted(vec![CommandPart::Secret(password)]));
        "=".clone_into(&mut assignment.separator);
        command = command.nested(assignment);
    }
    command = command.text(executable);
    for (flag, value) in [("-d", target.database), ("-U", target.user), ("-h", target.host), ("-p", target.port)] {
        if let Some(value) = truthy_text(value) {
            command = command.text(flag).quoted(value);
        }
    }
    command
}

/// `psql ... -Ac '<sql>'`: runs `sql`, quoted as one shell word (pyinfra's
/// `make_execute_psql_command`).
pub fn execute_psql_command(sql: StringCommand, target: &PsqlTarget<'_>) -> StringCommand {
    StringCommand::new().nested(psql_command(target, "psql")).text("-Ac").quoted_command(sql)
}

/// `psql -A` rows without the closing `(N rows)` line, `prefix` taken off the
/// column names.
fn table_rows(fact: &str, output: &[String], prefix: &str) -> Result<Vec<Map<String, Value>>, FactError> {
    let lines = &output[..output.len().saturating_sub(1)];
    parse_columns_and_rows(lines, "|", |title| title.strip_prefix(prefix).unwrap_or(title).to_owned()).map_err(|message| FactError::Process {
        fact: fact.to_owned(),
        message,
    })
}

/// The key a row is filed under: its name, as Python's `str()` prints it.
fn row_name(details: &mut Map<String, Value>) -> String {
    python_str(&details.shift_remove("name").unwrap_or(Value::Null))
}

/// `{role: {super, inherit, createrole, ..., connlimit, oid}}` from `pg_roles`, the
/// `rol` prefix taken off the column names.
fn roles(output: &[String]) -> Result<Value, FactError> {
    let mut roles = Map::new();
    for mut details in table_rows("postgres.PostgresRoles", output, "rol")? {
        for (key, value) in &mut details {
            match key.as_str() {
                "oid" | "connlimit" => *value = try_int(value),
                "super" | "inherit" | "createrole" | "createdb" | "canlogin" | "replication" | "bypassrls" => {
                    *value = Value::Bool(value.as_str() == Some("t"));
                }
                _ => {}
            }
        }
        roles.insert(row_name(&mut details), Value::Object(details));
    }
    Ok(Value::Object(roles))
}

/// `{database: {encoding, collate, ctype, istemplate, ..., owner}}` from
/// `pg_database`, the `dat` prefix taken off the column names.
fn databases(output: &[String]) -> Result<Value, FactError> {
    let missing = |column: &str| FactError::Process {
        fact: "postgres.PostgresDatabases".to_owned(),
        message: format!("no `{column}` column"),
    };
    let mut databases = Map::new();
    for mut details in table_rows("postgres.PostgresDatabases", output, "dat")? {
        let encoding = details.shift_remove("pg_encoding_to_char").ok_or_else(|| missing("pg_encoding_to_char"))?;
        details.insert("encoding".to_owned(), encoding);
        let owner = details.shift_remove("owner").ok_or_else(|| missing("owner"))?;
        details.insert("owner".to_owned(), owner);
        for (key, value) in &mut details {
            if key.ends_with("id") || matches!(key.as_str(), "dba" | "tablespace" | "connlimit") {
                *value = try_int(value);
            }
            if matches!(key.as_str(), "istemplate" | "allowconn") {
                *value = Value::Bool(value.as_str() == Some("t"));
            }
        }
        databases.insert(row_name(&mut details), Value::Object(details));
    }
    Ok(Value::Object(databases))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn password_is_masked_in_the_environment_assignment() {
        let arguments: Map<String, Value> = [("psql_user", json!("me")), ("psql_password", json!("pw")), ("psql_port", json!(5432))]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
        let command = execute_psql_command(StringCommand::raw(ROLES_SQL), &PsqlTarget::from_arguments(&arguments));
        assert_eq!(command.raw_value(), "PGPASSWORD=pw psql -U me -p 5432 -Ac 'SELECT * FROM pg_catalog.pg_roles'");
        assert_eq!(
            command.masked_value(),
            "PGPASSWORD='*MASKED*' psql -U me -p 5432 -Ac 'SELECT * FROM pg_catalog.pg_roles'"
        );
    }

    #[test]
    fn deprecated_roles_fact_reads_positional_connection_arguments() {
        let positional = [json!("myuser"), json!("mypassword"), json!("myhost"), json!("myport")];
        let fact = FACTS.iter().find(|fact| fact.name == "postgresql.PostgresqlRoles");
        let command = fact.and_then(|fact| {
            crate::bind_arguments(fact, &positional, &Map::new())
                .ok()
                .map(|arguments| (fact.command)(&arguments))
        });
        assert_eq!(
            command.as_ref().map(StringCommand::raw_value).as_deref(),
            Some("PGPASSWORD=mypassword psql -U myuser -h myhost -p myport -Ac 'SELECT * FROM pg_catalog.pg_roles'")
        );
        assert_eq!(
            command.as_ref().map(StringCommand::masked_value).as_deref(),
            Some("PGPASSWORD='*MASKED*' psql -U myuser -h myhost -p myport -Ac 'SELECT * FROM pg_catalog.pg_roles'")
        );
    }

    #[test]
    fn connection_values_are_quoted() {
        let arguments: Map<String, Value> = [("psql_database".to_owned(), json!("my db"))].into_iter().collect();
        let command = psql_command(&PsqlTarget::from_arguments(&arguments), "pg_dump");
        assert_eq!(command.raw_value(), "pg_dump -d 'my db'");
    }

    #[test]
    fn roles_without_rows_are_empty() {
        assert_eq!(roles(&["(0 rows)".to_owned()]).ok(), Some(json!({})));
        assert_eq!(roles(&[]).ok(), Some(json!({})));
    }

    #[test]
    fn database_columns_become_numbers_and_flags() {
        let output = [
            "pg_encoding_to_char|datname|datdba|encoding|datistemplate|datconnlimit|owner",
            "UTF8|db|10|6|t|-1|me",
            "(1 row)",
        ];
        let output: Vec<String> = output.iter().map(|line| (*line).to_owned()).collect();
        assert_eq!(
            databases(&output).ok(),
            Some(json!({"db": {"dba": 10, "encoding": "UTF8", "istemplate": true, "connlimit": -1, "owner": "me"}}))
        );
    }
}
