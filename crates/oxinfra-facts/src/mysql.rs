//! Facts of `pyinfra/facts/mysql.py` (databases, users and one user's grants, read
//! with the `mysql` client), the `mysql` command lines the `mysql` operations share,
//! and the table parsing both database modules use (pyinfra's
//! `facts/util/databases.py`).
//!
//! Connection values enter the command quoted; the password is a secret, shown masked.
//! A set of privileges is given as a sorted list without repeats.

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use oxinfra_core::command::CommandPart;
use oxinfra_core::pyrepr::python_str;
use regex::Regex;
use serde_json::{Map, Value};

use crate::registry::{FactDef, FactError, Param, default_dict};

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    FactDef {
        name: "mysql.MysqlDatabases",
        params: CONNECTION,
        command: |arguments| connection_fact_command(DATABASES_SQL, arguments),
        requires_command: Some(|_| "mysql".to_owned()),
        process: |_, output| databases(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "mysql.MysqlUsers",
        params: CONNECTION,
        command: |arguments| connection_fact_command(USERS_SQL, arguments),
        requires_command: Some(|_| "mysql".to_owned()),
        process: |_, output| users(output),
        default: default_dict,
        shell_executable: None,
    },
    FactDef {
        name: "mysql.MysqlUserGrants",
        params: &[
            Param::required("user"),
            Param::optional("hostname", "\"localhost\""),
            Param::optional("mysql_user", "null"),
            Param::optional("mysql_password", "null"),
            Param::optional("mysql_host", "null"),
            Param::optional("mysql_port", "null"),
        ],
        command: |arguments| {
            let text = |name: &str| arguments.get(name).map(python_str).unwrap_or_default();
            let sql = format!("SHOW GRANTS FOR \"{}\"@\"{}\"", text("user"), text("hostname"));
            // `SHOW GRANTS` fails for a user that does not exist: that reads as no grants.
            execute_mysql_command(StringCommand::raw(sql), true, &MysqlTarget::from_arguments(arguments))
        },
        requires_command: Some(|_| "mysql".to_owned()),
        process: |_, output| grants(output),
        default: default_dict,
        shell_executable: None,
    },
];

const CONNECTION: &[Param] = &[
    Param::optional("mysql_user", "null"),
    Param::optional("mysql_password", "null"),
    Param::optional("mysql_host", "null"),
    Param::optional("mysql_port", "null"),
];

const DATABASES_SQL: &str = "SELECT * FROM information_schema.SCHEMATA";
const USERS_SQL: &str = "SELECT * FROM mysql.user";

// One `SHOW GRANTS` line: the privileges, the `database.table` and what follows the user.
static GRANT_LINE: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"^GRANT ([A-Z,\s]+) ON ((?:\*|`[a-z_\\]+`)\.(?:\*|`[a-z_]+`)) TO `[A-Z0-9a-z_\-]+`@`(?:%|[A-Z0-9a-z_\.\-]+)`(.*)"));

/// How `mysql` (or `mysqldump`) reaches the server: pyinfra's `mysql_*` arguments,
/// each used only when truthy.
#[derive(Debug, Clone, Copy, Default)]
pub struct MysqlTarget<'a> {
    /// The database to open (a bare argument).
    pub database: Option<&'a Value>,
    /// The account to connect as (`-u`).
    pub user: Option<&'a Value>,
    /// Its password (`-p`), a secret.
    pub password: Option<&'a Value>,
    /// The server's host name (`-h`).
    pub host: Option<&'a Value>,
    /// The server's port (`-P`).
    pub port: Option<&'a Value>,
}

impl<'a> MysqlTarget<'a> {
    /// The target named by a fact's bound `mysql_*` arguments (no database).
    pub fn from_arguments(arguments: &'a Map<String, Value>) -> Self {
        Self {
            database: None,
            user: arguments.get("mysql_user"),
            password: arguments.get("mysql_password"),
            host: arguments.get("mysql_host"),
            port: arguments.get("mysql_port"),
        }
    }

    /// The `mysql_*` arguments of the facts above, `None` where not given.
    pub fn fact_arguments(&self) -> Vec<(&'static str, Value)> {
        let value = |value: Option<&Value>| value.cloned().unwrap_or(Value::Null);
        vec![
            ("mysql_user", value(self.user)),
            ("mysql_password", value(self.password)),
            ("mysql_host", value(self.host)),
            ("mysql_port", value(self.port)),
        ]
    }
}

/// `<executable> [database] [-u<user>] [-p<secret>] [-h<host>] [-P<port>]`, values
/// quoted and glued to their flags (pyinfra's `make_mysql_command`).
pub fn mysql_command(target: &MysqlTarget<'_>, executable: &str) -> StringCommand {
    let mut command = StringCommand::raw(executable);
    if let Some(database) = truthy_text(target.database) {
        command = command.quoted(database);
    }
    for (flag, value, secret) in [
        ("-u", target.user, false),
        ("-p", target.password, true),
        ("-h", target.host, false),
        ("-P", target.port, false),
    ] {
        let Some(value) = truthy_text(value) else {
            continue;
        };
        let mut option = StringCommand::raw(flag);
        option.push(CommandPart::Quoted(vec![if secret {
            CommandPart::Secret(value)
        } else {
            CommandPart::Raw(value)
        }]));
        option.separator = String::new();
        command = command.nested(option);
    }
    command
}

