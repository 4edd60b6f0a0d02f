//! One SSH connection per host: the byte stream (TCP, a `ProxyJump` chain of
//! direct-tcpip channels, or a `ProxyCommand`'s stdio), the handshake with host key
//! verification, authentication, connect retries, and what lives as long as the
//! connection (the jump hosts, the proxy process, the SFTP session, the sudo askpass
//! helper). Running commands is [`super::exec`]; moving files is [`super::transfer`].

use std::borrow::Cow;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use oxinfra_core::wrap::SUDO_PASSWORD_VARIABLE;
use oxinfra_core::{ConnectorError, StringCommand};
use russh::client::{self, Handle, Msg};
use russh::keys::PublicKeyOrCertificate;
use russh::keys::ssh_key::{Algorithm, PublicKey};
use russh::{Channel, ChannelMsg, Disconnect};
use russh_sftp::client::SftpSession;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, OnceCell};

use super::auth::{self, Credentials};
use super::config::{self, AgentSocket, JumpSpec, Settings, Tokens};
use super::error::SshError;
use super::exec;
use super::known_hosts::{self, HostKeyError, Verifier};
use super::options::{FileTransferProtocol, SshOptions};

/// What the handshake can fail with: russh's errors, or our host key verdict.
#[derive(Debug)]
pub enum HandlerError {
    /// The protocol failed.
    Russh(russh::Error),
    /// The host key was refused.
    HostKey(HostKeyError),
}

impl From<russh::Error> for HandlerError {
    fn from(error: russh::Error) -> Self {
        Self::Russh(error)
    }
}

/// Why a session ended, as russh told its handler; read when a command finds the
/// connection gone.
pub type EndReason = Arc<std::sync::Mutex<Option<String>>>;

/// russh's callbacks: host key verification, agent forwarding, and why the session ended.
pub struct ClientHandler {
    verifier: Verifier,
    forward_agent: Option<AgentSocket>,
    ended: EndReason,
}

impl client::Handler for ClientHandler {
    type Error = HandlerError;

    async fn check_server_key(&mut self, offered: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let key = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(certificate) => PublicKey::new(certificate.public_key().clone(), ""),
        };
        self.verifier.verify(&key).await.map(|()| true).map_err(HandlerError::HostKey)
    }

    async fn server_channel_open_agent_forward(
        &mut self,
        channel: Channel<Msg>,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        // Without `ForwardAgent`, dropping `reply` refuses the channel.
        let Some(socket) = self.forward_agent.clone() else { return Ok(()) };
        let path = match socket {
            AgentSocket::Path(path) => Some(path),
            AgentSocket::Environment => std::env::var_os("SSH_AUTH_SOCK").map(Into::into),
            AgentSocket::Disabled => None,
        };
        let Some(path) = path else { return Ok(()) };
        reply.accept().await;
        tokio::spawn(async move {
            if let Ok(mut agent) = tokio::net::UnixStream::connect(path).await {
                let mut stream = channel.into_stream();
                // Either side closing ends the relay; nothing to report.
                let _ = tokio::io::copy_bidirectional(&mut stream, &mut agent).await;
            }
        });
        Ok(())
    }

    async fn disconnected(&mut self, reason: client::DisconnectReason<Self::Error>) -> Result<(), Self::Error> {
        let text = match &reason {
            client::DisconnectReason::ReceivedDisconnect(info) if info.message.is_empty() => format!("the server disconnected ({:?})", info.reason_code),
            client::DisconnectReason::ReceivedDisconnect(info) => format!("the server disconnected: {}", info.message),
            client::DisconnectReason::Error(HandlerError::Russh(russh::Error::IO(error))) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                "the server closed the TCP connection without a word".to_owned()
            }
            client::DisconnectReason::Error(HandlerError::Russh(russh::Error::KeepaliveTimeout)) => "the server stopped answering keepalives".to_owned(),
            client::DisconnectReason::Error(HandlerError::Russh(error)) => error.to_string(),
            client::DisconnectReason::Error(HandlerError::HostKey(error)) => error.to_string(),
        };
        self.ended.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert(text);
        // russh's default: an error ends the session with that error.
        match reason {
            client::DisconnectReason::ReceivedDisconnect(_) => Ok(()),
            client::DisconnectReason::Error(error) => Err(error),
        }
    }
}

trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for T {}

/// An open, authenticated connection to one host.
pub struct Connection {
    /// The inventory name, for messages.
    pub host: String,
    /// `hostname:port`, for messages.
    pub address: String,
    handle: Handle<ClientHandler>,
    /// Why the session ended, once it has.
    ended: EndReason,
    /// Jump hosts carrying the connection, kept open as long as it is.
    hops: Vec<Handle<ClientHandler>>,
    proxy: std::sync::Mutex<Option<tokio::process::Child>>,
    sftp: OnceCell<Option<SftpSession>>,
    askpass: Mutex<Option<String>>,
    file_transfer: FileTransferProtocol,
    forward_agent: bool,
}

