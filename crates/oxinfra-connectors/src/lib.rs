//! Where commands run. Each connector implements [`oxinfra_core::Connector`]; the
//! engine picks one per host from its name: `@local`, `@ssh/...` or a plain host name,
//! `@docker/...`, `@podman/...`, `@dockerssh/...`, `@podmanssh/...`, `@chroot/...`,
//! `@kubernetes/...`, `@fake`. The inventory connectors `@terraform` and `@vagrant`
//! become SSH hosts in the Python front; their hosts arrive here as `@terraform/NAME`
//! and `@vagrant/NAME` with `ssh_*` data.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod chroot;
pub mod container;
pub mod docker;
pub mod fake;
pub mod kubernetes;
pub mod local;
pub mod notice;
pub mod process;
pub mod ssh;
pub mod unavailable;

pub use chroot::ChrootConnector;
pub use docker::DockerConnector;
pub use fake::FakeConnector;
pub use kubernetes::KubernetesConnector;
pub use local::LocalConnector;
pub use ssh::SshConnector;

use std::sync::Arc;

use oxinfra_core::Connector;
use serde_json::{Map, Value};

/// The connector for an inventory host name and its data (`ssh_*`, `docker_*`,
/// `chroot_*`, `kubernetes_*` keys). A host no connector can serve (or whose data is of
/// the wrong type) gets one that fails to connect with the reason, so that it fails
/// alone and the others run.
pub fn connector_for(name: &str, data: &Map<String, Value>) -> Arc<dyn Connector> {
    if name == "@local" {
        return Arc::new(LocalConnector::new());
    }
    if name == "@fake" || name.starts_with("@fake/") {
        return Arc::new(FakeConnector);
    }
    let Some(spec) = name.strip_prefix('@') else {
        return ssh(name, name, data);
    };
    let (kind, argument) = spec.split_once('/').unwrap_or((spec, ""));
    let built = match kind {
        // The hosts of the inventory connectors are SSH hosts named after them.
        "ssh" | "terraform" | "vagrant" => return ssh(name, argument, data),
        "docker" => DockerConnector::local(docker::Tool::Docker, name, argument, data).map(|connector| Arc::new(connector) as Arc<dyn Connector>),
        "podman" => DockerConnector::local(docker::Tool::Podman, name, argument, data).map(|connector| Arc::new(connector) as Arc<dyn Connector>),
        "dockerssh" => DockerConnector::over_ssh(docker::Tool::Docker, name, argument, data).map(|connector| Arc::new(connector) as Arc<dyn Connector>),
        "podmanssh" => DockerConnector::over_ssh(docker::Tool::Podman, name, argument, data).map(|connector| Arc::new(connector) as Arc<dyn Connector>),
        "chroot" => ChrootConnector::new(name, argument, data).map(|connector| Arc::new(connector) as Arc<dyn Connector>),
        "kubernetes" => KubernetesConnector::new(name, argument, data).map(|connector| Arc::new(connector) as Arc<dyn Connector>),
        _ => {
            return Arc::new(unavailable::Unavailable::new(format!(
                "no connector `{kind}` for `{name}`: use @local, @ssh, @docker, @podman, @dockerssh, @podmanssh, @chroot, @kubernetes, @terraform, @vagrant or @fake"
            )));
        }
    };
    built.unwrap_or_else(|error| Arc::new(unavailable::Unavailable::new(format!("`{name}`: {error}"))))
}

/// An SSH host; `hostname` is used when the data has no `ssh_hostname`.
fn ssh(name: &str, hostname: &str, data: &Map<String, Value>) -> Arc<dyn Connector> {
    let options = ssh::SshOptions::from_data(hostname, data);
    match options {
        Ok(options) => Arc::new(SshConnector::new(name, options)),
        Err(error) => Arc::new(unavailable::Unavailable::new(format!("`{name}`: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_ssh_data_fails_at_connect_naming_the_key() {
        let data: Map<String, Value> = serde_json::from_str(r#"{"ssh_port": "2222"}"#).unwrap_or_default();
        let connector = connector_for("web1", &data);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|error| unreachable!("{error}"));
        let error = runtime.block_on(connector.connect()).err().map(|error| error.to_string()).unwrap_or_default();
        assert_eq!(
            error,
            "could not connect: `web1`: host data `ssh_port` must be an integer, got a string `\"2222\"`"
        );
    }
}
