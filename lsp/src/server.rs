//! The language server: document state, debounced background linting, and the LSP handlers.
//!
//! Ordering: tower-lsp may run handlers concurrently, so every mutating notification
//! (didOpen/didChange/didClose) applies its change synchronously, under the state mutex, before
//! its first `.await`. Linting runs in background tasks keyed by (open id, document version,
//! configuration generation): a task whose key is no longer current does nothing, and the
//! per-document parse-cache lock (held from parsing until the diagnostics are sent) keeps
//! publications in order, so stale results are never published.

use crate::actions;
use crate::analysis::{analyze, Analysis, Linter};
use crate::convert;
use crate::document::Document;
use crate::history::SetHistory;
use crate::hover;
use sluice_core::{ColumnUnit, ParseCache, Span};
use sluice_rules::LintConfig;
use sluice_workspace::migrations::{history_root, normalize};
use sluice_workspace::{Discovery, Overrides, CONFIG_FILE};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

/// Server settings; `initializationOptions` (`debounceMs`, `docsUrl`, `maxFileBytes`) override
/// them per session.
#[derive(Clone)]
pub struct Options {
    /// Delay between the last change and linting. `SLUICE_LSP_DEBOUNCE_MS` sets the default.
    pub debounce: Duration,
    /// Rule documentation URL for `codeDescription.href`; `{rule}` is replaced by the rule name
    /// (without it, `/<rule>` is appended). `SLUICE_DOCS_URL` sets the default.
    pub docs_url: Option<String>,
    /// Larger documents are not linted: their diagnostics are replaced by one `file-too-large`
    /// information notice on the first line (and a log message); edits are still applied and
    /// linting resumes once the document is back under the limit. Default 2 MiB.
    pub max_file_bytes: usize,
    pub linter: Linter,
}

impl Default for Options {
    fn default() -> Self {
        let debounce = std::env::var("SLUICE_LSP_DEBOUNCE_MS").ok().and_then(|v| v.trim().parse::<u64>().ok());
        Options {
            debounce: Duration::from_millis(debounce.unwrap_or(150)),
            docs_url: std::env::var("SLUICE_DOCS_URL").ok().filter(|s| !s.is_empty()),
            max_file_bytes: 2 * 1024 * 1024,
            linter: Arc::new(sluice_rules::lint_reusing),
        }
    }
}

struct Entry {
    uri: Uri,
    doc: Document,
    path: Option<PathBuf>,
    is_sql: bool,
    /// Distinguishes a re-opened document from its previous life.
    open_id: u64,
    /// The directory whose migration history this file belongs to (for files on disk).
    root: Option<PathBuf>,
    /// Bumped when the history before this document changed (another file of its set).
    relint: u64,
    /// Held from parsing until the diagnostics are published.
    cache: Arc<tokio::sync::Mutex<ParseCache>>,
    /// The latest analysis with the key it was made for.
    analysis: Option<(Key, Arc<Analysis>)>,
}

struct State {
    docs: HashMap<String, Entry>,
    unit: ColumnUnit,
    /// Recreated (lazily) whenever a `sluice.toml` changes.
    discovery: Option<Discovery>,
    root: Option<PathBuf>,
    generation: u64,
    next_open_id: u64,
    debounce: Duration,
    docs_url: Option<String>,
    max_file_bytes: usize,
    versioned_edits: bool,
    watch_registration: bool,
    /// Migration histories by root; `None` for a directory that holds no migration set.
    histories: HashMap<PathBuf, Option<Arc<SetHistory>>>,
    /// Bumped on every history invalidation: a history loaded before it is not stored.
    history_epoch: u64,
}

/// Identifies one lint request; it is current while all three still match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    open_id: u64,
    version: i32,
    generation: u64,
    relint: u64,
}

struct Inner {
    client: Client,
    state: Mutex<State>,
    linter: Linter,
    shutdown: Arc<AtomicBool>,
    publisher: Publisher,
}

