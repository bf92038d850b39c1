//! One lint of one document version: the parse, the findings, and what code actions and hover
//! need to answer without linting again.

use crate::history::SetHistory;
use sluice_core::{Diagnostic, FileContext, History, LineIndex, ParseCache, ParsedFile, Severity, Span};
use sluice_rules::{Findings, LintConfig};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// The function that lints a parsed file in its analysed context, reusing the findings of the
/// previous version of the document when given (`sluice_rules::lint_reusing`, replaceable in
/// tests to check that a panicking rule does not take the server down).
pub type Linter = Arc<
    dyn Fn(&ParsedFile, &FileContext, &LintConfig, Option<(&ParsedFile, &Findings)>) -> (Vec<Diagnostic>, Findings)
        + Send
        + Sync,
>;

/// Name of the diagnostic published when linting itself failed (a panic in a rule).
pub const INTERNAL_ERROR: &str = "internal-error";
/// Name of the diagnostic published when `sluice.toml` cannot be loaded.
pub const CONFIG_ERROR: &str = "config-error";

/// The result of linting one version of a document.
pub struct Analysis {
    pub version: i32,
    /// The text every span refers to (the document text of `version`).
    pub text: String,
    pub index: LineIndex,
    /// `None` when linting failed.
    pub parsed: Option<ParsedFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub config: Option<LintConfig>,
    /// What the file was linted in (`None` when linting failed), and the migration history it
    /// was analysed against: the next version reuses it for the statements an edit left alone.
    context: Option<(FileContext, Option<HistoryPlace>)>,
    /// The rule findings behind `diagnostics`, for the next version.
    findings: Findings,
}

/// A file's migration history and its position there.
type HistoryPlace = (Arc<SetHistory>, usize);

/// Name of the diagnostic published instead of findings for a document over `maxFileBytes`.
pub const FILE_TOO_LARGE: &str = "file-too-large";

/// The analysis of a document too large to lint: one notice at its start, no parse.
pub fn too_large(version: i32, message: String) -> Analysis {
    notice(version, String::new(), FILE_TOO_LARGE, Severity::Info, message)
}

/// An analysis that is one notice on the first line of `text` instead of findings.
fn notice(version: i32, text: String, rule: &'static str, severity: Severity, message: String) -> Analysis {
    let index = LineIndex::new(&text);
    let d = whole_file_diagnostic(&text, rule, severity, message);
    Analysis {
        version,
        text,
        index,
        parsed: None,
        diagnostics: vec![d],
        config: None,
        context: None,
        findings: Findings::default(),
    }
}

/// A UTF-8 byte order mark is three bytes; replacing it by three spaces keeps every offset.
fn without_bom(text: &str) -> std::borrow::Cow<'_, str> {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => std::borrow::Cow::Owned(format!("   {rest}")),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// Parses (reusing `cache`) and lints `text` with `linter`: as file `index` of `history` when
/// given (against the schema the migrations before it leave), otherwise on its own. `previous`,
/// the analysis of an earlier version of the document, is reused for the statements an edit left
/// alone when it was made against the same history. A panic inside the parser or a rule is
/// caught and reported as one `internal-error` diagnostic; the cache is then reset.
pub fn analyze(
    text: String,
    version: i32,
    config: Result<LintConfig, String>,
    cache: &mut ParseCache,
    linter: &Linter,
    history: Option<(&Arc<SetHistory>, usize)>,
    previous: Option<&Analysis>,
) -> Analysis {
    let config = match config {
        Ok(c) => c,
        Err(message) => return notice(version, text, CONFIG_ERROR, Severity::Error, message),
    };
    let index = LineIndex::new(&text);
    let previous_config = previous.and_then(|p| p.config.as_ref());
    let same_history = |h: &Option<HistoryPlace>| match (h, history) {
        (None, None) => true,
        (Some((a, i)), Some((b, j))) => Arc::ptr_eq(a, b) && *i == j,
        _ => false,
    };
    let previous = previous.and_then(|p| match (&p.context, &p.parsed) {
        (Some((fcx, h)), Some(parsed)) if same_history(h) => Some((fcx, parsed, &p.findings)),
        _ => None,
    });
    let result = catch_unwind(AssertUnwindSafe(|| {
        let src = without_bom(&text);
        let parsed = sluice_core::parse_file_cached(&src, config.settings.dialect, cache);
        let settings = &config.settings;
        let fcx = match (history, previous) {
            (Some((h, index)), previous) => h.context(index, &src, &parsed, previous.map(|(f, p, _)| (f, p))),
            (None, Some((fcx, file, _))) => {
                let alone = History { pending: true, ..History::default() };
                Some(FileContext::reanalyze(&parsed, settings, &alone, fcx, file))
            }
            (None, None) => Some(FileContext::analyze(&parsed, settings)),
        };
        // The previous findings apply only under the same configuration (rule levels and options).
        let reusable = previous.filter(|_| previous_config.is_some_and(|c| same_config(c, &config)));
        let (diagnostics, findings) = match &fcx {
            Some(fcx) => linter(&parsed, fcx, &config, reusable.map(|(_, file, findings)| (file, findings))),
            None => (Vec::new(), Findings::default()),
        };
        (parsed, diagnostics, fcx, findings)
    }));
    match result {
        Ok((parsed, diagnostics, fcx, findings)) => {
            let context = fcx.map(|fcx| (fcx, history.map(|(h, i)| (h.clone(), i))));
            Analysis {
                version,
                text,
                index,
                parsed: Some(parsed),
                diagnostics,
                config: Some(config),
                context,
                findings,
            }
        }
        Err(panic) => {
            *cache = ParseCache::new();
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let message = format!("sluice failed while linting this file ({what}); please report this bug");
            Analysis { config: Some(config), ..notice(version, text, INTERNAL_ERROR, Severity::Error, message) }
        }
    }
}

/// Two configurations that lint alike.
fn same_config(a: &LintConfig, b: &LintConfig) -> bool {
    a.settings == b.settings && a.levels == b.levels
}

/// A diagnostic on the first line of the file.
fn whole_file_diagnostic(text: &str, rule: &'static str, severity: Severity, message: String) -> Diagnostic {
    let end = text.find('\n').unwrap_or(text.len());
    let span = Span::new(0, end);
    Diagnostic { rule, severity, message, span, statement: span, labels: Vec::new(), help: None, fix: None }
}

impl Analysis {
    /// The statement containing `offset` (its terminator included), if any.
    pub fn statement_at(&self, offset: usize) -> Option<&sluice_core::Statement> {
        let parsed = self.parsed.as_ref()?;
        parsed.statements.iter().find(|s| {
            let end = s.terminator.map_or(s.span.end, |t| t.end.max(s.span.end));
            s.span.start <= offset && offset <= end
        })
    }
}
