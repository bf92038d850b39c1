//! Report formats: human, JSON, GitHub workflow commands, SARIF, GitLab Code Quality, JUnit XML
//! and Markdown; rule listings.

use crate::{ListFormat, OutputFormat};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sluice_core::{ColumnUnit, Diagnostic, LineIndex, Severity, Span};
use sluice_rules::registry::{self, RULES};
use sluice_rules::RuleMeta;
use std::collections::{BTreeMap, HashMap};
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
    let mut out = Vec::new();
    let _ = write_human(reports, color, fixing, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`human`], written file by file (a large run's report is tens of megabytes).
pub fn write_human(
    reports: &[FileReport],
    color: bool,
    fixing: bool,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    for r in reports.iter().filter(|r| !r.diagnostics.is_empty()) {
        out.write_all(sluice_rules::render::human(&r.path, &r.text, &r.diagnostics, color).as_bytes())?;
    }
    let (e, w, i) = counts(reports.iter());
    let files_with = reports.iter().filter(|r| !r.diagnostics.is_empty()).count();
    let fixable = reports.iter().flat_map(|r| &r.diagnostics).filter(|d| d.fix.is_some()).count();
    let fixed: usize = reports.iter().map(|r| r.fixed).sum();
    if fixed > 0 {
        writeln!(
            out,
            "Applied {} to {}.",
            plural(fixed, "fix"),
            plural(reports.iter().filter(|r| r.fixed > 0).count(), "file")
        )?;
    }
    if e + w + i == 0 {
        writeln!(out, "No problems found in {}.", plural(reports.len(), "file"))?;
    } else {
        writeln!(
            out,
            "Found {}, {} and {} in {} ({} checked).",
            plural(e, "error"),
            plural(w, "warning"),
            plural(i, "info"),
            plural(files_with, "file"),
            reports.len()
        )?;
        if fixable > 0 && !fixing {
            writeln!(out, "{fixable} can be fixed with `sluice lint --fix` (some need `--unsafe-fixes`).")?;
        }
    }
    Ok(())
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
    diagnostics: JsonDiagnostics<'a>,
}

/// Every report's findings, converted one at a time while they are written.
struct JsonDiagnostics<'a>(&'a [FileReport]);

impl Serialize for JsonDiagnostics<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        for r in self.0.iter().filter(|r| !r.diagnostics.is_empty()) {
            let idx = LineIndex::new(&r.text);
            for d in &r.diagnostics {
                seq.serialize_element(&diag_json(r, &idx, d))?;
            }
        }
        seq.end()
    }
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
    let mut buf = Vec::new();
    match write_json(reports, &mut buf) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Writes the JSON report to `out` while it is serialised, without holding the whole text.
