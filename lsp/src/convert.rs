//! Sluice diagnostics to LSP diagnostics.

use crate::document::Positions;
use sluice_core::Severity;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::OnceLock;
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri,
};

pub const SOURCE: &str = "sluice";

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// Where a rule's documentation lives: `docs_url` with `{rule}` replaced, when configured.
pub fn docs_href(docs_url: Option<&str>, rule: &str) -> Option<Uri> {
    let template = docs_url?;
    let url = if template.contains("{rule}") {
        template.replace("{rule}", rule)
    } else {
        format!("{}/{rule}", template.trim_end_matches('/'))
    };
    Uri::from_str(&url).ok()
}

/// A rule's one-line summary, computed once per rule (rendering the docs is not free, and a
/// file can have thousands of findings).
pub fn summary(rule: &str) -> Option<&'static str> {
    static SUMMARIES: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    SUMMARIES
        .get_or_init(|| sluice_rules::registry::all_metas().map(|m| (m.name, m.summary())).collect())
        .get(rule)
        .map(String::as_str)
}

pub fn diagnostic(d: &sluice_core::Diagnostic, pos: &Positions<'_>, uri: &Uri, docs_url: Option<&str>) -> Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .map(|l| DiagnosticRelatedInformation {
            location: Location { uri: uri.clone(), range: pos.range(l.span) },
            message: l.message.clone(),
        })
        .collect();
    Diagnostic {
        range: pos.range(d.span),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.rule.to_string())),
        code_description: docs_href(docs_url, d.rule).map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        // The rule is the code; hover and `sluice explain <code>` show its documentation.
        data: None,
    }
}
