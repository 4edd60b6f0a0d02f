//! Facts of `pyinfra/facts/server.py`: host name, kernel, architecture, the Linux
//! distribution, sysctl, limits, load, and the registry of the module's facts in
//! pyinfra's order.
//!
//! The larger families live beside this file: accounts and logins in [`accounts`]; the
//! facts whose command depends on the host's kernel, which read `server.Kernel` (and
//! `server.Which`) first, in [`kernel`] (`Uptime`, `Mounts`, `KernelModules`,
//! `Processes`) and [`listeners`] (`Port`, `Ports`); and the `distro` package's reading
//! of release files, which `LinuxDistribution` reproduces, in [`distro`].

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike};
use oxinfra_core::StringCommand;
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::files::{compiled, python_str, try_int};
use crate::registry::{FactDef, FactError, Param, Prepare, default_dict, default_list, default_none, joined, string_argument};

mod accounts;
mod distro;
mod kernel;
mod listeners;

static ISO_DATE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| {
    Regex::new(
        r"^(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])[Tt](2[0-3]|[0-1]\d|\d):([0-5]\d|\d):(6[0-1]|[0-5]\d|\d)([+-]\d\d:?[0-5]\d(?::?[0-5]\d(?:\.\d{1,6})?)?|Z)$",
    )
});
static SYSCTL_WORDS: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_\-.\s]+$"));
static SELINUX_STATUS: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^SELinux status:\s+(\S+)"));
static UPTIME_LOAD: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"load averages?:\s*([0-9.]+)[,\s]+([0-9.]+)[,\s]+([0-9.]+)"));

const TMP_DIR_SCRIPT: &str = r#"if [ -n "$TMPDIR" ] && [ -d "$TMPDIR" ] && [ -w "$TMPDIR" ]; then
    echo "$TMPDIR";
elif [ -n "$TMP" ] && [ -d "$TMP" ] && [ -w "$TMP" ]; then
    echo "$TMP";
elif [ -n "$TEMP" ] && [ -d "$TEMP" ] && [ -w "$TEMP" ]; then
    echo "$TEMP";
else
    echo "";
fi"#;

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
        command: accounts::home_command,
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
    plain("server.Uptime", kernel::uptime_command, kernel::uptime, default_none),
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
    plain("server.Mounts", kernel::mounts_command, kernel::mounts, default_dict),
    FactDef {
        name: "server.Port",
        params: &[Param::required("port"), Param::optional("protocol", "\"tcp\"")],
        command: listeners::port_command,
        requires_command: None,
        process: listeners::port,
        default: default_none,
        shell_executable: None,
    },
    plain("server.Ports", listeners::ports_command, listeners::ports, default_list),
    plain("server.KernelModules", kernel::kernel_modules_command, kernel::kernel_modules, default_dict),
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
    plain(
        "server.Groups",
        fixed!("cat /etc/group"),
        |_, output| Ok(accounts::groups(output)),
        default_list,
    ),
    plain("server.Users", fixed!(accounts::USERS_SCRIPT), accounts::users, default_dict),
    FactDef {
        name: "server.AuthorizedKeys",
        params: &[Param::required("user"), Param::optional("path", "null")],
        command: accounts::authorized_keys_command,
        requires_command: None,
        process: |_, output| Ok(accounts::authorized_keys(output)),
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
        name: "server.Processes",
        params: &[Param::optional("pid", "null")],
        command: kernel::processes_command,
        requires_command: None,
        process: kernel::processes,
        default: default_dict,
        shell_executable: None,
    },
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
    requiring(
        plain(
            "server.Last",
            fixed!(accounts::LAST_COMMAND),
            |_, output| Ok(accounts::logins(output)),
            default_list,
        ),
        |_| "last".to_owned(),
    ),
    plain(
        "server.LoadAverage",
        fixed!("cat /proc/loadavg 2>/dev/null || uptime"),
        load_average,
        default_dict,
    ),
    requiring(
        plain(
            "server.Lastb",
            fixed!(accounts::LASTB_COMMAND),
            |_, output| Ok(accounts::logins(output)),
            default_list,
        ),
        |_| "lastb".to_owned(),
    ),
];

/// The facts of this module whose command reads other facts first, and how.
pub const PREPARED: &[(&str, Prepare)] = &[
    ("server.Uptime", kernel::with_kernel),
    ("server.Mounts", kernel::with_kernel),
    ("server.Port", listeners::with_listeners_tool),
    ("server.Ports", listeners::with_listeners_tool),
    ("server.KernelModules", kernel::with_kernel),
    ("server.Processes", kernel::with_process_tool),
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
        for regex in [&ISO_DATE, &SYSCTL_WORDS, &SELINUX_STATUS, &UPTIME_LOAD] {
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
    fn load_average_rejects_malformed_uptime_numbers() {
        let read = |line: &str| load_average(&Map::new(), &output(&[line]));
        assert_eq!(read("up 2 days, load averages: 1.00 2.50 3.00"), Ok(json!({"1": 1.0, "5": 2.5, "15": 3.0})));
        assert!(read("load average: 1.2.3, 2, 3").is_err());
        assert_eq!(read("nothing here"), Ok(json!({})));
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