pub fn write_json(reports: &[FileReport], out: &mut impl std::io::Write) -> std::io::Result<()> {
    let (error, warning, info) = counts(reports.iter());
    let doc = JsonReport {
        version: 1,
        files_checked: reports.len(),
        summary: JsonSummary { error, warning, info },
        diagnostics: JsonDiagnostics(reports),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

fn gh_escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn gh_escape_prop(s: &str) -> String {
    gh_escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one annotation per finding.
pub fn github(reports: &[FileReport]) -> String {
    let mut out = Vec::new();
    let _ = write_github(reports, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`github`], written finding by finding.
pub fn write_github(reports: &[FileReport], out: &mut impl std::io::Write) -> std::io::Result<()> {
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
            writeln!(
                out,
                "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                gh_escape_prop(&r.path),
                reg.start_line,
                reg.start_col,
                reg.end_line,
                reg.end_col,
                gh_escape_prop(&format!("sluice {}", d.rule)),
                gh_escape_data(&message)
            )?;
        }
    }
    Ok(())
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

// SARIF results as typed, borrowed values (a `serde_json::Value` per result costs several times
// the text). Fields are in alphabetical order, the order `serde_json` gives a `Value` object.
#[derive(Serialize)]
struct SarifText {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    char_length: usize,
    char_offset: usize,
    end_column: usize,
    end_line: usize,
    start_column: usize,
    start_line: usize,
}

#[derive(Serialize)]
struct SarifUri {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical {
    artifact_location: SarifUri,
    region: SarifRegion,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: SarifPhysical,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    level: &'static str,
    locations: [SarifLocation; 1],
    message: SarifText,
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
}

#[derive(Serialize)]
struct SarifDriver {
    name: &'static str,
    rules: Vec<Value>,
    version: &'static str,
}

#[derive(Serialize)]
struct SarifTool {
    driver: SarifDriver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun<'a> {
    column_kind: &'static str,
    results: SarifResults<'a>,
    tool: SarifTool,
}

/// Every report's findings as SARIF results, converted one report at a time while they are
/// written.
struct SarifResults<'a> {
    reports: &'a [FileReport],
    metas: &'a [&'static RuleMeta],
}

impl Serialize for SarifResults<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        for r in self.reports.iter().filter(|r| !r.diagnostics.is_empty()) {
            for result in sarif_results(r, self.metas) {
                seq.serialize_element(&result)?;
            }
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [SarifRun<'a>; 1],
    version: &'static str,
}

/// SARIF 2.1.0 with the full rule metadata and UTF-16 columns.
pub fn sarif(reports: &[FileReport]) -> String {
    let mut buf = Vec::new();
    match write_sarif(reports, &mut buf) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The SARIF results of one report's findings.
fn sarif_results<'a>(r: &'a FileReport, metas: &[&RuleMeta]) -> Vec<SarifResult<'a>> {
    let idx = LineIndex::new(&r.text);
    let uri = r.path.replace('\\', "/");
    // UTF-16 offsets of the diagnostics' starts, counted in one pass over the text.
    let mut starts: Vec<usize> = r.diagnostics.iter().map(|d| d.span.start.min(r.text.len())).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut utf16_at = std::collections::HashMap::with_capacity(starts.len());
    let (mut units, mut pos) = (0usize, 0usize);
    for &at in &starts {
        let Some(part) = r.text.get(pos..at) else { continue };
        units += part.encode_utf16().count();
        pos = at;
        utf16_at.insert(at, units);
    }
    let mut results = Vec::with_capacity(r.diagnostics.len());
    for d in &r.diagnostics {
        let reg = region(&r.text, &idx, d.span, ColumnUnit::Utf16);
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str(". Help: ");
            message.push_str(h);
        }
        let start = d.span.start.min(r.text.len());
        let char_offset = match utf16_at.get(&start) {
            Some(n) => *n,
            None => r.text.get(..start).map_or(0, |t| t.encode_utf16().count()),
        };
        results.push(SarifResult {
            level: sarif_level(d.severity),
            locations: [SarifLocation {
                physical_location: SarifPhysical {
                    artifact_location: SarifUri { uri: uri.clone() },
                    region: SarifRegion {
                        char_length: d.span.slice(&r.text).encode_utf16().count(),
                        char_offset,
                        end_column: reg.end_col,
                        end_line: reg.end_line,
                        start_column: reg.start_col,
                        start_line: reg.start_line,
                    },
                },
            }],
            message: SarifText { text: message },
            rule_id: d.rule,
            rule_index: metas.iter().position(|m| m.name == d.rule),
        });
    }
    results
}

/// Writes the SARIF log to `out` while it is serialised.
pub fn write_sarif(reports: &[FileReport], out: &mut impl std::io::Write) -> std::io::Result<()> {
    let metas: Vec<&RuleMeta> = registry::all_metas().collect();
    let results = SarifResults { reports, metas: &metas };
    let log = SarifLog {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [SarifRun {
            column_kind: "utf16CodeUnits",
            results,
            tool: SarifTool {
                driver: SarifDriver {
                    name: "sluice",
                    rules: metas.iter().map(|m| sarif_rule(m)).collect(),
                    version: env!("CARGO_PKG_VERSION"),
                },
            },
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
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

/// Renders `reports` in a machine format (human output without colour).
pub fn render(format: OutputFormat, reports: &[FileReport]) -> String {
    match format {
        OutputFormat::Human => human(reports, false, false),
        OutputFormat::Json => json(reports),
        OutputFormat::Github => github(reports),
        OutputFormat::Sarif => sarif(reports),
        OutputFormat::Gitlab => gitlab(reports),
        OutputFormat::Junit => junit(reports),
        OutputFormat::Markdown => markdown(reports, link_base_from_env().as_deref(), MARKDOWN_LIMIT),
    }
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0u8]);
    }
    h.finalize().iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn gitlab_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

/// GitLab Code Quality report: one issue per finding. The fingerprint hashes the rule, the path
/// and the statement text (whitespace-normalised), plus an occurrence number among identical
/// ones, so it survives lines being inserted above the statement.
pub fn gitlab(reports: &[FileReport]) -> String {
    let mut issues = Vec::new();
    for r in reports {
        let idx = LineIndex::new(&r.text);
        let mut seen: HashMap<(&str, String), usize> = HashMap::new();
        for d in &r.diagnostics {
            let reg = region(&r.text, &idx, d.span, ColumnUnit::Char);
            let statement = d.statement.slice(&r.text).split_whitespace().collect::<Vec<_>>().join(" ");
            let statement_hash = sha256_hex(&[statement.as_bytes()]);
            let n = seen.entry((d.rule, statement_hash.clone())).or_default();
            *n += 1;
            let occurrence = n.to_string();
            let fingerprint =
                sha256_hex(&[d.rule.as_bytes(), r.path.as_bytes(), statement_hash.as_bytes(), occurrence.as_bytes()]);
            let mut description = d.message.clone();
            if let Some(h) = &d.help {
                description.push_str(". Help: ");
                description.push_str(h);
            }
            let category = registry::lookup(d.rule).map(|m| m.category.name());
            issues.push(json!({
                "type": "issue",
                "description": description,
                "check_name": d.rule,
                "fingerprint": fingerprint,
                "severity": gitlab_severity(d.severity),
                "categories": [match category {
                    Some("locking") => "Performance",
                    Some("compatibility") | Some("destructive") => "Bug Risk",
                    _ => "Style",
                }],
                "location": {
                    "path": r.path.replace('\\', "/"),
                    "lines": {"begin": reg.start_line, "end": reg.end_line},
                },
            }));
        }
    }
    serde_json::to_string_pretty(&Value::Array(issues)).unwrap_or_default() + "\n"
}

/// Text for XML: escaped, with the characters XML 1.0 cannot hold replaced by U+FFFD.
fn xml_text(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect();
    quick_xml::escape::escape(clean.as_str()).into_owned()
}

/// JUnit XML: one test suite per file; one test case per finding (a failure when it is at or
/// above `fail_on`), or one passing test case for a clean file.
pub fn junit(reports: &[FileReport]) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures) = (0, 0);
    for r in reports {
        let idx = LineIndex::new(&r.text);
        let path = xml_text(&r.path);
        let mut cases = String::new();
        let mut suite_failures = 0;
        for d in &r.diagnostics {
            let reg = region(&r.text, &idx, d.span, ColumnUnit::Char);
            let name = xml_text(&format!("{} at {}:{}", d.rule, reg.start_line, reg.start_col));
            let mut body =
                format!("{}:{}:{}: {}: {}", r.path, reg.start_line, reg.start_col, d.severity.name(), d.message);
            if let Some(h) = &d.help {
                body.push_str("\nhelp: ");
                body.push_str(h);
            }
            let _ = write!(
                cases,
                "    <testcase classname=\"{path}\" name=\"{name}\" file=\"{path}\" line=\"{}\">",
                reg.start_line
            );
            if d.severity >= r.fail_on {
                suite_failures += 1;
                let _ = write!(
                    cases,
                    "\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    ",
                    xml_text(d.rule),
                    xml_text(&d.message),
                    xml_text(&body)
                );
            } else {
                let _ = write!(cases, "\n      <system-out>{}</system-out>\n    ", xml_text(&body));
            }
            cases.push_str("</testcase>\n");
        }
        let count = r.diagnostics.len().max(1);
        if r.diagnostics.is_empty() {
            let _ = writeln!(cases, "    <testcase classname=\"{path}\" name=\"no findings\" file=\"{path}\"/>");
        }
        tests += count;
        failures += suite_failures;
        let _ = write!(
            suites,
            "  <testsuite name=\"{path}\" tests=\"{count}\" failures=\"{suite_failures}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n"
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sluice\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n{suites}</testsuites>\n"
    )
}

/// GitHub and GitLab cap a comment at 65,536 characters; the report stays under this.
pub const MARKDOWN_LIMIT: usize = 65_000;

/// Where line links point: the commit's blob URL on GitHub Actions or GitLab CI, when known.
pub fn link_base_from_env() -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(server), Some(repo), Some(sha)) =
        (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), var("GITHUB_SHA"))
    {
        return Some(format!("{server}/{repo}/blob/{sha}"));
    }
    if let (Some(project), Some(sha)) = (var("CI_PROJECT_URL"), var("CI_COMMIT_SHA")) {
        return Some(format!("{project}/-/blob/{sha}"));
    }
    None
}

