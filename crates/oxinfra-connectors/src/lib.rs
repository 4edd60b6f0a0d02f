//! Where commands run. Each connector implements [`oxinfra_core::Connector`]; the
//! engine picks one per host from its name (`@local`, `@ssh/...` or a plain host
//! name, later `@docker/...`).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fake;
pub mod local;
pub mod ssh;
pub mod unavailable;

pub use fake::FakeConnector;
pub use local::LocalConnector;
pub use ssh::SshConnector;

use std::sync::Arc;

use oxinfra_core::Connector;
use serde_json::{Map, Value};

/// The connector for an inventory host name and its data (`ssh_*` keys and the like):
/// `@local`, `@fake/...`, and SSH for `@ssh/host` and plain host names. A host no
/// connector can serve (or whose data is of the wrong type) gets one that fails to
/// connect with the reason, so that it fails alone and the others run.
pub fn connector_for(name: &str, data: &Map<String, Value>) -> Arc<dyn Connector> {
    if name == "@local" {
        return Arc::new(LocalConnector::new());
    }
    if name == "@fake" || name.starts_with("@fake/") {
        return Arc::new(FakeConnector);
    }
    if name.starts_with("@ssh/") || !name.starts_with('@') {
        return match SshConnector::from_data(name, data) {
            Ok(connector) => Arc::new(connector),
            Err(error) => Arc::new(unavailable::Unavailable::new(format!("`{name}`: {error}"))),
        };
    }
    Arc::new(unavailable::Unavailable::new(format!(
        "no connector for `{name}` yet: only @local, @ssh and @fake are supported"
    )))
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
