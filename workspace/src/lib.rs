//! The file-system edge shared by the front ends: discovering and loading `sluice.toml` exactly
//! the same way for the CLI and the language server.

pub mod discover;
pub mod integrity;
pub mod migrations;

pub use discover::{ConfigError, Discovery, IoError, Overrides, Resolved, CONFIG_FILE};
