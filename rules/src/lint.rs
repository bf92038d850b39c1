//! The lint driver: parse, analyse, run every enabled rule, apply suppressions and severities.

use crate::builtin;
use crate::registry::{self, RULES};
use crate::rule::{Reporter, RuleContext, RuleMeta, Scope as RuleScope};
use crate::suppress::{self, Scope};
use rayon::prelude::*;
use sluice_core::config::{Config, RuleLevel};
use sluice_core::{
    parse_file, Diagnostic, Edit, FileContext, Fix, ParsedFile, Settings, Severity, SourceText, Span, StatementStatus,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Which rules run and at what severity, plus the analysis settings.
#[derive(Clone, Debug, Default)]
pub struct LintConfig {
    pub settings: Settings,
    /// Per-rule overrides from `[rules]`.
    pub levels: HashMap<String, RuleLevel>,
}

/// A `[rules]` entry naming a rule that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRuleSetting {
    pub name: String,
    pub span: Span,
    pub suggestion: Option<&'static str>,
}

impl LintConfig {
    /// Builds a lint configuration from a parsed config file (on top of `base` settings), and
    /// checks the rule names it mentions.
    pub fn from_config(cfg: &Config, mut settings: Settings) -> Result<LintConfig, UnknownRuleSetting> {
        if let Some(d) = cfg.dialect {
            settings.dialect = d;
        }
        if let Some(v) = cfg.pg_version {
            settings.pg_version = v;
        }
        if let Some(v) = cfg.mysql_version {
            settings.mysql_version = v;
        }
        if let Some(a) = cfg.assume_in_transaction {
            settings.assume_in_transaction = a;
        }
        if let Some(f) = cfg.framework {
            settings.framework = f;
        }
        let mut levels = HashMap::new();
        for r in &cfg.rules {
            if registry::lookup(&r.name).is_none() {
                return Err(UnknownRuleSetting {
                    name: r.name.clone(),
                    span: r.span,
                    suggestion: registry::suggest(&r.name),
                });
            }
            if let Some(level) = r.level {
                levels.insert(r.name.clone(), level);
            }
        }
        settings.rule_options = cfg.rule_options.clone();
        Ok(LintConfig { settings, levels })
    }

    /// The severity a rule reports at, or `None` when it is turned off.
    pub fn severity_of(&self, meta: &RuleMeta) -> Option<Severity> {
        match self.levels.get(meta.name) {
            Some(RuleLevel::Off) => None,
            Some(RuleLevel::Severity(s)) => Some(*s),
            None => Some(meta.severity),
        }
    }
}

/// The result of linting one file.
#[derive(Clone, Debug)]
pub struct FileLint {
    /// The text the spans refer to (a lossy decoding for an invalid UTF-8 file).
    pub text: String,
    pub had_bom: bool,
    /// Findings sorted by position, then rule name.
    pub diagnostics: Vec<Diagnostic>,
}

/// Lints raw file bytes; invalid UTF-8 yields one `invalid-utf8` diagnostic.
pub fn lint_bytes(bytes: &[u8], config: &LintConfig) -> FileLint {
    match SourceText::decode(bytes) {
        Ok(src) => {
            let diagnostics = lint_text(&src.text, config);
            FileLint { text: src.text, had_bom: src.had_bom, diagnostics }
        }
        Err(e) => {
            let message = e.to_string();
            let span = e.span;
            FileLint {
                text: e.lossy,
                had_bom: false,
                diagnostics: vec![Diagnostic {
                    rule: builtin::InvalidUtf8::META.name,
                    severity: Severity::Error,
                    message,
                    span,
                    statement: span,
                    labels: Vec::new(),
                    help: Some("convert the file to UTF-8; nothing in it was linted".into()),
                    fix: None,
                }],
            }
        }
    }
}

/// Lints decoded text.
pub fn lint_text(text: &str, config: &LintConfig) -> Vec<Diagnostic> {
    let file = parse_file(text, config.settings.dialect);
    lint_parsed(&file, config)
}

/// Lints an already parsed file on its own.
pub fn lint_parsed(file: &ParsedFile, config: &LintConfig) -> Vec<Diagnostic> {
    let fcx = FileContext::analyze(file, &config.settings);
    lint_in_context(file, &fcx, config)
}

