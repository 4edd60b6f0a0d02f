//! Operations of `pyinfra/operations/mysql.py`: SQL, users, databases, privileges,
//! dumps and loads through the `mysql` and `mysqldump` clients.
//!
//! Every operation takes the `mysql_*` arguments that say how to reach the server.
//! Passwords (`mysql_password`, a user's `password`) are secrets: sent to the host,
//! shown masked. SQL is written as pyinfra writes it (users as `"name"@"host"`,
//! databases in backquotes) and the whole statement is quoted as one shell word.
//!
//! This file holds the registry, in pyinfra's order, what the operations share, and
//! the operations on whole databases (`sql`, `database`, `dump`, `load`); accounts
//! (`user`, `privileges`) are in [`accounts`].

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_facts::mysql::{MysqlTarget, execute_mysql_command, mysql_command};

use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "mysql.sql",
        params: &["sql", "database", "mysql_user", "mysql_password", "mysql_host", "mysql_port"],
        plan: |arguments, plan| sql(&parse_arguments("mysql.sql", arguments)?, plan),
    },
    OperationDef {
        name: "mysql.user",
        params: &[
            "user",
            "present",
            "user_hostname",
            "password",
            "privileges",
            "require",
            "require_cipher",
            "require_issuer",
            "require_subject",
            "max_connections",
            "max_queries_per_hour",
            "max_updates_per_hour",
            "max_connections_per_hour",
            "mysql_user",
            "mysql_password",
            "mysql_host",
            "mysql_port",
        ],
        plan: |arguments, plan| accounts::user(&parse_arguments("mysql.user", arguments)?, plan),
    },
    OperationDef {
        name: "mysql.database",
        params: &[
            "database",
            "present",
            "collate",
            "charset",
            "user",
            "user_hostname",
            "user_privileges",
            "mysql_user",
            "mysql_password",
            "mysql_host",
            "mysql_port",
        ],
        plan: |arguments, plan| database(&parse_arguments("mysql.database", arguments)?, plan),
    },
    OperationDef {
        name: "mysql.privileges",
        params: &[
            "user",
            "privileges",
            "user_hostname",
            "database",
            "table",
            "flush",
            "with_grant_option",
            "mysql_user",
            "mysql_password",
            "mysql_host",
            "mysql_port",
        ],
        plan: |arguments, plan| accounts::privileges(&parse_arguments("mysql.privileges", arguments)?, plan),
    },
    OperationDef {
        name: "mysql.dump",
        params: &["dest", "database", "mysql_user", "mysql_password", "mysql_host", "mysql_port"],
        plan: |arguments, plan| dump(&parse_arguments("mysql.dump", arguments)?, plan),
    },
    OperationDef {
        name: "mysql.load",
        params: &["src", "database", "mysql_user", "mysql_password", "mysql_host", "mysql_port"],
        plan: |arguments, plan| load(&parse_arguments("mysql.load", arguments)?, plan),
    },
];

fn yes() -> bool {
    true
}

fn localhost() -> String {
    "localhost".to_owned()
}

fn everything() -> String {
    "*".to_owned()
}

fn all_privileges() -> Privileges {
    Privileges(vec!["ALL".to_owned()])
}

/// Python's `==` between plain values: numbers and booleans by value (`True == 1`),
/// everything else by structure.
pub(crate) fn python_eq(left: &Value, right: &Value) -> bool {
    let number = |value: &Value| match value {
        Value::Bool(flag) => Some(f64::from(u8::from(*flag))),
        Value::Number(number) => number.as_f64(),
        _ => None,
    };
    match (number(left), number(right)) {
        (Some(left), Some(right)) => left == right,
        _ => match (left, right) {
            (Value::Array(left), Value::Array(right)) => left.len() == right.len() && left.iter().zip(right).all(|(left, right)| python_eq(left, right)),
            (Value::Object(left), Value::Object(right)) => {
                left.len() == right.len() && left.iter().all(|(key, value)| right.get(key).is_some_and(|other| python_eq(value, other)))
            }
            _ => left == right,
        },
    }
}

/// The `mysql_*` arguments every operation here takes, and the database to open.
macro_rules! mysql_connection {
    ($args:expr, $database:expr) => {
        MysqlTarget {
            database: $database,
            user: $args.mysql_user.as_ref(),
            password: $args.mysql_password.as_ref(),
            host: $args.mysql_host.as_ref(),
            port: $args.mysql_port.as_ref(),
        }
    };
}

/// A non-empty optional text (Python's `if value:`).
fn given(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|value| !value.is_empty())
}