/// Resolves the settings and connects, retrying network failures `ssh_connect_retries`
/// times after a random delay between the minimum and maximum.
pub async fn open(host: &str, options: &SshOptions) -> Result<Connection, SshError> {
    let settings = config::resolve(host, options).await?;
    let mut jumps = Vec::with_capacity(settings.proxy_jump.len());
    for jump in &settings.proxy_jump {
        let mut hop = config::resolve_jump(host, jump, options).await?;
        // The target's `ssh_key` is offered to jump hosts after their own identity files.
        if let Some(key) = &options.key {
            hop.identity_files.push(key.clone());
        }
        jumps.push((jump, hop));
    }
    let mut retries = options.connect_retries;
    loop {
        match open_once(host, &settings, &jumps, options).await {
            Err(error) if error.is_transient() && retries > 0 => {
                retries -= 1;
                let spread = options.connect_retry_max_delay - options.connect_retry_min_delay;
                let delay = options.connect_retry_min_delay + spread * fastrand::f64();
                log::info!("{error}; retrying in {delay:.2}s");
                tokio::time::sleep(Duration::from_secs_f64(delay)).await;
            }
            result => return result,
        }
    }
}

async fn open_once(host: &str, settings: &Settings, jumps: &[(&JumpSpec, Settings)], options: &SshOptions) -> Result<Connection, SshError> {
    let mut hops: Vec<Handle<ClientHandler>> = Vec::new();
    let mut proxy = None;
    let stream: Box<dyn ByteStream> = if jumps.is_empty() {
        match &settings.proxy_command {
            Some(command) => {
                let (child, stream) = spawn_proxy_command(host, command, settings)?;
                proxy = Some(child);
                stream
            }
            None => Box::new(tcp_connect(host, settings).await?),
        }
    } else {
        for (spec, hop) in jumps {
            let label = jump_label(spec);
            let in_hop = |source: SshError| SshError::Jump {
                host: host.to_owned(),
                source: Box::new(source),
            };
            let stream: Box<dyn ByteStream> = match hops.last() {
                None => Box::new(tcp_connect(&label, hop).await.map_err(in_hop)?),
                Some(previous) => direct_tcpip(&label, previous, hop).await.map_err(in_hop)?,
            };
            let (mut handle, _) = handshake(&label, hop, stream).await.map_err(in_hop)?;
            let credentials = Credentials {
                key_password: options.key_password.as_deref(),
                allow_agent: options.allow_agent,
                look_for_keys: true,
                ..Credentials::default()
            };
            auth::authenticate(&mut handle, &label, hop, &credentials).await.map_err(in_hop)?;
            hops.push(handle);
        }
        match hops.last() {
            Some(last) => direct_tcpip(host, last, settings).await?,
            None => Box::new(tcp_connect(host, settings).await?),
        }
    };
    let (mut handle, ended) = handshake(host, settings, stream).await?;
    let credentials = Credentials {
        password: options.password.as_deref(),
        key: options.key.as_deref(),
        key_password: options.key_password.as_deref(),
        allow_agent: options.allow_agent,
        look_for_keys: options.look_for_keys,
    };
    auth::authenticate(&mut handle, host, settings, &credentials).await?;
    Ok(Connection {
        host: host.to_owned(),
        address: format!("{}:{}", settings.hostname, settings.port),
        handle,
        ended,
        hops,
        proxy: std::sync::Mutex::new(proxy),
        sftp: OnceCell::new(),
        askpass: Mutex::new(None),
        file_transfer: options.file_transfer_protocol,
        forward_agent: settings.forward_agent,
    })
}

fn jump_label(spec: &JumpSpec) -> String {
    let user = spec.user.as_ref().map(|user| format!("{user}@")).unwrap_or_default();
    let port = spec.port.map(|port| format!(":{port}")).unwrap_or_default();
    format!("{user}{}{port}", spec.host)
}