/// Lints a parsed file against an analysed context (the schema and conventions of its history).
pub fn lint_in_context(file: &ParsedFile, fcx: &FileContext, config: &LintConfig) -> Vec<Diagnostic> {
    lint(file, fcx, config, None, false).0
}

/// Whether `rule`'s findings on a statement depend only on that statement and the state it runs
/// in ([`RuleScope::Statement`]): [`lint_reusing`] keeps them on statements an edit left alone.
pub fn is_statement_rule(rule: &str) -> bool {
    registry::lookup(rule).is_some_and(|m| m.scope == RuleScope::Statement)
}

/// The rule findings of one lint (before severities and suppressions), kept so that the lint of a
/// later version of the file can reuse them ([`lint_reusing`]).
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// By rule (position in the registry): its findings, `None` when it did not run.
    by_rule: Vec<Option<Vec<Arc<Diagnostic>>>>,
}

/// [`lint_in_context`], reusing `previous`: the parse of an earlier version of the file and the
/// findings of its lint, when `fcx` was made from that version's analysis by
/// [`FileContext::reanalyze`]. Rules of [`RuleScope::Statement`] check only the statements
/// [`FileContext::unchanged_from`] does not map to the previous version; their findings on the
/// others are the previous ones, moved with their statement. Every other rule checks the whole
/// file. The result equals [`lint_in_context`]'s; the findings are returned for the next version.
pub fn lint_reusing(
    file: &ParsedFile,
    fcx: &FileContext,
    config: &LintConfig,
    previous: Option<(&ParsedFile, &Findings)>,
) -> (Vec<Diagnostic>, Findings) {
    lint(file, fcx, config, previous, true)
}

/// How the statements of a file map to those of its previous version.
struct Reuse<'p> {
    old_file: &'p ParsedFile,
    findings: &'p Findings,
    /// By statement of the previous version: the statement it is unchanged as.
    old_to_new: Vec<Option<usize>>,
    /// By statement: checked again (no previous findings apply to it).
    edited: Vec<bool>,
}

/// The statement with its terminator.
fn extent(s: &sluice_core::Statement) -> Span {
    Span::new(s.span.start, s.terminator.map_or(s.span.end, |t| t.end.max(s.span.end)))
}

/// The index of the statement whose span is `span`.
fn statement_index(file: &ParsedFile, span: Span) -> Option<usize> {
    let at = file.statements.partition_point(|s| s.span.start < span.start);
    file.statements.get(at).filter(|s| s.span == span).map(|_| at)
}

impl<'p> Reuse<'p> {
    fn new(file: &ParsedFile, fcx: &FileContext, old_file: &'p ParsedFile, findings: &'p Findings) -> Option<Self> {
        if findings.by_rule.len() != RULES.len() {
            return None;
        }
        let mut old_to_new = vec![None; old_file.statements.len()];
        let mut edited = vec![true; file.statements.len()];
        for (i, stmt) in file.statements.iter().enumerate() {
            let Some(j) = fcx.unchanged_from(old_file, i) else { continue };
            let old = old_file.statements.get(j)?;
            if extent(old).slice(&old_file.text) != extent(stmt).slice(&file.text) {
                return None;
            }
            old_to_new[j] = Some(i);
            edited[i] = false;
        }
        Some(Reuse { old_file, findings, old_to_new, edited })
    }

    /// The findings of `rule` (position `r` in the registry): its previous findings on unchanged
    /// statements, moved, and a check of the edited ones. `None` when a previous finding reaches
    /// outside its statement (the rule then checks the whole file).
    fn findings(&self, r: usize, rule: &dyn crate::rule::Rule, cx: &RuleContext<'_>) -> Option<Vec<Arc<Diagnostic>>> {
        let old = self.findings.by_rule.get(r)?.as_ref()?;
        let mut out: Vec<(usize, Arc<Diagnostic>)> = Vec::with_capacity(old.len());
        for d in old {
            let j = statement_index(self.old_file, d.statement)?;
            let Some(i) = self.old_to_new.get(j).copied().flatten() else { continue };
            let from = extent(self.old_file.statements.get(j)?);
            let to = cx.file.statements.get(i)?.span.start;
            out.push((i, moved(d, from, to)?));
        }
        let only = RuleContext { file: cx.file, fcx: cx.fcx, only: Some(&self.edited) };
        let mut reporter = Reporter::new(rule.meta());
        rule.check(&only, &mut reporter);
        for d in reporter.diagnostics {
            let i = statement_index(cx.file, d.statement)?;
            // Findings on unchanged statements (from a rule reading the statements directly) are
            // the previous ones.
            if self.edited.get(i).copied().unwrap_or(false) {
                out.push((i, Arc::new(d)));
            }
        }
        out.sort_by_key(|(i, _)| *i);
        Some(out.into_iter().map(|(_, d)| d).collect())
    }
}

