//! `sluice.toml` text through parsing, validation, rule-name checks and error rendering.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "../targets.rs"]
mod targets;

/// One scratch directory per fuzzing process (libFuzzer workers are separate processes).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sluice-fuzz-config-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::config(data, scratch()));
