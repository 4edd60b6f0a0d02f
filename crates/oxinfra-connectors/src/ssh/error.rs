//! Why an SSH connection could not be made, one variant per step (configuration,
//! name resolution, TCP, handshake, host key, authentication, channel), each naming the
//! inventory host, and [`SshError::Lost`] for a connection that went away later. The
//! engine sees the first as [`ConnectorError::Connect`] (`could not connect: ...`) and a
//! lost connection as [`ConnectorError::Io`], since it did connect.

use oxinfra_core::ConnectorError;

use super::known_hosts::HostKeyError;

/// A failed step of connecting to a host.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// `ssh -G` failed or gave something unusable.
    #[error("`{host}`: could not resolve the ssh configuration: {detail}")]
    Config {
        /// The host.
        host: String,
        /// What went wrong.
        detail: String,
    },
    /// The host name did not resolve.
    #[error("`{host}`: could not resolve `{address}`: {detail}\nhint: check the name, or give the address with `ssh_hostname` in the host's data")]
    Resolve {
        /// The host.
        host: String,
        /// The name looked up.
        address: String,
        /// The resolver's answer.
        detail: String,
    },
    /// Nothing listens on the port.
    #[error("`{host}`: TCP connect to `{address}` refused\nhint: is sshd running there, and on that port (`ssh_port`, `Port` in ~/.ssh/config)?")]
    Refused {
        /// The host.
        host: String,
        /// `host:port`.
        address: String,
    },
    /// `ConnectTimeout` expired.
    #[error(
        "`{host}`: {step} `{address}` timed out after {seconds}s\nhint: is the host up and reachable? `ssh_connect_timeout` (or `ConnectTimeout`) waits longer"
    )]
    Timeout {
        /// The host.
        host: String,
        /// What was being done (`TCP connect to`, `ssh handshake with`).
        step: &'static str,
        /// `host:port`.
        address: String,
        /// The timeout.
        seconds: u64,
    },
    /// Any other TCP failure.
    #[error("`{host}`: TCP connect to `{address}` failed: {detail}")]
    Tcp {
        /// The host.
        host: String,
        /// `host:port`.
        address: String,
        /// The system's error.
        detail: String,
    },
    /// The SSH protocol exchange failed before authentication.
    #[error("`{host}`: ssh handshake with `{address}` failed: {detail}")]
    Handshake {
        /// The host.
        host: String,
        /// `host:port`.
        address: String,
        /// What russh reported.
        detail: String,
    },
    /// The host key is unknown, changed or revoked.
    #[error("`{host}`: {source}")]
    HostKey {
        /// The host.
        host: String,
        /// The verdict.
        source: Box<HostKeyError>,
    },
    /// A private key could not be used.
    #[error("`{host}`: could not load the private key `{path}`: {detail}\nhint: an encrypted key needs `ssh_key_password` (or load it with `ssh-add`)")]
    Key {
        /// The host.
        host: String,
        /// The key file.
        path: String,
        /// Why.
        detail: String,
    },
    /// No method the server accepts succeeded.
    #[error(
        "`{host}`: authentication as `{user}` at `{address}` failed: tried {tried}{accepted}\n\
         hint: check the user (`ssh_user`) and key (`ssh_key`, `ssh-add -l` for the agent); `ssh -v {user}@HOST` shows what OpenSSH tries"
    )]
    Authentication {
        /// The host.
        host: String,
        /// The login user.
        user: String,
        /// `host:port`.
        address: String,
        /// The methods tried, in order.
        tried: String,
        /// `; the server accepts ...` when the server said.
        accepted: String,
    },
    /// The proxy command could not be started.
    #[error("`{host}`: could not start the ProxyCommand `{command}`: {detail}")]
    ProxyCommand {
        /// The host.
        host: String,
        /// The command.
        command: String,
        /// Why.
        detail: String,
    },
    /// A jump host failed; `source` names the jump host as `ProxyJump` writes it.
    #[error("`{host}`: through the jump host {source}")]
    Jump {
        /// The host.
        host: String,
        /// What failed there.
        source: Box<SshError>,
    },
    /// A channel (session, direct-tcpip, sftp) could not be opened.
    #[error("`{host}`: could not open {what}: {detail}")]
    Channel {
        /// The host.
        host: String,
        /// Which channel.
        what: String,
        /// Why.
        detail: String,
    },
    /// An open connection went away (the server stopped, the network failed).
    #[error("`{host}`: the connection to `{address}` was lost {during}: {reason}")]
    Lost {
        /// The host.
        host: String,
        /// `host:port`.
        address: String,
        /// When (`while the command ran`).
        during: &'static str,
        /// Why the session ended, as russh reported it.
        reason: String,
    },
}

impl SshError {
    /// Whether trying again may help (`ssh_connect_retries`): network and protocol
    /// failures, not a refused host key or failed authentication.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Resolve { .. }
            | Self::Refused { .. }
            | Self::Timeout { .. }
            | Self::Tcp { .. }
            | Self::Handshake { .. }
            | Self::Channel { .. }
            | Self::Lost { .. } => true,
            Self::Jump { source, .. } => source.is_transient(),
            Self::Config { .. } | Self::HostKey { .. } | Self::Key { .. } | Self::Authentication { .. } | Self::ProxyCommand { .. } => false,
        }
    }
}

impl From<SshError> for ConnectorError {
    fn from(error: SshError) -> Self {
        match error {
            // It did connect: "could not connect" would mislead.
            SshError::Lost { host, address, during, reason } => ConnectorError::Io {
                context: format!("`{host}`: the connection to `{address}` was lost {during}"),
                source: std::io::Error::new(std::io::ErrorKind::ConnectionAborted, reason),
            },
            other => ConnectorError::Connect(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_not_reported_as_could_not_connect() {
        let lost = SshError::Lost {
            host: "web1".into(),
            address: "10.0.0.1:22".into(),
            during: "while the command ran",
            reason: "early eof".into(),
        };
        let shown = ConnectorError::from(lost).to_string();
        assert_eq!(shown, "`web1`: the connection to `10.0.0.1:22` was lost while the command ran: early eof");
        let refused = ConnectorError::from(SshError::Refused {
            host: "web1".into(),
            address: "10.0.0.1:22".into(),
        })
        .to_string();
        assert!(
            refused.starts_with("could not connect: `web1`: TCP connect to `10.0.0.1:22` refused\nhint: "),
            "{refused}"
        );
    }
}
