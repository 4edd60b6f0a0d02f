//! Accounts and logins of `pyinfra/facts/server.py`: `Home`, `AuthorizedKeys`,
//! `Groups`, `Users`, `Last` and `Lastb`.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime};
use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value, json};

use super::{process_error, python_iso, python_offset, strings, utc_offset_seconds};
use crate::files::{compiled, python_int, python_str, refused};
use crate::registry::{FactError, string_argument};

// `~user` only expands when the name is a bare word, so it is checked, not quoted.
static SAFE_USERNAME: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9._][a-zA-Z0-9._-]*$"));
static LOGIN_TIME: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d+ .+$"));

/// Each user's passwd entry, primary and other groups, last login and password hash,
/// one line per user.
pub(super) const USERS_SCRIPT: &str = r#"for i in `cat /etc/passwd | cut -d: -f1`; do
            ENTRY=`grep ^$i: /etc/passwd`;
            LASTLOG=`(((lastlog -u $i || lastlogin $i) 2> /dev/null) | grep ^$i | tr -s ' ')`;
            PASSWORD=`(grep ^$i: /etc/shadow || grep ^$i: /etc/master.passwd) 2> /dev/null | cut -d: -f2`;
            echo "$ENTRY|`id -gn $i`|`id -Gn $i`|$LASTLOG|$PASSWORD";
        done"#;
pub(super) const LAST_COMMAND: &str = "last -Fwi 2>/dev/null || last -w 2>/dev/null || last 2>/dev/null || true";
pub(super) const LASTB_COMMAND: &str = "lastb -Fwi 2>/dev/null || lastb 2>/dev/null || true";

// Home, AuthorizedKeys

/// `echo ~user`, the user checked to be a bare word since quoting would stop the
/// shell's tilde expansion.
pub(super) fn home_command(arguments: &Map<String, Value>) -> StringCommand {
    let user = string_argument(arguments, "user");
    match unsafe_username(user) {
        Some(message) => refused(&message),
        None => StringCommand::raw(format!("echo ~{user}")),
    }
}

pub(super) fn authorized_keys_command(arguments: &Map<String, Value>) -> StringCommand {
    if let Some(path) = arguments.get("path").filter(|path| !path.is_null()) {
        return StringCommand::raw("cat").quoted(python_str(path)).text("2>/dev/null || true");
    }
    let user = string_argument(arguments, "user");
    match unsafe_username(user) {
        Some(message) => refused(&message),
        None => StringCommand::raw("cat")
            .text(format!("~{user}/.ssh/authorized_keys"))
            .text("2>/dev/null || true"),
    }
}

/// Why `user` cannot follow a `~`, if it cannot.
fn unsafe_username(user: &str) -> Option<String> {
    let safe = user.is_empty() || compiled(&SAFE_USERNAME).is_ok_and(|pattern| pattern.is_match(user));
    (!safe).then(|| format!("Unsafe username for shell tilde expansion: {user:?}"))
}

/// Keys in file order, without blank lines and comments.
pub(super) fn authorized_keys(output: &[String]) -> Value {
    strings(output.iter().map(|line| line.trim()).filter(|line| !line.is_empty() && !line.starts_with('#')))
}

// Groups, Users

pub(super) fn groups(output: &[String]) -> Value {
    strings(output.iter().filter(|line| line.contains(':')).filter_map(|line| line.split(':').next()))
}

/// `passwd entry|primary group|all groups|lastlog line|password hash` per user.
pub(super) fn users(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let error = |line: &str| process_error("server.Users", format!("cannot read user line `{line}`"));
    let mut users = Map::new();
    for line in output {
        let mut fields: Vec<&str> = line.rsplitn(5, '|').collect();
        fields.reverse();
        let [entry, group, user_groups, lastlog, password] = fields.as_slice() else {
            return Err(error(line));
        };
        if entry.is_empty() {
            continue;
        }
        let entries: Vec<&str> = entry.split(':').collect();
        let [name, _, uid, gid, comment, home, shell, ..] = entries.as_slice() else {
            return Err(error(line));
        };
        let id = |text: &str| python_int(text).ok_or_else(|| error(line));
        let or_none = |text: &str| {
            if text.is_empty() { Value::Null } else { Value::String(text.to_owned()) }
        };
        let secondary = strings(user_groups.split(' ').filter(|other| !other.is_empty() && other != group));
        let login = compiled(&LOGIN_TIME)?.find(lastlog).map(|found| found.as_str());
        let login_time = login.map(login_time).transpose()?;
        users.insert(
            (*name).to_owned(),
            json!({
                "home": or_none(home),
                "comment": or_none(comment),
                "shell": or_none(shell),
                "group": group,
                "groups": secondary,
                "uid": id(uid)?,
                "gid": id(gid)?,
                "lastlog": login,
                "login_time": login_time,
                "password": password,
            }),
        );
    }
    Ok(Value::Object(users))
}

