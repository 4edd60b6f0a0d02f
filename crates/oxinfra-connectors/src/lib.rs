//! Where commands run. Each connector implements [`oxinfra_core::Connector`]; the
//! engine picks one per host from its name (`@local`, later `@ssh/...`, `@docker/...`).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fake;
pub mod local;

pub use fake::FakeConnector;
pub use local::LocalConnector;
