//! Suppression comments (`sluice:ignore`, `sluice:ignore-file`) through the lexer and their parser.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::suppression(data));
