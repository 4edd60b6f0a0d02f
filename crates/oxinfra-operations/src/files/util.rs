//! Helpers the `files.*` operations share, after pyinfra's `operations/util/files.py`
//! and the private helpers of `operations/files.py`: the `chown`, `chmod` and `touch`
//! commands, file modes as pyinfra normalises them, backup and temporary names, POSIX
//! path arithmetic, Python truthiness of fact values and `fnmatch`.
//!
//! Nothing here reads facts or pushes commands; the operations do.

use std::fmt::Write as _;
use std::time::SystemTime;

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_repr;
use serde::Deserialize;
use serde_json::Value;

use crate::plan::OperationError;

/// Whether a fact value is true in Python's sense (`None`, `False`, `0`, `""`, `[]`
/// and `{}` are false): pyinfra tests fact values with `if info:`.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|number| number != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// A string field of a fact value (`info["user"]`), `None` when absent or not a string.
pub fn field<'a>(info: &'a Value, name: &str) -> Option<&'a str> {
    info.get(name).and_then(Value::as_str)
}

/// pyinfra's `_validate_path`: a path argument must be a string (a `Path` arrives as
/// one).
pub fn validate_path(path: &Value) -> Result<String, OperationError> {
    path.as_str()
        .map(str::to_owned)
        .ok_or_else(|| OperationError::Type("`path` must be a string or `os.PathLike` object".to_owned()))
}

/// A `mode` argument as it arrives: `644`, `"0644"`, `"0o644"`, `"u+x"` or a boolean.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ModeArg {
    /// `True` means "as the local file" (`files.put`); `False` means no mode.
    Bool(bool),
    /// Octal digits written as a decimal number: `644` is `rw-r--r--`.
    Int(i64),
    /// Octal digits, optionally with `0`/`0o` in front, or a symbolic mode.
    Text(String),
}

/// A file mode after pyinfra's `ensure_mode_int`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Canonical octal digits without leading zeros (`"644"`, or `"0"`), compared with
    /// the `mode` of the file facts, which hold the same digits as a number.
    Octal(String),
    /// A symbolic mode (`u+x`), passed to `chmod` as is and never equal to a fact.
    Symbolic(String),
}

impl Mode {
    /// Normalises a mode argument; `None` when no mode is wanted (absent, `False`, or
    /// a value Python finds false such as `0`).
    pub fn parse(argument: Option<&ModeArg>) -> Result<Option<Self>, OperationError> {
        let mode = match argument {
            None | Some(ModeArg::Bool(false)) => return Ok(None),
            Some(ModeArg::Bool(true)) => {
                return Err(OperationError::Type("`mode=True` is only accepted by `files.put`".to_owned()));
            }
            Some(ModeArg::Int(number)) => Self::from_digits(&number.to_string(), &number.to_string())?,
            Some(ModeArg::Text(text)) => Self::from_text(text)?,
        };
        Ok(mode.is_set().then_some(mode))
    }

    fn from_text(text: &str) -> Result<Self, OperationError> {
        let lowered = text.trim().to_lowercase();
        let digits = lowered.strip_prefix("0o").unwrap_or(&lowered);
        if digits.is_empty() || !digits.chars().all(|character| character.is_ascii_digit()) {
            return Ok(Self::Symbolic(text.to_owned()));
        }
        Self::from_digits(digits, &python_repr(&Value::String(text.to_owned())))
    }

    fn from_digits(digits: &str, shown: &str) -> Result<Self, OperationError> {
        if !digits.chars().all(|character| ('0'..='7').contains(&character)) {
            return Err(OperationError::Value(format!(
                "Invalid file mode: {shown} contains non-octal digits (expected octal digits 0-7, eg 644, '0644' or '0o644')"
            )));
        }
        let trimmed = digits.trim_start_matches('0');
        Ok(Self::Octal(if trimmed.is_empty() { "0".to_owned() } else { trimmed.to_owned() }))
    }

    /// Whether Python would find the mode true (`0` and `""` are false).
    fn is_set(&self) -> bool {
        match self {
            Self::Octal(digits) => digits != "0",
            Self::Symbolic(text) => !text.is_empty(),
        }
    }

