//! Code actions: each finding's fix, suppression comments, and "fix all safe problems".

use crate::analysis::Analysis;
use crate::convert;
use crate::document::Positions;
use sluice_core::{Applicability, ColumnUnit, Edit, Span};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, DocumentChanges, OneOf, OptionalVersionedTextDocumentIdentifier,
    TextDocumentEdit, TextEdit, Uri, WorkspaceEdit,
};

/// What the code actions are computed for.
pub struct Request<'a> {
    pub uri: &'a Uri,
    /// The requested range, in bytes.
    pub range: Span,
    pub only: Option<&'a [CodeActionKind]>,
    pub unit: ColumnUnit,
    /// Use `documentChanges` with the document version (when the client supports it).
    pub versioned: bool,
    pub docs_url: Option<&'a str>,
}

pub const FIX_ALL_KIND: &str = "source.fixAll.sluice";

fn wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    match only {
        None => true,
        Some(kinds) => kinds.iter().any(|k| {
            let (k, kind) = (k.as_str(), kind.as_str());
            kind == k || kind.starts_with(&format!("{k}."))
        }),
    }
}

fn workspace_edit(req: &Request<'_>, version: i32, edits: Vec<TextEdit>) -> WorkspaceEdit {
    if req.versioned {
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier { uri: req.uri.clone(), version: Some(version) },
                edits: edits.into_iter().map(OneOf::Left).collect(),
            }])),
            ..WorkspaceEdit::default()
        }
    } else {
        let mut changes = HashMap::new();
        changes.insert(req.uri.clone(), edits);
        WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() }
    }
}

fn text_edits(pos: &Positions<'_>, edits: &[Edit]) -> Vec<TextEdit> {
    edits.iter().map(|e| TextEdit { range: pos.range(e.span), new_text: e.replacement.clone() }).collect()
}

fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// The edit inserting `-- sluice:ignore <rule>: ` on its own line above the statement, with the
/// statement's indentation.
pub fn ignore_statement_edit(text: &str, statement: Span, rule: &str) -> Edit {
    let start = statement.start.min(text.len());
    let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let before = text.get(line_start..start).unwrap_or("");
    let nl = newline(text);
    let indent: String = before.chars().take_while(|c| c.is_whitespace()).collect();
    if before.trim().is_empty() {
        Edit::insert(line_start, format!("{indent}-- sluice:ignore {rule}: {nl}"))
    } else {
        // Another statement ends on this line: start a new line for the comment and the statement.
        Edit::insert(start, format!("{nl}{indent}-- sluice:ignore {rule}: {nl}{indent}"))
    }
}

/// The edit inserting `-- sluice:ignore-file <rule>` at the top of the file.
pub fn ignore_file_edit(text: &str, rule: &str) -> Edit {
    let at = if text.starts_with('\u{feff}') { 3 } else { 0 };
    Edit::insert(at, format!("-- sluice:ignore-file {rule}{}", newline(text)))
}

/// The whole text with every safe fix applied (`sluice_rules::fix_text`), or `None` when nothing
/// changes or fixing failed.
pub fn fix_all(analysis: &Analysis) -> Option<String> {
    let config = analysis.config.as_ref()?;
    let (bom, body) = match analysis.text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", analysis.text.as_str()),
    };
    let (fixed, applied) = catch_unwind(AssertUnwindSafe(|| sluice_rules::fix_text(body, config, false))).ok()?;
    let fixed = format!("{bom}{fixed}");
    (applied > 0 && fixed != analysis.text).then_some(fixed)
}

