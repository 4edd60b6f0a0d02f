//! Operations of `pyinfra/operations/git.py`, in its order: `git config` at repository,
//! global or system level (`git.config`), working copies cloned and pulled
//! (`git.repo`), worktrees (`git.worktree`) and bare repositories (`git.bare_repo`).
//!
//! Facts are read in pyinfra's order and only where pyinfra reads them, so a plan needs
//! the same facts as pyinfra's.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use oxinfra_core::StringCommand;

use crate::files::util::{ChownFlags, chown, owner_differs, truthy, unix_path_join, wants_owner};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::{OperationDef, call};

/// The operations of this module.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "git.config",
        params: &["key", "value", "multi_value", "repo", "system"],
        plan: |arguments, plan| config(&parse_arguments("git.config", arguments)?, plan),
    },
    OperationDef {
        name: "git.repo",
        params: &[
            "src",
            "dest",
            "branch",
            "pull",
            "rebase",
            "user",
            "group",
            "ssh_keyscan",
            "update_submodules",
            "recursive_submodules",
            "depth",
            "fetch_tags",
        ],
        plan: |arguments, plan| repo(&parse_arguments("git.repo", arguments)?, plan),
    },
    OperationDef {
        name: "git.worktree",
        params: &[
            "worktree",
            "repo",
            "detached",
            "new_branch",
            "commitish",
            "pull",
            "rebase",
            "from_remote_branch",
            "present",
            "assume_repo_exists",
            "force",
            "user",
            "group",
        ],
        plan: |arguments, plan| worktree(&parse_arguments("git.worktree", arguments)?, plan),
    },
    OperationDef {
        name: "git.bare_repo",
        params: &["path", "user", "group", "present"],
        plan: |arguments, plan| bare_repo(&parse_arguments("git.bare_repo", arguments)?, plan),
    },
];

fn yes() -> bool {
    true
}

fn yes_value() -> Value {
    Value::Bool(true)
}

/// `user@host` at the start of an SSH-style git URL.
static SSH_HOST: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9]+@([0-9a-zA-Z\.\-]+)"));

fn directory_fact(plan: &mut Plan<'_>, path: &str) -> Result<Value, OperationError> {
    plan.fact("files.Directory", &[("path", json!(path))])
}

fn recursive() -> ChownFlags {
    ChownFlags {
        recursive: true,
        dereference: true,
    }
}

/// Arguments of `git.config`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigArgs {
    /// The setting, as `section.name`.
    pub key: String,
    /// The value it should have.
    pub value: String,
    /// Add `value` to the setting's values (`--add`) instead of replacing them.
    #[serde(default)]
    pub multi_value: bool,
    /// A working copy whose own configuration (`--local`) is changed; the user's
    /// global configuration when absent.
    pub repo: Option<String>,
    /// Without `repo`: change the system's configuration rather than the user's.
    #[serde(default)]
    pub system: bool,
}

/// `git.config`. A repository that is not cloned yet counts as having no settings.
pub fn config(args: &ConfigArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let repo = args.repo.as_deref();
    let existing = match repo.filter(|repo| !repo.is_empty()) {
        None => plan.fact("git.GitConfig", &[("repo", Value::Null), ("system", json!(args.system))])?,
        Some(repo) if truthy(&directory_fact(plan, &unix_path_join(&[repo, ".git"]))?) => {
            plan.fact("git.GitConfig", &[("repo", json!(repo)), ("system", json!(false))])?
        }
        Some(_) => Value::Object(Map::new()),
    };
    let base = match repo {
        None => StringCommand::raw("git config").text(if args.system { "--system" } else { "--global" }),
        Some(repo) => StringCommand::raw("cd").quoted(repo).text("&& git config --local"),
    };
    let values = existing.get(&args.key).and_then(Value::as_array);
    let has_value = values.is_some_and(|values| values.iter().any(|value| value.as_str() == Some(args.value.as_str())));
    let only_value = values.is_some_and(|values| values.len() == 1 && has_value);
    if !args.multi_value && !only_value {
        plan.push(base.quoted(&args.key).text(double_quoted(&args.value)));
    } else if args.multi_value && !has_value {
        plan.push(base.text("--add").quoted(&args.key).text(double_quoted(&args.value)));
    } else {
        plan.noop(format!("git config {} is set to {}", args.key, args.value));
    }
    Ok(())
}

