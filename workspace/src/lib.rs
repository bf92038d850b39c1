//! The file-system edge shared by the front ends: discovering and loading `sluice.toml` exactly
//! the same way for the CLI and the language server.

pub mod discover;
pub mod integrity;
pub mod migrations;

pub use discover::{ConfigError, Discovery, IoError, Overrides, Resolved, CONFIG_FILE};

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `path` made absolute like [`std::path::absolute`], against the current directory read once
/// per process: a run resolves every file it lints several times, and Sluice never changes
/// directory.
pub fn absolute(path: &Path) -> PathBuf {
    let joined;
    let path = match cwd() {
        Some(cwd) if path.is_relative() => {
            joined = cwd.join(path);
            joined.as_path()
        }
        _ => path,
    };
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The current directory as [`absolute`] sees it (empty if it cannot be read).
pub fn current_dir() -> PathBuf {
    cwd().cloned().unwrap_or_default()
}

fn cwd() -> Option<&'static PathBuf> {
    static CWD: OnceLock<Option<PathBuf>> = OnceLock::new();
    CWD.get_or_init(|| std::env::current_dir().ok()).as_ref()
}