/// A `lastlog`/`lastlogin` date (`Sat Jun 5 12:03:23 -0600 2021`) read as `dateutil`
/// reads it: day names skipped, a numeric offset or UTC name makes it aware, other zone
/// abbreviations are ignored, missing date parts come from today.
fn login_time(text: &str) -> Result<Value, FactError> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let error = || process_error("server.Users", format!("cannot read login time `{text}`"));
    let named = |names: &[&str], token: &str| {
        let lower = token.to_lowercase();
        names.iter().position(|name| lower == *name || (lower.len() == 3 && name.starts_with(&lower)))
    };
    let (mut year, mut month, mut day, mut time, mut offset) = (None, None, None, None, None);
    for token in text.split_whitespace() {
        let digits = token.chars().all(|c| c.is_ascii_digit());
        if let Some(index) = named(&MONTHS, token) {
            month = Some(u32::try_from(index + 1).map_err(|_| error())?);
        } else if token.starts_with(['+', '-']) {
            offset = Some(utc_offset_seconds(&token.replace(':', "")).ok_or_else(error)?);
        } else if token.contains(':') {
            let parsed = NaiveTime::parse_from_str(token, "%H:%M:%S%.f").or_else(|_| NaiveTime::parse_from_str(token, "%H:%M"));
            time = Some(parsed.map_err(|_| error())?);
        } else if matches!(token, "UTC" | "GMT" | "Z" | "z") {
            offset = Some(0);
        } else if digits && token.len() <= 2 && day.is_none() {
            day = token.parse::<u32>().ok();
        } else if digits && token.len() == 4 && year.is_none() {
            year = token.parse::<i32>().ok();
        } else if named(&DAYS, token).is_none() && !(token.len() <= 5 && token.chars().all(|c| c.is_ascii_uppercase())) {
            return Err(error());
        }
    }
    let today = today();
    let date = NaiveDate::from_ymd_opt(year.unwrap_or(today.year()), month.unwrap_or(today.month()), day.unwrap_or(today.day())).ok_or_else(error)?;
    let moment = python_iso(&date.and_time(time.unwrap_or_default()));
    Ok(Value::String(match offset {
        Some(seconds) => format!("{moment}{}", python_offset(seconds)),
        None => moment,
    }))
}

/// Today's date (UTC) for date parts a text leaves out.
fn today() -> NaiveDate {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    DateTime::from_timestamp(i64::try_from(seconds).unwrap_or_default(), 0)
        .map(|moment| moment.date_naive())
        .unwrap_or_default()
}

// Last, Lastb

/// `last`/`lastb` records: user, tty (`system boot` for reboots), host (empty when the
/// record goes straight to the date) and the rest of the line as `time`.
pub(super) fn logins(output: &[String]) -> Value {
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut records = Vec::new();
    for line in output.iter().map(|line| line.trim_end()).filter(|line| !line.is_empty()) {
        let lower = line.to_lowercase();
        if ["wtmp begins", "btmp begins", "user ", "username "]
            .iter()
            .any(|prefix| lower.starts_with(prefix))
        {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let [user, tty, third, ..] = words.as_slice() else {
            continue;
        };
        let (tty, rest) = if *user == "reboot" && *tty == "system" && *third == "boot" {
            ("system boot", &words[3..])
        } else {
            (*tty, &words[2..])
        };
        let Some(first) = rest.first() else { continue };
        let (host, time) = if WEEKDAYS.contains(first) { ("", rest) } else { (*first, &rest[1..]) };
        records.push(json!({"user": user, "tty": tty, "host": host, "time": time.join(" ")}));
    }
    Value::Array(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    fn arguments(value: Value) -> Map<String, Value> {
        if let Value::Object(map) = value { map } else { Map::new() }
    }

    #[test]
    fn patterns_compile() {
        assert!(compiled(&SAFE_USERNAME).is_ok());
        assert!(compiled(&LOGIN_TIME).is_ok());
    }

    #[test]
    fn home_refuses_unsafe_usernames() {
        let command = |user: &str| home_command(&arguments(json!({"user": user}))).raw_value();
        assert_eq!(command("www-data"), "echo ~www-data");
        assert_eq!(command(""), "echo ~");
        assert!(command("a; reboot").ends_with(">&2 && false"));
        assert!(command("-x").ends_with(">&2 && false"));
    }

    #[test]
    fn authorized_keys_path_is_quoted() {
        let command = authorized_keys_command(&arguments(json!({"user": "a b", "path": "/keys/a b"})));
        assert_eq!(command.raw_value(), "cat '/keys/a b' 2>/dev/null || true");
    }

    #[test]
    fn login_time_is_aware_only_with_an_offset() {
        assert_eq!(login_time("Tue Mar 1 10:00:00 UTC 2022"), Ok(json!("2022-03-01T10:00:00+00:00")));
        assert_eq!(login_time("Tue Mar 1 10:00:00 CEST 2022"), Ok(json!("2022-03-01T10:00:00")));
        assert_eq!(login_time("Tue Mar 1 10:00:00 +05:30 2022"), Ok(json!("2022-03-01T10:00:00+05:30")));
        assert_eq!(login_time("Tue February 3 10:00:00.25 2020"), Ok(json!("2020-02-03T10:00:00.250000")));
        assert!(login_time("Thu Feb 30 10:00:00 2020").is_err());
        assert!(login_time("Thu Jan 30 10:20:30 2020 extra").is_err());
    }

    #[test]
    fn users_need_full_passwd_entries() {
        assert!(users(&Map::new(), &output(&["u:x:1:2:c:h|g|g||pw"])).is_err());
        assert!(users(&Map::new(), &output(&["u:x:a:2:c:h:s|g|g||pw"])).is_err());
        assert!(users(&Map::new(), &output(&["a|b"])).is_err());
        assert_eq!(users(&Map::new(), &output(&["|g|g||pw"])), Ok(json!({})));
    }

    #[test]
    fn logins_skip_headers_and_short_lines() {
        let value = logins(&output(&["USERNAME x y", "a b", "reboot system boot", "a b Mon Jan 1", "a b host"]));
        assert_eq!(
            value,
            json!([{"user": "a", "tty": "b", "host": "", "time": "Mon Jan 1"}, {"user": "a", "tty": "b", "host": "host", "time": ""}])
        );
    }
}
