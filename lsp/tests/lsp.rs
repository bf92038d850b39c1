//! End-to-end tests of the language server over an in-memory duplex stream.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const MIGRATION: &str = "-- Ünïcødé comment 😀\n/* é😀 */ CREATE INDEX \"idx_é\" ON users (email);\nALTER TABLE \"tàblé😀\" DROP COLUMN x;\n";
const URI: &str = "file:///tmp/sluice-lsp-test/001_migration.sql";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn initialize_negotiates_position_encoding() {
    let mut c = TestClient::fast();
    let r = c.initialize(true).await;
    let caps = &r["result"]["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-8");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["hoverProvider"], true);
    assert!(caps["codeActionProvider"]["codeActionKinds"].as_array().unwrap().contains(&json!("quickfix")));
    assert_eq!(r["result"]["serverInfo"]["name"], "sluice");
    assert!(c.shutdown_and_exit().await);

    let mut c = TestClient::fast();
    let r = c.initialize(false).await;
    assert_eq!(r["result"]["capabilities"]["positionEncoding"], "utf-16");
    assert!(c.shutdown_and_exit().await);
}

/// (rule, utf-16 range, utf-8 range), worked out by hand from `MIGRATION`.
type Range4 = (u64, u64, u64, u64);

const EXPECTED: &[(&str, Range4, Range4)] = &[
    ("create-index-non-concurrently", (1, 10, 1, 22), (1, 13, 1, 25)),
    ("create-without-if-not-exists", (1, 23, 1, 30), (1, 26, 1, 34)),
    ("ddl-without-lock-timeout", (1, 10, 1, 39), (1, 13, 1, 43)),
    ("drop-column", (2, 34, 2, 35), (2, 38, 2, 39)),
    ("drop-without-if-exists", (2, 34, 2, 35), (2, 38, 2, 39)),
    ("statement-timeout-for-long-operation", (1, 10, 1, 39), (1, 13, 1, 43)),
];