/// Sends `textDocument/publishDiagnostics`: serialised straight into a frame for the output pump
/// when `frames` is set (one serialisation, no intermediate JSON value: a publication can hold
/// thousands of diagnostics), through the protocol layer's client otherwise. Every publication
/// takes the same path, so they reach the client in the order they were sent.
struct Publisher {
    frames: Option<tokio::sync::mpsc::UnboundedSender<Vec<u8>>>,
    /// Set once `initialize` has been answered; nothing is published before.
    ready: AtomicBool,
}

/// A JSON-RPC notification, serialised in the order the protocol layer writes its fields.
#[derive(serde::Serialize)]
struct Notification<'a, P: ?Sized> {
    jsonrpc: &'static str,
    method: &'static str,
    params: &'a P,
}

impl Inner {
    async fn publish(&self, uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
        if self.publisher.frames.is_none() {
            self.client.publish_diagnostics(uri, diagnostics, version).await;
        } else {
            self.send_publication(&PublishDiagnosticsParams { uri, diagnostics, version }, 0).await;
        }
    }

    /// Publishes the findings of `analysis`.
    async fn publish_analysis(&self, uri: Uri, analysis: &Analysis, unit: ColumnUnit, docs_url: Option<&str>) {
        let pos = crate::document::Positions { text: &analysis.text, index: &analysis.index, unit };
        let version = Some(analysis.version);
        if self.publisher.frames.is_none() {
            let diagnostics = analysis.diagnostics.iter().map(|d| convert::diagnostic(d, &pos, &uri, docs_url));
            self.client.publish_diagnostics(uri.clone(), diagnostics.collect(), version).await;
            return;
        }
        let diagnostics = &analysis.diagnostics;
        let publication = convert::Publication { uri: &uri, diagnostics, pos: &pos, docs_url, version };
        // A finding takes a few hundred bytes of JSON.
        self.send_publication(&publication, 320 * diagnostics.len()).await;
    }

    /// Sends `params` as a `textDocument/publishDiagnostics` frame on the publisher's channel.
    async fn send_publication(&self, params: &impl serde::Serialize, size_hint: usize) {
        let Some(frames) = &self.publisher.frames else { return };
        if !self.publisher.ready.load(Ordering::SeqCst) {
            return;
        }
        let note = Notification { jsonrpc: "2.0", method: "textDocument/publishDiagnostics", params };
        let mut body = Vec::with_capacity(size_hint + 128);
        match serde_json::to_writer(&mut body, &note) {
            Ok(()) => {
                // The pump is gone only when the session has ended.
                let _ = frames.send(crate::transport::frame(&body));
            }
            Err(e) => self.log(MessageType::ERROR, format!("cannot serialise diagnostics: {e}")).await,
        }
    }
}

pub struct Backend {
    inner: Arc<Inner>,
}

const SQL_LANGUAGES: &[&str] = &["sql", "pgsql", "postgres", "postgresql", "plpgsql", "mysql", "mariadb", "plsql"];

fn is_sql(language_id: &str, path: Option<&std::path::Path>, uri: &Uri) -> bool {
    SQL_LANGUAGES.contains(&language_id.to_ascii_lowercase().as_str())
        || path.and_then(|p| p.extension()).is_some_and(|e| e.eq_ignore_ascii_case("sql"))
        || uri.as_str().to_ascii_lowercase().ends_with(".sql")
}

fn is_config_uri(uri: &Uri) -> bool {
    uri.as_str().rsplit('/').next().is_some_and(|name| name == CONFIG_FILE)
}

fn uri_path(uri: &Uri) -> Option<PathBuf> {
    if uri.as_str().starts_with("file:") {
        uri.to_file_path().map(|p| p.into_owned())
    } else {
        None
    }
}

impl State {
    fn current_key(&self, uri: &str) -> Option<Key> {
        let e = self.docs.get(uri)?;
        Some(Key { open_id: e.open_id, version: e.doc.version, generation: self.generation, relint: e.relint })
    }