/// `mysql ... -Be '<sql>'`, the SQL quoted as one shell word, and `|| true` when its
/// failure does not matter (pyinfra's `make_execute_mysql_command`).
pub fn execute_mysql_command(sql: StringCommand, ignore_errors: bool, target: &MysqlTarget<'_>) -> StringCommand {
    let command = StringCommand::new().nested(mysql_command(target, "mysql")).text("-Be").quoted_command(sql);
    if ignore_errors { command.text("|| true") } else { command }
}

fn connection_fact_command(sql: &str, arguments: &Map<String, Value>) -> StringCommand {
    execute_mysql_command(StringCommand::raw(sql), false, &MysqlTarget::from_arguments(arguments))
}

/// Python's truthiness of an optional argument, and its `str()` when truthy.
pub fn truthy_text(value: Option<&Value>) -> Option<String> {
    let value = value?;
    let truthy = match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|number| number != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    };
    truthy.then(|| python_str(value))
}

/// pyinfra's `try_int`: the text as an integer when Python's `int()` reads it,
/// otherwise unchanged.
pub fn try_int(value: &Value) -> Value {
    let Some(text) = value.as_str() else {
        return value.clone();
    };
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    // `int()` takes single underscores between digits.
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|character| character.is_ascii_digit() || character == '_');
    if !well_formed {
        return value.clone();
    }
    trimmed.replace('_', "").parse::<i64>().map_or_else(|_| value.clone(), Value::from)
}

/// pyinfra's `parse_columns_and_rows`: the first line names the columns (after
/// `title`), each further line is a row; an empty cell is `None`. A row with more
/// cells than there are columns is an error, as in pyinfra.
pub fn parse_columns_and_rows(lines: &[String], delimiter: &str, title: impl Fn(&str) -> String) -> Result<Vec<Map<String, Value>>, String> {
    let Some((header, rows)) = lines.split_first() else {
        return Ok(Vec::new());
    };
    let titles: Vec<String> = header.split(delimiter).map(title).collect();
    rows.iter()
        .map(|line| {
            let cells: Vec<&str> = line.split(delimiter).collect();
            if cells.len() > titles.len() {
                return Err(format!("a row has {} cells for {} columns: `{line}`", cells.len(), titles.len()));
            }
            Ok(titles
                .iter()
                .zip(cells)
                .map(|(title, cell)| (title.clone(), if cell.is_empty() { Value::Null } else { Value::String(cell.to_owned()) }))
                .collect())
        })
        .collect()
}

fn process_error(fact: &str, message: impl Into<String>) -> FactError {
    FactError::Process {
        fact: fact.to_owned(),
        message: message.into(),
    }
}

