//! Sluice's parse-tree encoder against libpg_query's protobuf path, and lowering from lint trees
//! against lowering from whole trees (differential).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::pg_encoder(data));