    /// The mode as `chmod` takes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Octal(text) | Self::Symbolic(text) => text,
        }
    }

    /// Whether a file fact (`{"mode": 644, ...}`) already has this mode.
    pub fn matches(&self, info: &Value) -> bool {
        match (self, info.get("mode")) {
            (Self::Octal(digits), Some(Value::Number(number))) => number.to_string() == *digits,
            _ => false,
        }
    }
}

/// pyinfra's `chmod`: `chmod [-R] <mode> <target>`.
pub fn chmod(target: &str, mode: &Mode, recursive: bool) -> StringCommand {
    let command = StringCommand::raw("chmod");
    let command = if recursive { command.text("-R") } else { command };
    command.quoted(mode.as_str()).quoted(target)
}

/// pyinfra's `get_path_permissions_mode`: the last three octal digits of a mode, read
/// as a decimal number (`0o4755` gives `755`), which is how pyinfra passes modes on.
pub fn permission_digits(permissions: u32) -> i64 {
    let digit = |shift: u32| i64::from((permissions >> shift) & 0o7);
    digit(6) * 100 + digit(3) * 10 + digit(0)
}

/// How [`chown`] applies ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChownFlags {
    /// `-R`: the whole tree.
    pub recursive: bool,
    /// Without it, `-h`: the link itself rather than what it points to.
    pub dereference: bool,
}

impl Default for ChownFlags {
    fn default() -> Self {
        Self {
            recursive: false,
            dereference: true,
        }
    }
}

/// pyinfra's `chown`: `chown user:group`, `chown user`, or `chgrp group` when only the
/// group is given. Empty names count as absent.
pub fn chown(target: &str, user: Option<&str>, group: Option<&str>, flags: ChownFlags) -> Result<StringCommand, OperationError> {
    let (program, owner) = match (non_empty(user), non_empty(group)) {
        (Some(user), Some(group)) => ("chown", format!("{user}:{group}")),
        (Some(user), None) => ("chown", user.to_owned()),
        (None, Some(group)) => ("chgrp", group.to_owned()),
        (None, None) => {
            return Err(OperationError::Operation("chown() requires at least one of user or group".to_owned()));
        }
    };
    let mut command = StringCommand::raw(program);
    if flags.recursive {
        command = command.text("-R");
    }
    if !flags.dereference {
        command = command.text("-h");
    }
    Ok(command.quoted(owner).quoted(target))
}

/// Whether a wanted user or group differs from a file fact's (`info["user"] != user`).
pub fn owner_differs(info: &Value, user: Option<&str>, group: Option<&str>) -> bool {
    let differs = |wanted: Option<&str>, name: &str| non_empty(wanted).is_some_and(|wanted| field(info, name) != Some(wanted));
    differs(user, "user") || differs(group, "group")
}

/// Whether a user or group is wanted at all (`if user or group:`).
pub fn wants_owner(user: Option<&str>, group: Option<&str>) -> bool {
    non_empty(user).is_some() || non_empty(group).is_some()
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

/// Where a file is moved aside before it is replaced: `<path>.<timestamp>`, or that
/// name inside `backup_dir`.
pub fn backup_path(path: &str, timestamp: &str, backup_dir: Option<&str>) -> String {
    let backup = format!("{path}.{timestamp}");
    match backup_dir {
        Some(directory) => format!("{directory}/{}", posix_basename(&backup)),
        None => backup,
    }
}

/// A temporary file name on the host in `directory`, as pyinfra's
/// `host.get_temp_filename(seed, temp_directory=directory)`.
pub fn temp_filename_in(directory: &str, seed: &str) -> String {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(seed.as_bytes());
    format!("{directory}/pyinfra-{}", hex(&digest))
}

/// Lower-case hexadecimal of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
        // Writing to a `String` cannot fail.
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// pyinfra's `unix_path_join`: joins with `/`, dropping trailing slashes of all parts
/// but the last.
pub fn unix_path_join(parts: &[&str]) -> String {
    let last = parts.len().saturating_sub(1);
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| if index < last { part.trim_end_matches('/') } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

/// Python's `posixpath.join(directory, name)`.
pub fn posix_join(directory: &str, name: &str) -> String {
    if name.starts_with('/') || directory.is_empty() {
        name.to_owned()
    } else if directory.ends_with('/') {
        format!("{directory}{name}")
    } else {
        format!("{directory}/{name}")
    }
}

/// Python's `posixpath.dirname`: everything before the last `/`, trailing slashes
/// dropped unless it is all slashes; empty for a bare name.
pub fn posix_dirname(path: &str) -> &str {
    let head = path.rfind('/').map_or("", |index| &path[..=index]);
    let trimmed = head.trim_end_matches('/');
    if trimmed.is_empty() { head } else { trimmed }
}

/// Python's `PurePosixPath(path).name`: the last component, trailing slashes ignored.
pub fn posix_basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or_default()
}

/// Python's `fnmatch.fnmatchcase` on POSIX: `*`, `?`, `[seq]` and `[!seq]`, matching
/// the whole name (`*` crosses `/`).
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    regex::Regex::new(&fnmatch_regex(pattern)).is_ok_and(|regex| regex.is_match(name))
}

