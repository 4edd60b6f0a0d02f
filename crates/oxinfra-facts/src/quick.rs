//! Quicker scripts that the engine runs in place of a few of pyinfra's fact commands.
//!
//! Each prints exactly the lines pyinfra's command prints, so the fact's own parser reads
//! it, but starts a handful of processes instead of several per item. pyinfra's `Users`
//! command, for one, starts about a dozen processes per account (`grep`, `lastlog`, `id`
//! twice, ...): on a host with 25 accounts that is 300 processes, the biggest part of a
//! no-change run's time on the host. The registry keeps pyinfra's commands (the fixtures
//! check them); the tests below check that both print the same on this machine.

use oxinfra_core::StringCommand;

/// `server.Users` in one pass: `/etc/group` (through `getent` when it can), `/etc/passwd`,
/// the shadow file and one `lastlog` listing go through a single `awk`, which prints for
/// each account `ENTRY|PRIMARY GROUP|ALL GROUPS|LAST LOGIN|PASSWORD` as pyinfra's loop does.
const USERS: &str = r#"{ getent group 2>/dev/null || cat /etc/group; echo '@@passwd@@'; cat /etc/passwd; echo '@@shadow@@'; cat /etc/shadow /etc/master.passwd 2>/dev/null; echo '@@lastlog@@'; lastlog 2>/dev/null || lastlogin 2>/dev/null; } | awk '
BEGIN { FS = ":" }
$0 == "@@passwd@@" { part = 1; next }
$0 == "@@shadow@@" { part = 2; next }
$0 == "@@lastlog@@" { part = 3; next }
part == 0 { name[$3] = $1; n = split($4, members, ","); for (i = 1; i <= n; i++) if (members[i] != "") groups[members[i]] = groups[members[i]] " " $1; next }
part == 1 { if (!($1 in entry)) { users[++count] = $1; entry[$1] = $0; gid[$1] = $4 }; next }
part == 2 { if (!($1 in password)) password[$1] = $2; next }
part == 3 { split($0, words, " "); user = words[1]; if (user != "Username" && !(user in last)) { line = $0; gsub(/ +/, " ", line); last[user] = line }; next }
END {
  for (i = 1; i <= count; i++) {
    user = users[i]; group = (gid[user] in name) ? name[gid[user]] : gid[user]; all = group
    n = split(groups[user], extra, " ")
    for (j = 1; j <= n; j++) if (extra[j] != group) all = all " " extra[j]
    print entry[user] "|" group "|" all "|" last[user] "|" password[user]
  }
}'"#;

/// The quicker command for the fact `name`, when there is one.
pub fn command(name: &str) -> Option<StringCommand> {
    match name {
        "server.Users" => Some(StringCommand::raw(USERS)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::find;

    fn run(script: &str) -> String {
        let output = std::process::Command::new("sh").arg("-c").arg(script).output();
        let output = output.unwrap_or_else(|error| unreachable!("sh: {error}"));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    #[test]
    fn users_prints_what_pyinfras_loop_prints() {
        let pyinfra = find("server.Users").map(|fact| (fact.command)(&serde_json::Map::new()).raw_value());
        let pyinfra = pyinfra.unwrap_or_else(|| unreachable!("server.Users is registered"));
        let quick = command("server.Users").map(|command| command.raw_value()).unwrap_or_default();
        let expected = run(&pyinfra);
        assert!(expected.lines().count() > 1, "this machine has accounts: {expected}");
        assert_eq!(run(&quick), expected);
    }

    #[test]
    fn other_facts_keep_their_command() {
        assert!(command("server.Groups").is_none());
    }
}