async fn check_open_diagnostics(utf8: bool) {
    let mut c = TestClient::fast();
    c.initialize(utf8).await;
    c.open(URI, "sql", 1, MIGRATION);
    let diags = c.diagnostics(URI, 1).await;
    assert_eq!(rules(&diags), EXPECTED.iter().map(|e| e.0.to_string()).collect::<Vec<_>>());
    for (rule, r16, r8) in EXPECTED {
        let d = find(&diags, rule);
        assert_eq!(range(d), if utf8 { *r8 } else { *r16 }, "{rule} (utf8: {utf8})");
        assert_eq!(d["source"], "sluice");
        assert_eq!(d["code"], *rule);
    }
    assert_eq!(find(&diags, "drop-column")["severity"], 1);
    assert_eq!(find(&diags, "create-index-non-concurrently")["severity"], 2);
    assert!(find(&diags, "create-index-non-concurrently")["message"].as_str().unwrap().contains("help: "));
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn diagnostics_on_open_utf16() {
    check_open_diagnostics(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn diagnostics_on_open_utf8() {
    check_open_diagnostics(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn incremental_changes_in_both_encodings() {
    for utf8 in [false, true] {
        let mut c = TestClient::fast();
        c.initialize(utf8).await;
        c.open(URI, "sql", 1, MIGRATION);
        c.diagnostics(URI, 1).await;
        // Insert " CONCURRENTLY" right after `CREATE INDEX` (position after non-ASCII text).
        let col = if utf8 { 25 } else { 22 };
        c.change(URI, 2, json!([{"range": {"start": {"line": 1, "character": col}, "end": {"line": 1, "character": col}}, "text": " CONCURRENTLY"}]));
        let diags = c.diagnostics(URI, 2).await;
        assert!(!rules(&diags).contains(&"create-index-non-concurrently".to_string()), "{diags:#?}");
        // Replace the emoji in the comment by one ASCII character: later columns shift by 1 (UTF-16)
        // or 3 (UTF-8) on that line only.
        let (s, e) = if utf8 { (5, 9) } else { (4, 6) };
        c.change(
            URI,
            3,
            json!([{"range": {"start": {"line": 1, "character": s}, "end": {"line": 1, "character": e}}, "text": "x"}]),
        );
        let diags = c.diagnostics(URI, 3).await;
        let expected = if utf8 { (1, 36, 1, 44) } else { (1, 35, 1, 42) };
        assert_eq!(range(find(&diags, "create-without-if-not-exists")), expected, "utf8: {utf8}");
        assert_eq!(range(find(&diags, "drop-column")), if utf8 { (2, 38, 2, 39) } else { (2, 34, 2, 35) });
        // A full-text change replaces everything.
        c.change(URI, 4, json!([{"text": "DROP TABLE users;\n"}]));
        let diags = c.diagnostics(URI, 4).await;
        assert_eq!(rules(&diags), vec!["ddl-without-lock-timeout", "drop-table", "drop-without-if-exists"]);
        assert!(c.shutdown_and_exit().await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn syntax_errors_are_reported() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    c.open(URI, "sql", 1, "SELECT 1;\nALTER TABLE a ADD COLUMN;\n");
    let diags = c.diagnostics(URI, 1).await;
    assert_eq!(rules(&diags), vec!["syntax-error"]);
    assert_eq!(range(&diags[0]), (1, 24, 1, 25));
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rapid_changes_apply_in_order_and_never_publish_stale_results() {
    let mut c = TestClient::start(sluice_lsp::Options { debounce: Duration::from_millis(5), ..Default::default() });
    c.initialize(false).await;
    c.open(URI, "sql", 1, "");
    let n = 60;
    for i in 0..n {
        // Append one statement per change, each relative to the previous text.
        c.change(URI, i + 2, json!([{"range": {"start": {"line": i, "character": 0}, "end": {"line": i, "character": 0}}, "text": format!("DROP TABLE t{i};\n")}]));
    }
    let last = n + 1;
    let mut seen = Vec::new();
    loop {
        let msg = c.next_notification("textDocument/publishDiagnostics", TIMEOUT).await.unwrap();
        let v = msg["params"]["version"].as_i64().unwrap();
        seen.push(v);
        if v == last {
            let diags = msg["params"]["diagnostics"].as_array().unwrap();
            let drops = diags.iter().filter(|d| d["code"] == "drop-table").count();
            assert_eq!(drops as i64, n);
            for (i, d) in diags.iter().filter(|d| d["code"] == "drop-table").enumerate() {
                assert_eq!(range(d), (i as u64, 11, i as u64, 13 + u64::from(i >= 10)));
            }
            break;
        }
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "publications out of order: {seen:?}");
    assert!(c.shutdown_and_exit().await);
}

fn actions_for(resp: &Value) -> &Vec<Value> {
    resp["result"].as_array().unwrap_or_else(|| panic!("{resp}"))
}

fn title_starts<'a>(actions: &'a [Value], prefix: &str) -> &'a Value {
    actions.iter().find(|a| a["title"].as_str().unwrap().starts_with(prefix)).unwrap_or_else(|| {
        panic!("no action `{prefix}` in {:#?}", actions.iter().map(|a| &a["title"]).collect::<Vec<_>>())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quick_fix_applies_and_the_diagnostic_disappears() {
    for utf8 in [false, true] {
        let mut c = TestClient::fast();
        c.initialize(utf8).await;
        c.open(URI, "sql", 1, MIGRATION);
        let diags = c.diagnostics(URI, 1).await;
        let d = find(&diags, "create-index-non-concurrently").clone();
        let resp = c
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": URI}, "range": d["range"], "context": {"diagnostics": [d]}}),
            )
            .await;
        let actions = actions_for(&resp);
        let fix = title_starts(actions, "Add CONCURRENTLY");
        assert_eq!(fix["kind"], "quickfix");
        assert_eq!(fix["isPreferred"], true);
        assert_eq!(fix["edit"]["documentChanges"][0]["textDocument"]["version"], 1);
        let edits = action_edits(fix, URI);
        let fixed = apply_text_edits(MIGRATION, &edits, utf8);
        assert!(fixed.contains("/* é😀 */ CREATE INDEX CONCURRENTLY \"idx_é\""), "{fixed}");
        // The client applies the edit and sends it back as a change.
        let changes: Vec<Value> = edits.iter().map(|e| json!({"range": e["range"], "text": e["newText"]})).collect();
        c.change(URI, 2, Value::Array(changes));
        let diags = c.diagnostics(URI, 2).await;
        assert!(!rules(&diags).contains(&"create-index-non-concurrently".to_string()), "{diags:#?}");
        assert!(rules(&diags).contains(&"ddl-without-lock-timeout".to_string()));
        assert!(c.shutdown_and_exit().await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ignore_actions_insert_suppression_comments() {
    let text = "BEGIN;\n  DROP TABLE é_users;\nCOMMIT;\n";
    let mut c = TestClient::fast();
    c.initialize(false).await;
    c.open(URI, "sql", 1, text);
    let diags = c.diagnostics(URI, 1).await;
    let d = find(&diags, "drop-table").clone();
    let resp = c
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": URI}, "range": d["range"], "context": {"diagnostics": []}}),
        )
        .await;
    let actions = actions_for(&resp).clone();
    let stmt = title_starts(&actions, "Ignore drop-table for this statement");
    let stmt_fixed = apply_text_edits(text, &action_edits(stmt, URI), false);
    assert_eq!(stmt_fixed, "BEGIN;\n  -- sluice:ignore drop-table: \n  DROP TABLE é_users;\nCOMMIT;\n");
    let file = title_starts(&actions, "Ignore drop-table for this file");
    let file_fixed = apply_text_edits(text, &action_edits(file, URI), false);
    assert_eq!(file_fixed, format!("-- sluice:ignore-file drop-table\n{text}"));

    c.change(URI, 2, json!([{"text": stmt_fixed}]));
    let diags = c.diagnostics(URI, 2).await;
    assert!(!rules(&diags).contains(&"drop-table".to_string()), "{diags:#?}");
    assert!(!rules(&diags).contains(&"unused-suppression".to_string()), "{diags:#?}");
    c.change(URI, 3, json!([{"text": file_fixed}]));
    let diags = c.diagnostics(URI, 3).await;
    assert!(!rules(&diags).contains(&"drop-table".to_string()), "{diags:#?}");
    assert!(!rules(&diags).contains(&"unused-suppression".to_string()), "{diags:#?}");
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fix_all_applies_every_safe_fix() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    c.open(URI, "sql", 1, MIGRATION);
    let diags = c.diagnostics(URI, 1).await;
    assert!(diags.len() >= 4);
    let resp = c
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": URI}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
        )
        .await;
    let actions = actions_for(&resp);
    assert_eq!(actions.len(), 1, "only source.fixAll asked: {actions:#?}");
    let all = &actions[0];
    assert_eq!(all["kind"], "source.fixAll.sluice");
    let fixed = apply_text_edits(MIGRATION, &action_edits(all, URI), false);
    let (expected, _) = sluice_rules::fix_text(MIGRATION, &sluice_rules::LintConfig::default(), false);
    assert_eq!(fixed, expected);
    c.change(URI, 2, json!([{"text": fixed}]));
    let diags = c.diagnostics(URI, 2).await;
    assert_eq!(
        rules(&diags),
        vec!["drop-column", "statement-timeout-for-long-operation"],
        "only the findings without a safe fix are left"
    );
    // Nothing left to fix: no fix-all action.
    let resp = c
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": URI}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": [], "only": ["source"]}}),
        )
        .await;
    assert_eq!(actions_for(&resp).len(), 0);
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hover_shows_rule_docs_and_statement() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    c.open(URI, "sql", 1, MIGRATION);
    c.diagnostics(URI, 1).await;
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 1, "character": 30}}))
        .await;
    let md = r["result"]["contents"]["value"].as_str().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(r["result"]["contents"]["kind"], "markdown");
    assert!(md.contains("### Statement"), "{md}");
    assert!(md.contains("`CreateIndex` on `users`"), "{md}");
    assert!(md.contains("### `create-index-non-concurrently` (warning)"), "{md}");
    let meta = sluice_rules::registry::lookup("create-index-non-concurrently").unwrap();
    assert!(md.contains(&meta.summary()), "{md}");
    assert!(md.contains("#### What it does"), "docs headings are demoted under the section: {md}");
    assert!(!md.contains("drop-column"), "only rules of this statement: {md}");
    assert!(md.contains("### Locks on PostgreSQL 15"), "{md}");
    assert!(md.contains("- lock: SHARE on table users (blocks writes)"), "{md}");
    assert_eq!(range(&r["result"]), (1, 10, 1, 47));

    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 2, "character": 3}}))
        .await;
    let md = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(md.contains("`AlterTable (DropColumn)`"), "{md}");
    assert!(md.contains("### `drop-column` (error)"), "{md}");
    assert!(md.contains("- lock: ACCESS EXCLUSIVE on table tàblé😀 (blocks reads and writes)"), "{md}");

    // On the leading comment: no statement.
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 3}}))
        .await;
    assert_eq!(r["result"], Value::Null);
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn config_changes_relint_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("migrations")).unwrap();
    let toml = root.join("sluice.toml");
    std::fs::write(&toml, "[rules]\n\"create-index-non-concurrently\" = \"off\"\n").unwrap();
    let file = root.join("migrations/001.sql");
    std::fs::write(&file, MIGRATION).unwrap();
    let (file_uri, toml_uri) = (uri(&file), uri(&toml));

    let mut c = TestClient::fast();
    c.initialize_with(false, Some(&root), json!({})).await;
    c.open(&file_uri, "sql", 1, MIGRATION);
    let diags = c.diagnostics(&file_uri, 1).await;
    assert!(!rules(&diags).contains(&"create-index-non-concurrently".to_string()), "{diags:#?}");
    // The server asked to watch sluice.toml files.
    let regs = c.server_requests.lock().unwrap().clone();
    assert!(
        regs.iter().any(|r| r["method"] == "client/registerCapability"
            && r["params"]["registrations"][0]["registerOptions"]["watchers"][0]["globPattern"] == "**/sluice.toml"),
        "{regs:#?}"
    );

    // Changed on disk: the watcher notification re-lints with the new configuration.
    std::fs::write(&toml, "[rules]\n\"create-index-non-concurrently\" = \"error\"\n\"drop-column\" = \"off\"\n")
        .unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": toml_uri, "type": 2}]}));
    let diags = c.diagnostics(&file_uri, 1).await;
    assert_eq!(find(&diags, "create-index-non-concurrently")["severity"], 1);
    assert!(!rules(&diags).contains(&"drop-column".to_string()));

    // Saved from the editor.
    std::fs::write(&toml, "dialect = \"postgres\"\n").unwrap();
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": toml_uri}}));
    let diags = c.diagnostics(&file_uri, 1).await;
    assert_eq!(find(&diags, "create-index-non-concurrently")["severity"], 2);
    assert!(rules(&diags).contains(&"drop-column".to_string()));

    // A broken configuration is shown, not swallowed, exactly as the CLI reports it.
    std::fs::write(&toml, "[rules]\n\"no-such-rule\" = \"off\"\n").unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": toml_uri, "type": 2}]}));
    let diags = c.diagnostics(&file_uri, 1).await;
    assert_eq!(rules(&diags), vec!["config-error"]);
    assert!(diags[0]["message"].as_str().unwrap().contains("no-such-rule"), "{diags:#?}");
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_documents_and_bad_edits_do_not_stop_the_server() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    let other = "file:///nowhere/unknown.sql";
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": other}, "position": {"line": 0, "character": 0}}))
        .await;
    assert!(r["error"]["message"].as_str().unwrap().contains("not open"), "{r}");
    let r = c
        .request("textDocument/codeAction", json!({"textDocument": {"uri": other}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}))
        .await;
    assert!(r.get("error").is_some(), "{r}");
    c.change(other, 2, json!([{"text": "DROP TABLE x;"}]));
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": other}}));

    c.open(URI, "sql", 1, "SELECT 1;\n");
    assert_eq!(c.diagnostics(URI, 1).await.len(), 0);
    // Far past the end: clamped to the end of the document, logged.
    c.change(URI, 2, json!([{"range": {"start": {"line": 99, "character": 5}, "end": {"line": 120, "character": 0}}, "text": "DROP TABLE t;\n"}]));
    let diags = c.diagnostics(URI, 2).await;
    assert_eq!(rules(&diags), vec!["ddl-without-lock-timeout", "drop-table", "drop-without-if-exists"]);
    assert_eq!(range(find(&diags, "drop-table")), (1, 11, 1, 12));
    assert!(c.logs.iter().any(|l| l.contains("clamped")), "{:?}", c.logs);
    // End before start: ignored.
    c.change(
        URI,
        3,
        json!([{"range": {"start": {"line": 1, "character": 4}, "end": {"line": 0, "character": 0}}, "text": "zzz"}]),
    );
    let diags = c.diagnostics(URI, 3).await;
    assert_eq!(range(find(&diags, "drop-table")), (1, 11, 1, 12));

    // Malformed params are an error response, not a crash.
    let r = c.request("textDocument/hover", json!({"bogus": true})).await;
    assert!(r.get("error").is_some(), "{r}");

    // Closing clears the diagnostics.
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": URI}}));
    let msg = c.next_notification("textDocument/publishDiagnostics", TIMEOUT).await.unwrap();
    assert_eq!(msg["params"]["diagnostics"], json!([]));
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}))
        .await;
    assert!(r.get("error").is_some(), "{r}");
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn non_sql_documents_are_not_linted() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    let txt = "file:///tmp/notes.txt";
    c.open(txt, "plaintext", 1, "DROP TABLE users;\n");
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": txt}, "position": {"line": 0, "character": 1}}))
        .await;
    assert_eq!(r["result"], Value::Null, "{r}");
    c.open(URI, "sql", 1, "DROP TABLE users;\n");
    // The first publication is the SQL file's: nothing was published for the text file.
    let msg = c.next_notification("textDocument/publishDiagnostics", TIMEOUT).await.unwrap();
    assert_eq!(msg["params"]["uri"], URI);
    assert!(c.logs.iter().any(|l| l.contains("not SQL")), "{:?}", c.logs);
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panicking_rule_is_reported_and_the_server_keeps_serving() {
    let linter: sluice_lsp::Linter = std::sync::Arc::new(|file, fcx, config, previous| {
        if file.text.contains("PANIC") {
            panic!("rule exploded");
        }
        sluice_rules::lint_reusing(file, fcx, config, previous)
    });
    let mut c = TestClient::start(sluice_lsp::Options { debounce: Duration::ZERO, linter, ..Default::default() });
    c.initialize(false).await;
    c.open(URI, "sql", 1, "-- PANIC\nDROP TABLE t;\n");
    let diags = c.diagnostics(URI, 1).await;
    assert_eq!(rules(&diags), vec!["internal-error"]);
    assert!(diags[0]["message"].as_str().unwrap().contains("rule exploded"));
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 1, "character": 1}}))
        .await;
    assert_eq!(r["result"], Value::Null, "{r}");
    c.change(
        URI,
        2,
        json!([{"range": {"start": {"line": 0, "character": 3}, "end": {"line": 0, "character": 8}}, "text": "fine"}]),
    );
    let diags = c.diagnostics(URI, 2).await;
    assert_eq!(rules(&diags), vec!["ddl-without-lock-timeout", "drop-table", "drop-without-if-exists"]);
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn huge_file_gets_a_notice_and_a_log_and_the_server_keeps_serving() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    let stmt = "ALTER TABLE users ADD COLUMN note text; -- some padding to make the line longer\n";
    let big = stmt.repeat(5 * 1024 * 1024 / stmt.len() + 1);
    assert!(big.len() >= 5 * 1024 * 1024);
    // In an empty directory: the migration set around the file is the directory's other files.
    let dir = tempfile::tempdir().unwrap();
    let big_uri = common::uri(&dir.path().join("huge.sql"));
    let big_uri = big_uri.as_str();
    c.open(big_uri, "sql", 1, &big);
    c.open(URI, "sql", 1, "DROP TABLE t;\n");
    let started = std::time::Instant::now();
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 1}}))
        .await;
    assert!(r["result"]["contents"]["value"].as_str().unwrap().contains("drop-table"));
    assert!(started.elapsed() < Duration::from_secs(10), "hover took {:?}", started.elapsed());
    // Edits to the huge document are still applied: delete everything but the last line, then
    // it is small enough to lint.
    let lines = big.lines().count() as u64;
    c.change(big_uri, 2, json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": lines - 1, "character": 0}}, "text": ""}]));
    let diags = loop {
        let msg = c.next_notification("textDocument/publishDiagnostics", TIMEOUT).await.unwrap();
        if msg["params"]["uri"] == big_uri {
            let diags = msg["params"]["diagnostics"].as_array().unwrap().clone();
            if msg["params"]["version"] == 1 {
                assert_eq!(rules(&diags), vec!["file-too-large"], "only a notice for the huge version");
                continue;
            }
            assert_eq!(msg["params"]["version"], 2);
            break diags;
        }
    };
    assert!(rules(&diags).contains(&"ddl-without-lock-timeout".to_string()), "{diags:#?}");
    assert!(diags.iter().all(|d| range(d).0 == 0), "{diags:#?}");
    assert!(c.logs.iter().any(|l| l.contains("not linted") && l.contains("huge.sql")), "{:?}", c.logs);
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exit_without_shutdown_is_not_clean() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    c.notify("exit", Value::Null);
    let clean = tokio::time::timeout(TIMEOUT, c.server).await.unwrap().unwrap();
    assert!(!clean);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_after_shutdown_are_refused() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    let r = c.request("shutdown", Value::Null).await;
    assert_eq!(r["result"], Value::Null);
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}))
        .await;
    assert!(r.get("error").is_some(), "{r}");
    c.notify("exit", Value::Null);
    assert!(tokio::time::timeout(TIMEOUT, c.server).await.unwrap().unwrap());
}