/// `d`, found on the statement whose extent was `from`, for the same statement now starting at
/// `to`; `None` when one of its spans is outside the statement.
fn moved(d: &Arc<Diagnostic>, from: Span, to: usize) -> Option<Arc<Diagnostic>> {
    let inside = |s: Span| from.start <= s.start && s.end <= from.end;
    let spans = [d.span, d.statement]
        .into_iter()
        .chain(d.labels.iter().map(|l| l.span))
        .chain(d.fix.iter().flat_map(|f| f.edits.iter().map(|e| e.span)));
    if !spans.clone().all(inside) {
        return None;
    }
    if to == from.start {
        return Some(d.clone());
    }
    let mut d = Diagnostic::clone(d);
    let shift = |s: &mut Span| *s = Span::new(s.start - from.start + to, s.end - from.start + to);
    shift(&mut d.span);
    shift(&mut d.statement);
    d.labels.iter_mut().for_each(|l| shift(&mut l.span));
    d.fix.iter_mut().flat_map(|f| f.edits.iter_mut()).for_each(|e| shift(&mut e.span));
    Some(Arc::new(d))
}

fn lint(
    file: &ParsedFile,
    fcx: &FileContext,
    config: &LintConfig,
    previous: Option<(&ParsedFile, &Findings)>,
    keep: bool,
) -> (Vec<Diagnostic>, Findings) {
    let cx = RuleContext { file, fcx, only: None };
    let dialect = config.settings.dialect;
    let reuse = previous.and_then(|(old_file, findings)| Reuse::new(file, fcx, old_file, findings));
    let mut kept = Findings { by_rule: Vec::with_capacity(if keep { RULES.len() } else { 0 }) };

    let mut found: Vec<Diagnostic> = Vec::new();
    for (r, rule) in RULES.iter().enumerate() {
        let meta = rule.meta();
        let severity = if meta.applies_to(dialect) { config.severity_of(meta) } else { None };
        let Some(severity) = severity else {
            if keep {
                kept.by_rule.push(None);
            }
            continue;
        };
        let reused = match &reuse {
            Some(reuse) if meta.scope == RuleScope::Statement => reuse.findings(r, *rule, &cx),
            _ => None,
        };
        let diagnostics = match reused {
            Some(reused) => {
                let copies = reused.iter().map(|d| Diagnostic::clone(d)).collect();
                kept.by_rule.push(Some(reused));
                copies
            }
            None => {
                let mut reporter = Reporter::new(meta);
                rule.check(&cx, &mut reporter);
                if keep {
                    kept.by_rule.push(Some(reporter.diagnostics.iter().cloned().map(Arc::new).collect()));
                }
                reporter.diagnostics
            }
        };
        for mut d in diagnostics {
            // A rule may lower one finding below its default (a contract migration's compatibility
            // findings are info); the configured level never raises it back.
            d.severity = if d.severity < meta.severity { d.severity.min(severity) } else { severity };
            // No fix edits a DO block or function body; findings in a function body say when it runs.
            file.qualify_embedded_finding(&mut d);
            found.push(d);
        }
    }

    // Suppressions.
    let sups = suppress::collect(file);
    let mut used: Vec<Vec<bool>> = sups.iter().map(|s| vec![false; s.rules.len()]).collect();
    found.retain(|d| {
        if sups.is_empty() {
            return true;
        }
        // Statements are in file order: find the one this finding belongs to in O(log n).
        let at = file.statements.partition_point(|s| s.span.start < d.statement.start);
        let stmt_index = file.statements.get(at).filter(|s| s.span == d.statement).map(|_| at);
        let mut keep = true;
        for (si, s) in sups.iter().enumerate() {
            let covers = match s.scope {
                Scope::File => true,
                Scope::Statement(i) => Some(i) == stmt_index,
                Scope::Nothing => false,
            };
            if !covers {
                continue;
            }
            for (ri, (name, _)) in s.rules.iter().enumerate() {
                if name == d.rule {
                    used[si][ri] = true;
                    keep = false;
                }
            }
        }
        keep
    });

    let mut out = found;
    out.extend(builtin_diagnostics(file, config));
    out.extend(suppression_diagnostics(file, config, &sups, &used));
    out.sort_by(|a, b| (a.span.start, a.span.end, a.rule).cmp(&(b.span.start, b.span.end, b.rule)));
    (out, kept)
}