// After the macro, which it uses.
pub mod accounts;

/// Runs operation-written SQL.
fn execute(sql: impl Into<String>, target: &MysqlTarget<'_>) -> StringCommand {
    execute_mysql_command(StringCommand::raw(sql), false, target)
}

/// Privileges given as one name, a list or a set (Python sets arrive as lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privileges(pub Vec<String>);

impl Privileges {
    /// Python's truthiness of the argument: not an empty text, list or set.
    fn is_given(&self) -> bool {
        match self.0.as_slice() {
            [] => false,
            [only] => !only.is_empty(),
            _ => true,
        }
    }
}

impl<'de> Deserialize<'de> for Privileges {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(Self(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(privilege) => vec![privilege],
            OneOrMany::Many(privileges) => privileges,
        }))
    }
}

/// Arguments of `mysql.sql`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlArgs {
    /// The SQL to run: one statement or several.
    pub sql: String,
    /// The database to open first.
    #[serde(default)]
    pub database: Option<Value>,
    /// The account `mysql` connects as.
    #[serde(default)]
    pub mysql_user: Option<Value>,
    /// That account's password (a secret).
    #[serde(default)]
    pub mysql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub mysql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub mysql_port: Option<Value>,
}

/// `mysql.sql`: runs SQL with `mysql`, every time.
pub fn sql(args: &SqlArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    plan.push(execute(args.sql.clone(), &mysql_connection!(args, args.database.as_ref())));
    Ok(())
}

/// Arguments of `mysql.database`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseArgs {
    /// The database's name.
    pub database: String,
    /// Whether the database should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// The collation to create the database with (creation only).
    #[serde(default)]
    pub collate: Option<String>,
    /// The character set to create the database with (creation only).
    #[serde(default)]
    pub charset: Option<String>,
    /// A user to give privileges on this database.
    #[serde(default)]
    pub user: Option<String>,
    /// The host of that user.
    #[serde(default = "localhost")]
    pub user_hostname: String,
    /// The privileges that user gets on the database.
    #[serde(default = "all_privileges")]
    pub user_privileges: Privileges,
    /// The account `mysql` connects as.
    #[serde(default)]
    pub mysql_user: Option<Value>,
    /// That account's password (a secret).
    #[serde(default)]
    pub mysql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub mysql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub mysql_port: Option<Value>,
}

/// `mysql.database`: creates or drops a database, then gives `user` its privileges
/// on it. An existing database keeps its collation and character set.
pub fn database(args: &DatabaseArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let target = mysql_connection!(args, None);
    let databases = plan.fact("mysql.MysqlDatabases", &target.fact_arguments())?;
    let name = &args.database;
    let exists = databases.get(name).is_some();

    if !args.present {
        if exists {
            plan.push(execute(format!("DROP DATABASE `{name}`"), &target));
        } else {
            plan.noop(format!("mysql database {name} does not exist"));
        }
        return Ok(());
    }
    if exists {
        plan.noop(format!("mysql database {name} exists"));
    } else {
        let mut sql = format!("CREATE DATABASE `{name}`");
        if let Some(collate) = given(args.collate.as_ref()) {
            sql = format!("{sql} COLLATE {collate}");
        }
        if let Some(charset) = given(args.charset.as_ref()) {
            sql = format!("{sql} CHARSET {charset}");
        }
        plan.push(execute(sql, &target));
    }

    if let Some(user) = given(args.user.as_ref()) {
        if args.user_privileges.is_given() {
            let args = accounts::PrivilegesArgs {
                user: user.to_owned(),
                privileges: args.user_privileges.clone(),
                user_hostname: args.user_hostname.clone(),
                database: args.database.clone(),
                table: everything(),
                flush: true,
                with_grant_option: false,
                mysql_user: args.mysql_user.clone(),
                mysql_password: args.mysql_password.clone(),
                mysql_host: args.mysql_host.clone(),
                mysql_port: args.mysql_port.clone(),
            };
            accounts::privileges(&args, plan)?;
        }
    }
    Ok(())
}

/// Arguments of `mysql.dump`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DumpArgs {
    /// The file on the host the SQL dump is written to.
    pub dest: String,
    /// The database to dump.
    #[serde(default)]
    pub database: Option<Value>,
    /// The account `mysqldump` connects as.
    #[serde(default)]
    pub mysql_user: Option<Value>,
    /// That account's password (a secret).
    #[serde(default)]
    pub mysql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub mysql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub mysql_port: Option<Value>,
}

