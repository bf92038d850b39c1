//! Suppression comments: `-- sluice:ignore rule-a, rule-b: reason` silences those rules on the
//! next statement; `-- sluice:ignore-file rule-a` silences them for the whole file. Block
//! comments (`/* sluice:ignore ... */`) and MySQL `#` comments work the same way.

use sluice_core::lexer::{Token, TokenKind};
use sluice_core::{ParsedFile, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The statement with this index.
    Statement(usize),
    File,
    /// An `ignore` with no statement after it.
    Nothing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub scope: Scope,
    /// Rule names with their spans in the file.
    pub rules: Vec<(String, Span)>,
    /// The whole comment.
    pub comment: Span,
}

/// The body of a comment token, without its markers.
fn comment_body<'a>(tok: &Token, text: &'a str) -> &'a str {
    let t = tok.text(text);
    match tok.kind {
        TokenKind::LineComment => t.strip_prefix("--").or_else(|| t.strip_prefix('#')).unwrap_or(t),
        TokenKind::BlockComment => {
            let inner = t.strip_prefix("/*").unwrap_or(t);
            inner.strip_suffix("*/").unwrap_or(inner)
        }
        _ => "",
    }
}

/// Parses one comment; `None` when it is not a suppression comment.
/// Returns (file-scoped, rule names with spans relative to the file).
pub fn parse_comment(tok: &Token, text: &str) -> Option<(bool, Vec<(String, Span)>)> {
    let body = comment_body(tok, text);
    let body_start =
        tok.span.start + (tok.text(text).len() - tok.text(text).trim_start_matches(['-', '#', '/', '*']).len());
    let lead = body.len() - body.trim_start().len();
    let trimmed = body.trim_start();
    let (file, rest) = if let Some(r) = trimmed.strip_prefix("sluice:ignore-file") {
        (true, r)
    } else if let Some(r) = trimmed.strip_prefix("sluice:ignore") {
        (false, r)
    } else {
        return None;
    };
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let rest_start = body_start + lead + (trimmed.len() - rest.len());
    // Names run up to the first ':' (the reason follows it).
    let names_part = rest.split(':').next().unwrap_or("");
    let mut names = Vec::new();
    // Separators may be multi-byte (Unicode whitespace): offsets come from the characters.
    let mut name_start = None;
    for (i, c) in names_part.char_indices().chain([(names_part.len(), ',')]) {
        if c == ',' || c.is_whitespace() {
            if let Some(s) = name_start.take() {
                names.push((names_part[s..i].to_string(), Span::new(rest_start + s, rest_start + i)));
            }
        } else if name_start.is_none() {
            name_start = Some(i);
        }
    }
    Some((file, names))
}

/// All suppression comments of a file with the statement each one covers.
pub fn collect(file: &ParsedFile) -> Vec<Suppression> {
    let mut out = Vec::new();
    for tok in file.comments() {
        let Some((is_file, rules)) = parse_comment(tok, &file.text) else { continue };
        let scope = if is_file {
            Scope::File
        } else {
            file.statements.iter().position(|s| s.span.start >= tok.span.end).map_or(Scope::Nothing, Scope::Statement)
        };
        out.push(Suppression { scope, rules, comment: tok.span });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_core::{parse_file, Dialect};

    #[test]
    fn parses_scopes_names_and_reasons() {
        let src = "-- sluice:ignore-file truncate-table\nSELECT 1;\n/* sluice:ignore drop-table, drop-column: legacy */\nDROP TABLE a;\n-- sluice:ignoreX foo\n-- sluice:ignore";
        let f = parse_file(src, Dialect::Postgres);
        let s = collect(&f);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].scope, Scope::File);
        assert_eq!(s[0].rules[0].1.slice(src), "truncate-table");
        assert_eq!(s[1].scope, Scope::Statement(1));
        let names: Vec<_> = s[1].rules.iter().map(|(n, sp)| (n.as_str(), sp.slice(src))).collect();
        assert_eq!(names, vec![("drop-table", "drop-table"), ("drop-column", "drop-column")]);
        assert_eq!(s[2].scope, Scope::Nothing);
        assert!(s[2].rules.is_empty());
    }

    #[test]
    fn names_after_multibyte_whitespace_keep_their_spans() {
        let src = "-- sluice:ignore drop-table\u{2028}\u{e9}x,\u{3000}truncate-table\nDROP TABLE a;";
        let s = collect(&parse_file(src, Dialect::Postgres));
        let names: Vec<_> = s[0].rules.iter().map(|(n, sp)| (n.as_str(), sp.slice(src))).collect();
        assert_eq!(
            names,
            vec![("drop-table", "drop-table"), ("\u{e9}x", "\u{e9}x"), ("truncate-table", "truncate-table")]
        );
    }

    #[test]
    fn mysql_hash_comments() {
        let src = "# sluice:ignore drop-table\nDROP TABLE a;";
        let s = collect(&parse_file(src, Dialect::MySql));
        assert_eq!(s[0].scope, Scope::Statement(0));
    }

    #[test]
    fn syntax_errors_cannot_be_suppressed() {
        let src = "-- sluice:ignore syntax-error\nALTER TABLE t ADD COLUMN;";
        let diags = crate::lint_text(src, &crate::LintConfig::default());
        assert!(diags.iter().any(|d| d.rule == "syntax-error"), "{diags:?}");
        let unused = diags.iter().find(|d| d.rule == "unused-suppression").expect("reported");
        assert!(unused.message.contains("cannot be suppressed"), "{}", unused.message);
    }

    #[test]
    fn a_used_suppression_silences_only_its_statement() {
        let src = "-- sluice:ignore drop-table: archived\nDROP TABLE a;\nDROP TABLE b;";
        let diags = crate::lint_text(src, &crate::LintConfig::default());
        let drops: Vec<_> = diags.iter().filter(|d| d.rule == "drop-table").map(|d| d.span.slice(src)).collect();
        assert_eq!(drops, vec!["b"]);
        assert!(!diags.iter().any(|d| d.rule == "unused-suppression"));
    }
}
