//! An in-process LSP client talking to the server over `tokio::io::duplex` with real JSON-RPC
//! framing (`Content-Length` headers).

#![allow(dead_code, clippy::unwrap_used)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

pub const TIMEOUT: Duration = Duration::from_secs(30);

type Waiters = Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>;

pub struct TestClient {
    out: mpsc::UnboundedSender<Vec<u8>>,
    waiters: Waiters,
    next_id: i64,
    notifications: mpsc::UnboundedReceiver<Value>,
    /// Requests the server sent to the client (e.g. `client/registerCapability`).
    pub server_requests: Arc<Mutex<Vec<Value>>>,
    /// `window/logMessage` texts seen so far.
    pub logs: Vec<String>,
    pub server: tokio::task::JoinHandle<bool>,
}

pub fn frame(msg: &Value) -> Vec<u8> {
    let body = serde_json::to_vec(msg).unwrap();
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend(body);
    out
}

pub async fn read_message<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).await.ok()?;
    serde_json::from_slice(&body).ok()
}

impl TestClient {
    pub fn start(options: sluice_lsp::Options) -> TestClient {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_io);
        let server = tokio::spawn(sluice_lsp::serve(server_read, server_write, options));
        let (client_read, mut client_write) = tokio::io::split(client_io);
        let (out, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                if client_write.write_all(&msg).await.is_err() {
                    break;
                }
                let _ = client_write.flush().await;
            }
        });
        let waiters: Waiters = Arc::default();
        let server_requests: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (note_tx, notifications) = mpsc::unbounded_channel();
        {
            let (waiters, server_requests, out) = (waiters.clone(), server_requests.clone(), out.clone());
            tokio::spawn(async move {
                let mut reader = BufReader::new(client_read);
                while let Some(msg) = read_message(&mut reader).await {
                    let id = msg.get("id").cloned();
                    match (id, msg.get("method")) {
                        (Some(id), Some(_)) => {
                            server_requests.lock().unwrap().push(msg.clone());
                            let _ = out.send(frame(&json!({"jsonrpc": "2.0", "id": id, "result": null})));
                        }
                        (Some(id), None) => {
                            let id = id.as_i64().unwrap_or(-1);
                            if let Some(w) = waiters.lock().unwrap().remove(&id) {
                                let _ = w.send(msg);
                            }
                        }
                        (None, _) => {
                            let _ = note_tx.send(msg);
                        }
                    }
                }
            });
        }
        TestClient { out, waiters, next_id: 1, notifications, server_requests, logs: Vec::new(), server }
    }

    /// Starts a server with no debounce.
    pub fn fast() -> TestClient {
        TestClient::start(sluice_lsp::Options { debounce: Duration::ZERO, ..sluice_lsp::Options::default() })
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.out.send(frame(&json!({"jsonrpc": "2.0", "method": method, "params": params}))).unwrap();
    }

    /// Sends bytes as they are (no framing added).
    pub fn send_raw(&self, bytes: &[u8]) {
        self.out.send(bytes.to_vec()).unwrap();
    }

    /// Sends bytes as they are and returns the next response with a null id (the answer to a
    /// message the server could not read).
    pub async fn send_raw_for_error(&mut self, bytes: &[u8]) -> Value {
        let (tx, rx) = oneshot::channel();
        self.waiters.lock().unwrap().insert(-1, tx);
        self.send_raw(bytes);
        tokio::time::timeout(TIMEOUT, rx).await.expect("no answer to a malformed message").unwrap()
    }

    /// Sends a request and returns the whole response message (`result` or `error`).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = oneshot::channel();
        self.waiters.lock().unwrap().insert(id, tx);
        self.out.send(frame(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))).unwrap();
        tokio::time::timeout(TIMEOUT, rx).await.expect("response timed out").unwrap()
    }

    pub async fn initialize_with(&mut self, utf8: bool, root: Option<&Path>, options: Value) -> Value {
        let mut general = json!({});
        if utf8 {
            general = json!({"positionEncodings": ["utf-8", "utf-16"]});
        }
        let root_uri = root.map(uri);
        let resp = self
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": root_uri,
                    "capabilities": {
                        "general": general,
                        "workspace": {
                            "didChangeWatchedFiles": {"dynamicRegistration": true},
                            "workspaceEdit": {"documentChanges": true}
                        },
                        "textDocument": {"publishDiagnostics": {"versionSupport": true}}
                    },
                    "initializationOptions": options
                }),
            )
            .await;
        self.notify("initialized", json!({}));
        resp
    }

    pub async fn initialize(&mut self, utf8: bool) -> Value {
        self.initialize_with(utf8, None, json!({})).await
    }

    /// The next notification with this method (others are dropped, log messages recorded).
    pub async fn next_notification(&mut self, method: &str, timeout: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.notifications.recv()).await.ok()??;
            if msg["method"] == "window/logMessage" {
                self.logs.push(msg["params"]["message"].as_str().unwrap_or("").to_string());
            }
            if msg["method"] == method {
                return Some(msg);
            }
        }
    }

    /// The diagnostics published for `uri` at `version` (earlier publications are skipped; a
    /// later version than asked for fails the test).
    pub async fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        loop {
            let mut msg = self
                .next_notification("textDocument/publishDiagnostics", TIMEOUT)
                .await
                .unwrap_or_else(|| panic!("no diagnostics for {uri} v{version}; logs: {:?}", self.logs));
            let p = &mut msg["params"];
            if p["uri"] != uri {
                continue;
            }
            let v = p["version"].as_i64();
            assert!(v.is_none_or(|v| v <= version), "got v{v:?} while waiting for v{version}");
            if v == Some(version) {
                return match p["diagnostics"].take() {
                    Value::Array(diagnostics) => diagnostics,
                    _ => Vec::new(),
                };
            }
        }
    }

    pub fn open(&self, uri: &str, language: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": version, "text": text}}),
        );
    }

    pub fn change(&self, uri: &str, version: i64, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        );
    }

    pub async fn shutdown_and_exit(mut self) -> bool {
        let r = self.request("shutdown", Value::Null).await;
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
        tokio::time::timeout(TIMEOUT, self.server).await.expect("server did not exit").unwrap()
    }
}

