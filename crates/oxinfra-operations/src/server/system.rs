//! `server.modprobe`, `server.mount`, `server.timezone`, `server.sysctl`,
//! `server.locale` and `server.security_limit`: system settings, changed with their own
//! tools or by editing their files (through `files.line` and `files.replace`).

use serde::Deserialize;
use serde_json::{Value, json};

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use super::{contains_name, given, one_or_many, python_text, text_fact, unspaced, which, yes};
use crate::files::lines::{self, LineArgs, ReplaceArgs};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// `server.modprobe`.
pub const MODPROBE: OperationDef = OperationDef {
    name: "server.modprobe",
    params: &["module", "present", "force"],
    plan: |arguments, plan| modprobe(&parse_arguments("server.modprobe", arguments)?, plan),
};

/// `server.mount`.
pub const MOUNT: OperationDef = OperationDef {
    name: "server.mount",
    params: &["path", "mounted", "options", "device", "fs_type"],
    plan: |arguments, plan| mount(&parse_arguments("server.mount", arguments)?, plan),
};

/// `server.timezone`.
pub const TIMEZONE: OperationDef = OperationDef {
    name: "server.timezone",
    params: &["timezone"],
    plan: |arguments, plan| timezone(&parse_arguments("server.timezone", arguments)?, plan),
};

/// `server.sysctl`.
pub const SYSCTL: OperationDef = OperationDef {
    name: "server.sysctl",
    params: &["key", "value", "persist", "persist_file"],
    plan: |arguments, plan| sysctl(&parse_arguments("server.sysctl", arguments)?, plan),
};

/// `server.locale`.
pub const LOCALE: OperationDef = OperationDef {
    name: "server.locale",
    params: &["locale", "present"],
    plan: |arguments, plan| locale(&parse_arguments("server.locale", arguments)?, plan),
};

/// `server.security_limit`.
pub const SECURITY_LIMIT: OperationDef = OperationDef {
    name: "server.security_limit",
    params: &["domain", "limit_type", "item", "value"],
    plan: |arguments, plan| security_limit(&parse_arguments("server.security_limit", arguments)?, plan),
};

/// Arguments of `server.modprobe`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModprobeArgs {
    /// The kernel module, or a list of modules, to load or unload.
    #[serde(deserialize_with = "one_or_many")]
    pub module: Vec<String>,
    /// Whether the modules should be loaded.
    #[serde(default = "yes")]
    pub present: bool,
    /// Pass `-f` to force loading or unloading.
    #[serde(default)]
    pub force: bool,
}

/// `server.modprobe`: loads the modules that are missing, or unloads the loaded ones.
pub fn modprobe(args: &ModprobeArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let loaded = plan.fact("server.KernelModules", &[])?;
    let (present, missing): (Vec<&String>, Vec<&String>) = args.module.iter().partition(|module| contains_name(&loaded, module));
    let mut command = StringCommand::raw("modprobe");
    if args.force {
        command = command.text("-f");
    }
    let modules = match (args.present, present.is_empty(), missing.is_empty()) {
        (false, false, _) => {
            command = command.text("-r");
            present
        }
        (true, _, false) => missing,
        _ => {
            let many = args.module.len() > 1;
            plan.noop(format!(
                "{} {} {} {}",
                if many { "modules" } else { "module" },
                args.module.join("/"),
                if many { "are" } else { "is" },
                if args.present { "loaded" } else { "not loaded" },
            ));
            return Ok(());
        }
    };
    command = command.text("-a");
    for module in modules {
        command = command.quoted(module);
    }
    plan.push(command);
    Ok(())
}

/// Arguments of `server.mount`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountArgs {
    /// Where the filesystem is (or should be) mounted.
    pub path: String,
    /// Whether the filesystem should be mounted.
    #[serde(default = "yes")]
    pub mounted: bool,
    /// Mount options that must be in effect; a mounted filesystem lacking one is
    /// remounted.
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// The device to mount; also finds the mount when `path` is spelled differently.
    #[serde(default)]
    pub device: Option<String>,
    /// The filesystem type (`mount -t`).
    #[serde(default)]
    pub fs_type: Option<String>,
}

/// The mount point of `path`, or of `device` when `path` is not mounted itself.
fn find_mount(mounts: &Value, path: &str, device: Option<&str>) -> Option<String> {
    if contains_name(mounts, path) {
        return Some(path.to_owned());
    }
    let device = given(device)?;
    mounts
        .as_object()?
        .iter()
        .find_map(|(mount_point, info)| (info.get("device").and_then(Value::as_str) == Some(device)).then(|| mount_point.clone()))
}