fn fnmatch_regex(pattern: &str) -> String {
    let characters: Vec<char> = pattern.chars().collect();
    let mut out = String::from("(?s)^");
    let mut index = 0;
    while index < characters.len() {
        match characters[index] {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => match bracket_class(&characters[index + 1..]) {
                Some((class, used)) => {
                    out.push_str(&class);
                    index += used;
                }
                None => out.push_str("\\["),
            },
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        index += 1;
    }
    out.push('$');
    out
}

/// The regex class for the text after a `[`, and how many characters it used, or
/// `None` when the bracket is never closed (then it is a literal `[`).
fn bracket_class(rest: &[char]) -> Option<(String, usize)> {
    let mut index = usize::from(rest.first() == Some(&'!'));
    if rest.get(index) == Some(&']') {
        index += 1;
    }
    let close = index + rest[index..].iter().position(|character| *character == ']')?;
    let negate = rest.first() == Some(&'!');
    let body: String = rest[usize::from(negate)..close]
        .iter()
        .map(|character| match character {
            '\\' | '^' | '[' | ']' | '&' | '~' => format!("\\{character}"),
            other => other.to_string(),
        })
        .collect();
    Some((format!("[{}{body}]", if negate { "^" } else { "" }), close + 1))
}

/// Which timestamp [`touch`] sets (pyinfra's `MetadataTimeField`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// `atime`, set with `touch -a`.
    Access,
    /// `mtime`, set with `touch -m`.
    Modification,
}

impl TimeField {
    /// The fact field holding this time (`atime` or `mtime`).
    pub fn fact_field(self) -> &'static str {
        match self {
            Self::Access => "atime",
            Self::Modification => "mtime",
        }
    }
}

/// pyinfra's `touch`: sets one timestamp of `target` to `time`, written in UTC with a
/// `Z` as BSD `touch` wants it.
pub fn touch(target: &str, field: TimeField, time: &DateTime) -> StringCommand {
    let flag = match field {
        TimeField::Access => "-a",
        TimeField::Modification => "-m",
    };
    // The time is rendered by `DateTime` itself (digits, `-`, `:`, `T`, `.`, `Z`).
    StringCommand::raw("touch").text(flag).text("-d").text(time.utc_iso()).quoted(target)
}

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A date and time as Python's `datetime`, years 1 to 9999, microsecond precision:
/// the wall-clock reading, and the UTC offset when it is known (`None` is naive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Microseconds of the wall-clock reading since 1970-01-01T00:00:00.
    wall_micros: i64,
    /// Seconds east of UTC.
    offset_seconds: Option<i64>,
}

impl DateTime {
    /// Python's `datetime.fromisoformat`, for `YYYY-MM-DD[?HH[:MM[:SS[.f]]]][Z|±HH[:MM[:SS]]]`
    /// (the separator may be any character).
    pub fn parse_iso(text: &str) -> Option<Self> {
        let date = text.get(..10)?;
        let mut rest = text.get(10..)?.chars();
        let days = parse_date(date)?;
        let (time, offset) = match rest.next() {
            None => ("", None),
            Some(_) => split_offset(rest.as_str())?,
        };
        let time_micros = if time.is_empty() { 0 } else { parse_clock(time)? };
        let offset_seconds = match offset {
            None => None,
            Some(offset) => Some(parse_offset(offset)?),
        };
        Some(Self {
            wall_micros: days * MICROS_PER_DAY + time_micros,
            offset_seconds,
        })
    }

