//! The SSH connector against a real OpenSSH server: each test starts its own
//! `/usr/sbin/sshd -D` on a free port of 127.0.0.1 with a host key, authorized keys and
//! configuration in a temporary folder, runs as the current user (root), and stops it
//! (by its pid) at the end. Without `/usr/sbin/sshd` or as another user than root the
//! tests say so and pass without running (`apt-get install openssh-server`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oxinfra_connectors::{SshConnector, connector_for};
use oxinfra_core::command::UploadSource;
use oxinfra_core::{Connector, ConnectorArguments, ConnectorError, StringCommand};
use serde_json::{Map, Value, json};

const SSHD: &str = "/usr/sbin/sshd";

/// A private sshd and the keys to reach it.
struct Sshd {
    directory: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Sshd {
    /// Starts a server, or says why it cannot and returns `None`.
    fn start() -> Option<Self> {
        if !Path::new(SSHD).exists() {
            eprintln!("skipping: {SSHD} is missing (apt-get install openssh-server)");
            return None;
        }
        if !nix::unistd::getuid().is_root() {
            eprintln!("skipping: the sshd tests log in as the current user and need root");
            return None;
        }
        // sshd refuses to start without its privilege separation folder.
        std::fs::create_dir_all("/run/sshd").ok();
        let directory = tempfile::tempdir().ok()?;
        let path = directory.path();
        keygen(&path.join("host_ed25519"), "");
        keygen(&path.join("client"), "");
        keygen(&path.join("user_ca"), "");
        std::fs::copy(path.join("client.pub"), path.join("authorized_keys")).ok()?;
        std::fs::write(path.join("empty_config"), "").ok()?;
        let config = format!(
            "HostKey {host_key}\nAuthorizedKeysFile {authorized}\nPidFile none\nStrictModes no\nUsePAM no\n\
             PermitRootLogin yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             Subsystem sftp internal-sftp\nAllowTcpForwarding yes\nMaxAuthTries 20\nMaxStartups 100\nLogLevel ERROR\n\
             TrustedUserCAKeys {user_ca}\n",
            host_key = path.join("host_ed25519").display(),
            authorized = path.join("authorized_keys").display(),
            user_ca = path.join("user_ca.pub").display(),
        );
        std::fs::write(path.join("sshd_config"), config).ok()?;
        for _ in 0..3 {
            let port = free_port()?;
            let log = std::fs::File::create(path.join("sshd.log")).ok()?;
            let mut child = Command::new(SSHD)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(path.join("sshd_config"))
                .arg("-p")
                .arg(port.to_string())
                .args(["-o", "ListenAddress=127.0.0.1"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .ok()?;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(Self { directory, port, child });
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            child.kill().ok();
            child.wait().ok();
        }
        let log = std::fs::read_to_string(path.join("sshd.log")).unwrap_or_default();
        unreachable!("sshd did not start: {log}");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    fn host_public_key(&self) -> String {
        let text = std::fs::read_to_string(self.path("host_ed25519.pub")).unwrap_or_default();
        text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
    }

    /// `SHA256:...` of the host key, as `ssh-keygen -l` prints it.
    fn host_fingerprint(&self) -> String {
        let output = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.path("host_ed25519.pub"))
            .output()
            .map(|output| output.stdout)
            .unwrap_or_default();
        String::from_utf8_lossy(&output).split_whitespace().nth(1).unwrap_or_default().to_owned()
    }

    /// A `known_hosts` file holding the host key under each of `names`.
    fn known_hosts(&self, names: &[&str]) -> PathBuf {
        let file = self.path("known_hosts");
        let key = self.host_public_key();
        let lines: Vec<String> = names.iter().map(|name| format!("[{name}]:{} {key}\n", self.port)).collect();
        let lines = lines.concat();
        std::fs::write(&file, lines).ok();
        file
    }

    /// Host data for this server with `extra` on top: key auth as root, strict checking.
    fn data(&self, extra: &Value) -> Map<String, Value> {
        let mut data = json!({
            "ssh_hostname": "127.0.0.1",
            "ssh_port": self.port,
            "ssh_user": "root",
            "ssh_key": self.path("client"),
            "ssh_allow_agent": false,
            "ssh_config_file": self.path("empty_config"),
            "ssh_known_hosts_file": self.path("known_hosts"),
            "ssh_strict_host_key_checking": "yes",
        });
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                data.insert(key.clone(), value.clone());
            }
        }
        data.as_object().cloned().unwrap_or_default()
    }

    /// A connector to this server that knows its host key.
    fn connector(&self, extra: &Value) -> SshConnector {
        self.known_hosts(&["127.0.0.1"]);
        SshConnector::from_data("web1", &self.data(extra)).unwrap_or_else(|error| unreachable!("{error}"))
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn keygen(path: &Path, passphrase: &str) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-C", "test", "-N", passphrase, "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status();
    assert!(status.is_ok_and(|status| status.success()), "ssh-keygen failed for {}", path.display());
}

fn free_port() -> Option<u16> {
    TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok().map(|address| address.port())
}

fn arguments() -> ConnectorArguments {
    ConnectorArguments::default()
}

async fn run(connector: &dyn Connector, command: &str, arguments: &ConnectorArguments) -> oxinfra_core::CommandOutput {
    connector
        .run_shell_command(&StringCommand::raw(command), arguments)
        .await
        .unwrap_or_else(|error| unreachable!("`{command}`: {error}"))
}

async fn connect_error(connector: &dyn Connector) -> String {
    match connector.connect().await {
        Ok(()) => unreachable!("the connection should have failed"),
        Err(error) => error.to_string(),
    }
}

fn leftovers(directory: &Path) -> Vec<String> {
    std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains("oxinfra"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_auth_runs_a_command_with_both_streams_and_exit_code() {
    let Some(sshd) = Sshd::start() else { return };
    let connector = sshd.connector(&json!({}));
    connector.connect().await.unwrap_or_else(|error| unreachable!("{error}"));
    let output = run(&connector, "echo out; echo err >&2; echo out2; exit 3", &arguments()).await;
    assert_eq!(output.exit_code, Some(3));
    assert_eq!(output.stdout_lines(), vec!["out", "out2"]);
    assert_eq!(output.stderr_lines(), vec!["err"]);

    // Environment and directory wrapping reach the host.
    let wrapped = ConnectorArguments {
        chdir: Some("/tmp".into()),
        env: vec![("GREETING".into(), oxinfra_core::arguments::MaybeSecret::Plain("hello world".into()))],
        ..arguments()
    };
    let output = run(&connector, "echo \"$GREETING\" $(pwd)", &wrapped).await;
    assert_eq!(output.stdout_lines(), vec!["hello world /tmp"]);
    connector.disconnect().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_serves_every_command() {
    let Some(sshd) = Sshd::start() else { return };
    let connector = sshd.connector(&json!({}));
    let mut sources = Vec::new();
    for _ in 0..10 {
        let output = run(&connector, "echo $SSH_CONNECTION", &arguments()).await;
        sources.push(output.stdout_lines().join(""));
    }
    sources.dedup();
    assert_eq!(sources.len(), 1, "every command should come over the same TCP connection: {sources:?}");
    connector.disconnect().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_lines_reach_the_command() {
    let Some(sshd) = Sshd::start() else { return };
    let connector = sshd.connector(&json!({}));
    let input = ConnectorArguments {
        stdin: vec!["first line".into(), "second".into()],
        ..arguments()
    };
    let output = run(&connector, "cat", &input).await;
    assert_eq!(output.stdout_lines(), vec!["first line", "second"]);
    // Without `_stdin` the command sees the end of its input at once.
    let output = run(&connector, "cat; echo done", &arguments()).await;
    assert_eq!(output.stdout_lines(), vec!["done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_stops_the_command_and_the_connection_stays_usable() {
    let Some(sshd) = Sshd::start() else { return };
    let connector = sshd.connector(&json!({}));
    let started = Instant::now();
    let limited = ConnectorArguments {
        timeout: Some(1.0),
        ..arguments()
    };
    let marker = format!("{}.{}", 30 + sshd.port % 7, sshd.port);
    let result = connector
        .run_shell_command(&StringCommand::raw(format!("sleep {marker}; echo never")), &limited)
        .await;
    assert!(matches!(result, Err(ConnectorError::Timeout { .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let output = run(&connector, "echo still here", &arguments()).await;
    assert_eq!(output.stdout_lines(), vec!["still here"]);
    // The command itself was stopped, not just abandoned.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let output = run(&connector, &format!("pgrep -f 'slee[p] {marker}' || echo gone"), &arguments()).await;
    assert_eq!(output.stdout_lines(), vec!["gone"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pty_gives_the_command_a_terminal() {
    let Some(sshd) = Sshd::start() else { return };
    let connector = sshd.connector(&json!({}));
    let output = run(&connector, "tty", &ConnectorArguments { get_pty: true, ..arguments() }).await;
    assert!(output.stdout_lines().first().is_some_and(|line| line.starts_with("/dev/pts/")), "{output:?}");
    let output = run(&connector, "tty", &arguments()).await;
    assert_eq!(output.stdout_lines(), vec!["not a tty"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_replaces_the_target_whole_and_download_copies_it() {
    let Some(sshd) = Sshd::start() else { return };
    let connector = sshd.connector(&json!({}));
    let remote = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let target = remote.path().join("app.conf");
    std::fs::write(&target, "old content that is longer than the new one\n").ok();
    std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(0o640)).ok();
    let dest = target.display().to_string();

    connector
        .put_file(&UploadSource::Content(b"new content\n".to_vec()), &dest, &arguments())
        .await
        .unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(std::fs::read_to_string(&target).ok().as_deref(), Some("new content\n"));
    let mode = std::fs::metadata(&target)
        .map(|metadata| std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o777)
        .unwrap_or_default();
    assert_eq!(mode, 0o640, "the target keeps its mode");
    assert!(leftovers(remote.path()).is_empty(), "{:?}", leftovers(remote.path()));

    // Every byte value survives both ways, from a file on the controller.
    let local = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let payload: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    std::fs::write(local.path().join("payload.bin"), &payload).ok();
    let binary_dest = remote.path().join("payload.bin").display().to_string();
    connector
        .put_file(&UploadSource::Path(local.path().join("payload.bin")), &binary_dest, &arguments())
        .await
        .unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(std::fs::read(&binary_dest).ok(), Some(payload.clone()));

    let downloaded = local.path().join("downloaded.bin");
    std::fs::write(&downloaded, "stale").ok();
    connector
        .get_file(&binary_dest, &downloaded, &arguments())
        .await
        .unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(std::fs::read(&downloaded).ok(), Some(payload));
    assert!(leftovers(local.path()).is_empty(), "{:?}", leftovers(local.path()));
    assert!(leftovers(remote.path()).is_empty(), "{:?}", leftovers(remote.path()));

    // A missing source is an error that leaves nothing behind.
    let missing = connector.get_file("/nonexistent/file", &local.path().join("missing"), &arguments()).await;
    assert!(matches!(missing, Err(ConnectorError::Transfer(_))), "{missing:?}");
    assert!(leftovers(local.path()).is_empty());
    assert!(!local.path().join("missing").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_fallback_transfers_without_sftp() {
    let Some(sshd) = Sshd::start() else { return };
    let connector = sshd.connector(&json!({"ssh_file_transfer_protocol": "scp"}));
    let remote = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let dest = remote.path().join("new.txt");
    let payload: Vec<u8> = (0..=255u8).collect();
    connector
        .put_file(&UploadSource::Content(payload.clone()), &dest.display().to_string(), &arguments())
        .await
        .unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(std::fs::read(&dest).ok(), Some(payload.clone()));
    let local = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    connector
        .get_file(&dest.display().to_string(), &local.path().join("back"), &arguments())
        .await
        .unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(std::fs::read(local.path().join("back")).ok(), Some(payload));
    assert!(leftovers(remote.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sudo_password_travels_on_stdin_never_on_a_command_line() {
    let Some(sshd) = Sshd::start() else { return };
    if !Path::new("/usr/bin/sudo").exists() {
        eprintln!("skipping: sudo is not installed (apt-get install sudo)");
        return;
    }
    let connector = sshd.connector(&json!({}));
    let password = "pa55 w0rd'secret";
    let sudo = ConnectorArguments {
        sudo: true,
        sudo_password: Some(password.into()),
        stdin: vec!["after the password".into()],
        ..arguments()
    };
    // The command sees its own input only, and no process line holds the password.
    let output = run(&connector, "cat; ps -eo args", &sudo).await;
    assert_eq!(output.exit_code, Some(0), "{output:?}");
    assert_eq!(output.stdout_lines().first().map(String::as_str), Some("after the password"));
    assert!(output.lines.iter().all(|line| !line.text.contains("pa55")), "{output:?}");

    // Privileged uploads stage in the temp folder and clean it.
    let staging = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let remote = tempfile::tempdir().unwrap_or_else(|error| unreachable!("{error}"));
    let dest = remote.path().join("root-owned.conf").display().to_string();
    let upload = ConnectorArguments {
        temp_dir: Some(staging.path().display().to_string()),
        ..sudo.clone()
    };
    connector
        .put_file(&UploadSource::Content(b"as root\n".to_vec()), &dest, &upload)
        .await
        .unwrap_or_else(|error| unreachable!("{error}"));
    assert_eq!(std::fs::read_to_string(&dest).ok().as_deref(), Some("as root\n"));
    assert!(
        leftovers(staging.path()).iter().all(|name| name.starts_with("oxinfra-askpass-")),
        "{:?}",
        leftovers(staging.path())
    );
    assert!(leftovers(remote.path()).is_empty());

    // The askpass helper is removed at disconnect.
    connector.disconnect().await.ok();
    assert!(leftovers(staging.path()).is_empty(), "{:?}", leftovers(staging.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_host_key_with_strict_checking_names_the_fingerprint() {
    let Some(sshd) = Sshd::start() else { return };
    std::fs::write(sshd.path("known_hosts"), "").ok();
    let connector = SshConnector::from_data("web1", &sshd.data(&json!({}))).unwrap_or_else(|error| unreachable!("{error}"));
    let error = connect_error(&connector).await;
    assert!(error.contains("`web1`") && error.contains("unknown host key"), "{error}");
    assert!(error.contains(&sshd.host_fingerprint()), "{error} should name {}", sshd.host_fingerprint());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_host_key_is_refused_with_a_hint() {
    let Some(sshd) = Sshd::start() else { return };
    keygen(&sshd.path("other_host_key"), "");
    let other = std::fs::read_to_string(sshd.path("other_host_key.pub")).unwrap_or_default();
    std::fs::write(sshd.path("known_hosts"), format!("[127.0.0.1]:{} {other}", sshd.port)).ok();
    for policy in ["yes", "accept-new"] {
        let data = sshd.data(&json!({"ssh_strict_host_key_checking": policy}));
        let connector = SshConnector::from_data("web1", &data).unwrap_or_else(|error| unreachable!("{error}"));
        let error = connect_error(&connector).await;
        assert!(error.contains("has changed") && error.contains(&sshd.host_fingerprint()), "{error}");
        assert!(error.contains("hint:") && error.contains("ssh-keygen -R"), "{error}");
    }
    // `no` warns and accepts.
    let connector = SshConnector::from_data("web1", &sshd.data(&json!({"ssh_strict_host_key_checking": "no"}))).unwrap_or_else(|error| unreachable!("{error}"));
    assert!(connector.connect().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_new_records_the_key_and_it_is_known_afterwards() {
    let Some(sshd) = Sshd::start() else { return };
    let known_hosts = sshd.path("new_dir/known_hosts");
    let data = sshd.data(&json!({"ssh_strict_host_key_checking": "accept-new", "ssh_known_hosts_file": known_hosts}));
    let connector = SshConnector::from_data("web1", &data).unwrap_or_else(|error| unreachable!("{error}"));
    connector.connect().await.unwrap_or_else(|error| unreachable!("{error}"));
    let text = std::fs::read_to_string(&known_hosts).unwrap_or_default();
    assert_eq!(text, format!("[127.0.0.1]:{} {}\n", sshd.port, sshd.host_public_key()));
    let strict = SshConnector::from_data("web1", &sshd.data(&json!({"ssh_known_hosts_file": known_hosts}))).unwrap_or_else(|error| unreachable!("{error}"));
    assert!(strict.connect().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_and_wildcard_known_hosts_entries_match() {
    let Some(sshd) = Sshd::start() else { return };
    let file = sshd.known_hosts(&["127.0.0.1"]);
    let hashed = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(hashed.is_ok_and(|status| status.success()));
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(text.starts_with("|1|"), "{text}");
    let connector = SshConnector::from_data("web1", &sshd.data(&json!({}))).unwrap_or_else(|error| unreachable!("{error}"));
    connector.connect().await.unwrap_or_else(|error| unreachable!("{error}"));

    std::fs::write(&file, format!("# comment\nother,[127.0.0.*]:* {}\n", sshd.host_public_key())).ok();
    let connector = SshConnector::from_data("web1", &sshd.data(&json!({}))).unwrap_or_else(|error| unreachable!("{error}"));
    connector.connect().await.unwrap_or_else(|error| unreachable!("{error}"));

    std::fs::write(
        &file,
        format!("@revoked * {}\n[127.0.0.1]:{} {}\n", sshd.host_public_key(), sshd.port, sshd.host_public_key()),
    )
    .ok();
    let connector = SshConnector::from_data("web1", &sshd.data(&json!({}))).unwrap_or_else(|error| unreachable!("{error}"));
    let error = connect_error(&connector).await;
    assert!(error.contains("revoked"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_key_needs_its_password() {
    let Some(sshd) = Sshd::start() else { return };
    keygen(&sshd.path("encrypted"), "correct horse");
    let public = std::fs::read_to_string(sshd.path("encrypted.pub")).unwrap_or_default();
    std::fs::write(sshd.path("authorized_keys"), public).ok();
    sshd.known_hosts(&["127.0.0.1"]);
    let with_password = sshd.data(&json!({"ssh_key": sshd.path("encrypted"), "ssh_key_password": "correct horse"}));
    let connector = SshConnector::from_data("web1", &with_password).unwrap_or_else(|error| unreachable!("{error}"));
    connector.connect().await.unwrap_or_else(|error| unreachable!("{error}"));

    let without = SshConnector::from_data("web1", &sshd.data(&json!({"ssh_key": sshd.path("encrypted")}))).unwrap_or_else(|error| unreachable!("{error}"));
    let error = connect_error(&without).await;
    assert!(error.contains("encrypted") && error.contains("ssh_key_password"), "{error}");

    let wrong = sshd.data(&json!({"ssh_key": sshd.path("encrypted"), "ssh_key_password": "wrong"}));
    let error = connect_error(&SshConnector::from_data("web1", &wrong).unwrap_or_else(|error| unreachable!("{error}"))).await;
    assert!(error.contains("ssh_key_password") && !error.contains("wrong"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_fails_naming_the_methods_tried() {
    let Some(sshd) = Sshd::start() else { return };
    keygen(&sshd.path("stranger"), "");
    sshd.known_hosts(&["127.0.0.1"]);
    let data = sshd.data(&json!({"ssh_key": sshd.path("stranger"), "ssh_password": "guess"}));
    let error = connect_error(&SshConnector::from_data("web1", &data).unwrap_or_else(|error| unreachable!("{error}"))).await;
    assert!(error.contains("`web1`") && error.contains("authentication as `root`"), "{error}");
    assert!(error.contains(&format!("publickey with `{}`", sshd.path("stranger").display())), "{error}");
    assert!(error.contains("the server accepts publickey"), "{error}");
    assert!(!error.contains("guess"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_is_a_connect_error_naming_the_host() {
    let Some(sshd) = Sshd::start() else { return };
    let port = free_port().unwrap_or_default();
    let data = sshd.data(&json!({"ssh_port": port, "ssh_connect_retries": 1, "ssh_connect_retry_min_delay": 0.01, "ssh_connect_retry_max_delay": 0.02}));
    let connector = connector_for("web1", &data);
    let error = connect_error(connector.as_ref()).await;
    assert!(error.starts_with("could not connect: `web1`: TCP connect to"), "{error}");
    assert!(error.contains("refused") && error.contains(&port.to_string()), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_config_alias_resolves_like_openssh() {
    let Some(sshd) = Sshd::start() else { return };
    sshd.known_hosts(&["127.0.0.1"]);
    let config = sshd.path("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host alias\n  HostName 127.0.0.1\n  User root\n  Port {port}\n  IdentityFile {key}\n\nHost wrongport\n  HostName 127.0.0.1\n  Port 1\n  IdentityFile {key}\n",
            port = sshd.port,
            key = sshd.path("client").display()
        ),
    )
    .ok();
    let data = json!({
        "ssh_config_file": config,
        "ssh_known_hosts_file": sshd.path("known_hosts"),
        "ssh_strict_host_key_checking": "yes",
        "ssh_allow_agent": false,
    });
    let data = data.as_object().cloned().unwrap_or_default();
    let connector = connector_for("alias", &data);
    let output = run(connector.as_ref(), "whoami", &arguments()).await;
    assert_eq!(output.stdout_lines(), vec!["root"]);

    // Host data goes on top of the configuration.
    let mut overridden = data.clone();
    overridden.insert("ssh_hostname".into(), json!("wrongport"));
    overridden.insert("ssh_port".into(), json!(sshd.port));
    overridden.insert("ssh_user".into(), json!("root"));
    let connector = connector_for("@ssh/anything", &overridden);
    assert!(connector.connect().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_jump_reaches_the_target_through_the_jump_host() {
    let Some(sshd) = Sshd::start() else { return };
    sshd.known_hosts(&["127.0.0.1", "localhost"]);
    let config = sshd.path("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host jumpbox\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {key}\n\n\
             Host target\n  HostName localhost\n  Port {port}\n  User root\n  IdentityFile {key}\n  ProxyJump jumpbox\n\n\
             Host target2\n  HostName localhost\n  Port {port}\n  User root\n  IdentityFile {key}\n  ProxyJump root@127.0.0.1:{port}\n\n\
             Host 127.0.0.1\n  IdentityFile {key}\n",
            port = sshd.port,
            key = sshd.path("client").display()
        ),
    )
    .ok();
    for alias in ["target", "target2"] {
        let data = json!({
            "ssh_hostname": alias,
            "ssh_config_file": config,
            "ssh_known_hosts_file": sshd.path("known_hosts"),
            "ssh_strict_host_key_checking": "yes",
            "ssh_allow_agent": false,
        });
        let connector = connector_for("web1", data.as_object().unwrap_or(&Map::new()));
        let output = run(connector.as_ref(), "echo $SSH_CONNECTION", &arguments()).await;
        // The target sees a connection from the jump host (itself, on loopback).
        assert!(output.stdout_lines().first().is_some_and(|line| line.starts_with("127.0.0.1 ")), "{output:?}");
        connector.disconnect().await.ok();
    }

    // A jump host whose key is unknown fails, naming it.
    std::fs::write(sshd.path("known_hosts"), format!("[localhost]:{} {}\n", sshd.port, sshd.host_public_key())).ok();
    let data = json!({"ssh_hostname": "target", "ssh_config_file": config, "ssh_known_hosts_file": sshd.path("known_hosts"), "ssh_strict_host_key_checking": "yes", "ssh_allow_agent": false});
    let error = connect_error(connector_for("web1", data.as_object().unwrap_or(&Map::new())).as_ref()).await;
    assert!(
        error.contains("through the jump host `jumpbox`") && error.contains("unknown host key"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_command_carries_the_connection() {
    let Some(sshd) = Sshd::start() else { return };
    let known_hosts = sshd.known_hosts(&["127.0.0.1", "localhost"]);
    let config = sshd.path("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host proxied\n  HostName localhost\n  Port {port}\n  User root\n  IdentityFile {key}\n  \
             ProxyCommand ssh -F /dev/null -i {key} -o BatchMode=yes -o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes -p {port} root@127.0.0.1 -W %h:%p\n",
            port = sshd.port,
            key = sshd.path("client").display(),
            known = known_hosts.display(),
        ),
    )
    .ok();
    let data = json!({"ssh_hostname": "proxied", "ssh_config_file": config, "ssh_known_hosts_file": known_hosts, "ssh_strict_host_key_checking": "yes", "ssh_allow_agent": false});
    let connector = connector_for("web1", data.as_object().unwrap_or(&Map::new()));
    let output = run(connector.as_ref(), "echo proxied", &arguments()).await;
    assert_eq!(output.stdout_lines(), vec!["proxied"]);
    connector.disconnect().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_beside_the_key_authenticates() {
    let Some(sshd) = Sshd::start() else { return };
    // The key itself is not authorized; only its certificate, signed by the CA, is.
    keygen(&sshd.path("certified"), "");
    let signed = Command::new("ssh-keygen")
        .args(["-q", "-s"])
        .arg(sshd.path("user_ca"))
        .args(["-I", "oxinfra-test", "-n", "root"])
        .arg(sshd.path("certified.pub"))
        .stdin(Stdio::null())
        .status();
    assert!(signed.is_ok_and(|status| status.success()));
    sshd.known_hosts(&["127.0.0.1"]);
    let data = sshd.data(&json!({"ssh_key": sshd.path("certified")}));
    let connector = SshConnector::from_data("web1", &data).unwrap_or_else(|error| unreachable!("{error}"));
    let output = run(&connector, "whoami", &arguments()).await;
    assert_eq!(output.stdout_lines(), vec!["root"]);

    // Without the certificate the same key is refused, and the message says what was tried.
    std::fs::remove_file(sshd.path("certified-cert.pub")).ok();
    let error = connect_error(&SshConnector::from_data("web1", &data).unwrap_or_else(|error| unreachable!("{error}"))).await;
    assert!(error.contains("publickey with `") && error.contains("certified`"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_keys_are_used_when_no_key_is_given() {
    let Some(sshd) = Sshd::start() else { return };
    let socket = sshd.path("agent.sock");
    let Ok(mut agent) = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
    else {
        eprintln!("skipping: no ssh-agent");
        return;
    };
    let started = Instant::now();
    while !socket.exists() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = Command::new("ssh-add")
        .arg(sshd.path("client"))
        .env("SSH_AUTH_SOCK", &socket)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(added.is_ok_and(|status| status.success()));
    sshd.known_hosts(&["127.0.0.1"]);
    std::fs::write(sshd.path("ssh_config"), format!("Host *\n  IdentityAgent {}\n", socket.display())).ok();
    let data = sshd.data(&json!({"ssh_key": null, "ssh_allow_agent": true, "ssh_look_for_keys": false, "ssh_config_file": sshd.path("ssh_config")}));
    let connector = SshConnector::from_data("web1", &data).unwrap_or_else(|error| unreachable!("{error}"));
    let result = connector.connect().await;
    agent.kill().ok();
    agent.wait().ok();
    assert!(result.is_ok(), "{result:?}");
}