    /// Drops the cached histories of the roots `affected` selects and marks the open documents
    /// under them (except `except`) for re-linting. Returns the documents to re-lint.
    fn invalidate_histories(&mut self, affected: impl Fn(&Path) -> bool, except: Option<&str>) -> Vec<String> {
        self.history_epoch += 1;
        self.histories.retain(|root, _| !affected(root));
        let mut out = Vec::new();
        for (uri, e) in &mut self.docs {
            if e.is_sql && e.root.as_deref().is_some_and(&affected) && except != Some(uri.as_str()) {
                e.relint += 1;
                out.push(uri.clone());
            }
        }
        out
    }

    /// The editor's text of the open documents under `root`, by normalized path.
    fn open_texts(&self, root: &Path) -> HashMap<PathBuf, String> {
        self.docs
            .values()
            .filter(|e| e.root.as_deref() == Some(root))
            .filter_map(|e| Some((normalize(e.path.as_deref()?), e.doc.text.clone())))
            .collect()
    }

    /// The lint configuration for a document, exactly as the CLI resolves it.
    fn config_for(&mut self, path: Option<&std::path::Path>) -> std::result::Result<LintConfig, String> {
        if self.discovery.is_none() {
            self.discovery = Some(Discovery::new(Overrides::default(), None).map_err(|e| e.to_string())?);
        }
        let dir = path.map(PathBuf::from).or_else(|| self.root.clone());
        match (self.discovery.as_mut(), dir) {
            (Some(d), Some(p)) => d.for_path(&p).map(|r| r.lint.clone()).map_err(|e| e.to_string()),
            _ => Ok(LintConfig::default()),
        }
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn log(&self, typ: MessageType, message: impl std::fmt::Display) {
        self.client.log_message(typ, message).await;
    }

    /// Schedules a debounced lint of the document's current version.
    fn schedule(self: &Arc<Self>, uri: String) {
        let (key, debounce) = {
            let st = self.state();
            match st.current_key(&uri) {
                Some(k) => (k, st.debounce),
                None => return,
            }
        };
        let inner = self.clone();
        tokio::spawn(async move {
            if !debounce.is_zero() {
                tokio::time::sleep(debounce).await;
            }
            let _ = inner.lint(&uri, key, true).await;
        });
    }

    /// Lints the document if `key` is still current, stores the analysis and (when `publish`)
    /// publishes the diagnostics. Returns the analysis for `key`, or `None` when it went stale.
    async fn lint(self: &Arc<Self>, uri: &str, key: Key, publish: bool) -> Option<Arc<Analysis>> {
        let snapshot = {
            let mut st = self.state();
            if st.current_key(uri) != Some(key) {
                return None;
            }
            let max = st.max_file_bytes;
            let e = st.docs.get(uri)?;
            if !e.is_sql {
                return None;
            }
            if e.doc.text.len() > max {
                Err((
                    format!("{} bytes, over the {max}-byte limit (maxFileBytes): not linted", e.doc.text.len()),
                    e.cache.clone(),
                    e.uri.clone(),
                ))
            } else {
                let (text, cache, path, lsp_uri) = (e.doc.text.clone(), e.cache.clone(), e.path.clone(), e.uri.clone());
                let history = match (e.root.clone(), path.clone()) {
                    (Some(root), Some(path)) => Some(match st.histories.get(&root) {
                        Some(cached) => HistorySource::Cached(cached.clone(), path),
                        None => HistorySource::Load { open: st.open_texts(&root), root, path, epoch: st.history_epoch },
                    }),
                    _ => None,
                };
                let previous = e.analysis.as_ref().map(|(_, a)| a.clone());
                let config = st.config_for(path.as_deref());
                Ok((text, cache, config, lsp_uri, history, previous))
            }
        };
        let (text, cache, config, lsp_uri, history, previous) = match snapshot {
            Ok(s) => s,
            Err((message, cache, lsp_uri)) => {
                self.log(MessageType::WARNING, format!("{uri}: {message}")).await;
                // One notice replaces the findings of the last version that was linted, which
                // no longer describe the document.
                let _guard = cache.lock_owned().await;
                let analysis = Arc::new(crate::analysis::too_large(key.version, message));
                {
                    let mut st = self.state();
                    if st.current_key(uri) != Some(key) {
                        return None;
                    }
                    if let Some(e) = st.docs.get_mut(uri) {
                        e.analysis = Some((key, analysis.clone()));
                    }
                }
                if publish {
                    let d = Diagnostic {
                        range: Range::default(),
                        severity: Some(DiagnosticSeverity::INFORMATION),
                        code: Some(NumberOrString::String(crate::analysis::FILE_TOO_LARGE.into())),
                        source: Some(convert::SOURCE.into()),
                        message: analysis.diagnostics.first().map(|d| d.message.clone()).unwrap_or_default(),
                        ..Diagnostic::default()
                    };
                    self.publish(lsp_uri, vec![d], Some(key.version)).await;
                }
                return Some(analysis);
            }
        };
        let mut guard = cache.lock_owned().await;
        {
            let st = self.state();
            if st.current_key(uri) != Some(key) {
                return None;
            }
            if let Some((generation, a)) = st.docs.get(uri).and_then(|e| e.analysis.as_ref()) {
                // Linted (and published: the publisher held the cache lock) while we waited.
                if *generation == key {
                    return Some(a.clone());
                }
            }
        }
        let linter = self.linter.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let (set, loaded) = match history {
                None => (None, None),
                Some(HistorySource::Cached(h, path)) => (h.and_then(|h| Some((h.position(&path)?, h))), None),
                Some(HistorySource::Load { open, root, path, epoch }) => {
                    let h = SetHistory::load(&root, &open).map(Arc::new);
                    let set = h.clone().and_then(|h| Some((h.position(&path)?, h)));
                    (set, Some((root, epoch, h)))
                }
            };
            let history = set.as_ref().map(|(i, h)| (h, *i));
            let a = analyze(text, key.version, config, &mut guard, &linter, history, previous.as_deref());
            (a, guard, loaded, previous)
        })
        .await;
        let (analysis, guard, loaded, previous) = match joined {
            Ok(r) => r,
            Err(e) => {
                self.log(MessageType::ERROR, format!("{uri}: linting failed: {e}")).await;
                return None;
            }
        };
        if let Some(d) = analysis.diagnostics.iter().find(|d| d.rule == crate::analysis::INTERNAL_ERROR) {
            self.log(MessageType::ERROR, format!("{uri}: {}", d.message)).await;
        }
        let analysis = Arc::new(analysis);
        let (unit, docs_url) = {
            let mut st = self.state();
            if st.current_key(uri) != Some(key) {
                return None;
            }
            let (unit, docs_url) = (st.unit, st.docs_url.clone());
            if let Some((root, epoch, h)) = loaded {
                if epoch == st.history_epoch {
                    st.histories.insert(root, h);
                }
            }
            if let Some(e) = st.docs.get_mut(uri) {
                e.analysis = Some((key, analysis.clone()));
            }
            (unit, docs_url)
        };
        if publish {
            self.publish_analysis(lsp_uri, &analysis, unit, docs_url.as_deref()).await;
        }
        drop(guard);
        // The previous version's parse and findings are freed after publishing, off the
        // async threads.
        if previous.is_some() {
            tokio::task::spawn_blocking(move || drop(previous));
        }
        Some(analysis)
    }

    /// The analysis of the document's current version, linting now when needed.
    async fn current_analysis(self: &Arc<Self>, uri: &Uri) -> Result<Option<Arc<Analysis>>> {
        let key_str = uri.as_str().to_string();
        for _ in 0..3 {
            let key = {
                let st = self.state();
                let Some(e) = st.docs.get(&key_str) else {
                    return Err(Error::invalid_params(format!("document not open: {}", uri.as_str())));
                };
                if !e.is_sql {
                    return Ok(None);
                }
                let key =
                    Key { open_id: e.open_id, version: e.doc.version, generation: st.generation, relint: e.relint };
                if let Some((made_for, a)) = &e.analysis {
                    if *made_for == key {
                        return Ok(Some(a.clone()));
                    }
                }
                key
            };
            if let Some(a) = self.lint(&key_str, key, true).await {
                return Ok(Some(a));
            }
        }
        Ok(None)
    }

    fn reload_config(self: &Arc<Self>) -> Vec<String> {
        let uris: Vec<String> = {
            let mut st = self.state();
            st.discovery = None;
            st.generation += 1;
            st.history_epoch += 1;
            st.histories.clear();
            st.docs.iter().filter(|(_, e)| e.is_sql).map(|(k, _)| k.clone()).collect()
        };
        for u in &uris {
            self.schedule(u.clone());
        }
        uris
    }

    /// Invalidates histories (see [`State::invalidate_histories`]) and re-lints what they cover.
    fn invalidate(self: &Arc<Self>, affected: impl Fn(&Path) -> bool, except: Option<&str>) {
        let uris = self.state().invalidate_histories(affected, except);
        for u in uris {
            self.schedule(u);
        }
    }
}

