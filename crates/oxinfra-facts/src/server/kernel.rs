//! The facts of `pyinfra/facts/server.py` whose command depends on the host's kernel:
//! `Uptime`, `Mounts`, `KernelModules` and `Processes` here, `Port` and `Ports` in
//! [`super::listeners`].
//!
//! pyinfra reads `server.Kernel` (and on Linux `server.Which` of a tool) inside the
//! fact's `command()`. Here a [`Prepare`](crate::registry::Prepare) function reads them
//! first and adds their values to the fact's arguments under names no parameter has
//! ([`KERNEL`], [`HAS_TOOL`]); the command and the parser both read them from there.

use std::sync::LazyLock;

use oxinfra_core::{FactKey, FactSource, Missing, StringCommand};
use regex::Regex;
use serde_json::{Map, Value, json};

use super::process_error;
use crate::files::{compiled, python_int, python_str};
use crate::registry::{Arguments, FactError, key};

/// The argument that carries `server.Kernel` to a prepared fact.
pub(super) const KERNEL: &str = "_kernel";
/// The argument that carries whether the fact's tool (`ss`, `busybox`) is installed.
pub(super) const HAS_TOOL: &str = "_has_tool";

static OCTAL_ESCAPE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"\\[0-7]{3}"));
// A line of OpenBSD's `mount -v`: `/dev/sd0a (duid.a) on / type ffs (local, wxallowed)`.
static OPENBSD_MOUNT: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(\S+)(?: \(.*\))? on (/.*) type (\w+) \((.+)\)$"));

// Preparation

/// `server.Kernel`'s value, with the arguments `arguments` had.
pub(super) fn with_kernel(arguments: &Arguments, facts: &mut dyn FactSource) -> Result<Arguments, Missing> {
    let kernel = facts.get(&key("server.Kernel", &[]))?;
    Ok(with_values(arguments, [(KERNEL, kernel)]))
}

/// `server.Kernel` and, unless the kernel is one of `without_tool`'s, whether `tool` is
/// installed. Both are asked for before either is known, so that a host whose kernel
/// is not read yet reads them in one round trip.
pub(super) fn with_tool(arguments: &Arguments, facts: &mut dyn FactSource, tool: &str, without_tool: &[&str]) -> Result<Arguments, Missing> {
    let kernel = facts.get(&key("server.Kernel", &[]));
    if let Ok(kernel) = &kernel {
        if without_tool.contains(&python_str(kernel).trim()) {
            return Ok(with_values(arguments, [(KERNEL, kernel.clone())]));
        }
    }
    let found = facts.get(&which(tool));
    let (kernel, found) = (kernel?, found?);
    Ok(with_values(arguments, [(KERNEL, kernel), (HAS_TOOL, Value::Bool(truthy(&found)))]))
}

/// `Processes`: the kernel and, except on the BSDs and macOS, whether `ps` is `BusyBox`'s.
pub(super) fn with_process_tool(arguments: &Arguments, facts: &mut dyn FactSource) -> Result<Arguments, Missing> {
    with_tool(arguments, facts, "busybox", &["FreeBSD", "Darwin"])
}

fn which(tool: &str) -> FactKey {
    key("server.Which", &[("command", json!(tool))])
}

fn with_values<const N: usize>(arguments: &Arguments, values: [(&str, Value); N]) -> Arguments {
    let mut prepared = arguments.clone();
    for (name, value) in values {
        prepared.insert(name.to_owned(), value);
    }
    prepared
}

/// Python's truth of a `Which` answer: a path is true, `None` and `""` are not.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::String(text) => !text.is_empty(),
        _ => true,
    }
}

/// The kernel's name as read (`None` reads as empty).
fn kernel_name(arguments: &Arguments) -> String {
    match arguments.get(KERNEL) {
        None | Some(Value::Null) => String::new(),
        Some(kernel) => python_str(kernel),
    }
}

/// The kernel's name stripped, as most of these facts compare it.
pub(super) fn kernel(arguments: &Arguments) -> String {
    kernel_name(arguments).trim().to_owned()
}

/// Whether the prepared tool is installed.
pub(super) fn has_tool(arguments: &Arguments) -> bool {
    arguments.get(HAS_TOOL).and_then(Value::as_bool).unwrap_or_default()
}