/// `"value"`, as pyinfra writes config values. pyinfra leaves the value as is inside the
/// double quotes, so the shell would expand `$`, `` ` `` and `\` in it and the stored
/// value would never equal the wanted one; here they are escaped, which changes
/// nothing for values without them.
fn double_quoted(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for character in value.chars() {
        if matches!(character, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(character);
    }
    quoted.push('"');
    quoted
}

/// A `depth` as pyinfra passes it on (`str(depth)`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Depth {
    /// A number of commits.
    Number(i64),
    /// The same, written as text.
    Text(String),
}

/// Arguments of `git.repo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoArgs {
    /// The repository to clone: a URL, `user@host:path`, or a path on the host.
    pub src: String,
    /// The folder the working copy is in (created when missing).
    pub dest: String,
    /// The branch (or tag) to clone or switch to; the current one when absent.
    pub branch: Option<String>,
    /// Pull the branch's new commits into an existing working copy.
    #[serde(default = "yes")]
    pub pull: bool,
    /// Pull with `--rebase`.
    #[serde(default)]
    pub rebase: bool,
    /// Owner given to the whole working copy after any change.
    pub user: Option<String>,
    /// Group given to the whole working copy after any change.
    pub group: Option<String>,
    /// Add the SSH host key of `src`'s host to `known_hosts` first.
    #[serde(default)]
    pub ssh_keyscan: bool,
    /// Initialise and update the submodules.
    #[serde(default)]
    pub update_submodules: bool,
    /// With `update_submodules`: the submodules' submodules as well.
    #[serde(default)]
    pub recursive_submodules: bool,
    /// Clone only this many latest commits.
    pub depth: Option<Depth>,
    /// Fetch all tags before switching `branch`.
    #[serde(default)]
    pub fetch_tags: bool,
}

/// `git.repo`: clones into `dest`, or brings an existing working copy to `src` and
/// `branch` and pulls it unless its branch already is at the remote's commit.
pub fn repo(args: &RepoArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let dest = args.dest.as_str();
    call(plan, "files.directory", json!({"path": dest}))?;
    if args.ssh_keyscan {
        let ssh_host = SSH_HOST.as_ref().map_err(|error| OperationError::Operation(error.to_string()))?;
        let Some(host) = ssh_host.captures(&args.src).and_then(|captures| captures.get(1)) else {
            return Err(OperationError::Operation(format!("Could not parse domain (to SSH keyscan) from: {}", args.src)));
        };
        call(plan, "ssh.keyscan", json!({"hostname": host.as_str()}))?;
    }
    let branch = args.branch.as_deref();
    let mut commands: Vec<StringCommand> = Vec::new();
    if truthy(&directory_fact(plan, &unix_path_join(&[dest, ".git"]))?) {
        let config = plan.fact("git.GitConfig", &[("repo", json!(dest)), ("system", json!(false))])?;
        let remote = config.get("remote.origin.url").filter(|remote| !remote.is_null());
        let remote_changed = remote.is_some_and(|remote| *remote != json!([args.src]));
        if remote_changed {
            commands.push(StringCommand::raw("remote set-url origin").quoted(&args.src));
        }
        let current_branch = plan.fact("git.GitBranch", &[("repo", json!(dest))])?;
        if let Some(branch) = branch.filter(|branch| current_branch.as_str() != Some(branch)) {
            commands.push(StringCommand::raw(if args.fetch_tags { "fetch --tags" } else { "fetch" }));
            commands.push(StringCommand::raw("checkout").quoted(branch));
        }
        let mut is_tag = false;
        if let Some(branch) = branch.filter(|branch| !branch.is_empty()) {
            let tags = plan.fact("git.GitTag", &[("repo", json!(dest))])?;
            if tags.as_array().is_some_and(|tags| tags.iter().any(|tag| tag.as_str() == Some(branch))) {
                commands.push(StringCommand::raw("checkout").quoted(branch));
                is_tag = true;
            }
        }
        if args.pull && !is_tag {
            let effective = branch
                .filter(|branch| !branch.is_empty())
                .or_else(|| current_branch.as_str().filter(|branch| !branch.is_empty()));
            let mut up_to_date = false;
            if let (false, Some(effective)) = (remote_changed, effective) {
                let local = plan.fact("git.GitLocalCommit", &[("repo", json!(dest)), ("ref", json!(effective))])?;
                let remote = plan.fact(
                    "git.GitRemoteBranchCommit",
                    &[("repo", json!(dest)), ("remote", json!("origin")), ("branch", json!(effective))],
                )?;
                up_to_date = truthy(&local) && truthy(&remote) && local == remote;
            }
            if up_to_date {
                plan.noop(format!("git repository {dest} is already up to date"));
            } else {
                commands.push(StringCommand::raw(if args.rebase { "pull --rebase" } else { "pull" }));
            }
        }
    } else {
        let mut clone = StringCommand::raw("clone").quoted(&args.src);
        match &args.depth {
            Some(Depth::Number(depth)) => clone = clone.text("--depth").quoted(depth.to_string()),
            Some(Depth::Text(depth)) => clone = clone.text("--depth").quoted(depth),
            None => {}
        }
        if let Some(branch) = branch.filter(|branch| !branch.is_empty()) {
            clone = clone.text("--branch").quoted(branch);
        }
        commands.push(clone.text("."));
    }
    if args.update_submodules {
        commands.push(StringCommand::raw(if args.recursive_submodules {
            "submodule update --init --recursive"
        } else {
            "submodule update --init"
        }));
    }
    let changed = !commands.is_empty();
    for command in commands {
        plan.push(StringCommand::raw("cd").quoted(dest).text("&& git").nested(command));
    }
    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    if changed && wants_owner(user, group) {
        plan.push(chown(dest, user, group, recursive())?);
    }
    Ok(())
}

