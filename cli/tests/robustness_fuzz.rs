//! The fuzz targets on stable Rust, bounded: every seed (`fuzz/seeds`, the fixtures of the
//! target's kind) and crash regression is replayed through the same functions the cargo-fuzz
//! binaries call (`fuzz/targets.rs`), then random mutations of them run for a few seconds from a
//! fixed seed.
//!
//! `SLUICE_FUZZ_SECONDS` sets the mutation time per target (default 3), `SLUICE_FUZZ_SEED` the
//! seed. A failing input is written next to the test's temp files and its path printed.

#[path = "../../fuzz/targets.rs"]
mod targets;

use sluice_core::Dialect;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Files of a directory, sorted by name (empty when it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// Files under `dir` (recursively) whose name satisfies `keep`, sorted by path.
fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for p in std::fs::read_dir(&d).into_iter().flatten().filter_map(Result::ok).map(|e| e.path()) {
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Inputs of one target: the seeds of `fuzz/seeds/<target>` (shapes the fixtures lack), the
/// fixtures of its kind (the same ones `fuzz/run.sh` gives cargo-fuzz) and its crash regressions.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = repo();
    let fixtures = root.join("fixtures");
    let sql = |p: &Path| p.extension().is_some_and(|e| e == "sql");
    let mut paths = files(&root.join("fuzz/seeds").join(target));
    match target {
        "lint_postgres" | "pg_encoder" => {
            paths.extend(files_under(&fixtures.join("postgres"), &sql));
            paths.extend(files_under(&fixtures.join("projects"), &sql));
        }
        "lint_mysql" => paths.extend(files_under(&fixtures.join("mysql"), &sql)),
        "config" => paths.extend(files_under(&fixtures, &|p| p.ends_with("sluice.toml"))),
        "suppression" => paths.extend(files_under(&fixtures, &|p| {
            sql(p) && std::fs::read_to_string(p).is_ok_and(|t| t.contains("sluice:ignore"))
        })),
        _ => panic!("unknown target {target}"),
    }
    paths.extend(files(&root.join("fixtures/robustness").join(target)));
    paths.into_iter().map(|p| (p.clone(), std::fs::read(&p).expect("read seed"))).collect()
}

/// Dictionary entries of `fuzz/sql.dict` (quoted strings with `\\`, `\"` and `\xNN` escapes).
fn dictionary() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(repo().join("fuzz/sql.dict")).expect("read dictionary");
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(body) = line.strip_prefix('"').and_then(|l| l.strip_suffix('"')) else { continue };
        let (mut word, mut bytes) = (Vec::new(), body.bytes());
        while let Some(b) = bytes.next() {
            if b != b'\\' {
                word.push(b);
                continue;
            }
            match bytes.next() {
                Some(b'x') => {
                    let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                    let hex = std::str::from_utf8(&hex).expect("hex escape");
                    word.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                }
                Some(c) => word.push(c),
                None => {}
            }
        }
        out.push(word);
    }
    out
}

/// One random edit of `data`: flip, insert, delete, duplicate, a dictionary word, or a splice
/// with another input.
fn mutate(rng: &mut fastrand::Rng, data: &mut Vec<u8>, dict: &[Vec<u8>], others: &[(PathBuf, Vec<u8>)]) {
    let at = |rng: &mut fastrand::Rng, len: usize| rng.usize(..=len);
    match rng.u8(..6) {
        0 if !data.is_empty() => {
            let i = rng.usize(..data.len());
            data[i] ^= 1 << rng.u8(..8);
        }
        1 => {
            let i = at(rng, data.len());
            data.insert(i, rng.u8(..));
        }
        2 if !data.is_empty() => {
            let start = rng.usize(..data.len());
            let end = (start + rng.usize(1..=16)).min(data.len());
            data.drain(start..end);
        }
        3 if !data.is_empty() => {
            let start = rng.usize(..data.len());
            let end = (start + rng.usize(1..=64)).min(data.len());
            let chunk = data[start..end].to_vec();
            let i = at(rng, data.len());
            data.splice(i..i, chunk);
        }
        4 if !dict.is_empty() => {
            let word = &dict[rng.usize(..dict.len())];
            let i = at(rng, data.len());
            data.splice(i..i, word.iter().copied());
        }
        _ if !others.is_empty() => {
            let other = &others[rng.usize(..others.len())].1;
            let cut = at(rng, data.len());
            let from = at(rng, other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        _ => data.push(rng.u8(..)),
    }
    data.truncate(targets::MAX_INPUT);
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Replays the inputs of `target` through `run`, then mutates them for the time budget.
fn fuzz(target: &str, run: impl Fn(&[u8])) {
    let seeds = inputs(target);
    assert!(seeds.len() > 5, "only {} seeds for {target}", seeds.len());
    let failure_dir = tempfile::Builder::new().prefix("sluice-fuzz-").tempdir().expect("temp dir").keep();
    let check = |data: &[u8], what: &str| {
        if catch_unwind(AssertUnwindSafe(|| run(data))).is_err() {
            let path = failure_dir.join(format!("{target}-crash"));
            std::fs::write(&path, data).expect("write failing input");
            panic!("{target}: {what} panicked; input saved to {}", path.display());
        }
    };
    for (path, data) in &seeds {
        check(data, &format!("replay of {}", path.display()));
    }
    let seed = env_u64("SLUICE_FUZZ_SEED", 0x5eed_5a1c);
    let budget = Duration::from_secs(env_u64("SLUICE_FUZZ_SECONDS", 3));
    let dict = dictionary();
    let mut rng = fastrand::Rng::with_seed(seed);
    let started = Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < budget {
        let mut data = seeds[rng.usize(..seeds.len())].1.clone();
        for _ in 0..rng.usize(1..=8) {
            mutate(&mut rng, &mut data, &dict, &seeds);
        }
        check(&data, &format!("mutation {runs} (seed {seed:#x})"));
        runs += 1;
    }
    let _ = std::fs::remove_dir_all(&failure_dir);
    eprintln!("{target}: {} inputs replayed, {runs} mutations in {budget:?} (seed {seed:#x})", seeds.len());
    assert!(runs > 0 || budget.is_zero(), "{target}: no mutation ran");
}

/// Runs `f` on a thread with the stack the CLI gives its workers.
fn with_cli_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(sluice_core::RECOMMENDED_STACK_SIZE)
        .spawn(f)
        .expect("spawn")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

#[test]
fn lint_postgres() {
    with_cli_stack(|| fuzz("lint_postgres", |d| targets::lint(d, Dialect::Postgres)));
}

#[test]
fn pg_encoder() {
    with_cli_stack(|| fuzz("pg_encoder", targets::pg_encoder));
}

#[test]
fn lint_mysql() {
    with_cli_stack(|| fuzz("lint_mysql", |d| targets::lint(d, Dialect::MySql)));
}

#[test]
fn config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    with_cli_stack(move || fuzz("config", |d| targets::config(d, &path)));
}

#[test]
fn suppression() {
    with_cli_stack(|| fuzz("suppression", targets::suppression));
}
