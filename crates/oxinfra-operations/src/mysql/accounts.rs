//! `mysql.user` and `mysql.privileges`: accounts, their TLS requirements and resource
//! limits, and what they may do where.
//!
//! A user's `ssl_*`, `x509_*` and `max_*` values the `MysqlUsers` fact lacks count as
//! `None`, where pyinfra would fail on the missing key.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use oxinfra_core::StringCommand;
use oxinfra_core::command::CommandPart;
use oxinfra_facts::mysql::{MysqlTarget, execute_mysql_command, truthy_text};

use super::{Privileges, everything, execute, given, localhost, python_eq, yes};
use crate::plan::{OperationError, Plan};

/// Arguments of `mysql.user`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserArgs {
    /// The user's name.
    pub user: String,
    /// Whether the user should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// The host the user connects from; with the name it makes the account, so
    /// another host is another account.
    #[serde(default = "localhost")]
    pub user_hostname: String,
    /// The password (a secret), set only when the user is created: the current one
    /// cannot be read back.
    #[serde(default)]
    pub password: Option<Value>,
    /// Global privileges the user should have (see `mysql.privileges`).
    #[serde(default)]
    pub privileges: Option<Privileges>,
    /// `SSL` or `X509`: the kind of encrypted connection the user must use.
    #[serde(default)]
    pub require: Option<String>,
    /// With `require="X509"`: the cipher the connection must use.
    #[serde(default)]
    pub require_cipher: Option<String>,
    /// With `require="X509"`: the issuer the client certificate must have.
    #[serde(default)]
    pub require_issuer: Option<String>,
    /// With `require="X509"`: the subject the client certificate must have.
    #[serde(default)]
    pub require_subject: Option<String>,
    /// How many connections the user may hold at once.
    #[serde(default)]
    pub max_connections: Option<Value>,
    /// How many queries the user may send per hour.
    #[serde(default)]
    pub max_queries_per_hour: Option<Value>,
    /// How many updates the user may send per hour.
    #[serde(default)]
    pub max_updates_per_hour: Option<Value>,
    /// How many times per hour the user may connect.
    #[serde(default)]
    pub max_connections_per_hour: Option<Value>,
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

/// Checks `require` and the `require_*` values that only go with `X509`.
fn check_require(args: &UserArgs) -> Result<(), OperationError> {
    let require = given(args.require.as_ref());
    if require.is_some_and(|require| require != "SSL" && require != "X509") {
        return Err(OperationError::Operation("Invalid `require` value, must be: \"SSL\" or \"X509\"".to_owned()));
    }
    if args.require.as_deref() != Some("X509") {
        for (name, value) in [
            ("require_cipher", &args.require_cipher),
            ("require_issuer", &args.require_issuer),
            ("require_subject", &args.require_subject),
        ] {
            if given(value.as_ref()).is_some() {
                return Err(OperationError::Operation(format!("Cannot set `{name}` if `require` is not \"X509\"")));
            }
        }
    }
    Ok(())
}

/// The `max_*` arguments, with the `mysql.user` column each is kept in.
fn resource_limits(args: &UserArgs) -> [(&'static str, &'static str, Option<&Value>); 4] {
    [
        ("MAX_USER_CONNECTIONS", "max_user_connections", args.max_connections.as_ref()),
        ("MAX_QUERIES_PER_HOUR", "max_questions", args.max_queries_per_hour.as_ref()),
        ("MAX_UPDATES_PER_HOUR", "max_updates", args.max_updates_per_hour.as_ref()),
        ("MAX_CONNECTIONS_PER_HOUR", "max_connections", args.max_connections_per_hour.as_ref()),
    ]
}

