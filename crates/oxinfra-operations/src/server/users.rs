//! `server.group`, `server.user_authorized_keys` and `server.user`: system accounts,
//! managed with the shadow tools (`groupadd`, `useradd`, ...) or FreeBSD's `pw`, and
//! their home directories and SSH keys (through `files.directory`, `files.file`,
//! `files.put` and `files.line`).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};

use oxinfra_core::StringCommand;
use oxinfra_core::pyrepr::python_str;

use super::{contains_name, given, one_or_many, os, require_shadow_tool, truthy, unspaced, yes};
use crate::files::lines::{self, LineArgs};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};

/// `server.group`.
pub const GROUP: OperationDef = OperationDef {
    name: "server.group",
    params: &["group", "present", "system", "gid"],
    plan: |arguments, plan| group(&parse_arguments("server.group", arguments)?, plan),
};

/// Arguments of `server.group`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupArgs {
    /// The group's name.
    pub group: String,
    /// Whether the group should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// Create it as a system group (ignored on the BSDs, which have none).
    #[serde(default)]
    pub system: bool,
    /// The group id to create it with.
    #[serde(default)]
    pub gid: Option<Value>,
}

/// `server.group`: adds or deletes a group. An existing group is left as it is.
pub fn group(args: &GroupArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let groups = plan.fact("server.Groups", &[])?;
    let os = os(plan)?;
    let freebsd = os == "FreeBSD";
    let exists = contains_name(&groups, &args.group);
    if !args.present && exists {
        let command = if freebsd {
            StringCommand::raw("pw groupdel -n")
        } else {
            StringCommand::raw("groupdel")
        };
        plan.push(command.quoted(&args.group));
    } else if args.present && !exists {
        let mut command = StringCommand::raw(if freebsd { "pw groupadd" } else { "groupadd" });
        if args.system && !os.contains("BSD") {
            command = command.text("-r");
        }
        if freebsd {
            command = command.text("-n");
        }
        command = command.quoted(&args.group);
        if let Some(gid) = args.gid.as_ref().filter(|gid| truthy(gid)) {
            command = command.text(if freebsd { "-g" } else { "--gid" }).quoted(python_str(gid));
        }
        plan.push(command);
    }
    Ok(())
}

/// `server.user_authorized_keys`.
pub const USER_AUTHORIZED_KEYS: OperationDef = OperationDef {
    name: "server.user_authorized_keys",
    params: &[
        "user",
        "public_keys",
        "group",
        "delete_keys",
        "authorized_key_directory",
        "authorized_key_filename",
    ],
    plan: |arguments, plan| user_authorized_keys(&parse_arguments("server.user_authorized_keys", arguments)?, plan),
};

/// Arguments of `server.user_authorized_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserAuthorizedKeysArgs {
    /// The user whose keys are managed.
    pub user: String,
    /// The public keys, or local files holding keys one per line (relative to the
    /// deploy directory); one or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub public_keys: Vec<String>,
    /// The group owning the `.ssh` folder and key file (the user's name by default).
    #[serde(default)]
    pub group: Option<String>,
    /// Make the key file hold exactly `public_keys`, dropping any other key.
    #[serde(default)]
    pub delete_keys: bool,
    /// The folder of the key file (`<home>/.ssh` by default).
    #[serde(default)]
    pub authorized_key_directory: Option<String>,
    /// The key file's name (`authorized_keys` by default).
    #[serde(default)]
    pub authorized_key_filename: Option<String>,
}

/// The keys an entry stands for: the stripped lines of the local file it names, or
/// the entry itself.
fn read_public_keys(plan: &Plan<'_>, entry: &str) -> Result<Vec<String>, OperationError> {
    let path = plan.deploy_dir.join(entry);
    if !plan.local_files.is_file(&path) && !plan.local_files.is_dir(&path) {
        return Ok(vec![entry.trim().to_owned()]);
    }
    let bytes = plan
        .local_files
        .read(&path)
        .map_err(|error| OperationError::Operation(format!("cannot read public key file `{}`: {error}", path.display())))?;
    let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    Ok(text.split_inclusive('\n').map(|line| line.trim().to_owned()).collect())
}

