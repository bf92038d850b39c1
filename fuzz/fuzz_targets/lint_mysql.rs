//! A MySQL/MariaDB migration file through the whole lint pipeline.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::lint(data, sluice_core::Dialect::MySql));