/// `mysql.user`: creates or drops a user, brings the TLS requirements and resource
/// limits of an existing one in line, then its global privileges.
pub fn user(args: &UserArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    check_require(args)?;
    let target = mysql_connection!(args, None);
    let users = plan.fact("mysql.MysqlUsers", &target.fact_arguments())?;
    let (name, hostname) = (&args.user, &args.user_hostname);
    let account = format!("\"{name}\"@\"{hostname}\"");
    let current = users.get(format!("{name}@{hostname}"));

    if !args.present {
        match current {
            Some(_) => plan.push(execute(format!("DROP USER {account}"), &target)),
            None => plan.noop(format!("mysql user {name}@{hostname} does not exist")),
        }
        return Ok(());
    }

    let require = args.require.as_deref();
    let x509_values = [
        ("CIPHER", "ssl_cipher", given(args.require_cipher.as_ref())),
        ("ISSUER", "x509_issuer", given(args.require_issuer.as_ref())),
        ("SUBJECT", "x509_subject", given(args.require_subject.as_ref())),
    ];
    match current {
        None => {
            let mut sql = StringCommand::raw(format!("CREATE USER {account}"));
            if let Some(password) = truthy_text(args.password.as_ref()) {
                let mut literal = StringCommand::raw("\"");
                literal.push(CommandPart::Secret(password));
                literal = literal.text("\"");
                literal.separator = String::new();
                sql = sql.text("IDENTIFIED BY").nested(literal);
            }
            if require == Some("SSL") {
                sql = sql.text("REQUIRE SSL");
            }
            if require == Some("X509") {
                sql = sql.text("REQUIRE");
                let mut any = false;
                for (keyword, _, value) in x509_values {
                    if let Some(value) = value {
                        sql = sql.text(format!("{keyword} \"{value}\""));
                        any = true;
                    }
                }
                if !any {
                    sql = sql.text("X509");
                }
            }
            let limits: Vec<String> = resource_limits(args)
                .into_iter()
                .filter_map(|(keyword, _, value)| truthy_text(value).map(|value| format!("{keyword} {value}")))
                .collect();
            if !limits.is_empty() {
                sql = sql.text("WITH").text(limits.join(" "));
            }
            plan.push(execute_mysql_command(sql, false, &target));
        }
        Some(current) => {
            let column = |name: &str| current.get(name).unwrap_or(&Value::Null);
            let mut changes: Vec<String> = Vec::new();
            if require == Some("SSL") && column("ssl_type").as_str() != Some("ANY") {
                changes.push("REQUIRE SSL".to_owned());
            }
            if require == Some("X509") {
                let mut requirements: Vec<String> = x509_values
                    .into_iter()
                    .filter_map(|(keyword, key, value)| {
                        let value = value?;
                        (column(key).as_str() != Some(value)).then(|| format!("{keyword} \"{value}\""))
                    })
                    .collect();
                if requirements.is_empty() && column("ssl_type").as_str() != Some("X509") {
                    requirements.push("X509".to_owned());
                }
                if !requirements.is_empty() {
                    changes.push("REQUIRE".to_owned());
                    changes.extend(requirements);
                }
            }
            let limits: Vec<String> = resource_limits(args)
                .into_iter()
                .filter_map(|(keyword, key, value)| {
                    let text = truthy_text(value)?;
                    (!python_eq(column(key), value?)).then(|| format!("{keyword} {text}"))
                })
                .collect();
            if !limits.is_empty() {
                changes.push("WITH".to_owned());
                changes.push(limits.join(" "));
            }
            if changes.is_empty() {
                plan.noop(format!("mysql user {name}@{hostname} exists"));
            } else {
                plan.push(execute(format!("ALTER USER {account} {}", changes.join(" ")), &target));
            }
        }
    }

    // Created or already there, the user now gets its privileges.
    if let Some(privileges) = args.privileges.as_ref().filter(|privileges| privileges.is_given()) {
        let args = PrivilegesArgs {
            user: args.user.clone(),
            privileges: privileges.clone(),
            user_hostname: args.user_hostname.clone(),
            database: everything(),
            table: everything(),
            flush: true,
            with_grant_option: false,
            mysql_user: args.mysql_user.clone(),
            mysql_password: args.mysql_password.clone(),
            mysql_host: args.mysql_host.clone(),
            mysql_port: args.mysql_port.clone(),
        };
        self::privileges(&args, plan)?;
    }
    Ok(())
}

/// Arguments of `mysql.privileges`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivilegesArgs {
    /// The user whose privileges are managed.
    pub user: String,
    /// Every privilege the user should have there (others are revoked).
    pub privileges: Privileges,
    /// The host of the user.
    #[serde(default = "localhost")]
    pub user_hostname: String,
    /// The database the privileges apply to, `*` for all.
    #[serde(default = "everything")]
    pub database: String,
    /// The table the privileges apply to, `*` for all (needs a database).
    #[serde(default = "everything")]
    pub table: String,
    /// Reload the grant tables after a change (`FLUSH PRIVILEGES`).
    #[serde(default = "yes")]
    pub flush: bool,
    /// Whether the user may grant its privileges to others (`GRANT OPTION`).
    #[serde(default)]
    pub with_grant_option: bool,
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