fn builtin(meta: &'static RuleMeta, severity: Severity, span: Span, statement: Span, message: String) -> Diagnostic {
    Diagnostic { rule: meta.name, severity, message, span, statement, labels: Vec::new(), help: None, fix: None }
}

fn builtin_diagnostics(file: &ParsedFile, config: &LintConfig) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for stmt in &file.statements {
        match &stmt.status {
            StatementStatus::SyntaxError(e) if file.dialect == sluice_core::Dialect::Postgres => {
                let mut d = builtin(&builtin::SyntaxError::META, Severity::Error, e.span, stmt.span, e.message.clone());
                d.help = Some(if e.message.starts_with("statement is nested too deeply") {
                    "no rule checked this statement; the rest of the file was still linted".into()
                } else {
                    "the PostgreSQL grammar rejects this statement; the rest of the file was still linted".into()
                });
                out.push(d);
            }
            StatementStatus::SyntaxError(e) | StatementStatus::Recovered(e) => {
                let meta = &builtin::UnparsedStatement::META;
                let recovered = matches!(stmt.status, StatementStatus::Recovered(_));
                let default = if recovered { Severity::Info } else { meta.severity };
                let severity = match config.levels.get(meta.name) {
                    Some(sluice_core::config::RuleLevel::Off) => continue,
                    Some(sluice_core::config::RuleLevel::Severity(s)) => *s,
                    None => default,
                };
                let (message, help) = if recovered {
                    (
                        format!("statement only partly parsed ({}); checked from its clauses and tokens", e.message),
                        "rules still checked the operations recovered from this statement; review the rest by hand",
                    )
                } else {
                    (
                        format!("statement could not be parsed ({}); no rule checked it", e.message),
                        "the MySQL parser does not know this statement; review it by hand, or run it against a scratch server",
                    )
                };
                let mut d = builtin(meta, severity, e.span, stmt.span, message);
                d.help = Some(help.into());
                out.push(d);
            }
            StatementStatus::MetaCommand => {
                let meta = &builtin::PsqlMetaCommand::META;
                if let Some(sev) = config.severity_of(meta) {
                    let mut d = builtin(
                        meta,
                        sev,
                        stmt.span,
                        stmt.span,
                        format!(
                            "psql meta-command `{}` skipped",
                            stmt.text(&file.text).split_whitespace().next().unwrap_or("\\")
                        ),
                    );
                    d.help = Some("only psql understands meta-commands; a migration tool sending this file to the server will fail here".into());
                    out.push(d);
                }
            }
            _ => {}
        }
    }
    out
}