/// Markdown text: `<`, `>` and `&` escaped outside code spans, so a message cannot open HTML.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(part);
        } else {
            out.push_str(&part.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"));
        }
    }
    out.replace('\n', " ")
}

/// A pull-request comment: a summary table by severity and rule, then one collapsible section
/// per file with its findings linked to their lines. When that would exceed `limit` characters,
/// only the summary is kept, with a note saying so.
pub fn markdown(reports: &[FileReport], link_base: Option<&str>, limit: usize) -> String {
    let (e, w, i) = counts(reports.iter());
    let files_with = reports.iter().filter(|r| !r.diagnostics.is_empty()).count();
    let mut summary = String::from("## Sluice migration lint\n\n");
    if e + w + i == 0 {
        let _ = writeln!(summary, "No problems found in {}.", plural(reports.len(), "file"));
        return summary;
    }
    let _ = writeln!(
        summary,
        "Found {}, {} and {} in {} ({} checked).\n",
        plural(e, "error"),
        plural(w, "warning"),
        plural(i, "info"),
        plural(files_with, "file"),
        reports.len()
    );
    let mut by_rule: BTreeMap<(std::cmp::Reverse<Severity>, &str), usize> = BTreeMap::new();
    for d in reports.iter().flat_map(|r| &r.diagnostics) {
        *by_rule.entry((std::cmp::Reverse(d.severity), d.rule)).or_default() += 1;
    }
    summary.push_str("| Severity | Rule | Findings |\n| --- | --- | ---: |\n");
    for ((std::cmp::Reverse(sev), rule), n) in &by_rule {
        let _ = writeln!(summary, "| {} | `{rule}` | {n} |", sev.name());
    }
    let mut details = String::new();
    for r in reports.iter().filter(|r| !r.diagnostics.is_empty()) {
        let idx = LineIndex::new(&r.text);
        let (fe, fw, fi) = counts(std::iter::once(r));
        let path = r.path.replace('\\', "/");
        let _ = write!(
            details,
            "\n<details><summary><code>{}</code>: {}, {}, {}</summary>\n\n",
            md_text(&path).replace('`', ""),
            plural(fe, "error"),
            plural(fw, "warning"),
            plural(fi, "info")
        );
        for d in &r.diagnostics {
            let reg = region(&r.text, &idx, d.span, ColumnUnit::Char);
            let target = match link_base {
                Some(base) => format!("{}/{path}#L{}", base.trim_end_matches('/'), reg.start_line),
                None => format!("{path}#L{}", reg.start_line),
            };
            let _ = write!(
                details,
                "- **{}** `{}` [line {}]({}): {}",
                d.severity.name(),
                d.rule,
                reg.start_line,
                target.replace(' ', "%20").replace(')', "%29"),
                md_text(&d.message)
            );
            if let Some(h) = &d.help {
                let _ = write!(details, "<br>help: {}", md_text(h));
            }
            details.push('\n');
        }
        details.push_str("\n</details>\n");
    }
    if summary.chars().count() + details.chars().count() <= limit {
        return summary + &details;
    }
    let _ = write!(
        summary,
        "\n> [!NOTE]\n> The per-file details were left out: with them this comment would exceed {limit} characters. \
         Run `sluice lint` or read the job log for every finding.\n"
    );
    summary
}

/// Appends the Markdown summary to `$GITHUB_STEP_SUMMARY` when it is set.
pub fn append_step_summary(reports: &[FileReport]) -> Result<(), String> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else { return Ok(()) };
    let body = markdown(reports, link_base_from_env().as_deref(), MARKDOWN_LIMIT);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("GITHUB_STEP_SUMMARY {}: {e}", std::path::Path::new(&path).display()))?;
    std::io::Write::write_all(&mut f, body.as_bytes())
        .map_err(|e| format!("GITHUB_STEP_SUMMARY {}: {e}", std::path::Path::new(&path).display()))
}
