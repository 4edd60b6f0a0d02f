//! Facts of `pyinfra/facts/server.py`: host name, kernel, architecture, users and
//! groups, the Linux distribution, sysctl, mounts, limits, logins and load.
//!
//! Not here: the facts whose command depends on other facts (`Uptime`, `KernelModules`,
//! `Port`, `Ports`, `Processes` read `server.Kernel` or `server.Which` first), which
//! `FactDef::command` cannot express; `Mounts` is the Linux form (`/proc/self/mountinfo`)
//! for the same reason. `LinuxDistribution` reproduces what pyinfra gets from the
//! `distro` package reading the release files in a scratch `/etc`; that emulation lives
//! in [`distro`].

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::files::{compiled, python_int, python_str, refused, try_int};
use crate::registry::{FactDef, FactError, Param, default_dict, default_list, default_none, joined, string_argument};

// `~user` only expands when the name is a bare word, so it is checked, not quoted.
static SAFE_USERNAME: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9._][a-zA-Z0-9._-]*$"));
static ISO_DATE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| {
    Regex::new(
        r"^(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])[Tt](2[0-3]|[0-1]\d|\d):([0-5]\d|\d):(6[0-1]|[0-5]\d|\d)([+-]\d\d:?[0-5]\d(?::?[0-5]\d(?:\.\d{1,6})?)?|Z)$",
    )
});
static SYSCTL_WORDS: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_\-.\s]+$"));
static LOGIN_TIME: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d+ .+$"));
static SELINUX_STATUS: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^SELinux status:\s+(\S+)"));
static UPTIME_LOAD: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"load averages?:\s*([0-9.]+)[,\s]+([0-9.]+)[,\s]+([0-9.]+)"));
static OCTAL_ESCAPE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"\\[0-7]{3}"));

const TMP_DIR_SCRIPT: &str = r#"if [ -n "$TMPDIR" ] && [ -d "$TMPDIR" ] && [ -w "$TMPDIR" ]; then
    echo "$TMPDIR";
elif [ -n "$TMP" ] && [ -d "$TMP" ] && [ -w "$TMP" ]; then
    echo "$TMP";
elif [ -n "$TEMP" ] && [ -d "$TEMP" ] && [ -w "$TEMP" ]; then
    echo "$TEMP";
else
    echo "";
fi"#;

const USERS_SCRIPT: &str = r#"for i in `cat /etc/passwd | cut -d: -f1`; do
            ENTRY=`grep ^$i: /etc/passwd`;
            LASTLOG=`(((lastlog -u $i || lastlogin $i) 2> /dev/null) | grep ^$i | tr -s ' ')`;
            PASSWORD=`(grep ^$i: /etc/shadow || grep ^$i: /etc/master.passwd) 2> /dev/null | cut -d: -f2`;
            echo "$ENTRY|`id -gn $i`|`id -Gn $i`|$LASTLOG|$PASSWORD";
        done"#;

const REBOOT_REQUIRED_SCRIPT: &str = r#"
# Get OS type
OS_TYPE=$(uname -s)
if [ "$OS_TYPE" = "Linux" ]; then
    # Check if it's Alpine Linux
    if [ -f /etc/alpine-release ]; then
        RUNNING_KERNEL=$(uname -r)
        INSTALLED_KERNEL=$(ls -1 /lib/modules | sort -V | tail -n1)
        if [ "$RUNNING_KERNEL" != "$INSTALLED_KERNEL" ]; then
            echo "reboot_required"
            exit 0
        fi
    else
        # Check standard Linux reboot required files
        if [ -f /var/run/reboot-required ] || [ -f /var/run/reboot-required.pkgs ]; then
            echo "reboot_required"
            exit 0
        fi
    fi
elif [ "$OS_TYPE" = "FreeBSD" ]; then
    RUNNING_VERSION=$(freebsd-version -r)
    INSTALLED_VERSION=$(freebsd-version -k)
    if [ "$RUNNING_VERSION" != "$INSTALLED_VERSION" ]; then
        echo "reboot_required"
        exit 0
    fi
fi
echo "no_reboot_required"
"#;

const LINUX_DISTRIBUTION_COMMAND: &str =
    r#"cd /etc/ && for file in $(ls -pdL *-release | grep -v /); do echo "/etc/${file}"; cat "/etc/${file}"; echo ---; done"#;
const GUI_COMMAND: &str = "ls /usr/bin/*session || true";
const TIMEZONE_COMMAND: &str = "readlink -f /etc/localtime | sed 's|.*/zoneinfo/||'";
const SECURITY_LIMITS_COMMAND: &str = "! test -e /etc/security/limits.conf || cat /etc/security/limits.conf";
const LAST_COMMAND: &str = "last -Fwi 2>/dev/null || last -w 2>/dev/null || last 2>/dev/null || true";
const LASTB_COMMAND: &str = "lastb -Fwi 2>/dev/null || lastb 2>/dev/null || true";

/// A command without arguments: fixed shell text.
macro_rules! fixed {
    ($text:expr) => {
        |_| StringCommand::raw($text)
    };
}