fn suppression_diagnostics(
    file: &ParsedFile,
    config: &LintConfig,
    sups: &[suppress::Suppression],
    used: &[Vec<bool>],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let unknown = &builtin::UnknownRule::META;
    let unused = &builtin::UnusedSuppression::META;
    for (si, s) in sups.iter().enumerate() {
        if s.rules.is_empty() {
            if let Some(sev) = config.severity_of(unknown) {
                let mut d = builtin(unknown, sev, s.comment, s.comment, "suppression comment names no rule".into());
                d.help = Some("write `-- sluice:ignore rule-name: reason`".into());
                out.push(d);
            }
            continue;
        }
        let mut all_unused = true;
        for (ri, (name, span)) in s.rules.iter().enumerate() {
            if registry::lookup(name).is_none() {
                all_unused = false;
                if let Some(sev) = config.severity_of(unknown) {
                    let mut d = builtin(
                        unknown,
                        sev,
                        *span,
                        s.comment,
                        format!("unknown rule `{name}` in suppression comment"),
                    );
                    d.help = registry::suggest(name).map(|n| format!("did you mean `{n}`?"));
                    out.push(d);
                }
            } else if used.get(si).and_then(|u| u.get(ri)).copied() == Some(false) {
                if let Some(sev) = config.severity_of(unused) {
                    let what = match s.scope {
                        Scope::File => "this file",
                        _ => "the next statement",
                    };
                    out.push(builtin(
                        unused,
                        sev,
                        *span,
                        s.comment,
                        if matches!(name.as_str(), "syntax-error" | "invalid-utf8") {
                            format!("`{name}` cannot be suppressed: fix the statement instead")
                        } else {
                            format!("`{name}` reports nothing on {what}: this suppression is unused")
                        },
                    ));
                }
            } else {
                all_unused = false;
            }
        }
        if all_unused {
            let line = comment_line_span(&file.text, s.comment);
            for d in out.iter_mut().filter(|d| d.rule == unused.name && d.statement == s.comment) {
                d.fix = Some(Fix {
                    description: "Remove the unused suppression comment".into(),
                    applicability: sluice_core::Applicability::Safe,
                    edits: vec![Edit::delete(line)],
                });
            }
        }
    }
    out
}