/// A text field of a mount's facts, empty when absent.
fn mount_field(info: &Value, name: &str) -> String {
    info.get(name).map(python_str).unwrap_or_default()
}

/// `server.mount`: mounts, unmounts or remounts with missing options. The `fstab` file
/// is left alone.
pub fn mount(args: &MountArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let options = args.options.clone().unwrap_or_default();
    let options_text = options.join(",");
    let mounts = plan.fact("server.Mounts", &[])?;
    let mount_point = find_mount(&mounts, &args.path, args.device.as_deref());
    match mount_point {
        None if args.mounted => {
            // pyinfra passes these values to `mount` unquoted.
            let mut command = StringCommand::raw("mount");
            if let Some(fs_type) = given(args.fs_type.as_deref()) {
                command = command.text("-t").text(fs_type);
            }
            if !options_text.is_empty() {
                command = command.text("-o").text(&options_text);
            }
            if let Some(device) = given(args.device.as_deref()) {
                command = command.text(device);
            }
            plan.push(command.text(&args.path));
        }
        Some(mount_point) if !args.mounted => {
            plan.push(StringCommand::raw("umount").quoted(mount_point));
        }
        Some(mount_point) if !options.is_empty() => {
            let info = mounts.get(&mount_point).cloned().unwrap_or(Value::Null);
            let current = info.get("options").cloned().unwrap_or(Value::Null);
            if options.iter().any(|option| !contains_name(&current, option)) {
                remount(plan, &info, &mount_point, &options_text)?;
            }
        }
        _ => plan.noop(format!("filesystem {} is {}", args.path, if args.mounted { "mounted" } else { "not mounted" })),
    }
    Ok(())
}

/// Remounts with new options: `mount -uo` on the BSDs, `mount -o remount,` elsewhere.
fn remount(plan: &mut Plan<'_>, info: &Value, mount_point: &str, options: &str) -> Result<(), OperationError> {
    let kernel = text_fact(plan, "server.Kernel")?.unwrap_or_default();
    let command = if kernel.trim().contains("BSD") {
        StringCommand::raw("mount")
            .text("-uo")
            .nested(unspaced(StringCommand::raw(options)))
            .text("-t")
            .text(mount_field(info, "type"))
            .quoted(mount_field(info, "device"))
            .quoted(mount_point)
    } else {
        StringCommand::raw("mount")
            .text("-o")
            .nested(unspaced(StringCommand::raw("remount,").text(options)))
            .quoted(mount_point)
    };
    plan.push(command);
    Ok(())
}

/// Arguments of `server.timezone`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimezoneArgs {
    /// The timezone to set (`Europe/Amsterdam`, `UTC`).
    pub timezone: String,
}

/// `server.timezone`: sets the timezone with `timedatectl`, or by linking
/// `/etc/localtime` and writing `/etc/timezone`.
pub fn timezone(args: &TimezoneArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if text_fact(plan, "server.Timezone")?.as_deref() == Some(args.timezone.as_str()) {
        plan.noop("timezone is set");
        return Ok(());
    }
    if which(plan, "timedatectl")? {
        plan.push(StringCommand::raw("timedatectl set-timezone").quoted(&args.timezone));
    } else {
        let zone_file = format!("/usr/share/zoneinfo/{}", args.timezone);
        plan.push(StringCommand::raw("ln -sf").quoted(zone_file).text("/etc/localtime"));
        plan.push(StringCommand::raw("echo").quoted(&args.timezone).text("> /etc/timezone"));
    }
    Ok(())
}

fn default_sysctl_file() -> String {
    "/etc/sysctl.conf".to_owned()
}

/// Arguments of `server.sysctl`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SysctlArgs {
    /// The kernel parameter (`fs.file-max`).
    pub key: String,
    /// Its wanted value: a number, a text, or a list written space-separated.
    pub value: Value,
    /// Also write `key = value` to `persist_file`, so the value survives a reboot.
    #[serde(default)]
    pub persist: bool,
    /// The file that sets kernel parameters at boot.
    #[serde(default = "default_sysctl_file")]
    pub persist_file: String,
}

/// Python's `try_int`: the integer a value spells, or the value unchanged.
fn try_int(value: &Value) -> Value {
    match value {
        Value::Bool(flag) => json!(i64::from(*flag)),
        #[expect(clippy::cast_possible_truncation, reason = "Python's int() truncates floats")]
        Value::Number(number) if number.is_f64() => number.as_f64().map_or_else(|| value.clone(), |float| json!(float.trunc() as i64)),
        Value::String(text) => parse_python_int(text).map_or_else(|| value.clone(), |number| json!(number)),
        other => other.clone(),
    }
}

