//! didChange -> publishDiagnostics latency on a 2,000-statement migration, over an in-memory
//! duplex stream with real LSP JSON-RPC framing, debounce off, with the `sluice` binary's
//! allocator (mimalloc). `make bench-lsp` runs it.
//!
//! Each edit rewrites one column name inside one statement (a different statement each time),
//! the way a keystroke does, so only that statement is re-parsed (the `ParseCache`).

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::TestClient;
use serde_json::json;
use std::time::{Duration, Instant};

/// The allocator the `sluice` binary, and so `sluice lsp`, runs with (cli/src/allocator.rs).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The allocator setting `sluice lsp` runs with (`sluice::allocator::tune_for_server`): freed
/// pages go back to the system after a second. (The binary also commits arena memory on demand,
/// a setting fixed before the first allocation; that one changes peak memory, not latency.)
fn tune_allocator() {
    // SAFETY: setting an option is a plain store into mimalloc's option table; the id exists in
    // the linked mimalloc (its version is pinned through Cargo.lock).
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000);
    }
}

const STATEMENTS: usize = 2_000;
const EDITS: usize = 200;
const URI: &str = "file:///bench/V1__big.sql";

fn statement(i: usize) -> String {
    match i % 4 {
        0 => format!("ALTER TABLE orders_{i} ADD COLUMN note_{i} text;\n"),
        1 => format!("CREATE INDEX idx_{i} ON orders_{i} (customer_id, created_at);\n"),
        2 => format!("UPDATE orders_{i} SET status = 'done' WHERE id = {i};\n"),
        _ => format!("CREATE TABLE IF NOT EXISTS archive_{i} (id bigint PRIMARY KEY, body text NOT NULL);\n"),
    }
}

