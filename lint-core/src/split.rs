//! Splitting a file into statements before parsing, so that one broken statement costs one
//! diagnostic and every other statement is still linted.

use crate::lexer::{Token, TokenKind};
use crate::span::Span;
use crate::Dialect;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceKind {
    /// SQL to hand to the parser.
    Sql,
    /// A psql meta-command line, skipped with a note.
    MetaCommand,
    /// A MySQL `DELIMITER` line.
    Delimiter,
}

/// One statement's place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub kind: PieceKind,
    /// From the first token that is not a comment to the last token before the terminator.
    pub span: Span,
    /// Indices into the file's token vector, terminator excluded.
    pub tokens: std::ops::Range<usize>,
    /// The terminator (`;` or the MySQL delimiter), if the statement had one.
    pub terminator: Option<Span>,
}

/// Groups tokens into statements. Semicolons inside a PostgreSQL `BEGIN ATOMIC ... END` body
/// (SQL-standard function bodies) do not end the statement.
pub fn split(src: &str, tokens: &[Token], dialect: Dialect) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut first: Option<usize> = None; // first non-comment token of the current statement
    let mut atomic_depth = 0usize;
    let mut prev_word_begin = false;
    for (i, tok) in tokens.iter().enumerate() {
        match tok.kind {
            TokenKind::MetaCommand | TokenKind::DelimiterDirective => {
                if let Some(f) = first.take() {
                    out.push(piece(tokens, f, i, None));
                }
                atomic_depth = 0;
                let kind =
                    if tok.kind == TokenKind::MetaCommand { PieceKind::MetaCommand } else { PieceKind::Delimiter };
                out.push(Piece { kind, span: tok.span, tokens: i..i + 1, terminator: None });
            }
            TokenKind::Terminator if atomic_depth == 0 => {
                if let Some(f) = first.take() {
                    out.push(piece(tokens, f, i, Some(tok.span)));
                }
            }
            TokenKind::LineComment | TokenKind::BlockComment => {}
            _ => {
                if first.is_none() {
                    first = Some(i);
                }
                if dialect == Dialect::Postgres && tok.kind == TokenKind::Word {
                    let w = tok.text(src);
                    let opens_block = (prev_word_begin && w.eq_ignore_ascii_case("atomic"))
                        || (atomic_depth > 0 && w.eq_ignore_ascii_case("case"));
                    if opens_block {
                        atomic_depth += 1;
                    } else if atomic_depth > 0 && w.eq_ignore_ascii_case("end") {
                        atomic_depth -= 1;
                    }
                    prev_word_begin = w.eq_ignore_ascii_case("begin");
                } else {
                    prev_word_begin = false;
                }
            }
        }
    }
    if let Some(f) = first {
        out.push(piece(tokens, f, tokens.len(), None));
    }
    out
}

fn piece(tokens: &[Token], first: usize, end: usize, terminator: Option<Span>) -> Piece {
    // Trailing comments before the terminator belong to the statement text only if followed by
    // code; trim them so the span ends at the last real token.
    let mut last = end;
    while last > first + 1 && tokens[last - 1].is_comment() {
        last -= 1;
    }
    let span = Span::new(tokens[first].span.start, tokens[last - 1].span.end);
    Piece { kind: PieceKind::Sql, span, tokens: first..end, terminator }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokenize;

    fn texts(src: &str, d: Dialect) -> Vec<String> {
        let toks = tokenize(src, d);
        split(src, &toks, d).iter().map(|p| p.span.slice(src).to_string()).collect()
    }

    #[test]
    fn splits_and_trims() {
        let src = "-- head\nCREATE TABLE a (id int);\n\n/* c */ DROP TABLE b -- tail\n;\nSELECT 1";
        assert_eq!(texts(src, Dialect::Postgres), vec!["CREATE TABLE a (id int)", "DROP TABLE b", "SELECT 1"]);
    }

    #[test]
    fn begin_atomic_body_is_one_statement() {
        let src = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SELECT 3;";
        let t = texts(src, Dialect::Postgres);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with("SELECT 2; END"));
    }

    #[test]
    fn plain_begin_is_not_atomic() {
        assert_eq!(texts("BEGIN; SELECT 1; END;", Dialect::Postgres).len(), 3);
    }

    #[test]
    fn mysql_delimiter_blocks() {
        let src = "DELIMITER //\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END//\nDELIMITER ;\nALTER TABLE x ADD b int;";
        let t = texts(src, Dialect::MySql);
        assert_eq!(t.len(), 4, "{t:?}");
        assert!(t[1].ends_with("END"));
        assert_eq!(t[3], "ALTER TABLE x ADD b int");
    }
}
