//! Every migration project under `fixtures/projects/` (one per supported migration tool) linted as
//! a whole, the way CI runs `sluice lint <dir>`: the tool is detected, the migrations are replayed
//! in its order, and each file is linted against the schema before it. The rendered findings are
//! snapshotted; each project's README says which findings a DBA expects and which must not appear.

mod common;

use common::{sluice, stdout};
use std::path::Path;

fn projects_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/projects")
}

fn lint_project(name: &str) -> String {
    let out = sluice(&["lint", "--color", "never", name], &projects_root());
    let code = out.status.code();
    assert!(matches!(code, Some(0 | 1)), "{name}: exit {code:?}\n{}", common::stderr(&out));
    stdout(&out)
}

/// Findings of `rule` in `file` (a path suffix) in rendered human output.
fn findings<'a>(rendered: &'a str, rule: &str, file: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = rendered.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.contains(&format!("[{rule}]")) && lines.get(i + 1).is_some_and(|n| n.contains(file)) {
            out.push(*l);
        }
    }
    out
}

#[test]
fn every_project_is_snapshotted() {
    let mut names: Vec<String> = std::fs::read_dir(projects_root())
        .expect("fixtures/projects")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let rendered = lint_project(&name);
        insta::assert_snapshot!(format!("project_{name}"), rendered);
    }
}

#[test]
fn safe_widenings_and_new_tables_stay_silent_and_real_rewrites_do_not() {
    let goose = lint_project("goose");
    assert!(
        findings(&goose, "alter-column-type-rewrites-table", "00003_widen_users_username.sql")
            .iter()
            .all(|l| !l.contains("to `varchar(50)`")),
        "varchar(20) -> varchar(50) is binary coercible:\n{goose}"
    );
    assert!(findings(&goose, "create-index-non-concurrently", "00001_create_users.sql").is_empty());

    let gm = lint_project("golang-migrate");
    let rewrite = findings(&gm, "alter-column-type-rewrites-table", "000003_orders_id_to_bigint.up.sql");
    assert_eq!(rewrite.len(), 1, "{gm}");
    assert!(rewrite[0].contains("from `integer` to `bigint`"), "{}", rewrite[0]);
    // The classic deploy-time break: CONCURRENTLY inside the implicit transaction of a
    // multi-statement file; alone in its file it is fine.
    assert_eq!(findings(&gm, "concurrently-in-transaction", "000004_add_orders_shipped_at.up.sql").len(), 1);
    assert!(findings(&gm, "concurrently-in-transaction", "000005_index_orders_placed_at.up.sql").is_empty());
    assert_eq!(findings(&gm, "foreign-key-without-index", "000002_create_orders.up.sql").len(), 1);
}

#[test]
fn no_transaction_markers_are_honoured() {
    for (project, file) in
        [("goose", "00004_index_sessions_expires_at.sql"), ("dbmate", ""), ("sqlx", ""), ("atlas", ""), ("diesel", "")]
    {
        let rendered = lint_project(project);
        assert!(
            findings(&rendered, "concurrently-in-transaction", file).is_empty(),
            "{project}: a migration marked to run without a transaction was treated as transactional:\n{rendered}"
        );
    }
}