async fn tcp_connect(host: &str, settings: &Settings) -> Result<TcpStream, SshError> {
    let address = format!("{}:{}", settings.hostname, settings.port);
    let limit = settings.connect_timeout;
    let timeout = |step| SshError::Timeout {
        host: host.to_owned(),
        step,
        address: address.clone(),
        seconds: limit.as_secs(),
    };
    let resolved = tokio::time::timeout(limit, tokio::net::lookup_host((settings.hostname.as_str(), settings.port)))
        .await
        .map_err(|_| timeout("resolving"))?
        .map_err(|error| SshError::Resolve {
            host: host.to_owned(),
            address: settings.hostname.clone(),
            detail: error.to_string(),
        })?;
    let mut failure = None;
    for socket_address in resolved {
        match tokio::time::timeout(limit, TcpStream::connect(socket_address)).await {
            Ok(Ok(stream)) => {
                // russh only sets TCP_NODELAY on sockets it opens itself.
                stream.set_nodelay(true).ok();
                return Ok(stream);
            }
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                failure = Some(SshError::Refused {
                    host: host.to_owned(),
                    address: address.clone(),
                });
            }
            Ok(Err(error)) => {
                failure = Some(SshError::Tcp {
                    host: host.to_owned(),
                    address: address.clone(),
                    detail: error.to_string(),
                });
            }
            Err(_) => failure = Some(timeout("TCP connect to")),
        }
    }
    Err(failure.unwrap_or_else(|| SshError::Resolve {
        host: host.to_owned(),
        address: settings.hostname.clone(),
        detail: "no address".to_owned(),
    }))
}

async fn direct_tcpip(host: &str, through: &Handle<ClientHandler>, settings: &Settings) -> Result<Box<dyn ByteStream>, SshError> {
    let what = format!("a direct-tcpip channel to `{}:{}`", settings.hostname, settings.port);
    let channel = tokio::time::timeout(
        settings.connect_timeout,
        through.channel_open_direct_tcpip(settings.hostname.clone(), u32::from(settings.port), "127.0.0.1", 0),
    )
    .await
    .map_err(|_| SshError::Channel {
        host: host.to_owned(),
        what: what.clone(),
        detail: "timed out".to_owned(),
    })?
    .map_err(|error| SshError::Channel {
        host: host.to_owned(),
        what,
        detail: error.to_string(),
    })?;
    Ok(Box::new(channel.into_stream()))
}

fn spawn_proxy_command(host: &str, command: &str, settings: &Settings) -> Result<(tokio::process::Child, Box<dyn ByteStream>), SshError> {
    let tokens = Tokens {
        alias: &settings.alias,
        hostname: &settings.hostname,
        port: settings.port,
        user: &settings.user,
    };
    let expanded = tokens.expand(command);
    let failed = |detail: String| SshError::ProxyCommand {
        host: host.to_owned(),
        command: expanded.clone(),
        detail,
    };
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec {expanded}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| failed(error.to_string()))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(failed("no standard input or output".to_owned()));
    };
    Ok((child, Box::new(tokio::io::join(stdout, stdin))))
}

async fn handshake(host: &str, settings: &Settings, stream: Box<dyn ByteStream>) -> Result<(Handle<ClientHandler>, EndReason), SshError> {
    let address = format!("{}:{}", settings.hostname, settings.port);
    let verifier = Verifier::new(
        settings.known_hosts_name(),
        settings.port,
        settings.user_known_hosts_files.clone(),
        settings.global_known_hosts_files.clone(),
        settings.strict_host_key_checking,
        settings.hash_known_hosts,
    );
    let known = verifier.known_algorithms().await;
    let ended = EndReason::default();
    let handler = ClientHandler {
        verifier,
        forward_agent: settings.forward_agent.then(|| settings.identity_agent.clone()),
        ended: Arc::clone(&ended),
    };
    let connecting = client::connect_stream(Arc::new(client_config(settings, &known)), stream, handler);
    match tokio::time::timeout(settings.connect_timeout, connecting).await {
        Ok(Ok(handle)) => Ok((handle, ended)),
        Ok(Err(HandlerError::HostKey(source))) => Err(SshError::HostKey {
            host: host.to_owned(),
            source: Box::new(source),
        }),
        Ok(Err(HandlerError::Russh(error))) => Err(SshError::Handshake {
            host: host.to_owned(),
            address,
            detail: error.to_string(),
        }),
        Err(_) => Err(SshError::Timeout {
            host: host.to_owned(),
            step: "ssh handshake with",
            address,
            seconds: settings.connect_timeout.as_secs(),
        }),
    }
}

fn client_config(settings: &Settings, known: &[Algorithm]) -> client::Config {
    let mut preferred = russh::Preferred::default();
    if !known.is_empty() {
        // Ask first for the key types known_hosts has, so a host with several keys is
        // checked against the one we know (OpenSSH orders HostKeyAlgorithms the same way).
        let mut keys = preferred.key.to_vec();
        keys.sort_by_key(|algorithm| !known.contains(&known_hosts::family(algorithm)));
        preferred.key = Cow::Owned(keys);
    }
    client::Config {
        // Without it every request waits on Nagle + delayed ACK (~40 ms a command).
        nodelay: true,
        keepalive_interval: settings.server_alive_interval,
        keepalive_max: settings.server_alive_count_max,
        preferred,
        ..client::Config::default()
    }
}