    /// Python's `datetime.fromtimestamp(seconds, tz=timezone.utc)`.
    pub fn from_timestamp(seconds: f64) -> Option<Self> {
        let micros = (seconds * 1e6).round_ties_even();
        let in_range = micros.is_finite() && micros.abs() < 3e17;
        #[expect(clippy::cast_possible_truncation, reason = "range checked just above")]
        let wall_micros = micros as i64;
        let time = Self {
            wall_micros,
            offset_seconds: Some(0),
        };
        (in_range && time.in_python_range()).then_some(time)
    }

    /// A time of the controller's clock, as Python's `datetime.fromtimestamp(st_mtime,
    /// tz=timezone.utc)` reads a `stat` time.
    pub fn from_system_time(time: SystemTime) -> Option<Self> {
        let seconds = match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(after) => after.as_secs_f64(),
            Err(before) => -before.duration().as_secs_f64(),
        };
        Self::from_timestamp(seconds)
    }

    fn in_python_range(self) -> bool {
        let first = days_from_civil(1, 1, 1) * MICROS_PER_DAY;
        let end = days_from_civil(10_000, 1, 1) * MICROS_PER_DAY;
        (first..end).contains(&self.wall_micros)
    }

    /// Whether no UTC offset is known.
    pub fn is_naive(self) -> bool {
        self.offset_seconds.is_none()
    }

    /// The UTC offset in seconds, when known.
    pub fn offset_seconds(self) -> Option<i64> {
        self.offset_seconds
    }

    /// The same wall-clock reading at another offset (Python's `replace(tzinfo=...)`).
    #[must_use]
    pub fn with_offset(self, offset_seconds: Option<i64>) -> Self {
        Self { offset_seconds, ..self }
    }

    /// Microseconds of the wall-clock reading since 1970, offset ignored.
    pub fn wall_micros(self) -> i64 {
        self.wall_micros
    }

    fn utc_micros(self) -> i64 {
        self.wall_micros - self.offset_seconds.unwrap_or_default() * MICROS_PER_SECOND
    }

    /// The time in UTC as Python's `isoformat()` writes it, `+00:00` written `Z`.
    pub fn utc_iso(self) -> String {
        let micros = self.utc_micros();
        let (year, month, day) = civil_from_days(micros.div_euclid(MICROS_PER_DAY));
        let in_day = micros.rem_euclid(MICROS_PER_DAY);
        let seconds = in_day / MICROS_PER_SECOND;
        let fraction = in_day % MICROS_PER_SECOND;
        let clock = format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
        let fraction = if fraction == 0 { String::new() } else { format!(".{fraction:06}") };
        format!("{year:04}-{month:02}-{day:02}T{clock}{fraction}Z")
    }

    /// pyinfra's `_times_differ_in_s(self, other)`: at least a second apart, or a
    /// different seconds field once `other` is read at this time's offset.
    pub fn differs_in_seconds(self, other: Self) -> bool {
        let apart = (other.utc_micros() - self.utc_micros()).abs() >= MICROS_PER_SECOND;
        let offset = self.offset_seconds.unwrap_or_default() * MICROS_PER_SECOND;
        let second = |micros: i64| (micros + offset).div_euclid(MICROS_PER_SECOND).rem_euclid(60);
        apart || second(self.utc_micros()) != second(other.utc_micros())
    }
}

fn parse_number(text: &str, length: usize) -> Option<i64> {
    (text.len() == length && text.bytes().all(|byte| byte.is_ascii_digit())).then(|| text.parse().ok())?
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let year = parse_number(parts.next()?, 4)?;
    let month = parse_number(parts.next()?, 2)?;
    let day = parse_number(parts.next()?, 2)?;
    let valid = year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
    (valid && parts.next().is_none()).then(|| days_from_civil(year, month, day))
}