/// `server.user_authorized_keys`: ensures the user's `.ssh` folder and key file, and
/// the keys in it (appended, or the whole file rewritten with `delete_keys`).
pub fn user_authorized_keys(args: &UserAuthorizedKeysArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let directory = if let Some(directory) = given(args.authorized_key_directory.as_deref()) {
        directory.to_owned()
    } else {
        let home = plan.fact("server.Home", &[("user", json!(args.user))])?;
        format!("{}/.ssh", python_str(&home))
    };
    let filename = given(args.authorized_key_filename.as_deref()).unwrap_or("authorized_keys");
    let mut keys = Vec::new();
    for entry in &args.public_keys {
        keys.extend(read_public_keys(plan, entry)?);
    }
    let group = given(args.group.as_deref()).unwrap_or(&args.user);
    call(
        plan,
        "files.directory",
        json!({"path": directory, "user": args.user, "group": group, "mode": 700}),
    )?;
    let key_file = format!("{directory}/{filename}");
    let current = plan.fact("server.AuthorizedKeys", &[("user", json!(args.user)), ("path", json!(key_file))])?;
    let current: Vec<String> = current.as_array().map(|keys| keys.iter().map(python_str).collect()).unwrap_or_default();
    let owned_file = json!({"path": key_file, "user": args.user, "group": group, "mode": 600});
    if args.delete_keys && current != keys {
        let content: String = keys.iter().flat_map(|key| [key.as_str(), "\n"]).collect();
        let upload = json!({"src": {"content": content}, "dest": key_file, "user": args.user, "group": group, "mode": 600});
        return call(plan, "files.put", upload);
    }
    call(plan, "files.file", owned_file)?;
    if args.delete_keys {
        return Ok(());
    }
    for key in keys.iter().filter(|key| !current.contains(key)) {
        let mut append = LineArgs::new(&key_file, key);
        append.ensure_newline = true;
        lines::line(&append, plan)?;
    }
    Ok(())
}

/// `server.user`.
pub const USER: OperationDef = OperationDef {
    name: "server.user",
    params: &[
        "user",
        "present",
        "home",
        "shell",
        "group",
        "groups",
        "append",
        "public_keys",
        "delete_keys",
        "ensure_home",
        "create_home",
        "system",
        "uid",
        "comment",
        "unique",
        "password",
    ],
    plan: |arguments, plan| user(&parse_arguments("server.user", arguments)?, plan),
};

/// Arguments of `server.user`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserArgs {
    /// The user's name.
    pub user: String,
    /// Whether the user should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// The home directory (`/home/<user>`, or the existing user's, by default).
    #[serde(default)]
    pub home: Option<String>,
    /// The login shell.
    #[serde(default)]
    pub shell: Option<String>,
    /// The primary group (a new user gets the group of its own name when one exists).
    #[serde(default)]
    pub group: Option<String>,
    /// The secondary groups, exactly (or at least, with `append`).
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    /// Add the user to `groups` without leaving its other groups.
    #[serde(default)]
    pub append: bool,
    /// Public keys (or local key files) for the user's `authorized_keys`.
    #[serde(default)]
    pub public_keys: Option<Keys>,
    /// With `public_keys`, drop every other key.
    #[serde(default)]
    pub delete_keys: bool,
    /// Ensure the home directory exists and belongs to the user.
    #[serde(default = "yes")]
    pub ensure_home: bool,
    /// Create a new user's home from the system skeleton (`useradd -m`).
    #[serde(default)]
    pub create_home: bool,
    /// Create a system account (ignored on the BSDs).
    #[serde(default)]
    pub system: bool,
    /// The user id to create the user with.
    #[serde(default)]
    pub uid: Option<Value>,
    /// The GECOS comment (full name).
    #[serde(default)]
    pub comment: Option<String>,
    /// Refuse a user id already in use (`false` passes `-o`).
    #[serde(default = "yes")]
    pub unique: bool,
    /// The encrypted password.
    #[serde(default)]
    pub password: Option<String>,
}