impl Connection {
    /// Opens a session channel for one command.
    pub async fn open_session(&self) -> Result<Channel<Msg>, ConnectorError> {
        let channel = self.handle.channel_open_session().await.map_err(|error| {
            if self.handle.is_closed() {
                ConnectorError::from(self.lost("before the command started"))
            } else {
                ConnectorError::from(SshError::Channel {
                    host: self.host.clone(),
                    what: "a session channel".to_owned(),
                    detail: error.to_string(),
                })
            }
        })?;
        if self.forward_agent {
            // A server that refuses forwarding still runs the command.
            channel.agent_forward(false).await.ok();
        }
        Ok(channel)
    }

    /// Whether the connection has gone away.
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// The error for a connection that went away `during` something (`while the
    /// command ran`), with the reason russh gave when it has one.
    pub fn lost(&self, during: &'static str) -> SshError {
        let reason = self.ended.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        SshError::Lost {
            host: self.host.clone(),
            address: self.address.clone(),
            during,
            reason: reason.unwrap_or_else(|| "the session ended".to_owned()),
        }
    }

    /// The SFTP session, opened on first use; `None` when the server has no SFTP
    /// subsystem or `ssh_file_transfer_protocol` is `scp`.
    pub async fn sftp(&self) -> Option<&SftpSession> {
        if self.file_transfer == FileTransferProtocol::Scp {
            return None;
        }
        self.sftp
            .get_or_init(|| async {
                match self.open_sftp().await {
                    Ok(session) => Some(session),
                    Err(error) => {
                        log::debug!("`{}`: no SFTP ({error}); files move through `cat`", self.host);
                        None
                    }
                }
            })
            .await
            .as_ref()
    }

    async fn open_sftp(&self) -> Result<SftpSession, String> {
        let mut channel = self.handle.channel_open_session().await.map_err(|error| error.to_string())?;
        channel.request_subsystem(true, "sftp").await.map_err(|error| error.to_string())?;
        loop {
            match channel.wait().await {
                Some(ChannelMsg::Success) => break,
                Some(ChannelMsg::Failure) => return Err("the server refused the sftp subsystem".to_owned()),
                None | Some(ChannelMsg::Close | ChannelMsg::Eof) => return Err("the channel closed".to_owned()),
                Some(_) => {}
            }
        }
        SftpSession::new(channel.into_stream()).await.map_err(|error| error.to_string())
    }

    /// The path of this connection's sudo askpass helper, written on first use. The
    /// helper holds no secret: it prints the variable the wrapped command reads from
    /// its own standard input (see [`super::exec::prepare`]).
    pub async fn askpass(&self, temp_dir: Option<&str>) -> Result<String, ConnectorError> {
        let mut guard = self.askpass.lock().await;
        if let Some(path) = guard.as_ref() {
            return Ok(path.clone());
        }
        let template = match temp_dir {
            Some(directory) => StringCommand::new().quoted(format!("{directory}/oxinfra-askpass-XXXXXXXXXXXX")),
            None => StringCommand::raw("\"${TMPDIR:-/tmp}/oxinfra-askpass-XXXXXXXXXXXX\""),
        };
        let script = format!("#!/bin/sh\nprintf '%s\\n' \"${SUDO_PASSWORD_VARIABLE}\"\n");
        let command = StringCommand::raw("umask 077 && helper=$(mktemp")
            .nested(template)
            .text(") && printf '%s'")
            .quoted(script)
            .text("> \"$helper\" && chmod 700 \"$helper\" && printf '%s\\n' \"$helper\"");
        let output = exec::execute(self, exec::Request::plain(command.raw_value())).await?;
        let lines = output.stdout_lines();
        match (output.exit_code, lines.as_slice()) {
            (Some(0), [path]) if !path.is_empty() => {
                *guard = Some(path.clone());
                Ok(path.clone())
            }
            _ => Err(ConnectorError::Transfer(format!(
                "`{}`: could not write the sudo askpass helper: {}",
                self.host,
                output.stderr_lines().join(" ")
            ))),
        }
    }

    /// Removes the askpass helper and closes the connection and its jump hosts.
    pub async fn close(&self) {
        if let Some(path) = self.askpass.lock().await.take() {
            let command = StringCommand::raw("rm -f").quoted(path);
            // The host may be gone already; the helper holds no secret.
            exec::execute(self, exec::Request::plain(command.raw_value())).await.ok();
        }
        if let Some(Some(sftp)) = self.sftp.get() {
            sftp.close().await.ok();
        }
        self.handle.disconnect(Disconnect::ByApplication, "", "en").await.ok();
        for hop in self.hops.iter().rev() {
            hop.disconnect(Disconnect::ByApplication, "", "en").await.ok();
        }
        let child = self.proxy.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(mut child) = child {
            child.kill().await.ok();
        }
    }
}
