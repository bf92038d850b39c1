//! Migration-history awareness: an open migration is linted against the schema the files before
//! it leave, with the same findings as `sluice lint <dir>`, and re-linted when the history
//! changes (edits in other open files, files changed on disk).

#![allow(clippy::unwrap_used)]

mod common;

use common::{offset_of, uri, TestClient};
use serde_json::{json, Value};
use sluice_rules::{lint_history, MigrationInput};
use sluice_workspace::migrations::{history_root, load_set};
use sluice_workspace::{Discovery, Overrides};
use std::path::{Path, PathBuf};

/// (rule, start, end, severity 1-3, message with help) for comparison.
type Finding = (String, usize, usize, u64, String);

/// What `sluice lint <dir>` reports for every migration of the set under `root`, computed the
/// way the CLI does (its configuration discovery, set loading and history lint).
fn cli_findings(root: &Path) -> Vec<(PathBuf, String, Vec<Finding>)> {
    let mut discovery = Discovery::new(Overrides::default(), None).unwrap();
    let setting = discovery.for_path(root).unwrap().lint.settings.framework;
    let set = load_set(root, setting).unwrap();
    let bytes: Vec<Vec<u8>> = set.files.iter().map(|f| std::fs::read(&f.path).unwrap()).collect();
    let configs: Vec<_> = set.files.iter().map(|f| discovery.for_path(&f.path).unwrap()).collect();
    let inputs: Vec<MigrationInput<'_>> = set
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| MigrationInput {
            path: f.path.display().to_string(),
            bytes: &bytes[i],
            entry: Some(f.entry.clone()),
            sidecar: f.sidecar.clone(),
            report: true,
            pending: false,
            config: &configs[i].lint,
        })
        .collect();
    let results = lint_history(&inputs, set.framework);
    set.files
        .iter()
        .zip(results)
        .map(|(f, r)| {
            let r = r.unwrap();
            let mut found: Vec<Finding> = r
                .diagnostics
                .iter()
                .map(|d| {
                    let mut message = d.message.clone();
                    if let Some(h) = &d.help {
                        message = format!("{message}\nhelp: {h}");
                    }
                    let severity = match d.severity {
                        sluice_core::Severity::Error => 1,
                        sluice_core::Severity::Warning => 2,
                        sluice_core::Severity::Info => 3,
                    };
                    (d.rule.to_string(), d.span.start, d.span.end, severity, message)
                })
                .collect();
            found.sort();
            (f.path.clone(), r.text, found)
        })
        .collect()
}

fn lsp_findings(text: &str, diags: &[Value]) -> Vec<Finding> {
    let mut found: Vec<Finding> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                offset_of(text, &d["range"]["start"], false),
                offset_of(text, &d["range"]["end"], false),
                d["severity"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn project(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/projects").join(name).canonicalize().unwrap()
}

async fn check_project(name: &str, migrations: &str) {
    let root = project(name).join(migrations);
    let expected = cli_findings(&root);
    assert!(expected.len() >= 3, "{name}: {} files", expected.len());
    let mut c = TestClient::fast();
    c.initialize_with(false, Some(&project(name)), json!({})).await;
    let mut total = 0;
    for (path, text, want) in &expected {
        assert_eq!(history_root(path), root);
        let u = uri(path);
        c.open(&u, "sql", 1, text);
        let got = lsp_findings(text, &c.diagnostics(&u, 1).await);
        assert_eq!(&got, want, "{name}: {}", path.display());
        total += got.len();
        c.notify("textDocument/didClose", json!({"textDocument": {"uri": u}}));
    }
    // The projects are built to produce findings that depend on their history.
    assert!(total > 0, "{name}: no findings at all");
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_migrations_get_the_cli_findings_flyway() {
    check_project("flyway", "migrations").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_migrations_get_the_cli_findings_diesel() {
    check_project("diesel", "migrations").await;
}

/// Waits for a publication for `uri` whose rules satisfy `pred` (earlier ones are skipped).
async fn until(c: &mut TestClient, uri: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    loop {
        let msg = c
            .next_notification("textDocument/publishDiagnostics", common::TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no matching diagnostics for {uri}"));
        if msg["params"]["uri"] != uri {
            continue;
        }
        let rules = common::rules(msg["params"]["diagnostics"].as_array().unwrap());
        if pred(&rules) {
            return rules;
        }
    }
}

const FK: &str = "foreign-key-without-index";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn history_follows_other_open_files_and_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("sluice.toml"), "framework = \"flyway\"\ndialect = \"postgres\"\n").unwrap();
    let v1 = "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int, a_id int);\n";
    let v2 = "ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id) NOT VALID;\n";
    let (p1, p2) = (root.join("V1__tables.sql"), root.join("V2__fk.sql"));
    std::fs::write(&p1, v1).unwrap();
    std::fs::write(&p2, v2).unwrap();
    let (u1, u2) = (uri(&p1), uri(&p2));

    let mut c = TestClient::fast();
    c.initialize_with(false, Some(&root), json!({})).await;
    c.open(&u2, "sql", 1, v2);
    let r = c.diagnostics(&u2, 1).await;
    assert!(common::rules(&r).contains(&FK.to_string()), "{r:#?}");

    // An unsaved edit of the earlier migration creates the index: the later one no longer fires.
    c.open(&u1, "sql", 1, v1);
    c.change(
        &u1,
        2,
        json!([{"range": {"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 0}},
        "text": "CREATE INDEX b_a_id ON b (a_id);\n"}]),
    );
    until(&mut c, &u2, |r| !r.contains(&FK.to_string())).await;

    // Closed without saving: the file on disk counts again.
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": u1}}));
    until(&mut c, &u2, |r| r.contains(&FK.to_string())).await;

    // Changed on disk (another tool, a git checkout): the watcher notification reloads it.
    std::fs::write(&p1, format!("{v1}CREATE INDEX b_a_id ON b (a_id);\n")).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": u1, "type": 2}]}));
    until(&mut c, &u2, |r| !r.contains(&FK.to_string())).await;

    // Back on disk without the index; then a later migration that creates it is saved: it joins
    // the set, and an index created later in the history satisfies the key.
    std::fs::write(&p1, v1).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": u1, "type": 2}]}));
    until(&mut c, &u2, |r| r.contains(&FK.to_string())).await;
    let p3 = root.join("V3__index.sql");
    std::fs::write(&p3, "CREATE INDEX CONCURRENTLY b_a_id ON b (a_id);\n").unwrap();
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": uri(&p3)}}));
    until(&mut c, &u2, |r| !r.contains(&FK.to_string())).await;

    // Edits of the open file itself keep using the history (the index still comes from V3).
    c.change(
        &u2,
        2,
        json!([{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
        "text": "SELECT 1;\n"}]),
    );
    let r = c.diagnostics(&u2, 2).await;
    assert!(!common::rules(&r).contains(&FK.to_string()), "{r:#?}");
    assert!(c.shutdown_and_exit().await);
}
