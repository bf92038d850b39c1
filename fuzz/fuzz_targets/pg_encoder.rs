//! Sluice's parse-tree encoder against libpg_query's protobuf path (differential).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::pg_encoder(data));