/// Where the lint of a document finds its migration history.
enum HistorySource {
    /// Cached for the document's root (`None`: the root holds no migration set).
    Cached(Option<Arc<SetHistory>>, PathBuf),
    /// To be loaded with these open documents' texts; stored if `epoch` is still current.
    Load { open: HashMap<PathBuf, String>, root: PathBuf, path: PathBuf, epoch: u64 },
}

impl Backend {
    /// A server talking through `client`; with `frames`, diagnostics are published as whole
    /// frames on that channel (see [`crate::transport::pump_output`]) instead.
    pub fn new(
        client: Client,
        options: Options,
        shutdown: Arc<AtomicBool>,
        frames: Option<tokio::sync::mpsc::UnboundedSender<Vec<u8>>>,
    ) -> Self {
        let state = State {
            docs: HashMap::new(),
            unit: ColumnUnit::Utf16,
            discovery: None,
            root: None,
            generation: 0,
            next_open_id: 0,
            debounce: options.debounce,
            docs_url: options.docs_url,
            max_file_bytes: options.max_file_bytes,
            versioned_edits: false,
            watch_registration: false,
            histories: HashMap::new(),
            history_epoch: 0,
        };
        let publisher = Publisher { frames, ready: AtomicBool::new(false) };
        Backend {
            inner: Arc::new(Inner { client, state: Mutex::new(state), linter: options.linter, shutdown, publisher }),
        }
    }
}