/// The facts of this module.
pub const FACTS: &[FactDef] = &[
    text("server.User", fixed!("echo $USER")),
    FactDef {
        name: "server.Home",
        params: &[Param::optional("user", "\"\"")],
        command: home_command,
        requires_command: None,
        process: joined,
        default: default_none,
        shell_executable: None,
    },
    text("server.Path", fixed!("echo $PATH")),
    text("server.TmpDir", fixed!(TMP_DIR_SCRIPT)),
    text("server.Hostname", fixed!("uname -n")),
    text("server.Kernel", fixed!("uname -s")),
    text("server.KernelVersion", fixed!("uname -r")),
    text("server.Os", fixed!("uname -s")),
    text("server.OsVersion", fixed!("uname -r")),
    text("server.Arch", fixed!("uname -m")),
    FactDef {
        name: "server.Command",
        params: &[Param::required("command")],
        // The caller's own shell text, run as written, as in pyinfra.
        command: |arguments| StringCommand::raw(string_argument(arguments, "command")),
        requires_command: None,
        process: joined,
        default: default_none,
        shell_executable: None,
    },
    plain("server.Timezone", fixed!(TIMEZONE_COMMAND), first_output_line, default_none),
    FactDef {
        name: "server.Which",
        params: &[Param::required("command")],
        command: |arguments| {
            let command = string_argument(arguments, "command");
            StringCommand::raw("command -v").quoted(command).text("|| true")
        },
        requires_command: None,
        process: joined,
        default: default_none,
        shell_executable: None,
    },
    plain("server.Date", fixed!("date +'%Y-%m-%dT%H:%M:%S%z'"), date, now),
    requiring(text("server.MacosVersion", fixed!("sw_vers -productVersion")), |_| "sw_vers".to_owned()),
    plain("server.Mounts", fixed!("cat /proc/self/mountinfo"), mounts, default_dict),
    requiring(
        plain(
            "server.LsbRelease",
            fixed!("lsb_release -ca"),
            |_, output| Ok(lsb_release(output)),
            default_none,
        ),
        |_| "lsb_release".to_owned(),
    ),
    plain(
        "server.OsRelease",
        fixed!("cat /etc/os-release"),
        |_, output| Ok(os_release(output)),
        default_none,
    ),
    FactDef {
        name: "server.Sysctl",
        params: &[Param::optional("keys", "null")],
        command: sysctl_command,
        requires_command: None,
        process: sysctl,
        default: default_dict,
        shell_executable: None,
    },
    plain("server.Groups", fixed!("cat /etc/group"), |_, output| Ok(groups(output)), default_list),
    plain("server.Users", fixed!(USERS_SCRIPT), users, default_dict),
    FactDef {
        name: "server.AuthorizedKeys",
        params: &[Param::required("user"), Param::optional("path", "null")],
        command: authorized_keys_command,
        requires_command: None,
        process: |_, output| Ok(authorized_keys(output)),
        default: default_list,
        shell_executable: None,
    },
    plain(
        "server.LinuxDistribution",
        fixed!(LINUX_DISTRIBUTION_COMMAND),
        distro::linux_distribution,
        distro::unknown,
    ),
    // pyinfra's `ShortFactBase` over `LinuxDistribution`: its `name`.
    plain("server.LinuxName", fixed!(LINUX_DISTRIBUTION_COMMAND), linux_name, default_none),
    requiring(plain("server.Selinux", fixed!("sestatus"), selinux, selinux_unknown), |_| "sestatus".to_owned()),
    plain("server.LinuxGui", fixed!(GUI_COMMAND), |_, output| Ok(linux_gui(output)), default_list),
    // pyinfra's `ShortFactBase` over `LinuxGui`: whether it found any.
    plain("server.HasGui", fixed!(GUI_COMMAND), |_, output| Ok(has_gui(output)), || Value::Bool(false)),
    requiring(
        plain("server.Locales", fixed!("locale -a"), |_, output| Ok(locales(output)), default_list),
        |_| "locale".to_owned(),
    ),
    plain("server.SecurityLimits", fixed!(SECURITY_LIMITS_COMMAND), security_limits, default_list),
    plain("server.RebootRequired", fixed!(REBOOT_REQUIRED_SCRIPT), reboot_required, default_none),
    FactDef {
        name: "server.EtcHosts",
        params: &[Param::optional("path", "\"/etc/hosts\"")],
        command: |arguments| {
            let path = string_argument(arguments, "path");
            StringCommand::raw("cat").quoted(path).text("2>/dev/null || true")
        },
        requires_command: None,
        process: |_, output| Ok(etc_hosts(output)),
        default: default_dict,
        shell_executable: None,
    },
    requiring(plain("server.Last", fixed!(LAST_COMMAND), |_, output| Ok(logins(output)), default_list), |_| {
        "last".to_owned()
    }),
    plain(
        "server.LoadAverage",
        fixed!("cat /proc/loadavg 2>/dev/null || uptime"),
        load_average,
        default_dict,
    ),
    requiring(
        plain("server.Lastb", fixed!(LASTB_COMMAND), |_, output| Ok(logins(output)), default_list),
        |_| "lastb".to_owned(),
    ),
];

type Command = fn(&Map<String, Value>) -> StringCommand;
type Process = fn(&Map<String, Value>, &[String]) -> Result<Value, FactError>;