/// Arguments of `git.worktree`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorktreeArgs {
    /// The worktree's folder.
    pub worktree: String,
    /// The working copy the worktree belongs to (needed to create it).
    pub repo: Option<String>,
    /// Check out a detached `HEAD` rather than a branch.
    #[serde(default)]
    pub detached: bool,
    /// A branch created for the worktree (`-b`).
    pub new_branch: Option<String>,
    /// The commit, branch or tag the worktree starts from.
    pub commitish: Option<String>,
    /// Pull an existing worktree that tracks a remote branch (or `from_remote_branch`).
    #[serde(default = "yes")]
    pub pull: bool,
    /// Pull with `--rebase`.
    #[serde(default)]
    pub rebase: bool,
    /// `[remote, branch]` to pull from, when the worktree tracks nothing or something else.
    pub from_remote_branch: Option<Value>,
    /// Whether the worktree should exist.
    #[serde(default = "yes")]
    pub present: bool,
    /// Skip checking that `repo` is a working copy.
    #[serde(default)]
    pub assume_repo_exists: bool,
    /// Pass `--force` when adding or removing the worktree.
    #[serde(default)]
    pub force: bool,
    /// Owner given to the new worktree and its metadata in `repo`.
    pub user: Option<String>,
    /// Group given to the new worktree and its metadata in `repo`.
    pub group: Option<String>,
}

/// `git.worktree`: adds, removes or pulls a worktree.
pub fn worktree(args: &WorktreeArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let worktree = args.worktree.as_str();
    let exists = truthy(&directory_fact(plan, worktree)?);
    match (exists, args.present) {
        (false, true) => add_worktree(args, plan),
        (true, false) => {
            let remove = StringCommand::raw("cd").quoted(worktree).text("&& git worktree remove .");
            plan.push(if args.force { remove.text("--force") } else { remove });
            Ok(())
        }
        (true, true) => pull_worktree(args, plan),
        (false, false) => Ok(()),
    }
}

fn add_worktree(args: &WorktreeArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    // Without `repo`, pyinfra fails on the path join, or with `assume_repo_exists` with
    // this error: both ways end here.
    let Some(repo) = args.repo.as_deref() else {
        return Err(OperationError::Operation("repo must be specified when creating a worktree".to_owned()));
    };
    if !args.assume_repo_exists && !truthy(&directory_fact(plan, &unix_path_join(&[repo, ".git"]))?) {
        return Err(OperationError::Operation(format!(
            "The following folder is not a valid GIT repository : {repo}"
        )));
    }
    let mut add = StringCommand::raw("cd").quoted(repo).text("&& git worktree add");
    let new_branch = args.new_branch.as_deref().filter(|branch| !branch.is_empty());
    if let Some(new_branch) = new_branch {
        add = add.text("-b").quoted(new_branch);
    } else if args.detached {
        add = add.text("--detach");
    }
    if args.force {
        add = add.text("--force");
    }
    add = add.quoted(&args.worktree);
    let commitish = args.commitish.as_deref().filter(|commitish| !commitish.is_empty());
    if let Some(commitish) = commitish {
        add = add.quoted(commitish);
    }
    plan.push(add);

    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    if !wants_owner(user, group) {
        return Ok(());
    }
    plan.push(chown(&args.worktree, user, group, recursive())?);
    // `git worktree add` also writes below the main repository (the worktree's
    // metadata, the new branch's ref and log); run as root, those would stay root's.
    let name = args.worktree.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    plan.push(chown(&unix_path_join(&[repo, ".git", "worktrees", name]), user, group, recursive())?);
    let branch = new_branch
        .or((!args.detached && commitish.is_none()).then_some(name))
        .filter(|branch| !branch.is_empty());
    if let Some(branch) = branch {
        plan.push(chown(
            &unix_path_join(&[repo, ".git", "refs", "heads", branch]),
            user,
            group,
            ChownFlags::default(),
        )?);
        plan.push(chown(
            &unix_path_join(&[repo, ".git", "logs", "refs", "heads", branch]),
            user,
            group,
            recursive(),
        )?);
    }
    Ok(())
}