fn root_of(params: &InitializeParams) -> Option<PathBuf> {
    if let Some(f) = params.workspace_folders.as_ref().and_then(|f| f.first()) {
        if let Some(p) = uri_path(&f.uri) {
            return Some(p);
        }
    }
    #[allow(deprecated)]
    let root_uri = params.root_uri.as_ref();
    root_uri.and_then(uri_path)
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let caps = &params.capabilities;
        let utf8 = caps
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|encs| encs.contains(&PositionEncodingKind::UTF8));
        let versioned = caps
            .workspace
            .as_ref()
            .and_then(|w| w.workspace_edit.as_ref())
            .and_then(|e| e.document_changes)
            .unwrap_or(false);
        let watch = caps
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        {
            let mut st = self.inner.state();
            st.unit = if utf8 { ColumnUnit::Utf8 } else { ColumnUnit::Utf16 };
            st.versioned_edits = versioned;
            st.watch_registration = watch;
            st.root = root_of(&params);
            if let Some(opts) = params.initialization_options.as_ref() {
                if let Some(ms) = opts.get("debounceMs").and_then(serde_json::Value::as_u64) {
                    st.debounce = Duration::from_millis(ms);
                }
                if let Some(url) = opts.get("docsUrl").and_then(serde_json::Value::as_str) {
                    st.docs_url = Some(url.to_string()).filter(|s| !s.is_empty());
                }
                if let Some(n) = opts.get("maxFileBytes").and_then(serde_json::Value::as_u64) {
                    st.max_file_bytes = usize::try_from(n).unwrap_or(usize::MAX);
                }
            }
        }
        let encoding = if utf8 { PositionEncodingKind::UTF8 } else { PositionEncodingKind::UTF16 };
        self.inner.publisher.ready.store(true, Ordering::SeqCst);
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(encoding),
                text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    will_save: None,
                    will_save_wait_until: None,
                    save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
                })),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![
                        CodeActionKind::QUICKFIX,
                        CodeActionKind::SOURCE_FIX_ALL,
                        CodeActionKind::new(actions::FIX_ALL_KIND),
                    ]),
                    ..CodeActionOptions::default()
                })),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo { name: "sluice".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let watch = self.inner.state().watch_registration;
        if watch {
            let inner = self.inner.clone();
            tokio::spawn(async move {
                let options = DidChangeWatchedFilesRegistrationOptions {
                    // sluice.toml, migrations and their sidecar settings (Flyway `.conf`, Diesel
                    // `metadata.toml`).
                    watchers: [
                        format!("**/{CONFIG_FILE}"),
                        "**/*.sql".into(),
                        "**/*.conf".into(),
                        "**/metadata.toml".into(),
                    ]
                    .into_iter()
                    .map(|glob| FileSystemWatcher { glob_pattern: GlobPattern::String(glob), kind: None })
                    .collect(),
                };
                let registration = Registration {
                    id: "sluice-config-watcher".into(),
                    method: "workspace/didChangeWatchedFiles".into(),
                    register_options: serde_json::to_value(options).ok(),
                };
                if let Err(e) = inner.client.register_capability(vec![registration]).await {
                    inner.log(MessageType::WARNING, format!("could not watch {CONFIG_FILE} files: {e}")).await;
                }
            });
        }
        self.inner.log(MessageType::INFO, "sluice language server ready").await;
    }

    async fn shutdown(&self) -> Result<()> {
        self.inner.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let td = params.text_document;
        let key = td.uri.as_str().to_string();
        let path = uri_path(&td.uri);
        let sql = is_sql(&td.language_id, path.as_deref(), &td.uri);
        let root = path.as_deref().filter(|_| sql).map(history_root);
        {
            let mut st = self.inner.state();
            st.next_open_id += 1;
            let open_id = st.next_open_id;
            let entry = Entry {
                uri: td.uri.clone(),
                doc: Document::new(td.text, td.version, td.language_id.clone()),
                path,
                is_sql: sql,
                open_id,
                root: root.clone(),
                relint: 0,
                cache: Arc::new(tokio::sync::Mutex::new(ParseCache::new())),
                analysis: None,
            };
            st.docs.insert(key.clone(), entry);
        }
        if sql {
            // The editor's text replaces the file on disk in the history of the other files.
            if let Some(root) = root {
                self.inner.invalidate(|r| r == root, Some(&key));
            }
            self.inner.schedule(key);
        } else {
            self.inner
                .log(
                    MessageType::INFO,
                    format!("{}: not SQL (language `{}`): not linted", td.uri.as_str(), td.language_id),
                )
                .await;
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let key = params.text_document.uri.as_str().to_string();
        let version = params.text_document.version;
        let (warnings, sql, others) = {
            let mut st = self.inner.state();
            let unit = st.unit;
            let (w, sql, root) = match st.docs.get_mut(&key) {
                None => (vec![format!("didChange for a document that is not open: {key}; ignored")], false, None),
                Some(e) => {
                    let mut w = e.doc.apply_changes(params.content_changes, unit);
                    if version <= e.doc.version {
                        w.push(format!("{key}: version {version} does not increase (was {})", e.doc.version));
                    }
                    e.doc.version = version;
                    (w, e.is_sql, e.root.clone())
                }
            };
            // Other open files of the same migration set see this text in their history. The
            // edited file itself is linted with its own text in place (no reload needed).
            let others = match root {
                Some(root) if st.docs.iter().any(|(u, e)| *u != key && e.root.as_ref() == Some(&root)) => {
                    st.invalidate_histories(|r| r == root, Some(&key))
                }
                _ => Vec::new(),
            };
            (w, sql, others)
        };
        if sql {
            self.inner.schedule(key.clone());
        }
        for u in others {
            self.inner.schedule(u);
        }
        for w in warnings {
            self.inner.log(MessageType::WARNING, format!("{key}: {w}")).await;
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        if is_config_uri(&params.text_document.uri) {
            let n = self.inner.reload_config().len();
            self.inner.log(MessageType::INFO, format!("{CONFIG_FILE} saved: re-linting {n} open files")).await;
        } else if let Some(path) = uri_path(&params.text_document.uri) {
            // A first save can add a migration to the set; any save changes the files on disk.
            let path = normalize(&path);
            self.inner.invalidate(|root| path.starts_with(root), None);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let key = params.text_document.uri.as_str().to_string();
        let removed = {
            let mut st = self.inner.state();
            let removed = st.docs.remove(&key);
            if let Some(root) = removed.as_ref().and_then(|e| e.root.clone()) {
                // The file on disk replaces the closed editor text in the other files' history.
                let others = st.invalidate_histories(|r| r == root, None);
                drop(st);
                for u in others {
                    self.inner.schedule(u);
                }
            }
            removed
        };
        match removed {
            Some(e) if e.is_sql => {
                // Clear the diagnostics after any lint still publishing for this document.
                let inner = self.inner.clone();
                tokio::spawn(async move {
                    let _guard = e.cache.lock().await;
                    inner.publish(e.uri, Vec::new(), None).await;
                });
            }
            Some(_) => {}
            None => {
                self.inner.log(MessageType::WARNING, format!("didClose for a document that is not open: {key}")).await
            }
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        if params.changes.iter().any(|c| is_config_uri(&c.uri)) {
            let n = self.inner.reload_config().len();
            self.inner.log(MessageType::INFO, format!("{CONFIG_FILE} changed: re-linting {n} open files")).await;
            return;
        }
        let changed: Vec<PathBuf> =
            params.changes.iter().filter_map(|c| uri_path(&c.uri)).map(|p| normalize(&p)).collect();
        if !changed.is_empty() {
            self.inner.invalidate(|root| changed.iter().any(|p| p.starts_with(root)), None);
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let tdp = params.text_document_position_params;
        let Some(analysis) = self.inner.current_analysis(&tdp.text_document.uri).await? else {
            return Ok(None);
        };
        let unit = self.inner.state().unit;
        let pos = crate::document::Positions { text: &analysis.text, index: &analysis.index, unit };
        let (offset, _) = pos.offset(tdp.position);
        let Some((sections, span)) = hover::hover_sections(&analysis, offset) else {
            return Ok(None);
        };
        Ok(Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: hover::render(&sections),
            }),
            range: Some(pos.range(span)),
        }))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some(analysis) = self.inner.current_analysis(&params.text_document.uri).await? else {
            return Ok(None);
        };
        let (unit, versioned, docs_url) = {
            let st = self.inner.state();
            (st.unit, st.versioned_edits, st.docs_url.clone())
        };
        let pos = crate::document::Positions { text: &analysis.text, index: &analysis.index, unit };
        let (start, _) = pos.offset(params.range.start);
        let (end, _) = pos.offset(params.range.end);
        let req = actions::Request {
            uri: &params.text_document.uri,
            range: Span::new(start.min(end), end.max(start)),
            only: params.context.only.as_deref(),
            unit,
            versioned,
            docs_url: docs_url.as_deref(),
        };
        Ok(Some(actions::code_actions(&analysis, &req)))
    }
}

/// The `sluice/status` request: what the server holds in memory.
pub const STATUS_METHOD: &str = "sluice/status";

impl Backend {
    /// Answers `sluice/status`: open documents, their total size in bytes, cached histories.
    pub async fn status(&self) -> Result<serde_json::Value> {
        let st = self.inner.state();
        let bytes: usize = st.docs.values().map(|e| e.doc.text.len()).sum();
        Ok(serde_json::json!({
            "documents": st.docs.len(),
            "documentBytes": bytes,
            "histories": st.histories.len(),
        }))
    }
}

/// Parses a `file://` URI (for tests and tools).
pub fn file_uri(path: &std::path::Path) -> Option<Uri> {
    Uri::from_file_path(path).or_else(|| Uri::from_str(&format!("file://{}", path.display())).ok())
}
