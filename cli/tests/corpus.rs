//! `sluice lint` over every file of the shared corpus of real migrations (`../shared/corpus/`,
//! next to the repository; the project's own fixtures when it is absent): it must finish with
//! exit 0 or 1, report every file, and give every statement it cannot parse a position. A file
//! with one broken statement in the middle is still linted around it.

mod common;

use common::{project, sluice, stderr};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `*.sql` files under `dir`, recursively.
fn sql_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .map(|p| if p.is_dir() { sql_files(&p) } else { usize::from(p.extension().is_some_and(|x| x == "sql")) })
        .sum()
}

/// Lints `dir` as `dialect` in every output format that renders source excerpts or positions,
/// and checks the JSON report.
fn lint_tree(dir: &Path, dialect: &str) {
    let shown = dir.display().to_string();
    for format in ["human", "sarif"] {
        let o = sluice(&["lint", "--dialect", dialect, "--format", format, "--color", "never", &shown], &repo());
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{shown} ({format}): exit {:?}\n{}",
            o.status.code(),
            stderr(&o)
        );
    }
    let o = sluice(&["lint", "--dialect", dialect, "--format", "json", &shown], &repo());
    assert!(matches!(o.status.code(), Some(0 | 1)), "{shown}: exit {:?}\n{}", o.status.code(), stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    let files = sql_files(dir);
    assert_eq!(v["files_checked"].as_u64(), Some(files as u64), "{shown}: not every file was linted");
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    let mut broken = 0;
    for d in diags {
        let line = d["start"]["line"].as_u64().unwrap_or(0);
        let column = d["start"]["column"].as_u64().unwrap_or(0);
        assert!(line >= 1 && column >= 1, "{shown}: finding without a position: {d}");
        if matches!(d["rule"].as_str(), Some("syntax-error" | "unparsed-statement")) {
            broken += 1;
            assert!(d["span"]["end"].as_u64() >= d["span"]["start"].as_u64(), "{d}");
        }
    }
    eprintln!("{shown}: {files} files, {} findings, {broken} unparseable statements", diags.len());
}

#[test]
fn whole_corpus_lints_without_crashing() {
    let shared = repo().join("../shared/corpus");
    if shared.is_dir() {
        for (folder, dialect) in [("pg", "postgres"), ("pg-regress", "postgres"), ("mysql", "mysql")] {
            let dir = shared.join(folder);
            if dir.is_dir() {
                lint_tree(&dir, dialect);
            } else {
                eprintln!("notice: {} is absent, skipped", dir.display());
            }
        }
    } else {
        eprintln!("notice: {} is absent; linting the project's fixtures instead", shared.display());
        lint_tree(&repo().join("fixtures/postgres"), "postgres");
        lint_tree(&repo().join("fixtures/mysql"), "mysql");
        lint_tree(&repo().join("fixtures/projects"), "postgres");
    }
}

#[test]
fn one_broken_statement_in_the_middle_is_reported_and_the_rest_is_linted() {
    let pg =
        "CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int;\nALTER TABLE a ADD COLUMN ;\nDROP TABLE users;\n";
    let my = "CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int;\nALTER TABLE a FROB ;\nDROP TABLE users;\n";
    let dir = project(&[("pg/001.sql", pg.as_bytes()), ("my/001.sql", my.as_bytes())]);
    for (dialect, path, rule) in
        [("postgres", "pg/001.sql", "syntax-error"), ("mysql", "my/001.sql", "unparsed-statement")]
    {
        let o = sluice(&["lint", "--dialect", dialect, "--format", "json", path], dir.path());
        assert_eq!(o.status.code(), Some(1), "{dialect}: {}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        let at: Vec<(String, u64, u64)> = v["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| {
                let pos = |k: &str| d["start"][k].as_u64().unwrap_or(0);
                (d["rule"].as_str().unwrap_or("").to_string(), pos("line"), pos("column"))
            })
            .collect();
        let broken: Vec<_> = at.iter().filter(|(r, _, _)| r == rule).collect();
        assert_eq!(broken.len(), 1, "{dialect}: {at:?}");
        assert_eq!(broken[0].1, 3, "{dialect}: {at:?}");
        assert!(broken[0].2 > 1, "{dialect}: the error should point into the statement: {at:?}");
        assert!(at.iter().any(|(r, l, _)| r == "drop-table" && *l == 4), "{dialect}: {at:?}");
    }
}