/// Public keys given as one key (or key file) or as a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Keys(#[serde(deserialize_with = "one_or_many")] pub Vec<String>);

/// The wanted secondary groups as one `-G` value: quoted names joined by commas.
fn group_list(groups: &[String]) -> StringCommand {
    let mut list = StringCommand::new();
    for (index, group) in groups.iter().enumerate() {
        if index > 0 {
            list = list.text(",");
        }
        list = list.quoted(group);
    }
    unspaced(list)
}

/// Appends every part of `options` to `command`, as Python's `*args`.
fn spread(mut command: StringCommand, options: StringCommand) -> StringCommand {
    command.parts.extend(options.parts);
    command
}

/// The wanted value of a setting, when given and different from the `Users` fact's
/// entry for the user.
fn changed<'a>(wanted: Option<&'a str>, existing: &Value, name: &str) -> Option<&'a str> {
    given(wanted).filter(|wanted| existing.get(name).and_then(Value::as_str) != Some(*wanted))
}

/// The facts and settled arguments `server.user` works from.
struct UserContext<'a> {
    args: &'a UserArgs,
    os: String,
    home: Option<String>,
    group: Option<String>,
}

impl UserContext<'_> {
    fn freebsd(&self) -> bool {
        self.os == "FreeBSD"
    }

    /// `pw userdel`/`userdel`.
    fn delete(&self, plan: &mut Plan<'_>) -> Result<(), OperationError> {
        let user = &self.args.user;
        if self.freebsd() {
            plan.push(StringCommand::raw("pw userdel -n").quoted(user));
        } else {
            require_shadow_tool(plan, &self.os, "userdel")?;
            plan.push(StringCommand::raw("userdel").quoted(user));
        }
        Ok(())
    }

    /// `pw useradd`/`useradd` with every wanted setting.
    fn create(&self, plan: &mut Plan<'_>) -> Result<(), OperationError> {
        let args = self.args;
        let mut options = StringCommand::new();
        if let Some(home) = given(self.home.as_deref()) {
            options = options.text("-d").quoted(home);
        }
        if let Some(shell) = given(args.shell.as_deref()) {
            options = options.text("-s").quoted(shell);
        }
        if let Some(group) = given(self.group.as_deref()) {
            options = options.text("-g").quoted(group);
        }
        if let Some(groups) = args.groups.as_deref().filter(|groups| !groups.is_empty()) {
            options = options.text("-G").nested(group_list(groups));
        }
        if args.system && !self.os.contains("BSD") {
            options = options.text("-r");
        }
        if let Some(uid) = args.uid.as_ref().filter(|uid| truthy(uid)) {
            options = options.text(if self.freebsd() { "-u" } else { "--uid" }).quoted(python_str(uid));
        }
        if let Some(comment) = given(args.comment.as_deref()) {
            options = options.text("-c").quoted(comment);
        }
        if !args.unique {
            options = options.text("-o");
        }
        if args.create_home {
            options = options.text("-m");
        } else if !matches!(self.os.as_str(), "FreeBSD" | "OpenBSD") {
            options = options.text("-M");
        }
        let password = given(args.password.as_deref());
        if self.freebsd() {
            let command = match password {
                Some(password) => StringCommand::raw("echo")
                    .quoted(password)
                    .text("| pw useradd -n")
                    .quoted(&args.user)
                    .text("-H 0"),
                None => StringCommand::raw("pw useradd -n").quoted(&args.user),
            };
            plan.push(spread(command, options));
        } else {
            if let Some(password) = password {
                options = options.text("-p").quoted(password);
            }
            require_shadow_tool(plan, &self.os, "useradd")?;
            plan.push(spread(StringCommand::raw("useradd"), options).quoted(&args.user));
        }
        Ok(())
    }

    /// `pw usermod`/`usermod` for the settings that differ from `existing`.
    fn modify(&self, plan: &mut Plan<'_>, existing: &Value) -> Result<(), OperationError> {
        let args = self.args;
        let differs = |wanted, name| changed(wanted, existing, name);
        let mut options = StringCommand::new();
        if let Some(home) = differs(self.home.as_deref(), "home") {
            options = options.text("-d").quoted(home);
        }
        if let Some(shell) = differs(args.shell.as_deref(), "shell") {
            options = options.text("-s").quoted(shell);
        }
        if let Some(group) = differs(self.group.as_deref(), "group") {
            options = options.text("-g").quoted(group);
        }
        if let Some(groups) = args.groups.as_deref().filter(|groups| !groups.is_empty()) {
            options = secondary_groups(options, groups, existing.get("groups"), args.append);
        }
        if let Some(comment) = differs(args.comment.as_deref(), "comment") {
            options = options.text("-c").quoted(comment);
        }
        if let Some(password) = differs(args.password.as_deref(), "password") {
            if self.freebsd() {
                plan.push(
                    StringCommand::raw("echo")
                        .quoted(password)
                        .text("| pw usermod -n")
                        .quoted(&args.user)
                        .text("-H 0"),
                );
            } else {
                options = options.text("-p").quoted(password);
            }
        }
        if options.parts.is_empty() {
            return Ok(());
        }
        if self.freebsd() {
            plan.push(spread(StringCommand::raw("pw usermod -n").quoted(&args.user), options));
        } else {
            require_shadow_tool(plan, &self.os, "usermod")?;
            plan.push(spread(StringCommand::raw("usermod"), options).quoted(&args.user));
        }
        Ok(())
    }
}