/// The privileges a `MysqlUserGrants` entry holds, `ALL PRIVILEGES` read as `ALL`.
fn granted(entry: &Value) -> BTreeSet<String> {
    let names: Vec<&str> = match entry {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::Object(map) => map.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    names
        .into_iter()
        .map(|name| if name == "ALL PRIVILEGES" { "ALL".to_owned() } else { name.to_owned() })
        .collect()
}

fn set_of(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// `mysql.privileges`: grants the missing privileges and revokes the extra ones, on
/// every database, one database or one table.
pub fn privileges(args: &PrivilegesArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let mut wanted: BTreeSet<String> = args.privileges.0.iter().cloned().collect();
    if args.with_grant_option {
        wanted.insert("GRANT OPTION".to_owned());
    }
    let database = if args.database == "*" {
        args.database.clone()
    } else {
        format!("`{}`", args.database)
    };
    let table = if args.table == "*" { args.table.clone() } else { format!("`{}`", args.table) };
    // MySQL refuses privileges on `*.table`.
    if args.table != "*" && database == "*" {
        return Err(OperationError::Operation(format!(
            "Cannot apply MySQL privileges on {database}.{table}, no database provided"
        )));
    }

    let target = mysql_connection!(args, None);
    let mut fact_arguments = vec![
        ("user", Value::String(args.user.clone())),
        ("hostname", Value::String(args.user_hostname.clone())),
    ];
    fact_arguments.extend(target.fact_arguments());
    let grants = plan.fact("mysql.MysqlUserGrants", &fact_arguments)?;
    let existing = grants.get(format!("{database}.{table}")).map(granted).unwrap_or_default();

    let mut revoke: BTreeSet<String> = existing.difference(&wanted).cloned().collect();
    let grant: BTreeSet<String> = wanted.difference(&existing).cloned().collect();
    if !grant.is_empty() {
        // Granting anything replaces the bare `USAGE` grant.
        revoke.remove("USAGE");
    }

    let (user, hostname) = (&args.user, &args.user_hostname);
    let mut statement = |action: &str, direction: &str, privileges: &BTreeSet<String>, with: Option<&str>| {
        let names: Vec<&str> = privileges.iter().map(String::as_str).collect();
        let mut sql = format!("{action} {} ON {database}.{table} {direction} \"{user}\"@\"{hostname}\"", names.join(", "));
        if let Some(with) = with {
            sql = format!("{sql} WITH {with}");
        }
        plan.push(execute(sql, &target));
    };
    let all_with_grant = set_of(&["ALL", "GRANT OPTION"]);
    if !revoke.is_empty() {
        if revoke == all_with_grant {
            // `REVOKE ALL, GRANT OPTION` is another statement's syntax: revoke in two steps.
            statement("REVOKE", "FROM", &set_of(&["GRANT OPTION"]), None);
            statement("REVOKE", "FROM", &set_of(&["ALL PRIVILEGES"]), None);
        } else {
            statement("REVOKE", "FROM", &revoke, None);
        }
    }
    if !grant.is_empty() {
        if grant == all_with_grant {
            // `ALL` stands alone; the grant option then comes as a `WITH` clause.
            statement("GRANT", "TO", &set_of(&["ALL PRIVILEGES"]), Some("GRANT OPTION"));
        } else {
            statement("GRANT", "TO", &grant, None);
        }
    }
    if grant.is_empty() && revoke.is_empty() {
        plan.noop("mysql privileges are already correct");
    } else if args.flush {
        plan.push(execute("FLUSH PRIVILEGES", &target));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::mysql::test_support::{planned, try_planned};
    use serde_json::json;

    const NO_GRANTS: &str = "mysql.MysqlUserGrants";

    #[test]
    fn all_with_grant_option_is_granted_as_a_with_clause() {
        let (commands, _) = planned(
            "mysql.privileges",
            json!({"user": "me", "privileges": "ALL", "with_grant_option": true}),
            json!({NO_GRANTS: {}}),
        );
        let raw: Vec<&str> = commands.iter().map(|(raw, _)| raw.as_str()).collect();
        assert_eq!(
            raw,
            [
                "mysql -Be 'GRANT ALL PRIVILEGES ON *.* TO \"me\"@\"localhost\" WITH GRANT OPTION'",
                "mysql -Be 'FLUSH PRIVILEGES'"
            ]
        );
    }

    #[test]
    fn no_flush_when_asked_not_to() {
        let (commands, _) = planned(
            "mysql.privileges",
            json!({"user": "me", "privileges": ["SELECT"], "database": "db", "flush": false}),
            json!({NO_GRANTS: {"`db`.*": ["ALL PRIVILEGES"]}}),
        );
        let raw: Vec<&str> = commands.iter().map(|(raw, _)| raw.as_str()).collect();
        assert_eq!(
            raw,
            [
                "mysql -Be 'REVOKE ALL ON `db`.* FROM \"me\"@\"localhost\"'",
                "mysql -Be 'GRANT SELECT ON `db`.* TO \"me\"@\"localhost\"'"
            ]
        );
    }

    #[test]
    fn existing_user_with_matching_limits_is_a_noop() {
        let (commands, noop) = planned(
            "mysql.user",
            json!({"user": "me", "require": "SSL", "max_connections": 5}),
            json!({"mysql.MysqlUsers": {"me@localhost": {"ssl_type": "ANY", "max_user_connections": 5}}}),
        );
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("mysql user me@localhost exists"));
    }

    #[test]
    fn x509_requirements_need_x509() {
        let error = try_planned("mysql.user", json!({"user": "me", "require_cipher": "X"}), json!({})).err();
        assert_eq!(
            error.map(|error| error.to_string()).as_deref(),
            Some("Cannot set `require_cipher` if `require` is not \"X509\"")
        );
    }

    #[test]
    fn new_user_gets_its_privileges_after_creation() {
        let (commands, _) = planned(
            "mysql.user",
            json!({"user": "me", "privileges": "SELECT"}),
            json!({"mysql.MysqlUsers": {}, NO_GRANTS: {}}),
        );
        let raw: Vec<&str> = commands.iter().map(|(raw, _)| raw.as_str()).collect();
        assert_eq!(
            raw,
            [
                "mysql -Be 'CREATE USER \"me\"@\"localhost\"'",
                "mysql -Be 'GRANT SELECT ON *.* TO \"me\"@\"localhost\"'",
                "mysql -Be 'FLUSH PRIVILEGES'"
            ]
        );
    }
}
