//! Report formats: human, JSON, GitHub workflow commands and SARIF; rule listings.

use crate::ListFormat;
use serde::Serialize;
use serde_json::{json, Value};
use sluice_core::{ColumnUnit, Diagnostic, LineIndex, Severity, Span};
use sluice_rules::registry::{self, RULES};
use sluice_rules::RuleMeta;
use std::fmt::Write as _;

/// The lint result of one file, ready to print.
pub struct FileReport {
    pub path: String,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
    pub fail_on: Severity,
    /// Fixes applied by `--fix`.
    pub fixed: usize,
    /// The fixes as a unified diff (`--diff`).
    pub diff: String,
}

/// One-based line and column of the start and end of a span.
struct Region {
    start_line: usize,
    start_col: usize,
    end_line: usize,
    end_col: usize,
}

fn region(text: &str, idx: &LineIndex, span: Span, unit: ColumnUnit) -> Region {
    let s = idx.line_col(text, span.start, unit);
    let e = idx.line_col(text, span.end, unit);
    Region { start_line: s.line + 1, start_col: s.col + 1, end_line: e.line + 1, end_col: e.col + 1 }
}

fn counts<'a>(reports: impl Iterator<Item = &'a FileReport>) -> (usize, usize, usize) {
    let mut c = (0, 0, 0);
    for d in reports.flat_map(|r| r.diagnostics.iter()) {
        match d.severity {
            Severity::Error => c.0 += 1,
            Severity::Warning => c.1 += 1,
            Severity::Info => c.2 += 1,
        }
    }
    c
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn human(reports: &[FileReport], color: bool, fixing: bool) -> String {
    let mut out = String::new();
    for r in reports.iter().filter(|r| !r.diagnostics.is_empty()) {
        out.push_str(&sluice_rules::render::human(&r.path, &r.text, &r.diagnostics, color));
    }
    let (e, w, i) = counts(reports.iter());
    let files_with = reports.iter().filter(|r| !r.diagnostics.is_empty()).count();
    let fixable = reports.iter().flat_map(|r| &r.diagnostics).filter(|d| d.fix.is_some()).count();
    let fixed: usize = reports.iter().map(|r| r.fixed).sum();
    if fixed > 0 {
        let _ = writeln!(
            out,
            "Applied {} to {}.",
            plural(fixed, "fix"),
            plural(reports.iter().filter(|r| r.fixed > 0).count(), "file")
        );
    }
    if e + w + i == 0 {
        let _ = writeln!(out, "No problems found in {}.", plural(reports.len(), "file"));
    } else {
        let _ = writeln!(
            out,
            "Found {}, {} and {} in {} ({} checked).",
            plural(e, "error"),
            plural(w, "warning"),
            plural(i, "info"),
            plural(files_with, "file"),
            reports.len()
        );
        if fixable > 0 && !fixing {
            let _ = writeln!(out, "{fixable} can be fixed with `sluice lint --fix` (some need `--unsafe-fixes`).");
        }
    }
    out
}

#[derive(Serialize)]
struct JsonSpan {
    start: usize,
    end: usize,
}

impl From<Span> for JsonSpan {
    fn from(s: Span) -> Self {
        JsonSpan { start: s.start, end: s.end }
    }
}

#[derive(Serialize)]
struct JsonPos {
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    span: JsonSpan,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    span: JsonSpan,
    replacement: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    description: &'a str,
    applicability: sluice_core::Applicability,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    path: &'a str,
    rule: &'a str,
    severity: Severity,
    category: Option<&'static str>,
    message: &'a str,
    help: Option<&'a str>,
    span: JsonSpan,
    start: JsonPos,
    end: JsonPos,
    statement: JsonSpan,
    labels: Vec<JsonLabel<'a>>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonSummary {
    error: usize,
    warning: usize,
    info: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    files_checked: usize,
    summary: JsonSummary,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

fn diag_json<'a>(r: &'a FileReport, idx: &LineIndex, d: &'a Diagnostic) -> JsonDiagnostic<'a> {
    let reg = region(&r.text, idx, d.span, ColumnUnit::Char);
    JsonDiagnostic {
        path: &r.path,
        rule: d.rule,
        severity: d.severity,
        category: registry::lookup(d.rule).map(|m| m.category.name()),
        message: &d.message,
        help: d.help.as_deref(),
        span: d.span.into(),
        start: JsonPos { line: reg.start_line, column: reg.start_col },
        end: JsonPos { line: reg.end_line, column: reg.end_col },
        statement: d.statement.into(),
        labels: d.labels.iter().map(|l| JsonLabel { span: l.span.into(), message: &l.message }).collect(),
        fix: d.fix.as_ref().map(|f| JsonFix {
            description: &f.description,
            applicability: f.applicability,
            edits: f.edits.iter().map(|e| JsonEdit { span: e.span.into(), replacement: &e.replacement }).collect(),
        }),
    }
}

/// The JSON report (documented in docs/json-output.md; `version` changes on breaking changes).
pub fn json(reports: &[FileReport]) -> String {
    let (error, warning, info) = counts(reports.iter());
    let mut diagnostics = Vec::new();
    for r in reports.iter().filter(|r| !r.diagnostics.is_empty()) {
        let idx = LineIndex::new(&r.text);
        diagnostics.extend(r.diagnostics.iter().map(|d| diag_json(r, &idx, d)));
    }
    let doc = JsonReport {
        version: 1,
        files_checked: reports.len(),
        summary: JsonSummary { error, warning, info },
        diagnostics,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn gh_escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn gh_escape_prop(s: &str) -> String {
    gh_escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one annotation per finding.
pub fn github(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let idx = LineIndex::new(&r.text);
        for d in &r.diagnostics {
            let reg = region(&r.text, &idx, d.span, ColumnUnit::Char);
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            let _ = writeln!(
                out,
                "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                gh_escape_prop(&r.path),
                reg.start_line,
                reg.start_col,
                reg.end_line,
                reg.end_col,
                gh_escape_prop(&format!("sluice {}", d.rule)),
                gh_escape_data(&message)
            );
        }
    }
    out
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn sarif_rule(m: &RuleMeta) -> Value {
    json!({
        "id": m.name,
        "name": m.name,
        "shortDescription": {"text": m.summary()},
        "fullDescription": {"text": m.summary()},
        "help": {"text": m.documentation(), "markdown": m.documentation()},
        "defaultConfiguration": {"level": sarif_level(m.severity)},
        "properties": {
            "category": m.category.name(),
            "dialects": m.dialects.iter().map(|d| d.name()).collect::<Vec<_>>(),
            "fixable": m.fix.is_available(),
            "tags": [m.category.name()],
        },
    })
}

/// SARIF 2.1.0 with the full rule metadata and UTF-16 columns.
pub fn sarif(reports: &[FileReport]) -> String {
    let metas: Vec<&RuleMeta> = registry::all_metas().collect();
    let mut results = Vec::new();
    for r in reports {
        let idx = LineIndex::new(&r.text);
        for d in &r.diagnostics {
            let reg = region(&r.text, &idx, d.span, ColumnUnit::Utf16);
            let rule_index = metas.iter().position(|m| m.name == d.rule);
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str(". Help: ");
                message.push_str(h);
            }
            let mut result = json!({
                "ruleId": d.rule,
                "level": sarif_level(d.severity),
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": r.path.replace('\\', "/")},
                        "region": {
                            "startLine": reg.start_line,
                            "startColumn": reg.start_col,
                            "endLine": reg.end_line,
                            "endColumn": reg.end_col,
                            "charOffset": r.text[..d.span.start.min(r.text.len())].encode_utf16().count(),
                            "charLength": d.span.slice(&r.text).encode_utf16().count(),
                        }
                    }
                }],
            });
            if let (Some(i), Some(obj)) = (rule_index, result.as_object_mut()) {
                obj.insert("ruleIndex".into(), json!(i));
            }
            results.push(result);
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sluice",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": metas.iter().map(|m| sarif_rule(m)).collect::<Vec<_>>(),
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

pub fn rules_table(format: ListFormat) -> String {
    let metas: Vec<&RuleMeta> = RULES.iter().map(|r| r.meta()).collect();
    match format {
        ListFormat::Json => {
            let v: Vec<Value> = metas
                .iter()
                .map(|m| {
                    json!({
                        "name": m.name,
                        "dialects": m.dialects.iter().map(|d| d.name()).collect::<Vec<_>>(),
                        "category": m.category.name(),
                        "severity": m.severity,
                        "fix": m.fix,
                        "summary": m.summary(),
                    })
                })
                .collect();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        ListFormat::Human => {
            let width = metas.iter().map(|m| m.name.len()).max().unwrap_or(4);
            let mut out =
                format!("{:<width$}  {:<14}  {:<13}  {:<8}  FIX\n", "RULE", "DIALECTS", "CATEGORY", "SEVERITY");
            for m in metas {
                let dialects = m.dialects.iter().map(|d| d.name()).collect::<Vec<_>>().join(",");
                let fix = match m.fix {
                    sluice_rules::FixKind::None => "-",
                    sluice_rules::FixKind::Safe => "safe",
                    sluice_rules::FixKind::Unsafe => "unsafe",
                };
                let _ = writeln!(
                    out,
                    "{:<width$}  {:<14}  {:<13}  {:<8}  {fix}",
                    m.name,
                    dialects,
                    m.category.name(),
                    m.severity.name()
                );
            }
            out
        }
    }
}

pub fn explain(meta: &RuleMeta) -> String {
    let dialects = meta.dialects.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ");
    let fix = match meta.fix {
        sluice_rules::FixKind::None => "no",
        sluice_rules::FixKind::Safe => "yes",
        sluice_rules::FixKind::Unsafe => "yes (unsafe: needs --unsafe-fixes)",
    };
    format!(
        "# {}\n\nDialects: {dialects}. Category: {}. Default severity: {}. Fix: {fix}.\n\n{}",
        meta.name,
        meta.category.name(),
        meta.severity.name(),
        meta.documentation()
    )
}