/// A fact without arguments whose value is its output, as printed.
const fn text(name: &'static str, command: Command) -> FactDef {
    plain(name, command, joined, default_none)
}

/// A fact without arguments.
const fn plain(name: &'static str, command: Command, process: Process, default: fn() -> Value) -> FactDef {
    FactDef {
        name,
        params: &[],
        command,
        requires_command: None,
        process,
        default,
        shell_executable: None,
    }
}

/// `fact`, run only where `requires` names an installed binary.
const fn requiring(fact: FactDef, requires: fn(&Map<String, Value>) -> String) -> FactDef {
    FactDef {
        requires_command: Some(requires),
        ..fact
    }
}

fn process_error(fact: &str, message: impl Into<String>) -> FactError {
    FactError::Process {
        fact: fact.to_owned(),
        message: message.into(),
    }
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::Array(items.into_iter().map(|item| Value::String(item.to_owned())).collect())
}

// Home, AuthorizedKeys

/// `echo ~user`, the user checked to be a bare word since quoting would stop the
/// shell's tilde expansion.
fn home_command(arguments: &Map<String, Value>) -> StringCommand {
    let user = string_argument(arguments, "user");
    match unsafe_username(user) {
        Some(message) => refused(&message),
        None => StringCommand::raw(format!("echo ~{user}")),
    }
}

fn authorized_keys_command(arguments: &Map<String, Value>) -> StringCommand {
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
fn authorized_keys(output: &[String]) -> Value {
    strings(output.iter().map(|line| line.trim()).filter(|line| !line.is_empty() && !line.starts_with('#')))
}

// Timezone, Date

/// The first line as printed (pyinfra's `output[0]`, unstripped).
fn first_output_line(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    output
        .first()
        .map(|line| Value::String(line.clone()))
        .ok_or_else(|| process_error("server.Timezone", "no output"))
}

/// `date +%Y-%m-%dT%H:%M:%S%z` as Python's `strptime` reads it: an aware datetime,
/// shown as `2019-01-01T00:00:00+00:00`.
fn date(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let line = output.first().map_or("", String::as_str);
    let error = || process_error("server.Date", format!("`{line}` does not match format '%Y-%m-%dT%H:%M:%S%z'"));
    let captures = compiled(&ISO_DATE)?.captures(line).ok_or_else(error)?;
    let number = |index: usize| {
        captures
            .get(index)
            .and_then(|found| found.as_str().trim().parse::<u32>().ok())
            .ok_or_else(error)
    };
    let year = i32::try_from(number(1)?).map_err(|_| error())?;
    let moment = NaiveDate::from_ymd_opt(year, number(2)?, number(3)?)
        .and_then(|day| day.and_hms_opt(number(4).ok()?, number(5).ok()?, number(6).ok()?))
        .ok_or_else(error)?;
    let offset = captures.get(7).map_or("", |found| found.as_str());
    let seconds = utc_offset_seconds(offset).ok_or_else(error)?;
    Ok(Value::String(format!("{}{}", python_iso(&moment), python_offset(seconds))))
}

/// `Z`, `+H`, `+HH`, `+HHMM`, `+HH:MM` or `+HHMMSS[.ffffff]` as seconds east of UTC
/// (fractions are dropped: `date` and `lastlog` never print them).
fn utc_offset_seconds(offset: &str) -> Option<i32> {
    if offset == "Z" {
        return Some(0);
    }
    let (sign, rest) = match offset.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let digits = rest.split('.').next()?.replace(':', "");
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i32>().ok();
    let seconds = match digits.len() {
        1 | 2 => field(0..digits.len())? * 3600,
        4 => field(0..2)? * 3600 + field(2..4)? * 60,
        6 => field(0..2)? * 3600 + field(2..4)? * 60 + field(4..6)?,
        _ => return None,
    };
    (seconds < 86_400).then_some(sign * seconds)
}

/// How Python's `isoformat` shows a UTC offset: `+00:00`, `-06:00`, `+05:30:15`.
fn python_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if rest == 0 {
        format!("{sign}{hours:02}:{minutes:02}")
    } else {
        format!("{sign}{hours:02}:{minutes:02}:{rest:02}")
    }
}

/// How Python's `isoformat` shows a naive datetime (microseconds only when set).
fn python_iso(moment: &NaiveDateTime) -> String {
    let micros = moment.nanosecond() / 1000;
    if micros == 0 {
        moment.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        format!("{}.{micros:06}", moment.format("%Y-%m-%dT%H:%M:%S"))
    }
}

/// The controller's current time, pyinfra's `Date` default (`datetime.now`). Taken in
/// UTC: the crate has no time zone database.
fn now() -> Value {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let seconds = i64::try_from(since_epoch.as_secs()).unwrap_or_default();
    DateTime::from_timestamp(seconds, since_epoch.subsec_micros() * 1000).map_or(Value::Null, |moment| Value::String(python_iso(&moment.naive_utc())))
}

// Mounts

