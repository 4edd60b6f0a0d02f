//! The run: inventory and data, operation order across hosts, batched and cached
//! facts, parallel execution through connectors, events and the human output. Also the
//! runner of pyinfra-format fixtures ([`fixtures`]).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fixtures;
