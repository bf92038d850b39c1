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

/// The findings of one document as `textDocument/publishDiagnostics` parameters, serialised from
/// the findings themselves: the same JSON as the [`diagnostic`]s of each, without building them
/// (a publication can hold thousands of findings, each with several strings).
pub struct Publication<'a> {
    pub uri: &'a Uri,
    pub diagnostics: &'a [sluice_core::Diagnostic],
    pub pos: &'a Positions<'a>,
    pub docs_url: Option<&'a str>,
    pub version: Option<i32>,
}

impl serde::Serialize for Publication<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // Documentation links by rule, each computed once.
        let hrefs: HashMap<&str, Option<Uri>> = match self.docs_url {
            Some(_) => self.diagnostics.iter().map(|d| (d.rule, docs_href(self.docs_url, d.rule))).collect(),
            None => HashMap::new(),
        };
        let items = Items { publication: self, hrefs: &hrefs };
        let mut s = serializer.serialize_struct("PublishDiagnosticsParams", 3)?;
        s.serialize_field("uri", self.uri)?;
        s.serialize_field("diagnostics", &items)?;
        if let Some(v) = self.version {
            s.serialize_field("version", &v)?;
        }
        s.end()
    }
}

struct Items<'a> {
    publication: &'a Publication<'a>,
    hrefs: &'a HashMap<&'a str, Option<Uri>>,
}

impl serde::Serialize for Items<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = self.publication;
        serializer.collect_seq(p.diagnostics.iter().map(|d| Item { d, p, href: self.hrefs.get(d.rule) }))
    }
}

/// One finding as an LSP diagnostic.
struct Item<'a> {
    d: &'a sluice_core::Diagnostic,
    p: &'a Publication<'a>,
    href: Option<&'a Option<Uri>>,
}

struct Related<'a> {
    label: &'a sluice_core::Label,
    p: &'a Publication<'a>,
}

struct Message<'a>(&'a sluice_core::Diagnostic);

impl serde::Serialize for Message<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0.help {
            Some(help) => serializer.collect_str(&format_args!("{}\nhelp: {help}", self.0.message)),
            None => serializer.serialize_str(&self.0.message),
        }
    }
}

impl serde::Serialize for Item<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (d, p) = (self.d, self.p);
        let mut s = serializer.serialize_struct("Diagnostic", 7)?;
        s.serialize_field("range", &p.pos.range(d.span))?;
        s.serialize_field("severity", &severity(d.severity))?;
        s.serialize_field("code", d.rule)?;
        if let Some(Some(href)) = self.href {
            s.serialize_field("codeDescription", &CodeDescription { href: href.clone() })?;
        }
        s.serialize_field("source", SOURCE)?;
        s.serialize_field("message", &Message(d))?;
        if !d.labels.is_empty() {
            let related: Vec<Related<'_>> = d.labels.iter().map(|label| Related { label, p }).collect();
            s.serialize_field("relatedInformation", &related)?;
        }
        s.end()
    }
}

impl serde::Serialize for Related<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("DiagnosticRelatedInformation", 2)?;
        let location = Location { uri: self.p.uri.clone(), range: self.p.pos.range(self.label.span) };
        s.serialize_field("location", &location)?;
        s.serialize_field("message", &self.label.message)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sluice_core::{ColumnUnit, LineIndex};
    use tower_lsp_server::ls_types::PublishDiagnosticsParams;

    #[test]
    fn a_publication_serialises_like_the_converted_diagnostics() {
        let text = "-- é😀\nCREATE INDEX i ON t (a);\nDROP TABLE t;\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);\n";
        let mut diagnostics = sluice_rules::lint_text(text, &sluice_rules::LintConfig::default());
        assert!(diagnostics.len() >= 3, "{diagnostics:?}");
        diagnostics[0]
            .labels
            .push(sluice_core::Label { span: sluice_core::Span::new(3, 9), message: "here \"é\"".into() });
        diagnostics[1].help = None;
        let index = LineIndex::new(text);
        let uri = Uri::from_str("file:///m/V1__a.sql").unwrap();
        for (unit, docs_url, version) in [
            (ColumnUnit::Utf16, None, Some(3)),
            (ColumnUnit::Utf8, Some("https://example.com/rules/{rule}.html"), None),
            (ColumnUnit::Utf16, Some("https://example.com/rules"), Some(1)),
        ] {
            let pos = Positions { text, index: &index, unit };
            let publication = Publication { uri: &uri, diagnostics: &diagnostics, pos: &pos, docs_url, version };
            let converted = PublishDiagnosticsParams {
                uri: uri.clone(),
                diagnostics: diagnostics.iter().map(|d| diagnostic(d, &pos, &uri, docs_url)).collect(),
                version,
            };
            assert_eq!(
                serde_json::to_string(&publication).unwrap(),
                serde_json::to_string(&converted).unwrap(),
                "{unit:?} {docs_url:?}"
            );
        }
    }
}