/// Splits `HH:MM:SS+01:00` into the clock and the offset (`Z`, `+..` or `-..`).
fn split_offset(text: &str) -> Option<(&str, Option<&str>)> {
    match text.find(['Z', '+', '-']) {
        None => Some((text, None)),
        Some(index) if text[index..].starts_with('Z') => (index + 1 == text.len()).then_some((&text[..index], Some("Z"))),
        Some(index) => Some((&text[..index], Some(&text[index..]))),
    }
}

/// Microseconds since midnight of `HH[:MM[:SS[.fraction]]]`.
fn parse_clock(text: &str) -> Option<i64> {
    let (clock, fraction) = text.split_once('.').map_or((text, None), |(clock, fraction)| (clock, Some(fraction)));
    let mut parts = clock.split(':');
    let hours = parse_number(parts.next()?, 2)?;
    let minutes = parts.next().map_or(Some(0), |part| parse_number(part, 2))?;
    let seconds = parts.next().map_or(Some(0), |part| parse_number(part, 2))?;
    let fraction_micros = match fraction {
        None => 0,
        Some(digits) if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) => format!("{digits:0<6}").get(..6)?.parse().ok()?,
        Some(_) => return None,
    };
    let valid = hours < 24 && minutes < 60 && seconds < 60 && parts.next().is_none();
    valid.then_some(((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + fraction_micros)
}

/// Seconds east of UTC of `Z`, `±HH`, `±HHMM` or `±HH:MM[:SS]`.
fn parse_offset(text: &str) -> Option<i64> {
    if text == "Z" {
        return Some(0);
    }
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits = text.get(1..)?.replace(':', "");
    let hours = parse_number(digits.get(..2)?, 2)?;
    let minutes = digits.get(2..4).map_or(Some(0), |part| parse_number(part, 2))?;
    let seconds = digits.get(4..6).map_or(Some(0), |part| parse_number(part, 2))?;
    let valid = hours < 24 && minutes < 60 && seconds < 60 && matches!(digits.len(), 2 | 4 | 6);
    valid.then_some(sign * (hours * 3600 + minutes * 60 + seconds))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mode_spellings_normalise_to_digits() {
        for argument in [
            ModeArg::Int(644),
            ModeArg::Text("644".into()),
            ModeArg::Text("0644".into()),
            ModeArg::Text("0o644".into()),
        ] {
            assert_eq!(Mode::parse(Some(&argument)), Ok(Some(Mode::Octal("644".into()))));
        }
        assert_eq!(Mode::parse(Some(&ModeArg::Text("u+x".into()))), Ok(Some(Mode::Symbolic("u+x".into()))));
        assert_eq!(Mode::parse(Some(&ModeArg::Int(0))), Ok(None));
        assert_eq!(Mode::parse(Some(&ModeArg::Bool(false))), Ok(None));
    }

    #[test]
    fn mode_with_non_octal_digits_is_a_value_error() {
        let error = Mode::parse(Some(&ModeArg::Text("0799".into()))).err().map(|error| error.to_string());
        assert_eq!(
            error.as_deref(),
            Some("Invalid file mode: '0799' contains non-octal digits (expected octal digits 0-7, eg 644, '0644' or '0o644')")
        );
        assert!(matches!(Mode::parse(Some(&ModeArg::Int(799))), Err(OperationError::Value(message)) if message.contains(": 799 ")));
    }

    #[test]
    fn mode_matches_fact_digits() {
        let mode = Mode::Octal("644".into());
        assert!(mode.matches(&json!({"mode": 644})));
        assert!(!mode.matches(&json!({"mode": 640})));
        assert!(!Mode::Symbolic("u+x".into()).matches(&json!({"mode": 644})));
    }

    #[test]
    fn chown_picks_chgrp_for_group_only() {
        let command = chown(
            "/a b",
            None,
            Some("wheel"),
            ChownFlags {
                recursive: true,
                dereference: false,
            },
        );
        assert_eq!(command.map(|command| command.raw_value()), Ok("chgrp -R -h wheel '/a b'".to_owned()));
        assert!(chown("/x", Some(""), None, ChownFlags::default()).is_err());
    }

    #[test]
    fn backup_path_moves_into_backup_dir() {
        assert_eq!(backup_path("/etc/x", "ts", None), "/etc/x.ts");
        assert_eq!(backup_path("/etc/x", "ts", Some("/tmp")), "/tmp/x.ts");
    }

    #[test]
    fn posix_paths_behave_like_python() {
        assert_eq!(posix_dirname("/home/x"), "/home");
        assert_eq!(posix_dirname("/x"), "/");
        assert_eq!(posix_dirname("x"), "");
        assert_eq!(posix_dirname("a//b"), "a");
        assert_eq!(posix_basename("/tmp/dir/"), "dir");
        assert_eq!(posix_join("tmp2", "f"), "tmp2/f");
        assert_eq!(posix_join("tmp2/", "f"), "tmp2/f");
        assert_eq!(unix_path_join(&["/home/", "a"]), "/home/a");
    }

    #[test]
    fn fnmatch_matches_like_python() {
        assert!(fnmatch("/src/thing.pyc", "*.pyc"));
        assert!(fnmatch("a/__pycache__", "*/__pycache__"));
        assert!(!fnmatch("a/__pycache__", "__pycache__"));
        assert!(fnmatch("file1", "file[0-9]"));
        assert!(fnmatch("filex", "file[!0-9]"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("a.b", "a.b") && !fnmatch("axb", "a.b"));
    }

    #[test]
    fn truthiness_follows_python() {
        assert!(!truthy(&json!({})) && !truthy(&json!(null)) && !truthy(&json!(false)) && !truthy(&json!("")));
        assert!(truthy(&json!(true)) && truthy(&json!({"mode": 0})) && truthy(&json!("abc")));
    }
    #[test]
    fn iso_times_render_in_utc() {
        let time = DateTime::parse_iso("2022-11-17T20:45:00").map(|time| time.with_offset(Some(-6 * 3600)));
        assert_eq!(time.map(DateTime::utc_iso).as_deref(), Some("2022-11-18T02:45:00Z"));
        let time = DateTime::parse_iso("2002-09-15T10:11:11.888888+00:00");
        assert_eq!(time.map(DateTime::utc_iso).as_deref(), Some("2002-09-15T10:11:11.888888Z"));
        assert_eq!(
            DateTime::parse_iso("2000-02-29").map(DateTime::utc_iso).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            DateTime::from_timestamp(0.5).map(DateTime::utc_iso).as_deref(),
            Some("1970-01-01T00:00:00.500000Z")
        );
        assert!(DateTime::parse_iso("/var/timeref.blob").is_none());
        assert!(DateTime::parse_iso("2001-02-29").is_none());
    }

    #[test]
    fn times_differ_by_seconds_field() {
        let parse = |text: &str| DateTime::parse_iso(text).map(|time| time.with_offset(Some(0)));
        let wanted = parse("2002-09-15T10:11:11.888888");
        let differs = |other: &str| wanted.zip(parse(other)).map(|(wanted, other)| wanted.differs_in_seconds(other));
        assert_eq!(differs("2002-09-15T10:11:12"), Some(true));
        assert_eq!(differs("2002-09-15T10:11:11.1"), Some(false));
    }

    #[test]
    fn stat_times_read_as_utc() {
        let after = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(957_139_260_250);
        assert_eq!(
            DateTime::from_system_time(after).map(DateTime::utc_iso).as_deref(),
            Some("2000-05-01T00:01:00.250000Z")
        );
        let before = SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(1);
        assert_eq!(
            DateTime::from_system_time(before).map(DateTime::utc_iso).as_deref(),
            Some("1969-12-31T23:59:59Z")
        );
    }

    #[test]
    fn permission_digits_keep_the_last_three() {
        assert_eq!([0o644, 0o4755, 0o7, 0].map(permission_digits), [644, 755, 7, 0]);
    }

    #[test]
    fn touch_sets_one_field() {
        let time = DateTime::from_timestamp(1.0).map(|time| touch("/a b", TimeField::Access, &time).raw_value());
        assert_eq!(time.as_deref(), Some("touch -a -d 1970-01-01T00:00:01Z '/a b'"));
    }
}