pub fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// Byte offset of an LSP position, computed independently of the server.
pub fn offset_of(text: &str, pos: &Value, utf8: bool) -> usize {
    let line = pos["line"].as_u64().unwrap() as usize;
    let col = pos["character"].as_u64().unwrap() as usize;
    let mut start = 0;
    for _ in 0..line {
        start += text[start..].find('\n').unwrap() + 1;
    }
    let mut counted = 0;
    for (i, ch) in text[start..].char_indices() {
        if counted >= col || ch == '\n' {
            return start + i;
        }
        counted += if utf8 { ch.len_utf8() } else { ch.len_utf16() };
    }
    text.len()
}

/// Applies LSP text edits (non-overlapping) to `text`.
pub fn apply_text_edits(text: &str, edits: &[Value], utf8: bool) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset_of(text, &e["range"]["start"], utf8),
                offset_of(text, &e["range"]["end"], utf8),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}

/// The text edits of a code action's workspace edit (either form).
pub fn action_edits(action: &Value, uri: &str) -> Vec<Value> {
    let edit = &action["edit"];
    if let Some(dc) = edit["documentChanges"].as_array() {
        return dc
            .iter()
            .filter(|d| d["textDocument"]["uri"] == uri)
            .flat_map(|d| d["edits"].as_array().unwrap().clone())
            .collect();
    }
    edit["changes"][uri].as_array().cloned().unwrap_or_default()
}

pub fn rules(diags: &[Value]) -> Vec<String> {
    let mut r: Vec<String> = diags.iter().map(|d| d["code"].as_str().unwrap().to_string()).collect();
    r.sort();
    r
}

pub fn find<'a>(diags: &'a [Value], rule: &str) -> &'a Value {
    diags.iter().find(|d| d["code"] == rule).unwrap_or_else(|| panic!("no {rule} in {diags:#?}"))
}

pub fn range(d: &Value) -> (u64, u64, u64, u64) {
    let r = &d["range"];
    (
        r["start"]["line"].as_u64().unwrap(),
        r["start"]["character"].as_u64().unwrap(),
        r["end"]["line"].as_u64().unwrap(),
        r["end"]["character"].as_u64().unwrap(),
    )
}