/// CPU time used so far by all threads of this process (client and server), from
/// `/proc/self/task/*/schedstat` (Linux); `None` elsewhere. Unlike wall time, it does not grow
/// when other processes compete for the cores.
fn process_cpu() -> Option<Duration> {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn run() {
    let mut c = TestClient::start(sluice_lsp::Options { debounce: Duration::ZERO, ..Default::default() });
    c.initialize_with(false, None, json!({"debounceMs": 0})).await;
    let mut text = String::from("SET lock_timeout = '5s';\n");
    for i in 0..STATEMENTS {
        text.push_str(&statement(i));
    }
    let started = Instant::now();
    c.open(URI, "sql", 1, &text);
    let first = c.diagnostics(URI, 1).await;
    println!(
        "open: {} statements, {} bytes, {} diagnostics in {:.1} ms (cold parse)",
        STATEMENTS + 1,
        text.len(),
        first.len(),
        started.elapsed().as_secs_f64() * 1e3
    );

    let cpu_before = process_cpu();
    let mut latencies = Vec::with_capacity(EDITS);
    let mut edited = text.clone();
    let mut texts = Vec::with_capacity(EDITS);
    for n in 0..EDITS {
        // Statement k sits on line k + 1; alternate between statement kinds across the file.
        let k = (n * 997) % STATEMENTS;
        let line = (k + 1) as u64;
        let version = n as i64 + 2;
        // Replace the first character of the line ('A', 'C', 'U') by itself in lower case and
        // back: a one-character edit that changes the statement's text.
        let first_char = statement(k).chars().next().unwrap();
        let replacement = if n % 2 == 0 { first_char.to_ascii_lowercase() } else { first_char }.to_string();
        let at = edited.match_indices('\n').nth(k).map(|(i, _)| i + 1).unwrap();
        edited.replace_range(at..at + 1, &replacement);
        texts.push(edited.clone());
        let t = Instant::now();
        c.change(
            URI,
            version,
            json!([{"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 1}}, "text": replacement}]),
        );
        let diags = c.diagnostics(URI, version).await;
        latencies.push(t.elapsed());
        assert_eq!(diags.len(), first.len(), "a case change does not change the findings");
    }
    let cpu = process_cpu().zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
    latencies.sort();
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    println!(
        "didChange -> publishDiagnostics over {EDITS} edits: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms, mean {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.95).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3,
    );
    if let Some(cpu) = cpu {
        println!(
            "CPU per edit (client and server threads, independent of other load): mean {:.2} ms",
            cpu.as_secs_f64() * 1e3 / EDITS as f64
        );
    }
    // The floor: parsing (with the cache) and linting the same edits in-process, no LSP, each
    // version reusing the analysis of the one before.
    let config = sluice_rules::LintConfig::default();
    let linter: sluice_lsp::Linter = std::sync::Arc::new(sluice_rules::lint_reusing);
    let mut cache = sluice_core::ParseCache::new();
    let mut previous =
        sluice_lsp::analysis::analyze(text.clone(), 1, Ok(config.clone()), &mut cache, &linter, None, None);
    let mut floor = Vec::new();
    // Where the floor goes: parsing with the cache, the file context, the rules.
    let (mut parse, mut context, mut full, mut rules) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut previous_parse = sluice_core::parse_file(&text, config.settings.dialect);
    let mut previous_context = sluice_core::FileContext::analyze(&previous_parse, &config.settings);
    let mut phase_cache = sluice_core::ParseCache::new();
    let _ = sluice_core::parse_file_cached(&text, config.settings.dialect, &mut phase_cache);
    for t in &texts {
        let started = Instant::now();
        let parsed = sluice_core::parse_file_cached(t, config.settings.dialect, &mut phase_cache);
        parse.push(started.elapsed());
        let started = Instant::now();
        let alone = sluice_core::History { pending: true, ..Default::default() };
        let fcx =
            sluice_core::FileContext::reanalyze(&parsed, &config.settings, &alone, &previous_context, &previous_parse);
        context.push(started.elapsed());
        let started = Instant::now();
        drop(sluice_core::FileContext::analyze(&parsed, &config.settings));
        full.push(started.elapsed());
        let started = Instant::now();
        let d = sluice_rules::lint_in_context(&parsed, &fcx, &config);
        rules.push(started.elapsed());
        assert_eq!(d.len(), first.len());
        (previous_parse, previous_context) = (parsed, fcx);
    }
    for v in [&mut parse, &mut context, &mut full, &mut rules] {
        v.sort();
    }
    println!(
        "floor by phase, p50 / p95: parse (cached) {:.2} / {:.2} ms, context {:.2} / {:.2} ms \
         (a full analysis instead: {:.2} / {:.2} ms), rules {:.2} / {:.2} ms",
        percentile(&parse, 0.50).as_secs_f64() * 1e3,
        percentile(&parse, 0.95).as_secs_f64() * 1e3,
        percentile(&context, 0.50).as_secs_f64() * 1e3,
        percentile(&context, 0.95).as_secs_f64() * 1e3,
        percentile(&full, 0.50).as_secs_f64() * 1e3,
        percentile(&full, 0.95).as_secs_f64() * 1e3,
        percentile(&rules, 0.50).as_secs_f64() * 1e3,
        percentile(&rules, 0.95).as_secs_f64() * 1e3,
    );
    for (n, t) in texts.into_iter().enumerate() {
        let started = Instant::now();
        let a = sluice_lsp::analysis::analyze(
            t,
            n as i32 + 2,
            Ok(config.clone()),
            &mut cache,
            &linter,
            None,
            Some(&previous),
        );
        floor.push(started.elapsed());
        assert_eq!(a.diagnostics.len(), first.len());
        previous = a;
    }
    floor.sort();
    println!(
        "floor (parse with cache + lint, in-process): p50 {:.2} ms, p95 {:.2} ms",
        percentile(&floor, 0.50).as_secs_f64() * 1e3,
        percentile(&floor, 0.95).as_secs_f64() * 1e3
    );
    let p95 = percentile(&latencies, 0.95);
    if p95 > Duration::from_millis(20) {
        println!("WARNING: p95 above the 20 ms target");
    }
    assert!(c.shutdown_and_exit().await);
}

fn main() {
    tune_allocator();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}