/// `mysql.dump`: writes a database out as SQL with `mysqldump`, every time.
pub fn dump(args: &DumpArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let target = mysql_connection!(args, args.database.as_ref());
    plan.push(StringCommand::new().nested(mysql_command(&target, "mysqldump")).text(">").quoted(&args.dest));
    Ok(())
}

/// Arguments of `mysql.load`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadArgs {
    /// The SQL file on the host to run.
    pub src: String,
    /// The database to load into.
    #[serde(default)]
    pub database: Option<Value>,
    /// The account `mysql` connects as.
    #[serde(default)]
    pub mysql_user: Option<Value>,
    /// That account's password (a secret).
    #[serde(default)]
    pub mysql_password: Option<Value>,
    /// The server's host name.
    #[serde(default)]
    pub mysql_host: Option<Value>,
    /// The server's port.
    #[serde(default)]
    pub mysql_port: Option<Value>,
}

/// `mysql.load`: runs an SQL file with `mysql`, every time.
pub fn load(args: &LoadArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let target = mysql_connection!(args, args.database.as_ref());
    plan.push(StringCommand::new().nested(mysql_command(&target, "mysql")).text("<").quoted(&args.src));
    Ok(())
}

/// Plans operations of this crate against in-memory facts, for the tests of the
/// database and firewall modules.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    use oxinfra_core::{Command, FactKey, FactSource, Missing, RealLocalFiles};
    use serde_json::{Map, Value};

    use crate::plan::{OperationError, Plan};
    use crate::registry::OperationDef;

    /// Facts by name, whatever their arguments.
    struct Facts(Map<String, Value>);

    impl FactSource for Facts {
        fn get(&mut self, key: &FactKey) -> Result<Value, Missing> {
            self.0.get(&key.name).cloned().ok_or_else(|| Missing(key.clone()))
        }
    }

    /// What planning `name` gave: `(raw, masked)` commands and the no-op reason.
    pub(crate) type Planned = (Vec<(String, String)>, Option<String>);

    /// Plans `operation` with keyword `arguments` against `facts` (`{name: value}`).
    pub(crate) fn try_plan(operation: &OperationDef, arguments: Value, facts: Value) -> Result<Planned, OperationError> {
        let (Value::Object(facts), Value::Object(arguments)) = (facts, arguments) else {
            return Err(OperationError::Type("arguments and facts must be mappings".to_owned()));
        };
        let mut facts = Facts(facts);
        let mut plan = Plan::new(&mut facts, &RealLocalFiles, PathBuf::from("/"), String::new());
        (operation.plan)(&arguments, &mut plan)?;
        let commands = plan
            .commands
            .iter()
            .filter_map(|command| match command {
                Command::Shell { command } => Some((command.raw_value(), command.masked_value())),
                _ => None,
            })
            .collect();
        Ok((commands, plan.noop_reason.clone()))
    }

    /// Plans the registered operation `name`.
    pub(crate) fn try_planned(name: &str, arguments: Value, facts: Value) -> Result<Planned, OperationError> {
        let operation = crate::registry::find(name).ok_or_else(|| OperationError::Operation(format!("no operation `{name}`")))?;
        try_plan(operation, arguments, facts)
    }

    /// As [`try_planned`], for cases that plan without error.
    pub(crate) fn planned(name: &str, arguments: Value, facts: Value) -> Planned {
        match try_planned(name, arguments, facts) {
            Ok(planned) => planned,
            Err(error) => (vec![(format!("error: {error}"), String::new())], None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::planned;
    use super::*;
    use serde_json::json;

    const NO_GRANTS: &str = "mysql.MysqlUserGrants";

    #[test]
    fn python_equality_mixes_numbers_and_booleans() {
        assert!(python_eq(&json!(1), &json!(true)));
        assert!(python_eq(&json!(5), &json!(5.0)));
        assert!(!python_eq(&json!("5"), &json!(5)));
        assert!(!python_eq(&Value::Null, &json!(0)));
    }

    #[test]
    fn connection_password_is_masked_in_every_command() {
        let (commands, _) = planned(
            "mysql.database",
            json!({"database": "db", "user": "app", "mysql_user": "root", "mysql_password": "pw"}),
            json!({"mysql.MysqlDatabases": {}, NO_GRANTS: {}}),
        );
        assert_eq!(commands.len(), 3);
        assert!(commands.iter().all(|(raw, masked)| raw.contains("-ppw") && masked.contains("-p'*MASKED*'")));
    }
}