fn pull_worktree(args: &WorktreeArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let worktree = args.worktree.as_str();
    if !args.pull {
        plan.noop("Pull is disabled");
        return Ok(());
    }
    let tracking = plan.fact("git.GitTrackingBranch", &[("repo", json!(worktree))])?;
    let from_remote = args.from_remote_branch.as_ref().filter(|from_remote| truthy(from_remote));
    if !truthy(&tracking) && from_remote.is_none() {
        return Ok(());
    }
    let from_remote = match from_remote {
        None => None,
        Some(Value::Array(pair)) => match pair.as_slice() {
            [Value::String(remote), Value::String(branch)] => Some((remote.as_str(), branch.as_str())),
            _ => return Err(remote_branch_error()),
        },
        Some(_) => return Err(remote_branch_error()),
    };
    let remote_branch = from_remote.or_else(|| tracking.as_str().and_then(|tracking| tracking.split_once('/')));
    let mut up_to_date = false;
    if let Some((remote, branch)) = remote_branch.filter(|(remote, branch)| !remote.is_empty() && !branch.is_empty()) {
        let local = plan.fact("git.GitLocalCommit", &[("repo", json!(worktree)), ("ref", json!("HEAD"))])?;
        let remote_commit = plan.fact(
            "git.GitRemoteBranchCommit",
            &[("repo", json!(worktree)), ("remote", json!(remote)), ("branch", json!(branch))],
        )?;
        up_to_date = truthy(&local) && truthy(&remote_commit) && local == remote_commit;
    }
    if up_to_date {
        plan.noop(format!("git worktree {worktree} is already up to date"));
        return Ok(());
    }
    let mut pull = StringCommand::raw("cd").quoted(worktree).text("&& git pull");
    if args.rebase {
        pull = pull.text("--rebase");
    }
    if let Some((remote, branch)) = from_remote {
        pull = pull.quoted(remote).quoted(branch);
    }
    plan.push(pull);
    Ok(())
}

fn remote_branch_error() -> OperationError {
    OperationError::Operation("The remote branch must be a 2-tuple (remote, branch) such as (\"origin\", \"master\")".to_owned())
}

/// Arguments of `git.bare_repo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BareRepoArgs {
    /// The repository's folder.
    pub path: String,
    /// Owner given to the whole repository.
    pub user: Option<String>,
    /// Group given to the whole repository.
    pub group: Option<String>,
    /// Whether the repository should exist (any value, read as Python reads it).
    #[serde(default = "yes_value")]
    pub present: Value,
}

/// `git.bare_repo`: a repository counts as there when its `HEAD` file is.
pub fn bare_repo(args: &BareRepoArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let present = truthy(&args.present);
    call(plan, "files.directory", json!({"path": args.path, "present": present}))?;
    if !present {
        return Ok(());
    }
    let head = plan.fact("files.File", &[("path", json!(unix_path_join(&[&args.path, "HEAD"])))])?;
    let (user, group) = (args.user.as_deref(), args.group.as_deref());
    if !truthy(&head) {
        plan.push(StringCommand::raw("git init --bare").quoted(&args.path));
        if wants_owner(user, group) {
            plan.push(chown(&args.path, user, group, recursive())?);
        }
    } else if owner_differs(&head, user, group) {
        plan.push(chown(&args.path, user, group, recursive())?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::double_quoted;

    #[test]
    fn config_values_are_double_quoted_literally() {
        assert_eq!(double_quoted("Anon E. Mouse"), "\"Anon E. Mouse\"");
        assert_eq!(double_quoted("$HOME/`x`\\\""), "\"\\$HOME/\\`x\\`\\\\\\\"\"");
    }
}
