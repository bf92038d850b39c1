//! `sluice.sum`: a chained SHA-256 over the migrations of one directory, in apply order, so that
//! editing, removing or reordering a migration that was already summed, or adding one that sorts
//! before the summed ones, is detected before it ships.
//!
//! The file holds one line per migration, `<path> <hash>`, then `total <hash>`:
//!
//! * `h_0` is empty and `h_i = SHA-256(h_{i-1} || path || 0x00 || bytes)`, where `h_{i-1}` is the
//!   32 raw bytes of the previous hash, `path` the file's path relative to the directory (with `/`
//!   separators) and `bytes` its content. Each line therefore commits to every file before it.
//! * `total` is the SHA-256 of the migration lines (each followed by `\n`), which catches a
//!   `sluice.sum` edited by hand or stitched together by a merge.
//!
//! Lines follow the apply order, so a new migration appends one line and rewrites the total: two
//! branches that both add migrations conflict on those few lines, which is the signal that their
//! migrations were written in parallel and must be ordered before either ships.
//!
//! Flyway repeatable migrations (`R__`) are not summed: the tool re-applies them whenever they
//! change, so editing them is their normal life.

use crate::migrations::MigrationSet;
use sha2::{Digest, Sha256};
use sluice_core::framework::FileRole;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The file name of the sum, next to the migrations.
pub const SUM_FILE: &str = "sluice.sum";

const HEADER: &str = "# sluice.sum: chained SHA-256 of each migration in apply order. Written by `sluice hash`,\n\
# checked by `sluice lint` and `sluice check-integrity`. Regenerate it, do not edit it.\n";

/// One migration to sum: its path relative to the directory and its bytes.
#[derive(Clone, Debug)]
pub struct SumInput {
    pub name: String,
    pub bytes: Vec<u8>,
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

fn link(prev: &[u8], name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(name.as_bytes());
    h.update([0u8]);
    h.update(bytes);
    h.finalize().to_vec()
}

fn total(lines: &[String]) -> String {
    let mut h = Sha256::new();
    for l in lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// The text of `sluice.sum` for `files`, given in apply order.
pub fn render(files: &[SumInput]) -> String {
    let mut prev: Vec<u8> = Vec::new();
    let mut lines = Vec::with_capacity(files.len());
    for f in files {
        prev = link(&prev, &f.name, &f.bytes);
        lines.push(format!("{} {}", f.name, hex(&prev)));
    }
    let mut out = String::from(HEADER);
    for l in &lines {
        out.push_str(l);
        out.push('\n');
    }
    let _ = writeln!(out, "total {}", total(&lines));
    out
}

/// What is wrong with a migration directory against its `sluice.sum`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// A summed file's content changed.
    Edited,
    /// A summed file is gone.
    Removed,
    /// A summed file is now applied before a file it used to follow.
    Reordered,
    /// A file that is not summed sorts before a summed one.
    InsertedBefore,
    /// `sluice.sum` itself is malformed or its total does not match its lines.
    Corrupt,
}

/// One integrity problem. `file` is the migration it is about (relative to the directory), or
/// `None` when it is about `sluice.sum` itself; `sum_line` is the one-based line of `sluice.sum`
/// it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub file: Option<String>,
    pub sum_line: usize,
    pub message: String,
}

struct Entry {
    name: String,
    hash: Vec<u8>,
    line: usize,
}