/// Python's `int(text)` for base-10 text: surrounding blanks, a sign, and single
/// underscores between digits are accepted.
fn parse_python_int(text: &str) -> Option<i64> {
    let trimmed = text.trim();
    let digits = trimmed.trim_start_matches(['+', '-']);
    if trimmed.len() - digits.len() > 1 || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    trimmed.replace('_', "").parse().ok()
}

/// The value as the `Sysctl` fact reports it: numbers where they parse, a list when
/// several values are given.
fn normalise_sysctl_value(value: &Value) -> Value {
    match value {
        Value::Array(items) if items.len() == 1 => try_int(&items[0]),
        Value::Array(items) => Value::Array(items.iter().map(try_int).collect()),
        Value::String(text) if text.split_whitespace().count() > 1 => Value::Array(text.split_whitespace().map(|item| try_int(&json!(item))).collect()),
        other => try_int(other),
    }
}

/// Equality as Python's `==` sees it for fact values (`2000 == 2000.0`).
fn python_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => left.as_f64() == right.as_f64(),
        (Value::Array(left), Value::Array(right)) => left.len() == right.len() && left.iter().zip(right).all(|(left, right)| python_equal(left, right)),
        _ => left == right,
    }
}

/// `server.sysctl`: sets a kernel parameter now and, when asked, in the boot file.
pub fn sysctl(args: &SysctlArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let value_text = match &args.value {
        Value::Array(items) => items.iter().map(python_str).collect::<Vec<_>>().join(" "),
        other => python_str(other),
    };
    let wanted = normalise_sysctl_value(&args.value);
    let existing = plan.fact("server.Sysctl", &[("keys", json!([args.key]))])?;
    let current = existing.get(&args.key).cloned().unwrap_or(Value::Null);
    if python_equal(&current, &wanted) {
        plan.noop(format!("sysctl {} is set to {value_text}", args.key));
    } else {
        let assignment = unspaced(StringCommand::new().quoted(&args.key).text("=").quoted(&value_text));
        plan.push(StringCommand::raw("sysctl").nested(assignment));
    }
    if args.persist {
        let mut line = LineArgs::new(&args.persist_file, format!("{}[[:space:]]*=[[:space:]]*{value_text}", args.key));
        line.replace = Some(format!("{} = {value_text}", args.key));
        lines::line(&line, plan)?;
    }
    Ok(())
}

/// The file listing the locales `locale-gen` can build.
const LOCALE_DEFINITIONS: &str = "/etc/locale.gen";

/// Arguments of `server.locale`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocaleArgs {
    /// The locale (`en_GB.UTF-8`), as named in `/etc/locale.gen`.
    pub locale: String,
    /// Whether the locale should be built.
    #[serde(default = "yes")]
    pub present: bool,
}

/// `server.locale`: comments or uncomments the locale's line in `/etc/locale.gen` and
/// runs `locale-gen`.
pub fn locale(args: &LocaleArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let installed = plan.fact("server.Locales", &[])?;
    let pattern = format!("^.*{}[[:space:]]\\+.*$", args.locale);
    let matching = plan.fact(
        "files.FindInFile",
        &[
            ("path", json!(LOCALE_DEFINITIONS)),
            ("pattern", json!(pattern)),
            ("interpolate_variables", json!(false)),
            ("extended_regex", json!(false)),
        ],
    )?;
    let matching: Vec<String> = matching.as_array().map(|lines| lines.iter().map(python_str).collect()).unwrap_or_default();
    let line = match matching.as_slice() {
        [] => {
            return Err(OperationError::Operation(format!("Locale {} not found in {LOCALE_DEFINITIONS}", args.locale)));
        }
        [line] => line,
        _ => {
            return Err(OperationError::Operation(format!(
                "Multiple locales matches for {} in {LOCALE_DEFINITIONS}",
                args.locale
            )));
        }
    };
    let is_installed = contains_name(&installed, &args.locale);
    if !args.present && is_installed {
        let mut comment_out = LineArgs::new(LOCALE_DEFINITIONS, format!("^{line}$"));
        comment_out.replace = Some(format!("# {line}"));
        lines::line(&comment_out, plan)?;
        plan.push_raw("locale-gen");
    }
    if args.present && !is_installed {
        let enable = ReplaceArgs::new(LOCALE_DEFINITIONS, format!("^{line}$"), line.replace("# ", ""));
        lines::replace(&enable, plan)?;
        plan.push_raw("locale-gen");
    }
    Ok(())
}

