//! Where commands run. Each connector implements [`oxinfra_core::Connector`]; the
//! engine picks one per host from its name (`@local`, later `@ssh/...`, `@docker/...`).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fake;
pub mod local;
pub mod unavailable;

pub use fake::FakeConnector;
pub use local::LocalConnector;

use std::sync::Arc;

use oxinfra_core::Connector;
use serde_json::{Map, Value};

/// The connector for an inventory host name and its data (`ssh_*` keys and the like):
/// `@local`, `@fake/...`. A host no connector can serve gets one that fails to
/// connect with the reason, so that it fails alone and the others run.
pub fn connector_for(name: &str, data: &Map<String, Value>) -> Arc<dyn Connector> {
    let _ = data;
    if name == "@local" {
        return Arc::new(LocalConnector::new());
    }
    if name == "@fake" || name.starts_with("@fake/") {
        return Arc::new(FakeConnector);
    }
    Arc::new(unavailable::Unavailable::new(format!("no connector for `{name}` yet: only @local and @fake are supported")))
}
