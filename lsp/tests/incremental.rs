//! Incremental re-analysis: a document edited many times at random places is linted, version
//! after version, reusing the analysis of the version before (its file context, and the findings
//! of the statement rules on unchanged statements); every result must equal a full lint of the
//! same text (on its own, and as one migration of a goose history).

#![allow(clippy::unwrap_used)]

use sluice_lsp::analysis::{analyze, Analysis};
use sluice_lsp::history::SetHistory;
use sluice_rules::LintConfig;
use std::collections::HashMap;
use std::sync::Arc;

const POOL: &[&str] = &[
    "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);",
    "ALTER TABLE accounts ADD COLUMN note text;",
    "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;",
    "ALTER TABLE users ALTER COLUMN age TYPE bigint;",
    "ALTER TABLE sessions ADD CONSTRAINT s_u FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
    "ALTER TABLE sessions VALIDATE CONSTRAINT s_u;",
    "CREATE INDEX sessions_expires ON sessions (expires_at);",
    "CREATE INDEX CONCURRENTLY users_age ON users (age);",
    "ALTER TABLE accounts RENAME TO customers;",
    "DROP TABLE sessions;",
    "DROP INDEX sessions_user_id_idx;",
    "BEGIN;",
    "COMMIT;",
    "SET lock_timeout = '2s';",
    "SET statement_timeout = '5min';",
    "UPDATE users SET age = 1;",
    "TRUNCATE sessions;",
    "ALTER TABLE users ALTER COLUMN age SET NOT NULL;",
    "-- sluice:ignore drop-table\nDROP TABLE accounts;",
    "-- +goose Down",
    "-- +goose Up",
    "-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n-- +goose StatementEnd",
    "ALTER TABLE",
    // Statements the statement rules (findings reused on unchanged statements) report, with fixes
    // at the statement's start and after its terminator.
    "CREATE INDEX users_email ON users (email);",
    "ALTER TABLE users ADD CONSTRAINT users_age CHECK (age > 0);",
    "ALTER TABLE sessions ADD CONSTRAINT s_u2 FOREIGN KEY (user_id) REFERENCES users (id);",
    "ALTER TABLE users ADD COLUMN flag boolean NOT NULL;",
    "ALTER TABLE users ALTER COLUMN age DROP NOT NULL;",
    "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
    "VACUUM FULL users;",
    "REINDEX TABLE sessions;",
    "ALTER TABLE users ADD PRIMARY KEY (id);",
];

/// Counts the findings of the statement rules, so the tests show they had some to reuse.
fn statement_rule_findings(diagnostics: &[sluice_core::Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| sluice_rules::is_statement_rule(d.rule)).count()
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// One random edit of `text`: a statement inserted, removed or replaced, or one character typed,
/// deleted or changed in case.
fn edit(rng: &mut Lcg, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = rng.next(lines.len() + 1);
    match rng.next(5) {
        0 => lines.insert(at, POOL[rng.next(POOL.len())].to_string()),
        1 if at < lines.len() => {
            lines.remove(at);
        }
        2 if at < lines.len() => lines[at] = POOL[rng.next(POOL.len())].to_string(),
        3 if at < lines.len() && !lines[at].is_empty() => {
            let line = &mut lines[at];
            let pos = rng.next(line.len());
            match rng.next(3) {
                0 => line.insert(pos, 'x'),
                1 => {
                    line.remove(pos);
                }
                _ => *line = line.to_ascii_uppercase(),
            }
        }
        _ => lines.insert(at, format!("ALTER TABLE users ADD COLUMN c{at} int;")),
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn linter() -> sluice_lsp::Linter {
    Arc::new(sluice_rules::lint_reusing)
}

#[test]
fn edits_of_a_lone_file_lint_like_a_full_lint() {
    let config = LintConfig::default();
    let mut reported = 0;
    for seed in 1..=4u64 {
        let mut rng = Lcg(seed);
        let mut text: String = (0..40).map(|_| format!("{}\n", POOL[rng.next(POOL.len())])).collect();
        let mut cache = sluice_core::ParseCache::new();
        let mut previous: Option<Analysis> = None;
        for version in 0..250 {
            let a = analyze(text.clone(), version, Ok(config.clone()), &mut cache, &linter(), None, previous.as_ref());
            assert_eq!(
                a.diagnostics,
                sluice_rules::lint_text(&text, &config),
                "seed {seed}, version {version}:\n{text}"
            );
            reported += statement_rule_findings(&a.diagnostics);
            previous = Some(a);
            text = edit(&mut rng, &text);
        }
    }
    assert!(reported > 1000, "{reported}");
}

#[test]
fn edits_of_a_migration_lint_like_a_full_lint_of_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/projects/goose");
    std::fs::copy(src.join("sluice.toml"), dir.path().join("sluice.toml")).unwrap();
    let root = dir.path().join("migrations");
    std::fs::create_dir(&root).unwrap();
    for e in std::fs::read_dir(src.join("migrations")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), root.join(e.file_name())).unwrap();
    }
    let history = Arc::new(SetHistory::load(&root, &HashMap::new()).unwrap());
    // The second of four migrations: the history after it is replayed again on every edit.
    let index = history.position(&root.join("00002_create_sessions.sql")).unwrap();
    assert_eq!(index, 1);
    let config = history.config(index).unwrap().clone();
    let mut text = std::fs::read_to_string(root.join("00002_create_sessions.sql")).unwrap();
    let mut reported = 0;
    for seed in 1..=3u64 {
        let mut rng = Lcg(seed);
        let mut cache = sluice_core::ParseCache::new();
        let mut previous: Option<Analysis> = None;
        for version in 0..200 {
            let a = analyze(
                text.clone(),
                version,
                Ok(config.clone()),
                &mut cache,
                &linter(),
                Some((&history, index)),
                previous.as_ref(),
            );
            let full = history.lint(index, &text, &sluice_core::parse_file(&text, config.settings.dialect));
            assert_eq!(a.diagnostics, full, "seed {seed}, version {version}:\n{text}");
            reported += statement_rule_findings(&a.diagnostics);
            previous = Some(a);
            text = edit(&mut rng, &text);
        }
    }
    assert!(reported > 500, "{reported}");
}
