//! Hostile or careless clients: malformed JSON-RPC, unknown methods, edits out of range or for
//! unknown documents, a 5 MB document and a thousand rapid edits. The server answers or ignores,
//! keeps publishing correct diagnostics, and holds no more than its open documents.

#![allow(clippy::unwrap_used)]

mod common;

use common::{rules, TestClient, TIMEOUT};
use serde_json::{json, Value};

const URI: &str = "file:///chaos/V1__t.sql";

/// The server still lints: a fresh document gets its findings.
async fn still_serving(c: &mut TestClient, uri: &str) {
    c.open(uri, "sql", 1, "DROP TABLE t;\n");
    let d = c.diagnostics(uri, 1).await;
    assert!(rules(&d).contains(&"drop-table".to_string()), "{d:#?}");
}

async fn status(c: &mut TestClient) -> Value {
    let r = c.request("sluice/status", Value::Null).await;
    assert!(r.get("error").is_none(), "{r}");
    r["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_params_and_unknown_methods_are_answered_or_ignored() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    // A known notification with params of the wrong shape, framed by hand.
    let body = br#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"x":1}}"#;
    c.send_raw(&[format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(), &body[..]].concat());
    // An unknown request gets MethodNotFound; an unknown notification is ignored.
    let r = c.request("sluice/noSuchMethod", json!({})).await;
    assert_eq!(r["error"]["code"], -32601, "{r}");
    c.notify("$/noSuchNotification", json!({"x": 1}));
    // Wrong params on a known request: an error answer, not a crash.
    let r = c.request("textDocument/hover", json!({"textDocument": 5})).await;
    assert!(r.get("error").is_some(), "{r}");
    // A request for a document that is not open.
    let r = c
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": "file:///nope.sql"}, "position": {"line": 0, "character": 0}}),
        )
        .await;
    assert!(r.get("error").is_some(), "{r}");
    still_serving(&mut c, URI).await;
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn edits_out_of_range_and_before_open_are_ignored_or_clamped() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    // didChange, didSave and didClose before didOpen.
    c.change(URI, 5, json!([{"text": "DROP TABLE x;\n"}]));
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": URI}}));
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": URI}}));
    assert_eq!(status(&mut c).await["documents"], 0);
    c.open(URI, "sql", 1, "SELECT 1;\n");
    assert!(c.diagnostics(URI, 1).await.is_empty());
    // A range far past the end is clamped to it; an inverted range is ignored.
    c.change(URI, 2, json!([{"range": {"start": {"line": 900, "character": 0}, "end": {"line": 901, "character": 4}}, "text": "DROP TABLE t;\n"}]));
    let d = c.diagnostics(URI, 2).await;
    assert!(rules(&d).contains(&"drop-table".to_string()), "{d:#?}");
    c.change(URI, 3, json!([{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "garbage"}]));
    let d3 = c.diagnostics(URI, 3).await;
    assert_eq!(rules(&d3), rules(&d));
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_5_mb_document_gets_a_notice_instead_of_stale_findings() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    c.open(URI, "sql", 1, "DROP TABLE t;\n");
    assert!(rules(&c.diagnostics(URI, 1).await).contains(&"drop-table".to_string()));
    // Grows past the limit: the old findings are replaced by one notice.
    let big = "ALTER TABLE users ADD COLUMN note text;\n".repeat(5 * 1024 * 1024 / 40 + 1);
    c.change(URI, 2, json!([{"text": big}]));
    let d = c.diagnostics(URI, 2).await;
    assert_eq!(rules(&d), vec!["file-too-large"], "{d:#?}");
    assert_eq!(d[0]["severity"], 3);
    assert!(d[0]["message"].as_str().unwrap().contains("not linted"), "{d:#?}");
    // Hover and code actions answer without linting it.
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 3, "character": 1}}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(status(&mut c).await["documentBytes"].as_u64().unwrap() >= 5 * 1024 * 1024);
    // Back under the limit: linted again.
    c.change(URI, 3, json!([{"text": "DROP TABLE t;\n"}]));
    assert!(rules(&c.diagnostics(URI, 3).await).contains(&"drop-table".to_string()));
    assert!(c.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_rapid_changes_end_in_the_right_diagnostics_and_bounded_state() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    c.open(URI, "sql", 1, "SELECT 1;\n");
    assert!(c.diagnostics(URI, 1).await.is_empty());
    let mut expected = String::from("SELECT 1;\n");
    for n in 0..1000u32 {
        // Append a statement, or remove the last one: the text keeps changing, not growing.
        let line = expected.lines().count() as u32;
        if n % 3 == 2 {
            c.change(URI, n as i64 + 2, json!([{"range": {"start": {"line": line - 1, "character": 0}, "end": {"line": line, "character": 0}}, "text": ""}]));
            let cut = expected[..expected.len() - 1].rfind('\n').map_or(0, |i| i + 1);
            expected.truncate(cut);
        } else {
            let stmt = if n % 2 == 0 { format!("DROP TABLE t{n};\n") } else { format!("SELECT {n};\n") };
            c.change(URI, n as i64 + 2, json!([{"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "text": stmt}]));
            expected.push_str(&stmt);
        }
    }
    let last = 1001;
    let d = c.diagnostics(URI, last).await;
    let drops = expected.lines().filter(|l| l.starts_with("DROP TABLE")).count();
    assert_eq!(rules(&d).iter().filter(|r| *r == "drop-table").count(), drops, "{expected}");
    let s = status(&mut c).await;
    assert_eq!(s["documents"], 1);
    assert_eq!(s["documentBytes"].as_u64().unwrap() as usize, expected.len());
    // Closing releases everything.
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": URI}}));
    let _ = c.next_notification("textDocument/publishDiagnostics", TIMEOUT).await;
    let s = status(&mut c).await;
    assert_eq!(
        (s["documents"].as_u64(), s["documentBytes"].as_u64(), s["histories"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
    assert!(c.shutdown_and_exit().await);
}

fn raw_frame(declared: usize, body: &[u8]) -> Vec<u8> {
    [format!("Content-Length: {declared}\r\n\r\n").as_bytes(), body].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_frames_are_answered_and_the_session_goes_on() {
    let mut c = TestClient::fast();
    c.initialize(false).await;
    c.open(URI, "sql", 1, "DROP TABLE t;\n");
    assert!(rules(&c.diagnostics(URI, 1).await).contains(&"drop-table".to_string()));

    // A body that is not JSON: a Parse error with a null id, and a log message.
    let r = c.send_raw_for_error(&raw_frame(9, b"{not json")).await;
    assert_eq!((r["error"]["code"].as_i64(), &r["id"]), (Some(-32700), &Value::Null), "{r}");
    // The next request is answered, edits still lint.
    assert_eq!(status(&mut c).await["documents"], 1);
    c.change(URI, 2, json!([{"text": "TRUNCATE t;\n"}]));
    let d = rules(&c.diagnostics(URI, 2).await);
    assert!(d.contains(&"truncate-table".to_string()) && !d.contains(&"drop-table".to_string()), "{d:?}");

    // JSON that is not a JSON-RPC message: Invalid Request.
    let r = c.send_raw_for_error(&raw_frame(11, br#"{"hello":1}"#)).await;
    assert_eq!(r["error"]["code"], -32600, "{r}");
    // A body that is not UTF-8.
    let r = c.send_raw_for_error(&raw_frame(7, b"{\"\xff\":1}")).await;
    assert_eq!(r["error"]["code"], -32700, "{r}");
    // A Content-Length larger than the body swallows the start of the next frame, which is
    // found again.
    let body = br#"{"jsonrpc":"2.0","method":"textDocument/didSave","params":{}}"#;
    let change = common::frame(&json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": URI, "version": 3},
        "contentChanges": [{"text": "DROP TABLE t;\nTRUNCATE t;\n"}]
    }}));
    let r = c.send_raw_for_error(&[raw_frame(body.len() + 12, body), change].concat()).await;
    assert_eq!(r["error"]["code"], -32700, "{r}");
    let d = rules(&c.diagnostics(URI, 3).await);
    assert!(d.contains(&"truncate-table".to_string()) && d.contains(&"drop-table".to_string()), "{d:?}");
    // A Content-Length smaller than the body.
    let r = c.send_raw_for_error(&raw_frame(body.len() - 20, body)).await;
    assert_eq!(r["error"]["code"], -32700, "{r}");
    let r = c
        .request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 1}}))
        .await;
    assert!(r["result"]["contents"]["value"].as_str().unwrap().contains("drop-table"), "{r}");
    still_serving(&mut c, "file:///chaos/V2__u.sql").await;
    assert!(c.logs.iter().any(|l| l.contains("malformed")), "{:?}", c.logs);
    assert!(c.shutdown_and_exit().await);
}