/// The comment's span, extended to its whole line when nothing else is on it.
fn comment_line_span(text: &str, comment: Span) -> Span {
    let line_start = text[..comment.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[comment.end..].find('\n').map_or(text.len(), |i| comment.end + i + 1);
    let before = &text[line_start..comment.start];
    let after = &text[comment.end..line_end];
    if before.trim().is_empty() && after.trim().is_empty() {
        Span::new(line_start, line_end)
    } else {
        comment
    }
}

/// Lints many inputs in parallel; results keep the input order.
pub fn lint_many<T: Sync, F>(inputs: &[T], lint_one: F) -> Vec<FileLint>
where
    F: Fn(&T) -> FileLint + Sync + Send,
{
    inputs.par_iter().map(lint_one).collect()
}

/// Applies every fix of `diagnostics` whose applicability is allowed, re-linting between rounds
/// until nothing changes (at most a few rounds). Returns the new text and the number of fixes.
pub fn fix_text(text: &str, config: &LintConfig, unsafe_fixes: bool) -> (String, usize) {
    fix_text_with(text, unsafe_fixes, |t| lint_text(t, config))
}

/// [`fix_text`] with the linting of each round done by `lint` (for a file linted in its history).
pub fn fix_text_with(text: &str, unsafe_fixes: bool, lint: impl Fn(&str) -> Vec<Diagnostic>) -> (String, usize) {
    let mut current = text.to_string();
    let mut applied = 0;
    for _ in 0..4 {
        let diags = lint(&current);
        let crlf = current.contains("\r\n");
        let edits: Vec<Edit> = diags
            .iter()
            .filter_map(|d| d.fix.as_ref())
            .filter(|f| unsafe_fixes || f.applicability == sluice_core::Applicability::Safe)
            .flat_map(|f| f.edits.iter().cloned())
            .map(|mut e| {
                // Inserted lines follow the file's line endings.
                if crlf && e.replacement.contains('\n') {
                    e.replacement = e.replacement.replace("\r\n", "\n").replace('\n', "\r\n");
                }
                e
            })
            .collect();
        if edits.is_empty() {
            break;
        }
        let (next, skipped) = sluice_core::diagnostic::apply_edits(&current, &edits);
        applied += edits.len() - skipped;
        if next == current {
            break;
        }
        current = next;
    }
    (current, applied)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sluice_core::{parse_file, History};

    /// Lints `text` reusing the lint of `previous`, as an editor does after an edit.
    fn relint(
        previous: &(ParsedFile, FileContext, Findings),
        text: &str,
        config: &LintConfig,
    ) -> ((ParsedFile, FileContext, Findings), Vec<Diagnostic>) {
        let file = parse_file(text, config.settings.dialect);
        let alone = History { pending: true, ..History::default() };
        let fcx = FileContext::reanalyze(&file, &config.settings, &alone, &previous.1, &previous.0);
        let (out, findings) = lint_reusing(&file, &fcx, config, Some((&previous.0, &previous.2)));
        ((file, fcx, findings), out)
    }

    fn first(text: &str, config: &LintConfig) -> (ParsedFile, FileContext, Findings) {
        let file = parse_file(text, config.settings.dialect);
        let fcx = FileContext::analyze(&file, &config.settings);
        let (_, findings) = lint_reusing(&file, &fcx, config, None);
        (file, fcx, findings)
    }

    const FILE: &str = "CREATE INDEX a_x ON a (x);\n\
                        ALTER TABLE a ADD CONSTRAINT a_c CHECK (x > 0);\n\
                        UPDATE a SET x = 1;\n\
                        CREATE INDEX a_y ON a (y);\n\
                        ALTER TABLE b ADD CONSTRAINT b_c CHECK (y > 0);\n";

    #[test]
    fn statement_rules_are_marked_in_their_metadata() {
        let marked: Vec<&str> =
            registry::all_metas().filter(|m| m.scope == RuleScope::Statement).map(|m| m.name).collect();
        assert!(marked.len() >= 18, "{marked:?}");
        assert!(marked.iter().all(|n| is_statement_rule(n)));
        assert!(!is_statement_rule("ddl-without-lock-timeout") && !is_statement_rule("no-such-rule"));
    }

    #[test]
    fn findings_of_unchanged_statements_are_reused_and_moved() {
        let config = LintConfig::default();
        let mut previous = first(FILE, &config);
        // Mark the kept findings: the marks show which findings were reused.
        for found in previous.2.by_rule.iter_mut().flatten() {
            for d in found.iter_mut() {
                Arc::make_mut(d).message.push_str(" [kept]");
            }
        }
        // A longer UPDATE: the statements after it move by 4 bytes.
        let edited = FILE.replace("x = 1", "x = 1000");
        let (_, out) = relint(&previous, &edited, &config);
        let full = lint_text(&edited, &config);
        assert_eq!(out.len(), full.len());
        for (a, b) in out.iter().zip(&full) {
            let kept = a.message.strip_suffix(" [kept]");
            // Every finding of the statement rules is on an unchanged statement here.
            assert_eq!(kept.is_some(), is_statement_rule(a.rule), "{a:?}");
            assert_eq!((kept.unwrap_or(&a.message), a.span, a.statement), (b.message.as_str(), b.span, b.statement));
            assert_eq!(a.fix, b.fix);
        }
        assert!(out.iter().any(|d| d.span.start > edited.find("1000").unwrap()));
    }

    #[test]
    fn edits_that_change_the_state_or_the_statement_check_it_again() {
        let config = LintConfig::default();
        let mut previous = first(FILE, &config);
        for edited in [
            // The table becomes new: no lock finding after it.
            format!("CREATE TABLE a (x int, y int);\n{FILE}"),
            // The statement itself changes.
            FILE.replace("(x > 0)", "(x > 10) NOT VALID"),
            FILE.replace("CREATE INDEX a_y ON a (y);\n", ""),
            FILE.replace("ALTER TABLE b", "BEGIN;\nALTER TABLE b"),
            format!("{FILE}CREATE INDEX b_z ON b (z);\n"),
        ] {
            let (next, out) = relint(&previous, &edited, &config);
            assert_eq!(out, lint_text(&edited, &config), "{edited}");
            previous = next;
        }
    }

    #[test]
    fn other_configurations_and_files_are_not_reused() {
        let config = LintConfig::default();
        let previous = first(FILE, &config);
        // Findings of another lint (not the one the context was derived from) are ignored.
        let file = parse_file(FILE, config.settings.dialect);
        let fcx = FileContext::analyze(&file, &config.settings);
        let mut stale = previous.2.clone();
        for found in stale.by_rule.iter_mut().flatten() {
            found.clear();
        }
        let (out, _) = lint_reusing(&file, &fcx, &config, Some((&previous.0, &stale)));
        assert_eq!(out, lint_text(FILE, &config));
    }
}
