//! Human rendering of diagnostics: source excerpt, caret span, help and fix, via
//! codespan-reporting. Returns strings; writing them is the caller's business.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel, Severity as CsSeverity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor::Buffer, Config};
use sluice_core::{Diagnostic, Severity};

fn cs_severity(s: Severity) -> CsSeverity {
    match s {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
        Severity::Info => CsSeverity::Note,
    }
}

/// Renders the diagnostics of one file, in order.
pub fn human(path: &str, text: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let file = SimpleFile::new(path, text);
    let config = Config::default();
    let mut buf = if color { Buffer::ansi() } else { Buffer::no_color() };
    for d in diagnostics {
        let cs = to_codespan(d, text.len());
        if term::emit_to_write_style(&mut buf, &config, &file, &cs).is_err() {
            // A span outside the text (never expected): fall back to a plain line.
            buf.clear();
            return fallback(path, diagnostics);
        }
    }
    String::from_utf8_lossy(buf.as_slice()).into_owned()
}

fn clamp(span: sluice_core::Span, len: usize) -> std::ops::Range<usize> {
    let start = span.start.min(len);
    start..span.end.clamp(start, len)
}

fn to_codespan(d: &Diagnostic, len: usize) -> CsDiagnostic<()> {
    let mut labels = vec![CsLabel::primary((), clamp(d.span, len))];
    for l in &d.labels {
        labels.push(CsLabel::secondary((), clamp(l.span, len)).with_message(l.message.clone()));
    }
    let mut notes = Vec::new();
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    if let Some(f) = &d.fix {
        let kind = match f.applicability {
            sluice_core::Applicability::Safe => "fix",
            sluice_core::Applicability::Unsafe => "unsafe fix",
        };
        notes.push(format!("{kind}: {}", f.description));
    }
    CsDiagnostic::new(cs_severity(d.severity))
        .with_code(d.rule)
        .with_message(d.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

fn fallback(path: &str, diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().map(|d| format!("{path}: {}[{}]: {}\n", d.severity, d.rule, d.message)).collect()
}