/// Python's `text.split(None, splits)`: words split at runs of whitespace, at most
/// `splits` times, the rest kept as it is after its leading whitespace.
pub(super) fn split_words(text: &str, splits: usize) -> Vec<&str> {
    let mut words = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if words.len() == splits {
            words.push(rest);
            break;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        words.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    words
}

// Uptime

/// The BSD-style kernels whose boot time comes from `sysctl` (compared unstripped, as
/// pyinfra does).
fn boots_by_sysctl(arguments: &Arguments) -> bool {
    matches!(kernel_name(arguments).as_str(), "Darwin" | "FreeBSD")
}

pub(super) fn uptime_command(arguments: &Arguments) -> StringCommand {
    if boots_by_sysctl(arguments) {
        StringCommand::raw("date +%s; sysctl -n kern.boottime | awk '{print $4}' | tr -d ','")
    } else {
        StringCommand::raw("cut -d. -f1 /proc/uptime")
    }
}

/// Seconds since boot: `/proc/uptime`'s whole seconds, or now minus the boot time.
pub(super) fn uptime(arguments: &Arguments, output: &[String]) -> Result<Value, FactError> {
    let number = |index: usize| {
        let line = output.get(index).map_or("", String::as_str);
        python_int(line).ok_or_else(|| process_error("server.Uptime", format!("`{line}` is not a number of seconds")))
    };
    let seconds = if boots_by_sysctl(arguments) { number(0)? - number(1)? } else { number(0)? };
    Ok(Value::from(seconds))
}

// Mounts

pub(super) fn mounts_command(arguments: &Arguments) -> StringCommand {
    StringCommand::raw(match kernel(arguments).as_str() {
        "FreeBSD" => "mount -p --libxo json",
        "OpenBSD" => "mount -v",
        _ => "cat /proc/self/mountinfo",
    })
}

/// `{mount point: {device, type, options}}` from the kernel's own listing.
pub(super) fn mounts(arguments: &Arguments, output: &[String]) -> Result<Value, FactError> {
    match kernel(arguments).as_str() {
        "FreeBSD" => freebsd_mounts(output),
        "OpenBSD" => openbsd_mounts(output),
        _ => linux_mounts(output),
    }
}

fn mount(device: &str, fs_type: &str, options: &[String]) -> Value {
    json!({"device": device, "type": fs_type, "options": options})
}

/// `mount -p --libxo json`: the `mount.fstab` entries.
fn freebsd_mounts(output: &[String]) -> Result<Value, FactError> {
    let error = |message: String| process_error("server.Mounts", message);
    let document: Value = serde_json::from_str(&output.join("\n")).map_err(|source| error(format!("`mount` printed no JSON: {source}")))?;
    let entries = document
        .get("mount")
        .and_then(|mount| mount.get("fstab"))
        .and_then(Value::as_array)
        .ok_or_else(|| error("`mount` printed no `mount.fstab` list".to_owned()))?;
    let mut devices = Map::new();
    for entry in entries {
        let field = |name: &str| entry.get(name).and_then(Value::as_str).ok_or_else(|| error(format!("a mount has no `{name}`")));
        let options: Vec<String> = field("opts")?.split(',').map(|option| option.trim().to_owned()).collect();
        devices.insert(field("mntpoint")?.to_owned(), mount(field("device")?, field("fstype")?, &options));
    }
    Ok(Value::Object(devices))
}

/// `mount -v`, `ctime=` flags left out; lines that are not mounts are skipped.
fn openbsd_mounts(output: &[String]) -> Result<Value, FactError> {
    let pattern = compiled(&OPENBSD_MOUNT)?;
    let mut devices = Map::new();
    for captures in output.iter().filter_map(|line| pattern.captures(line)) {
        let group = |index: usize| captures.get(index).map_or("", |found| found.as_str());
        let options: Vec<String> = group(4)
            .split(',')
            .filter(|option| !option.contains("ctime="))
            .map(|option| option.trim_matches(' ').to_owned())
            .collect();
        devices.insert(group(2).to_owned(), mount(group(1), group(3), &options));
    }
    Ok(Value::Object(devices))
}

/// `/proc/self/mountinfo`: per-mount and superblock options merged, `ro`/`rw` taken
/// from the mount.
fn linux_mounts(output: &[String]) -> Result<Value, FactError> {
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
        devices.insert(unescape_octal(mount_point)?, mount(&unescape_octal(source)?, fs_type, &options));
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

// KernelModules

pub(super) fn kernel_modules_command(arguments: &Arguments) -> StringCommand {
    if kernel(arguments) == "FreeBSD" {
        StringCommand::raw("kldstat | tail +2")
    } else {
        StringCommand::raw("! test -f /proc/modules || cat /proc/modules")
    }
}

/// Loaded modules by name: `kldstat`'s id, references, address and size, or
/// `/proc/modules`' size, instance count, state and the modules that use it.
pub(super) fn kernel_modules(arguments: &Arguments, output: &[String]) -> Result<Value, FactError> {
    let error = |line: &str| process_error("server.KernelModules", format!("cannot read module line `{line}`"));
    let freebsd = kernel(arguments) == "FreeBSD";
    let mut modules = Map::new();
    for line in output {
        if freebsd {
            let [id, refs, address, size, name] = split_words(line, 4)[..] else {
                return Err(error(line));
            };
            modules.insert(name.to_owned(), json!({"address": address, "id": id, "refs": refs, "size": size}));
            continue;
        }
        let fields: Vec<&str> = line.splitn(6, ' ').collect();
        let [name, size, instances, depends, state, _] = fields[..] else {
            return Err(error(line));
        };
        let instances = python_int(instances).ok_or_else(|| error(line))?;
        let mut module = json!({"size": size, "instances": instances, "state": state});
        if depends != "-" {
            let users: Vec<&str> = depends.split(',').filter(|user| !user.is_empty()).collect();
            module["depends"] = json!(users);
        }
        modules.insert(name.to_owned(), module);
    }
    Ok(Value::Object(modules))
}

// Processes

/// What `ps` can print: `BusyBox`'s knows fewer columns, and it is never asked for on the
/// BSDs and macOS.
fn busybox_ps(arguments: &Arguments) -> bool {
    !matches!(kernel(arguments).as_str(), "FreeBSD" | "Darwin") && has_tool(arguments)
}

pub(super) fn processes_command(arguments: &Arguments) -> StringCommand {
    let bsd = matches!(kernel(arguments).as_str(), "FreeBSD" | "Darwin");
    let busybox = busybox_ps(arguments);
    let fields = if busybox {
        "pid,user,vsz,stat,args"
    } else {
        "pid,user,stat,%cpu,%mem,comm,args"
    };
    match arguments.get("pid").filter(|pid| !pid.is_null()) {
        Some(pid) if busybox => StringCommand::raw(format!("LANG=C ps -o {fields} | awk")).quoted(format!("NR==1 || $1=={}", python_str(pid))),
        Some(pid) => StringCommand::raw("LANG=C ps -p").quoted(python_str(pid)).text("-o").text(fields),
        None if bsd => StringCommand::raw(format!("LANG=C ps -eo {fields}")),
        None if busybox => StringCommand::raw(format!("LANG=C ps -o {fields}")),
        None => StringCommand::raw(format!("LANG=C ps -eo {fields} --no-headers")),
    }
}

/// Processes by PID: user, state, CPU and memory shares, command name and arguments
/// (`BusyBox`'s `ps` has no shares, which read as `0.0`, and its command name is taken
/// from the arguments). Headers and lines too short or without a PID are skipped.
pub(super) fn processes(arguments: &Arguments, output: &[String]) -> Result<Value, FactError> {
    let busybox = busybox_ps(arguments);
    let share = |text: &str| {
        text.parse::<f64>()
            .map_err(|_| process_error("server.Processes", format!("`{text}` is not a percentage")))
    };
    let mut processes = Map::new();
    for line in output.iter().map(|line| line.trim()) {
        if line.is_empty() || line.starts_with("PID") {
            continue;
        }
        let process = if busybox {
            let [pid, user, _, state, args] = split_words(line, 4)[..] else { continue };
            let Some(pid) = python_int(pid) else { continue };
            let command = args.split_whitespace().next().unwrap_or_default();
            let command = command.rsplit('/').next().unwrap_or_default();
            let value = json!({"user": user, "state": state, "cpu_percent": 0.0, "mem_percent": 0.0, "command": command, "args": args});
            (pid, value)
        } else {
            let words = split_words(line, 6);
            let [pid, user, state, cpu, memory, command, ..] = words[..] else { continue };
            let Some(pid) = python_int(pid) else { continue };
            let args = words.get(6).copied().unwrap_or(command);
            let value = json!({"user": user, "state": state, "cpu_percent": share(cpu)?, "mem_percent": share(memory)?, "command": command, "args": args});
            (pid, value)
        };
        processes.insert(process.0.to_string(), process.1);
    }
    Ok(Value::Object(processes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    fn prepared(kernel: &str, has_tool: bool) -> Arguments {
        with_values(&Map::new(), [(KERNEL, json!(kernel)), (HAS_TOOL, json!(has_tool))])
    }

    #[test]
    fn patterns_compile() {
        assert!(compiled(&OCTAL_ESCAPE).is_ok());
        assert!(compiled(&OPENBSD_MOUNT).is_ok());
    }

    #[test]
    fn words_split_as_python_does() {
        assert_eq!(split_words("  1  root  /bin/a  -x  ", 2), ["1", "root", "/bin/a  -x  "]);
        assert_eq!(split_words("a b", 4), ["a", "b"]);
        assert!(split_words("   ", 1).is_empty());
    }

    #[test]
    fn mounts_unescape_names_and_skip_optional_fields() {
        let value = linux_mounts(&output(&["1 2 3:4 / /a\\040b rw shared:1 master:2 - tmpfs none ro,size=1\\054k"]));
        assert_eq!(value, Ok(json!({"/a b": {"device": "none", "type": "tmpfs", "options": ["rw", "size=1,k"]}})));
        assert!(linux_mounts(&output(&["1 2 3:4 / /a rw - tmpfs"])).is_err());
        assert!(linux_mounts(&output(&["1 2 3:4 / /a rw shared:1"])).is_err());
    }

    #[test]
    fn openbsd_mounts_drop_ctime_flags() {
        let value = mounts(
            &prepared("OpenBSD", false),
            &output(&["/dev/sd0a (4f2a.a) on / type ffs (local, wxallowed, ctime=Sat Jan  1)", "not a mount"]),
        );
        assert_eq!(
            value,
            Ok(json!({"/": {"device": "/dev/sd0a", "type": "ffs", "options": ["local", "wxallowed"]}}))
        );
    }

    #[test]
    fn freebsd_mounts_read_the_fstab_list() {
        let json_output = r#"{"mount": {"fstab": [{"device": "zroot/ROOT", "mntpoint": "/", "fstype": "zfs", "opts": "rw, noatime"}]}}"#;
        let value = mounts(&prepared("FreeBSD", false), &output(&[json_output]));
        assert_eq!(value, Ok(json!({"/": {"device": "zroot/ROOT", "type": "zfs", "options": ["rw", "noatime"]}})));
        assert!(mounts(&prepared("FreeBSD", false), &output(&["{}"])).is_err());
    }

    #[test]
    fn uptime_needs_both_times_on_bsd() {
        assert_eq!(uptime(&prepared("FreeBSD", false), &output(&["100", "40"])), Ok(json!(60)));
        assert!(uptime(&prepared("Darwin", false), &output(&["100"])).is_err());
        assert!(uptime(&prepared("Linux", false), &output(&["12.5"])).is_err());
    }

    #[test]
    fn kernel_module_lines_must_be_complete() {
        assert!(kernel_modules(&prepared("Linux", false), &output(&["loop 1 0 -"])).is_err());
        assert!(kernel_modules(&prepared("Linux", false), &output(&["loop 1 x - Live 0x0"])).is_err());
        assert!(kernel_modules(&prepared("FreeBSD", false), &output(&["1 2 0xffff 10"])).is_err());
    }

    #[test]
    fn processes_skip_lines_without_a_pid_and_reject_bad_shares() {
        let arguments = prepared("Linux", false);
        assert_eq!(processes(&arguments, &output(&["x root S 0 0 sh sh", "1 root"])), Ok(json!({})));
        assert!(processes(&arguments, &output(&["1 root S high 0 sh sh"])).is_err());
    }

    #[test]
    fn processes_of_one_pid_quote_it() {
        let mut arguments = prepared("Linux", false);
        arguments.insert("pid".to_owned(), json!("1; reboot"));
        assert_eq!(
            processes_command(&arguments).raw_value(),
            "LANG=C ps -p '1; reboot' -o pid,user,stat,%cpu,%mem,comm,args"
        );
    }

    #[test]
    fn busybox_is_never_asked_for_on_bsd() {
        assert_eq!(
            processes_command(&prepared("Darwin", true)).raw_value(),
            "LANG=C ps -eo pid,user,stat,%cpu,%mem,comm,args"
        );
        assert_eq!(processes_command(&prepared("Linux", true)).raw_value(), "LANG=C ps -o pid,user,vsz,stat,args");
    }
}