/// Adds `-G` (with `-a` when appending) when the secondary groups are not as wanted:
/// all held when appending, exactly these otherwise.
fn secondary_groups(options: StringCommand, groups: &[String], current: Option<&Value>, append: bool) -> StringCommand {
    let current: BTreeSet<&str> = current
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let wanted: BTreeSet<&str> = groups.iter().map(String::as_str).collect();
    if append && !wanted.is_subset(&current) {
        options.text("-a").text("-G").nested(group_list(groups))
    } else if !append && wanted != current {
        options.text("-G").nested(group_list(groups))
    } else {
        options
    }
}

/// The home directory: as given, else the existing user's, else `/home/<user>`
/// (`None` when the existing user's entry says so).
fn home_directory(args: &UserArgs, existing: Option<&Value>) -> Option<String> {
    if let Some(home) = &args.home {
        return Some(home.clone());
    }
    let default = format!("/home/{}", args.user);
    match existing.filter(|info| truthy(info)).and_then(|info| info.get("home")) {
        Some(home) => home.as_str().map(str::to_owned),
        None => Some(default),
    }
}

/// `server.user`: adds, updates or deletes a user, then ensures its home directory
/// and SSH keys.
pub fn user(args: &UserArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    for fact in ["server.Users", "server.Groups", "server.Os"] {
        plan.hint(fact, &[]);
    }
    if args.present {
        plan.hint("server.Which", &[("command", json!("useradd"))]);
    }
    if let Some(home) = given(args.home.as_deref()).filter(|_| args.ensure_home) {
        plan.hint_paths(&[("files.Directory", home)]);
    }
    let users = plan.fact("server.Users", &[])?;
    let existing_groups = plan.fact("server.Groups", &[])?;
    let existing = users.get(&args.user).filter(|info| !info.is_null()).cloned();
    let os = os(plan)?;
    let home = home_directory(args, existing.as_ref());
    let mut context = UserContext {
        args,
        os,
        home,
        group: args.group.clone(),
    };
    if !args.present {
        if existing.as_ref().is_some_and(truthy) {
            context.delete(plan)?;
        }
        return Ok(());
    }
    match &existing {
        None => {
            if given(context.group.as_deref()).is_none() && contains_name(&existing_groups, &args.user) {
                context.group = Some(args.user.clone());
            }
            context.create(plan)?;
        }
        Some(existing) => context.modify(plan, existing)?,
    }
    let group = given(context.group.as_deref()).unwrap_or(&args.user).to_owned();
    let home = context.home.clone();
    if let Some(home) = given(home.as_deref()).filter(|_| args.ensure_home) {
        call(
            plan,
            "files.directory",
            json!({"path": home, "user": args.user, "group": group, "_no_fail_on_link": true}),
        )?;
    }
    if let Some(Keys(public_keys)) = &args.public_keys {
        let keys = UserAuthorizedKeysArgs {
            user: args.user.clone(),
            public_keys: public_keys.clone(),
            group: context.group.clone(),
            delete_keys: args.delete_keys,
            authorized_key_directory: Some(format!("{}/.ssh", home.as_deref().unwrap_or("None"))),
            authorized_key_filename: None,
        };
        user_authorized_keys(&keys, plan)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::files::lines::test_support::{MemoryFiles, TableFacts, run, run_with_files};

    fn existing_user(os: &str, info: &Value) -> TableFacts {
        TableFacts::default()
            .with("server.Users", &[], json!({ "someone": info.clone() }))
            .with("server.Groups", &[], json!([]))
            .with("server.Os", &[], json!(os))
            .with("server.Which", &[("command", json!("usermod"))], json!("/usr/sbin/usermod"))
    }

    #[test]
    fn secondary_groups_compare_as_sets() -> Result<(), OperationError> {
        let info = json!({"home": "/home/someone", "groups": ["a", "b"]});
        let arguments = json!({"user": "someone", "groups": ["b", "a", "b"], "ensure_home": false});
        let outcome = run(user, &arguments, &mut existing_user("Linux", &info))?;
        assert_eq!(outcome, (vec![], None));
        let arguments = json!({"user": "someone", "groups": ["a"], "ensure_home": false});
        let (commands, _) = run(user, &arguments, &mut existing_user("Linux", &info))?;
        assert_eq!(commands, ["usermod -G a someone"]);
        Ok(())
    }

    #[test]
    fn freebsd_password_is_piped_to_pw() -> Result<(), OperationError> {
        let info = json!({"home": "/home/someone", "password": "$old$"});
        let arguments = json!({"user": "someone", "password": "$new$", "ensure_home": false});
        let (commands, _) = run(user, &arguments, &mut existing_user("FreeBSD", &info))?;
        assert_eq!(commands, ["echo '$new$' | pw usermod -n someone -H 0"]);
        Ok(())
    }

    #[test]
    fn absent_user_stays_absent() -> Result<(), OperationError> {
        let mut facts = TableFacts::default()
            .with("server.Users", &[], json!({}))
            .with("server.Groups", &[], json!([]))
            .with("server.Os", &[], json!("Linux"));
        let outcome = run(user, &json!({"user": "nobody", "present": false}), &mut facts)?;
        assert_eq!(outcome, (vec![], None));
        Ok(())
    }

    #[test]
    fn key_files_are_read_line_by_line() -> Result<(), OperationError> {
        let key_file = "/home/u/.ssh/authorized_keys";
        let mut facts = TableFacts::default()
            .with("server.Home", &[("user", json!("u"))], json!("/home/u"))
            .with(
                "files.Directory",
                &[("path", json!("/home/u/.ssh"))],
                json!({"user": "u", "group": "u", "mode": 700}),
            )
            .with("files.File", &[("path", json!(key_file))], json!({"user": "u", "group": "u", "mode": 600}))
            .with("server.AuthorizedKeys", &[("user", json!("u")), ("path", json!(key_file))], json!(["k1"]))
            .find_in_file(key_file, "^.*k2.*$", json!([]));
        let files = MemoryFiles([(PathBuf::from("/keys.pub"), b"k1\r\nk2\n".to_vec())].into());
        let arguments = json!({"user": "u", "public_keys": "keys.pub"});
        let (commands, _) = run_with_files(user_authorized_keys, &arguments, &mut facts, &files)?;
        assert_eq!(
            commands,
            ["( [ $(tail -c1 /home/u/.ssh/authorized_keys | wc -l) -eq 0 ] && echo ; echo k2 ) >> /home/u/.ssh/authorized_keys"]
        );
        Ok(())
    }
}