/// `/proc/self/mountinfo` as `{mount point: {device, type, options}}`; per-mount and
/// superblock options merged, `ro`/`rw` taken from the mount.
fn mounts(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let error = |line: &str| process_error("server.Mounts", format!("cannot read mountinfo line `{line}`"));
    let mut devices = Map::new();
    for line in output {
        let fields: Vec<&str> = line.splitn(7, ' ').collect();
        let [_, _, _, _, mount_point, mount_options, rest] = fields.as_slice() else {
            return Err(error(line));
        };
        let mut rest = *rest;
        // Optional fields (`shared:27`, `master:1`) end at a lone `-`.
        loop {
            let (optional, after) = rest.split_once(' ').ok_or_else(|| error(line))?;
            rest = after;
            if optional == "-" {
                break;
            }
        }
        let tail: Vec<&str> = rest.split(' ').collect();
        let [fs_type, source, super_options] = tail.as_slice() else {
            return Err(error(line));
        };
        let mut options: Vec<String> = mount_options.split(',').map(str::to_owned).collect();
        for option in super_options.split(',').filter(|option| !matches!(*option, "ro" | "rw")) {
            options.push(unescape_octal(option)?);
        }
        devices.insert(
            unescape_octal(mount_point)?,
            json!({"device": unescape_octal(source)?, "type": fs_type, "options": options}),
        );
    }
    Ok(Value::Object(devices))
}

/// Undoes the kernel's `\NNN` octal escapes (`\040` is a space).
fn unescape_octal(text: &str) -> Result<String, FactError> {
    Ok(compiled(&OCTAL_ESCAPE)?
        .replace_all(text, |captures: &regex::Captures<'_>| {
            let digits = captures.get(0).map_or("", |found| found.as_str()).trim_start_matches('\\');
            u32::from_str_radix(digits, 8)
                .ok()
                .and_then(char::from_u32)
                .map(String::from)
                .unwrap_or_default()
        })
        .into_owned())
}

// LsbRelease, OsRelease

/// `Key: value` lines, keys lowercased and cut to their last word (`Distributor ID` is
/// `id`).
fn lsb_release(output: &[String]) -> Value {
    let mut items = Map::new();
    for (key, value) in output.iter().filter_map(|line| line.split_once(':')) {
        let key = key.trim().to_lowercase();
        let key = key.rsplit(' ').next().unwrap_or_default();
        items.insert(key.to_owned(), Value::String(value.trim().to_owned()));
    }
    Value::Object(items)
}

/// `KEY=value` lines, keys lowercased, values unquoted.
fn os_release(output: &[String]) -> Value {
    let mut items = Map::new();
    for (key, value) in output.iter().filter_map(|line| line.split_once('=')) {
        items.insert(key.trim().to_lowercase(), Value::String(value.trim().trim_matches('"').to_owned()));
    }
    Value::Object(items)
}

// Sysctl

fn sysctl_command(arguments: &Map<String, Value>) -> StringCommand {
    let keys: Vec<String> = match arguments.get("keys") {
        None | Some(Value::Null) => return StringCommand::raw("sysctl -a 2>/dev/null || true"),
        Some(Value::Array(keys)) => keys.iter().map(python_str).collect(),
        // pyinfra iterates whatever it is given: a string gives one key per character.
        Some(Value::String(text)) => text.chars().map(String::from).collect(),
        Some(other) => vec![python_str(other)],
    };
    keys.into_iter()
        .fold(StringCommand::raw("sysctl"), StringCommand::quoted)
        .text("2>/dev/null || true")
}

/// `key = value` (Linux) or `key: value` (BSD); word values become integers where they
/// are, and a list when there are several.
fn sysctl(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let words = compiled(&SYSCTL_WORDS)?;
    let mut settings = Map::new();
    for line in output {
        let Some((key, values)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            continue;
        };
        if key.is_empty() || values.is_empty() {
            continue;
        }
        let values = values.trim();
        let value = if words.is_match(values) {
            let mut items: Vec<Value> = values.split_whitespace().map(try_int).collect();
            if items.len() == 1 { items.remove(0) } else { Value::Array(items) }
        } else {
            Value::String(values.to_owned())
        };
        settings.insert(key.trim().to_owned(), value);
    }
    Ok(Value::Object(settings))
}

// Groups, Users

fn groups(output: &[String]) -> Value {
    strings(output.iter().filter(|line| line.contains(':')).filter_map(|line| line.split(':').next()))
}

/// `passwd entry|primary group|all groups|lastlog line|password hash` per user.
fn users(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
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

// LinuxName, Selinux, LinuxGui, HasGui, Locales

fn linux_name(arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    Ok(distro::linux_distribution(arguments, output)?.get("name").cloned().unwrap_or(Value::Null))
}

fn selinux_unknown() -> Value {
    json!({"mode": null})
}

fn selinux(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let text = output.join("\n");
    let mode = compiled(&SELINUX_STATUS)?
        .captures(&text)
        .and_then(|captures| captures.get(1))
        .map(|found| found.as_str());
    Ok(json!({ "mode": mode }))
}

fn gui_name(binary: &str) -> Option<&'static str> {
    Some(match binary {
        "/usr/bin/gnome-session" => "GNOME",
        "/usr/bin/mate-session" => "MATE",
        "/usr/bin/lxsession" => "LXDE",
        "/usr/bin/plasma_session" => "KDE Plasma",
        "/usr/bin/xfce4-session" => "XFCE 4",
        _ => return None,
    })
}