/// Arguments of `server.security_limit`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityLimitArgs {
    /// Who the limit applies to: a user, `@group` or `*`.
    pub domain: String,
    /// `hard`, `soft` or `-` for both.
    pub limit_type: String,
    /// The limited resource (`nofile`, `nproc`, `memlock`).
    pub item: String,
    /// The limit (`1024`, `unlimited`).
    #[serde(deserialize_with = "python_text")]
    pub value: String,
}

/// `server.security_limit`: sets one line of `/etc/security/limits.conf`.
pub fn security_limit(args: &SecurityLimitArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let mut line = LineArgs::new(
        "/etc/security/limits.conf",
        format!("^{}[[:space:]]+{}[[:space:]]+{}", args.domain, args.limit_type, args.item),
    );
    line.replace = Some(format!("{}\t{}\t{}\t{}", args.domain, args.limit_type, args.item, args.value));
    lines::line(&line, plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    #[test]
    fn sysctl_values_are_compared_as_the_fact_reports_them() {
        assert_eq!(normalise_sysctl_value(&json!("2000")), json!(2000));
        assert_eq!(normalise_sysctl_value(&json!(["1024"])), json!(1024));
        assert_eq!(normalise_sysctl_value(&json!("1024 65535")), json!([1024, 65535]));
        assert_eq!(normalise_sysctl_value(&json!("cubic")), json!("cubic"));
        assert!(python_equal(&json!(2000), &json!(2000.0)));
    }

    #[test]
    fn python_int_parsing() {
        assert_eq!(parse_python_int(" 42 "), Some(42));
        assert_eq!(parse_python_int("-1_000"), Some(-1000));
        assert_eq!(parse_python_int("1__0"), None);
        assert_eq!(parse_python_int("+-1"), None);
        assert_eq!(parse_python_int("0x10"), None);
    }

    #[test]
    fn mount_found_by_device_when_path_differs() {
        let mounts = json!({"/mnt/data": {"device": "/dev/sdb1"}});
        assert_eq!(find_mount(&mounts, "/data", Some("/dev/sdb1")).as_deref(), Some("/mnt/data"));
        assert_eq!(find_mount(&mounts, "/data", None), None);
    }

    #[test]
    fn modprobe_force_unloads_loaded_modules() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("server.KernelModules", &[], json!({"floppy": {}}));
        let arguments = json!({"module": ["floppy", "other"], "present": false, "force": true});
        let (commands, _) = run(modprobe, &arguments, &mut facts)?;
        assert_eq!(commands, ["modprobe -f -r -a floppy"]);
        Ok(())
    }

    #[test]
    fn modprobe_unloaded_module_is_a_noop() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("server.KernelModules", &[], json!({}));
        let outcome = run(modprobe, &json!({"module": "floppy", "present": false}), &mut facts)?;
        assert_eq!(outcome, (vec![], Some("module floppy is not loaded".to_owned())));
        Ok(())
    }

    #[test]
    fn mount_with_every_option_already_set_does_nothing() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("server.Mounts", &[], json!({"/data": {"options": ["rw", "noatime"]}}));
        let outcome = run(mount, &json!({"path": "/data", "options": ["noatime"]}), &mut facts)?;
        assert_eq!(outcome, (vec![], None));
        Ok(())
    }

    #[test]
    fn sysctl_persists_the_line() -> Result<(), OperationError> {
        let mut facts = TableFacts::default()
            .with("server.Sysctl", &[("keys", json!(["vm.swappiness"]))], json!({"vm.swappiness": 10}))
            .find_in_file(
                "/etc/sysctl.conf",
                "^.*vm.swappiness[[:space:]]*=[[:space:]]*10.*$",
                json!(["vm.swappiness=10"]),
            );
        let arguments = json!({"key": "vm.swappiness", "value": "10", "persist": true});
        let (commands, noop) = run(sysctl, &arguments, &mut facts)?;
        assert_eq!(
            commands,
            ["sed -i.ts 's/^.*vm.swappiness[[:space:]]*=[[:space:]]*10.*$/vm.swappiness = 10/' /etc/sysctl.conf && rm -f /etc/sysctl.conf.ts"]
        );
        assert_eq!(noop.as_deref(), Some("sysctl vm.swappiness is set to 10"));
        Ok(())
    }
}