/// Checks `files` (the directory's current migrations in apply order) against the text of its
/// `sluice.sum`. Files after the last summed one are new and fine.
pub fn check(sum_text: &str, files: &[SumInput]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut total_seen: Option<(String, usize)> = None;
    for (i, raw) in sum_text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let corrupt = |message: String| Problem { kind: ProblemKind::Corrupt, file: None, sum_line: line_no, message };
        if total_seen.is_some() {
            problems.push(corrupt("a line follows the `total` line; regenerate it with `sluice hash`".into()));
            continue;
        }
        let parsed = line.rsplit_once(' ').and_then(|(name, h)| Some((name, unhex(h)?)));
        match parsed {
            Some(("total", h)) => total_seen = Some((hex(&h), line_no)),
            Some((name, hash)) if !name.is_empty() => {
                lines.push(line.to_string());
                entries.push(Entry { name: name.to_string(), hash, line: line_no });
            }
            _ => problems.push(corrupt(format!(
                "malformed line `{line}` (expected `<migration> <64 hex digits>`); regenerate it with `sluice hash`"
            ))),
        }
    }
    let last_line = sum_text.lines().count().max(1);
    match total_seen {
        None => problems.push(Problem {
            kind: ProblemKind::Corrupt,
            file: None,
            sum_line: last_line,
            message: "the `total` line is missing; regenerate it with `sluice hash`".into(),
        }),
        Some((t, line)) if t != total(&lines) => problems.push(Problem {
            kind: ProblemKind::Corrupt,
            file: None,
            sum_line: line,
            message: "the total does not match the lines above it (edited by hand or merged); regenerate it with \
                      `sluice hash` once the migrations are in their final order"
                .into(),
        }),
        Some(_) => {}
    }

    let position: HashMap<&str, usize> = files.iter().enumerate().map(|(i, f)| (f.name.as_str(), i)).collect();
    let summed: HashMap<&str, &Entry> = entries.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut prev: &[u8] = &[];
    let mut last_present: Option<(&Entry, usize)> = None;
    for e in &entries {
        match position.get(e.name.as_str()) {
            None => problems.push(Problem {
                kind: ProblemKind::Removed,
                file: Some(e.name.clone()),
                sum_line: e.line,
                message: format!(
                    "{} was removed, but sluice.sum line {} records it: a migration that may have been applied \
                     must stay; write a new migration to undo it",
                    e.name, e.line
                ),
            }),
            Some(&pos) => {
                if link(prev, &e.name, &files[pos].bytes) != e.hash {
                    problems.push(Problem {
                        kind: ProblemKind::Edited,
                        file: Some(e.name.clone()),
                        sum_line: e.line,
                        message: format!(
                            "{} was edited after it was summed (sluice.sum line {}): a migration that may have been \
                             applied must not change; revert the edit and write a new migration",
                            e.name, e.line
                        ),
                    });
                }
                if let Some((before, before_pos)) = last_present {
                    if pos < before_pos {
                        problems.push(Problem {
                            kind: ProblemKind::Reordered,
                            file: Some(e.name.clone()),
                            sum_line: e.line,
                            message: format!(
                                "{} is now applied before {}, but sluice.sum records it after (lines {} and {}); \
                                 restore the original order",
                                e.name, before.name, before.line, e.line
                            ),
                        });
                    }
                }
                if last_present.is_none_or(|(_, p)| pos > p) {
                    last_present = Some((e, pos));
                }
            }
        }
        prev = &e.hash;
    }

    // The summed file that sorts first after each unsummed one, for the parallel-branch case.
    let last_summed_pos = files.iter().rposition(|f| summed.contains_key(f.name.as_str()));
    if let Some(last) = last_summed_pos {
        for (i, f) in files[..last].iter().enumerate() {
            if summed.contains_key(f.name.as_str()) {
                continue;
            }
            let Some(next) = files[i + 1..].iter().find_map(|g| summed.get(g.name.as_str())) else { continue };
            problems.push(Problem {
                kind: ProblemKind::InsertedBefore,
                file: Some(f.name.clone()),
                sum_line: next.line,
                message: format!(
                    "{} is new but sorts before {}, which is already summed (sluice.sum line {}): migrations were \
                     added in parallel; give it a version after the last summed migration, then run `sluice hash`",
                    f.name, next.name, next.line
                ),
            });
        }
    }
    problems.sort_by_key(|p| p.sum_line);
    problems
}

/// The files of `set` that are summed, in apply order (repeatable migrations are left out).
pub fn summed_files(set: &MigrationSet) -> Vec<(String, PathBuf)> {
    set.files
        .iter()
        .filter(|f| f.entry.role != FileRole::Repeatable)
        .map(|f| (f.entry.path.clone(), f.path.clone()))
        .collect()
}

/// Reads the summed files of `set`.
pub fn read_inputs(set: &MigrationSet) -> std::io::Result<Vec<SumInput>> {
    summed_files(set)
        .into_iter()
        .map(|(name, path)| std::fs::read(&path).map(|bytes| SumInput { name, bytes }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<SumInput> {
        list.iter().map(|(n, b)| SumInput { name: n.to_string(), bytes: b.as_bytes().to_vec() }).collect()
    }

    #[test]
    fn a_fresh_sum_checks_clean_and_new_files_after_it_are_fine() {
        let base = files(&[("1_a.sql", "A"), ("2_b.sql", "B")]);
        let sum = render(&base);
        assert!(check(&sum, &base).is_empty());
        let mut more = base.clone();
        more.push(SumInput { name: "3_c.sql".into(), bytes: b"C".to_vec() });
        assert!(check(&sum, &more).is_empty());
    }

    #[test]
    fn each_line_commits_to_the_files_before_it() {
        let a = render(&files(&[("1_a.sql", "A"), ("2_b.sql", "B")]));
        let b = render(&files(&[("1_a.sql", "A2"), ("2_b.sql", "B")]));
        let line = |s: &str, n: &str| s.lines().find(|l| l.starts_with(n)).map(str::to_string);
        assert_ne!(line(&a, "2_b.sql"), line(&b, "2_b.sql"));
        // Name and content are separated: moving a byte across the boundary changes the hash.
        let c = render(&files(&[("1_a.sqlX", "")]));
        let d = render(&files(&[("1_a.sql", "X")]));
        assert_ne!(c.lines().nth(2).map(|l| l.split(' ').nth(1)), d.lines().nth(2).map(|l| l.split(' ').nth(1)));
    }

    #[test]
    fn a_tampered_total_is_reported() {
        let base = files(&[("1_a.sql", "A")]);
        let sum = render(&base).replace("1_a.sql", "1_b.sql");
        let p = check(&sum, &files(&[("1_b.sql", "A")]));
        assert!(p.iter().any(|p| p.kind == ProblemKind::Corrupt && p.sum_line == 4), "{p:?}");
    }
}