fn linux_gui(output: &[String]) -> Value {
    strings(output.iter().filter_map(|line| gui_name(line)))
}

fn has_gui(output: &[String]) -> Value {
    Value::Bool(output.iter().any(|line| gui_name(line).is_some()))
}

/// Locale names, `utf8` spelled `UTF-8` as in `/etc/locale.gen`.
fn locales(output: &[String]) -> Value {
    Value::Array(output.iter().map(|line| Value::String(line.replace("utf8", "UTF-8"))).collect())
}

// SecurityLimits, RebootRequired, EtcHosts

/// `limits.conf` rules; every line that is not blank or a comment has four words.
fn security_limits(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let mut limits = Vec::new();
    for line in output.iter().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [domain, limit_type, item, value] = words.as_slice() else {
            return Err(process_error("server.SecurityLimits", format!("expected four words in `{line}`")));
        };
        limits.push(json!({"domain": domain, "limit_type": limit_type, "item": item, "value": value}));
    }
    Ok(Value::Array(limits))
}

fn reboot_required(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let first = output.first().ok_or_else(|| process_error("server.RebootRequired", "no output"))?;
    Ok(Value::Bool(first.trim() == "reboot_required"))
}

/// Address to host names, comments dropped, names of repeated addresses merged in order.
fn etc_hosts(output: &[String]) -> Value {
    let mut entries = Map::new();
    for line in output {
        let words: Vec<&str> = line.split('#').next().unwrap_or_default().split_whitespace().collect();
        let [address, names @ ..] = words.as_slice() else {
            continue;
        };
        if names.is_empty() {
            continue;
        }
        if let Value::Array(known) = entries.entry((*address).to_owned()).or_insert_with(default_list) {
            for name in names {
                if !known.iter().any(|other| other.as_str() == Some(name)) {
                    known.push(Value::String((*name).to_owned()));
                }
            }
        }
    }
    Value::Object(entries)
}

// Last, Lastb, LoadAverage