/// A Python set of strings as plain data: sorted, without repeats.
fn string_set(mut items: Vec<String>) -> Value {
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

/// `{database: {character_set, collation_name}}` from `information_schema.SCHEMATA`.
fn databases(output: &[String]) -> Result<Value, FactError> {
    const FACT: &str = "mysql.MysqlDatabases";
    let rows = parse_columns_and_rows(output, "\t", str::to_lowercase).map_err(|message| process_error(FACT, message))?;
    let mut databases = Map::new();
    for mut details in rows {
        let mut column = |name: &str| details.shift_remove(name).ok_or_else(|| process_error(FACT, format!("no `{name}` column")));
        let name = column("schema_name")?;
        let character_set = column("default_character_set_name")?;
        let collation_name = column("default_collation_name")?;
        let mut database = Map::new();
        database.insert("character_set".to_owned(), character_set);
        database.insert("collation_name".to_owned(), collation_name);
        databases.insert(python_str(&name), Value::Object(database));
    }
    Ok(Value::Object(databases))
}

/// `{"user@host": {...columns, privileges}}` from `mysql.user`: the `*_priv` columns
/// become the sorted list of granted privileges, `max_*` columns numbers and
/// `password_expired`/`is_role` flags.
fn users(output: &[String]) -> Result<Value, FactError> {
    let rows = parse_columns_and_rows(output, "\t", str::to_owned).map_err(|message| process_error("mysql.MysqlUsers", message))?;
    let mut users = Map::new();
    for row in rows {
        let (Some(Value::String(host)), Some(Value::String(user))) = (row.get("Host"), row.get("User")) else {
            continue;
        };
        let name = format!("{user}@{host}");
        let mut details = Map::new();
        let mut privileges = Vec::new();
        for (key, value) in row {
            if key.ends_with("_priv") {
                if value.as_str() == Some("Y") {
                    privileges.push(key.replace("_priv", ""));
                }
                continue;
            }
            if key == "Host" || key == "User" {
                continue;
            }
            let value = if key.starts_with("max_") {
                try_int(&value)
            } else if key == "password_expired" || key == "is_role" {
                Value::Bool(value.as_str() == Some("Y"))
            } else {
                value
            };
            details.insert(key, value);
        }
        privileges.sort();
        details.insert("privileges".to_owned(), Value::Array(privileges.into_iter().map(Value::String).collect()));
        users.insert(name, Value::Object(details));
    }
    Ok(Value::Object(users))
}

/// `{"database.table": [privileges]}` from `SHOW GRANTS`, with `GRANT OPTION` added
/// where the grant says `WITH GRANT OPTION`.
fn grants(output: &[String]) -> Result<Value, FactError> {
    let regex = GRANT_LINE.as_ref().map_err(|error| process_error("mysql.MysqlUserGrants", error.to_string()))?;
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    for line in output {
        let Some(captures) = regex.captures(line) else {
            continue;
        };
        // MySQL prints the backslashes of a database name doubled.
        let table = captures[2].replace("\\\\", "\\");
        let index = if let Some(index) = tables.iter().position(|(name, _)| *name == table) {
            index
        } else {
            tables.push((table, Vec::new()));
            tables.len() - 1
        };
        let privileges = &mut tables[index].1;
        privileges.extend(captures[1].split(',').map(|privilege| privilege.trim().to_owned()));
        if captures[3].contains("WITH GRANT OPTION") {
            privileges.push("GRANT OPTION".to_owned());
        }
    }
    Ok(Value::Object(
        tables.into_iter().map(|(table, privileges)| (table, string_set(privileges))).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn try_int_reads_what_python_int_reads() {
        assert_eq!(try_int(&json!("-1")), json!(-1));
        assert_eq!(try_int(&json!(" 42 ")), json!(42));
        assert_eq!(try_int(&json!("1_000")), json!(1000));
        assert_eq!(try_int(&json!("0.000000")), json!("0.000000"));
        assert_eq!(try_int(&json!("1__0")), json!("1__0"));
        assert_eq!(try_int(&Value::Null), Value::Null);
    }

    #[test]
    fn grants_of_one_table_are_merged() {
        let output = lines(&[
            "GRANT SELECT, INSERT ON `db`.* TO `me`@`%`",
            "GRANT UPDATE ON `db`.* TO `me`@`%` WITH GRANT OPTION",
            "something else",
        ]);
        assert_eq!(grants(&output).ok(), Some(json!({"`db`.*": ["GRANT OPTION", "INSERT", "SELECT", "UPDATE"]})));
    }

    #[test]
    fn grants_command_ignores_errors() {
        let arguments: Map<String, Value> = [("user".to_owned(), json!("me")), ("hostname".to_owned(), json!("%"))].into_iter().collect();
        let command = FACTS
            .iter()
            .find(|fact| fact.name == "mysql.MysqlUserGrants")
            .map(|fact| (fact.command)(&arguments).raw_value());
        assert_eq!(command.as_deref(), Some("mysql -Be 'SHOW GRANTS FOR \"me\"@\"%\"' || true"));
    }

    #[test]
    fn rows_longer_than_the_header_are_an_error() {
        assert!(databases(&lines(&["SCHEMA_NAME", "a\tb"])).is_err());
    }

    #[test]
    fn connection_values_are_quoted_against_injection() {
        let keyword: Map<String, Value> = Map::new();
        let positional = [json!("x$(reboot)"), json!("p"), json!("h; rm -rf /"), json!("3306")];
        let fact = FACTS.iter().find(|fact| fact.name == "mysql.MysqlDatabases");
        let command = fact.and_then(|fact| {
            crate::bind_arguments(fact, &positional, &keyword)
                .ok()
                .map(|arguments| (fact.command)(&arguments))
        });
        assert_eq!(
            command.as_ref().map(StringCommand::raw_value).as_deref(),
            Some("mysql -u'x$(reboot)' -pp -h'h; rm -rf /' -P3306 -Be 'SELECT * FROM information_schema.SCHEMATA'")
        );
        assert_eq!(
            command.as_ref().map(StringCommand::masked_value).as_deref(),
            Some("mysql -u'x$(reboot)' -p'*MASKED*' -h'h; rm -rf /' -P3306 -Be 'SELECT * FROM information_schema.SCHEMATA'")
        );
    }

    #[test]
    fn password_is_quoted_then_masked() {
        let (user, password, port) = (json!("root"), json!("it's"), json!(3306));
        let target = MysqlTarget {
            user: Some(&user),
            password: Some(&password),
            port: Some(&port),
            ..MysqlTarget::default()
        };
        let command = mysql_command(&target, "mysqldump");
        assert_eq!(command.raw_value(), "mysqldump -uroot -p'it'\"'\"'s' -P3306");
        assert_eq!(command.masked_value(), "mysqldump -uroot -p'*MASKED*' -P3306");
    }
}