pub fn code_actions(analysis: &Analysis, req: &Request<'_>) -> Vec<CodeActionOrCommand> {
    let pos = Positions { text: &analysis.text, index: &analysis.index, unit: req.unit };
    let mut out = Vec::new();
    let quickfix = CodeActionKind::QUICKFIX;
    for d in &analysis.diagnostics {
        let touches = d.span.start <= req.range.end && req.range.start <= d.span.end;
        if !touches || !wanted(req.only, &quickfix) {
            continue;
        }
        let lsp_diag = convert::diagnostic(d, &pos, req.uri, req.docs_url);
        if let Some(fix) = &d.fix {
            let unsafe_note = if fix.applicability == Applicability::Unsafe { " (changes behaviour)" } else { "" };
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("{}{unsafe_note} [{}]", fix.description, d.rule),
                kind: Some(quickfix.clone()),
                diagnostics: Some(vec![lsp_diag.clone()]),
                edit: Some(workspace_edit(req, analysis.version, text_edits(&pos, &fix.edits))),
                is_preferred: Some(fix.applicability == Applicability::Safe),
                ..CodeAction::default()
            }));
        }
        if sluice_rules::registry::rule(d.rule).is_some() {
            let stmt_edit = ignore_statement_edit(&analysis.text, d.statement, d.rule);
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Ignore {} for this statement", d.rule),
                kind: Some(quickfix.clone()),
                diagnostics: Some(vec![lsp_diag.clone()]),
                edit: Some(workspace_edit(req, analysis.version, text_edits(&pos, &[stmt_edit]))),
                ..CodeAction::default()
            }));
            let file_edit = ignore_file_edit(&analysis.text, d.rule);
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Ignore {} for this file", d.rule),
                kind: Some(quickfix.clone()),
                diagnostics: Some(vec![lsp_diag]),
                edit: Some(workspace_edit(req, analysis.version, text_edits(&pos, &[file_edit]))),
                ..CodeAction::default()
            }));
        }
    }
    let fix_all_kind = CodeActionKind::new(FIX_ALL_KIND);
    let has_safe_fix =
        analysis.diagnostics.iter().any(|d| d.fix.as_ref().is_some_and(|f| f.applicability == Applicability::Safe));
    if has_safe_fix && wanted(req.only, &fix_all_kind) {
        if let Some(fixed) = fix_all(analysis) {
            let whole = Span::new(0, analysis.text.len());
            let edit = TextEdit { range: pos.range(whole), new_text: fixed };
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: "Fix all safe problems in file [sluice]".into(),
                kind: Some(fix_all_kind),
                edit: Some(workspace_edit(req, analysis.version, vec![edit])),
                ..CodeAction::default()
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_comment_keeps_indentation() {
        let text = "BEGIN;\n    DROP TABLE t;\nCOMMIT;\n";
        let start = text.find("DROP").unwrap_or(0);
        let e = ignore_statement_edit(text, Span::new(start, start + 12), "drop-table");
        let (out, _) = sluice_core::diagnostic::apply_edits(text, &[e]);
        assert_eq!(out, "BEGIN;\n    -- sluice:ignore drop-table: \n    DROP TABLE t;\nCOMMIT;\n");
        let text = "SELECT 1; DROP TABLE t;\r\n";
        let start = text.find("DROP").unwrap_or(0);
        let e = ignore_statement_edit(text, Span::new(start, start + 12), "drop-table");
        let (out, _) = sluice_core::diagnostic::apply_edits(text, &[e]);
        assert_eq!(out, "SELECT 1; \r\n-- sluice:ignore drop-table: \r\nDROP TABLE t;\r\n");
        let (out, _) = sluice_core::diagnostic::apply_edits("\u{feff}X;\n", &[ignore_file_edit("\u{feff}X;\n", "r")]);
        assert_eq!(out, "\u{feff}-- sluice:ignore-file r\nX;\n");
    }

    #[test]
    fn kind_filter_is_hierarchical() {
        let k = CodeActionKind::new(FIX_ALL_KIND);
        assert!(wanted(None, &k));
        assert!(wanted(Some(&[CodeActionKind::SOURCE]), &k));
        assert!(wanted(Some(&[CodeActionKind::SOURCE_FIX_ALL]), &k));
        assert!(!wanted(Some(&[CodeActionKind::QUICKFIX]), &k));
        assert!(!wanted(Some(&[CodeActionKind::new("source.fix")]), &k));
    }
}