/// `last`/`lastb` records: user, tty (`system boot` for reboots), host (empty when the
/// record goes straight to the date) and the rest of the line as `time`.
fn logins(output: &[String]) -> Value {
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

/// The 1, 5 and 15 minute loads from `/proc/loadavg` or `uptime`.
fn load_average(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
    let loads = |values: [&str; 3]| -> Option<Value> {
        let [one, five, fifteen] = values.map(|value| value.parse::<f64>().ok());
        Some(json!({"1": one?, "5": five?, "15": fifteen?}))
    };
    for line in output.iter().map(|line| line.trim()).filter(|line| !line.is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [one, five, fifteen, ..] = words.as_slice() {
            if let Some(value) = loads([one, five, fifteen]) {
                return Ok(value);
            }
        }
        if let Some(captures) = compiled(&UPTIME_LOAD)?.captures(line) {
            let group = |index: usize| captures.get(index).map_or("", |found| found.as_str());
            // pyinfra's float() raises on `1.2.3`; so does this.
            return loads([group(1), group(2), group(3)]).ok_or_else(|| process_error("server.LoadAverage", format!("cannot read loads in `{line}`")));
        }
    }
    Ok(default_dict())
}

/// pyinfra's `LinuxDistribution`: the `*-release` files the command printed are written
/// to a scratch `/etc` and read with the `distro` package (1.9, no `lsb_release`, no
/// `uname`). This module reads them the same way from memory.
mod distro {
    use std::collections::BTreeMap;
    use std::sync::LazyLock;

    use regex::Regex;
    use serde_json::{Map, Value, json};

    use crate::files::{compiled, python_int};
    use crate::registry::FactError;

    static RELEASE_FILE_NAME: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(\w+)[-_](release|version)$"));
    // Matches a release line reversed: `CentOS Linux release 7.9.2009 (Core)`.
    static RELEASE_LINE_REVERSED: LazyLock<Result<Regex, regex::Error>> =
        LazyLock::new(|| Regex::new(r"^(?:[^)]*\)(.*)\()? *(?:STL )?([\d.+\-a-z]*\d) *(?:esaeler *)?(.+)"));
    static VERSION_CODENAME: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"\((\D+)\)|,\s*(\D+)"));
    static VERSION_PARTS: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(\d+)\.?(\d+)?\.?(\d+)?"));

    /// Files `distro` never takes as the distribution's release file.
    const IGNORED: [&str; 9] = [
        "debian_version",
        "lsb-release",
        "oem-release",
        "os-release",
        "system-release",
        "plesk-release",
        "iredmail-release",
        "board-release",
        "ec2_version",
    ];

    /// The value when nothing could be read.
    pub(super) fn unknown() -> Value {
        json!({"name": null, "major": null, "minor": null, "release_meta": {}})
    }

    fn error(message: impl Into<String>) -> FactError {
        FactError::Process {
            fact: "server.LinuxDistribution".to_owned(),
            message: message.into(),
        }
    }

    /// Name, major and minor version and the `os-release` items of the distribution.
    pub(super) fn linux_distribution(_arguments: &Map<String, Value>, output: &[String]) -> Result<Value, FactError> {
        let files = release_files(output)?;
        if files.is_empty() {
            return Ok(unknown());
        }
        let os_release = match files.get("os-release") {
            Some(content) => parse_os_release(content)?,
            None => Vec::new(),
        };
        let os = |key: &str| os_release.iter().find(|(name, _)| name == key).map_or("", |(_, value)| value.as_str());
        let release = distro_release(&files)?;
        let from_release = |key: &str| release.get(key).map_or("", String::as_str);

        let id = if os("id").is_empty() {
            normalize(from_release("id"), &[("redhat", "rhel")])
        } else {
            normalize(os("id"), &[("ol", "oracle"), ("opensuse-leap", "opensuse")])
        };
        let name = [os("name"), from_release("name")].into_iter().find(|name| !name.is_empty()).unwrap_or_default();
        let mut versions = vec![
            os("version_id").to_owned(),
            from_release("version_id").to_owned(),
            parse_release_line(os("pretty_name"))?.remove("version_id").unwrap_or_default(),
        ];
        if id == "debian" || os("id_like").split_whitespace().any(|like| like == "debian") {
            let first = files.get("debian_version").map(|content| first_line(content).trim_end().to_owned());
            versions.push(first.unwrap_or_default());
        }
        // `distro`'s best version: the last most precise one (most dots) wins.
        let mut version = String::new();
        for candidate in versions {
            if version.is_empty() || candidate.matches('.').count() > version.matches('.').count() {
                version = candidate;
            }
        }
        let parts = compiled(&VERSION_PARTS)?.captures(&version);
        let part = |index: usize| {
            parts
                .as_ref()
                .and_then(|captures| captures.get(index))
                .and_then(|found| python_int(found.as_str()))
        };

        let pretty = match id.as_str() {
            "alpine" => "Alpine",
            "centos" => "CentOS",
            "fedora" => "Fedora",
            "gentoo" => "Gentoo",
            "opensuse" => "openSUSE",
            "rhel" => "RedHat",
            "ubuntu" => "Ubuntu",
            "debian" => "Debian",
            _ => name,
        };
        let mut meta = Map::new();
        for (key, value) in os_release.iter().filter(|(key, _)| key != "release_codename") {
            meta.insert(key.to_uppercase(), Value::String(value.clone()));
        }
        Ok(json!({"name": pretty, "major": part(1), "minor": part(2), "release_meta": meta}))
    }

    /// The printed files, `/etc/<name>` then its content then `---`, by base name; files
    /// without content are left out (there is nothing to write).
    fn release_files(output: &[String]) -> Result<BTreeMap<String, String>, FactError> {
        let mut files = BTreeMap::new();
        let joined = output.join("\n");
        for part in joined.trim().split("---").map(str::trim) {
            let Some((path, content)) = part.split_once('\n') else {
                continue;
            };
            let name = path
                .rsplit('/')
                .find(|component| !component.is_empty() && *component != ".")
                .unwrap_or_default();
            if name.is_empty() || name == ".." {
                return Err(error(format!("cannot write release file `{path}`")));
            }
            // Read back in text mode, as `distro` does: every line ending becomes `\n`.
            files.insert(name.to_owned(), content.replace("\r\n", "\n").replace('\r', "\n"));
        }
        Ok(files)
    }

    fn normalize(id: &str, table: &[(&str, &str)]) -> String {
        let id = id.to_lowercase().replace(' ', "_");
        table.iter().find(|(from, _)| *from == id).map_or(id, |(_, to)| (*to).to_owned())
    }

    fn first_line(content: &str) -> &str {
        content.split_inclusive('\n').next().unwrap_or_default()
    }

    /// `os-release` as `distro` reads it: shell words, `KEY=value` assignments with
    /// lowercased keys, and a `codename` from `VERSION`, `VERSION_CODENAME` or
    /// `UBUNTU_CODENAME`.
    fn parse_os_release(content: &str) -> Result<Vec<(String, String)>, FactError> {
        // Insertion-ordered, as the Python dict: a key set again keeps its place.
        fn set(props: &mut Vec<(String, String)>, key: String, value: String) {
            match props.iter_mut().find(|(name, _)| *name == key) {
                Some(entry) => entry.1 = value,
                None => props.push((key, value)),
            }
        }
        let mut props: Vec<(String, String)> = Vec::new();
        for word in shell_words(content).map_err(error)? {
            if let Some((key, value)) = word.split_once('=') {
                set(&mut props, key.to_lowercase(), value.to_owned());
            }
        }
        let get = |props: &Vec<(String, String)>, key: &str| props.iter().find(|(name, _)| name == key).map(|(_, value)| value.clone());
        if let Some(version) = get(&props, "version") {
            let codename = compiled(&VERSION_CODENAME)?
                .captures(&version)
                .and_then(|captures| captures.get(1).or_else(|| captures.get(2)))
                .map(|found| found.as_str().to_owned());
            if let Some(codename) = codename {
                set(&mut props, "codename".to_owned(), codename.clone());
                set(&mut props, "release_codename".to_owned(), codename);
            }
        }
        if let Some(codename) = get(&props, "version_codename").or_else(|| get(&props, "ubuntu_codename")) {
            set(&mut props, "codename".to_owned(), codename);
        }
        Ok(props)
    }

    /// The first `*-release`/`*_version` file (by name) whose first line gives a name,
    /// read as `distro` reads it, with the file name's prefix as `id`.
    fn distro_release(files: &BTreeMap<String, String>) -> Result<BTreeMap<&'static str, String>, FactError> {
        let pattern = compiled(&RELEASE_FILE_NAME)?;
        for (name, content) in files.iter().filter(|(name, _)| !IGNORED.contains(&name.as_str())) {
            let Some(prefix) = pattern.captures(name).and_then(|captures| captures.get(1)) else {
                continue;
            };
            let mut info = parse_release_line(first_line(content))?;
            let Some(found) = info.get("name") else {
                continue;
            };
            let id = if found.to_lowercase().contains("cloudlinux") {
                "cloudlinux".to_owned()
            } else {
                prefix.as_str().to_owned()
            };
            info.insert("id", id);
            return Ok(info);
        }
        Ok(BTreeMap::new())
    }

    /// `Name release 1.2 (Codename)` as name, version and codename, matched backwards.
    fn parse_release_line(line: &str) -> Result<BTreeMap<&'static str, String>, FactError> {
        let reversed: String = line.trim().chars().rev().collect();
        let backwards = |found: regex::Match<'_>| found.as_str().chars().rev().collect::<String>();
        let mut info = BTreeMap::new();
        if let Some(captures) = compiled(&RELEASE_LINE_REVERSED)?.captures(&reversed) {
            let fields = [(3, "name"), (2, "version_id"), (1, "codename")];
            for (index, key) in fields {
                if let Some(found) = captures.get(index).filter(|found| index == 3 || !found.as_str().is_empty()) {
                    info.insert(key, backwards(found));
                }
            }
        } else if !line.is_empty() {
            info.insert("name", line.trim().to_owned());
        }
        Ok(info)
    }

    /// Python's `shlex` in POSIX mode with `whitespace_split`: quotes, backslashes and
    /// `#` comments handled as `distro` relies on.
    fn shell_words(text: &str) -> Result<Vec<String>, &'static str> {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            Between,
            Word,
            Quoted(char),
            Escaped(Option<char>),
        }
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        let mut state = State::Between;
        let mut chars = text.chars();
        let mut finish = |word: &mut String, quoted: &mut bool| {
            if !word.is_empty() || *quoted {
                words.push(std::mem::take(word));
            }
            *quoted = false;
        };
        loop {
            let next = chars.next();
            match (state, next) {
                (State::Between | State::Word, None) => {
                    finish(&mut word, &mut quoted);
                    break;
                }
                (State::Quoted(_), None) => return Err("No closing quotation"),
                (State::Escaped(_), None) => return Err("No escaped character"),
                (State::Between | State::Word, Some(' ' | '\t' | '\r' | '\n')) => {
                    finish(&mut word, &mut quoted);
                    state = State::Between;
                }
                (State::Between | State::Word, Some('#')) => {
                    // A comment runs to the end of the line, even in the middle of a word.
                    chars.by_ref().find(|c| *c == '\n');
                    finish(&mut word, &mut quoted);
                    state = State::Between;
                }
                (State::Between | State::Word, Some('\\')) => state = State::Escaped(None),
                (State::Between | State::Word, Some(quote @ ('"' | '\''))) => {
                    state = State::Quoted(quote);
                }
                (State::Between | State::Word, Some(c)) => {
                    word.push(c);
                    state = State::Word;
                }
                (State::Quoted(quote), Some(c)) => {
                    quoted = true;
                    if c == quote {
                        state = State::Word;
                    } else if c == '\\' && quote == '"' {
                        state = State::Escaped(Some(quote));
                    } else {
                        word.push(c);
                    }
                }
                (State::Escaped(inside), Some(c)) => {
                    // In double quotes only `\"` and `\\` are escapes; other pairs stay.
                    if inside.is_some_and(|quote| c != quote && c != '\\') {
                        word.push('\\');
                    }
                    word.push(c);
                    state = inside.map_or(State::Word, State::Quoted);
                }
            }
        }
        Ok(words)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn shell_words_follow_posix_shlex() {
            let words = shell_words("A=\"x \\\"y\\\" \\z\" B='it''s' C=a#comment\nD=\"\" # full line\nE=\\ e");
            assert_eq!(
                words,
                Ok(vec![
                    "A=x \"y\" \\z".to_owned(),
                    "B=its".to_owned(),
                    "C=a".to_owned(),
                    "D=".to_owned(),
                    "E= e".to_owned()
                ])
            );
            assert_eq!(shell_words("A=\"open"), Err("No closing quotation"));
        }

        #[test]
        fn release_line_reads_name_version_codename() {
            let info = parse_release_line("CentOS Linux release 7.9.2009 (Core)\n");
            assert_eq!(info.as_ref().map(|info| info.get("name").cloned()), Ok(Some("CentOS Linux".to_owned())));
            assert_eq!(info.as_ref().map(|info| info.get("version_id").cloned()), Ok(Some("7.9.2009".to_owned())));
            assert_eq!(info.map(|info| info.get("codename").cloned()), Ok(Some("Core".to_owned())));
            assert_eq!(parse_release_line("\n").map(|info| info.get("name").cloned()), Ok(Some(String::new())));
        }

        #[test]
        fn debian_version_file_refines_the_version() {
            let output: Vec<String> = ["/etc/os-release", "ID=debian", "VERSION_ID=\"12\"", "---", "/etc/debian_version", "12.5", "---"]
                .map(str::to_owned)
                .to_vec();
            let value = linux_distribution(&Map::new(), &output);
            assert_eq!(
                value.map(|value| (value["name"].clone(), value["major"].clone(), value["minor"].clone())),
                Ok((json!("Debian"), json!(12), json!(5)))
            );
        }

        #[test]
        fn redhat_release_normalizes_to_rhel() {
            let output: Vec<String> = ["/etc/redhat-release", "Red Hat Enterprise Linux Server release 6.10 (Santiago)", "---"]
                .map(str::to_owned)
                .to_vec();
            let value = linux_distribution(&Map::new(), &output);
            assert_eq!(
                value.map(|value| (value["name"].clone(), value["major"].clone(), value["minor"].clone())),
                Ok((json!("RedHat"), json!(6), json!(10)))
            );
        }

        #[test]
        fn empty_output_is_unknown() {
            assert_eq!(linux_distribution(&Map::new(), &["---".to_owned()]), Ok(unknown()));
        }
    }
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
        for regex in [
            &SAFE_USERNAME,
            &ISO_DATE,
            &SYSCTL_WORDS,
            &LOGIN_TIME,
            &SELINUX_STATUS,
            &UPTIME_LOAD,
            &OCTAL_ESCAPE,
        ] {
            assert!(compiled(regex).is_ok());
        }
    }

    #[test]
    fn date_keeps_the_utc_offset() {
        let read = |line: &str| date(&Map::new(), &output(&[line]));
        assert_eq!(read("2024-02-29T23:59:59+0530"), Ok(json!("2024-02-29T23:59:59+05:30")));
        assert_eq!(read("2024-1-2T3:04:05-0000"), Ok(json!("2024-01-02T03:04:05+00:00")));
        assert_eq!(read("2024-01-02T03:04:05Z"), Ok(json!("2024-01-02T03:04:05+00:00")));
        assert!(read("2023-02-29T00:00:00+0000").is_err());
        assert!(read("2024-01-02T03:04:05").is_err());
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
    fn sysctl_quotes_each_key() {
        let command = |keys: Value| sysctl_command(&arguments(json!({ "keys": keys }))).raw_value();
        assert_eq!(command(json!(["vm.swappiness", "a b"])), "sysctl vm.swappiness 'a b' 2>/dev/null || true");
        // As pyinfra: a string is iterated character by character.
        assert_eq!(command(json!("ab")), "sysctl a b 2>/dev/null || true");
    }

    #[test]
    fn sysctl_values_keep_text_that_is_not_words() {
        let value = sysctl(&Map::new(), &output(&["a = x/y", "b = 1_000", "c = 99999999999999999999", "=d"]));
        assert_eq!(value, Ok(json!({"a": "x/y", "b": 1000, "c": 99_999_999_999_999_999_999_u128.to_string()})));
    }

    #[test]
    fn mounts_unescape_names_and_skip_optional_fields() {
        let value = mounts(&Map::new(), &output(&["1 2 3:4 / /a\\040b rw shared:1 master:2 - tmpfs none ro,size=1\\054k"]));
        assert_eq!(value, Ok(json!({"/a b": {"device": "none", "type": "tmpfs", "options": ["rw", "size=1,k"]}})));
        assert!(mounts(&Map::new(), &output(&["1 2 3:4 / /a rw - tmpfs"])).is_err());
        assert!(mounts(&Map::new(), &output(&["1 2 3:4 / /a rw shared:1"])).is_err());
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
    fn load_average_rejects_malformed_uptime_numbers() {
        let read = |line: &str| load_average(&Map::new(), &output(&[line]));
        assert_eq!(read("up 2 days, load averages: 1.00 2.50 3.00"), Ok(json!({"1": 1.0, "5": 2.5, "15": 3.0})));
        assert!(read("load average: 1.2.3, 2, 3").is_err());
        assert_eq!(read("nothing here"), Ok(json!({})));
    }

    #[test]
    fn logins_skip_headers_and_short_lines() {
        let value = logins(&output(&["USERNAME x y", "a b", "reboot system boot", "a b Mon Jan 1", "a b host"]));
        assert_eq!(
            value,
            json!([{"user": "a", "tty": "b", "host": "", "time": "Mon Jan 1"}, {"user": "a", "tty": "b", "host": "host", "time": ""}])
        );
    }

    #[test]
    fn security_limits_need_four_words() {
        assert!(security_limits(&Map::new(), &output(&["* soft nofile"])).is_err());
        assert!(security_limits(&Map::new(), &output(&["  # indented comments are rules to pyinfra"])).is_err());
    }

    #[test]
    fn selinux_status_may_be_on_the_next_line() {
        assert_eq!(
            selinux(&Map::new(), &output(&["SELinux status:", "enforcing"])),
            Ok(json!({"mode": "enforcing"}))
        );
    }
}
