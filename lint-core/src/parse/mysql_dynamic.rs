//! MySQL dynamic SQL: the statement a user variable holds for `PREPARE stmt FROM @var`.
//!
//! MySQL has no `IF NOT EXISTS` for many DDL forms, so re-runnable MySQL migrations check
//! `information_schema` and build the statement in a variable:
//!
//! ```sql
//! SET @s := IF(@exists > 0, 'SELECT 1', 'ALTER TABLE orders ADD COLUMN note text');
//! PREPARE stmt FROM @s;
//! EXECUTE stmt;
//! ```
//!
//! The parser sees only an assignment of strings. Here every string literal of a
//! `SET @var = ...` (or `:=`), and of a `PREPARE stmt FROM '...'`, whose text starts with a data-definition or data-changing keyword is
//! parsed as a statement of its own and lowered into the `SET` statement's operations, recorded as
//! an [`Embedded`] of kind [`EmbeddedKind::DynamicSql`], so every rule checks it. The literal is
//! read only when it holds no escape (no doubled quote, no backslash), so that its text is the
//! file's own bytes and every span is exact, when it is not a piece of a `CONCAT(...)`, and only
//! if the parser reads it whole (a string it rejects yields no operations). A literal chosen by `IF(...)` or `CASE` is
//! [`guarded`](EmbeddedStatement::guarded), as the check that picks it is what makes the
//! migration re-runnable.

use super::{mysql_lower, parse_mysql_bounded, Embedded, EmbeddedKind, EmbeddedStatement, LowerCx, Statement};
use crate::lexer::{tokenize, Token, TokenKind};
use crate::span::Span;
use crate::Dialect;

/// Keywords a statement worth checking starts with (a `SELECT` in the other branch is not).
const STATEMENT_WORDS: &[&str] =
    &["alter", "create", "drop", "rename", "truncate", "update", "delete", "insert", "replace", "optimize"];

/// Lowers the statements held by string literals of `stmt`, a `SET @var = ...` whose tokens are
/// `toks` (file coordinates), into `stmt.ops` and `stmt.embedded`.
pub(super) fn lower(text: &str, toks: &[Token], stmt: &mut Statement) {
    let code: Vec<&Token> = toks.iter().filter(|t| !t.is_comment()).collect();
    let user_variable = matches!(code.as_slice(), [set, at, ..] if set.is_word(text, "set") && at.is_punct(text, '@'))
        && !code.get(2).is_some_and(|t| t.is_punct(text, '@'));
    let prepare = code.first().is_some_and(|t| t.is_word(text, "prepare"));
    if !user_variable && !prepare {
        return;
    }
    let mut conditional = false;
    // Per open parenthesis: whether it is the argument list of CONCAT / CONCAT_WS, whose strings
    // are pieces of a statement, not statements.
    let mut groups: Vec<bool> = Vec::new();
    for (i, t) in code.iter().enumerate() {
        if t.is_word(text, "if") || t.is_word(text, "case") {
            conditional = true;
        }
        if t.is_punct(text, '(') {
            let before = i.checked_sub(1).and_then(|j| code.get(j));
            groups.push(before.is_some_and(|w| w.is_word(text, "concat") || w.is_word(text, "concat_ws")));
            continue;
        }
        if t.is_punct(text, ')') {
            groups.pop();
            continue;
        }
        if t.kind != TokenKind::String || groups.last().copied().unwrap_or(false) {
            continue;
        }
        let Some(inner) = verbatim_inside(t.text(text)) else { continue };
        let lead = inner.len() - inner.trim_start().len();
        let body = inner.trim();
        let first: String = body.chars().take_while(char::is_ascii_alphabetic).collect::<String>().to_ascii_lowercase();
        if !STATEMENT_WORDS.contains(&first.as_str()) {
            continue;
        }
        let start = t.span.start + 1 + lead;
        let span = Span::new(start, start + body.len());
        lower_literal(text, span, conditional, stmt);
    }
}

/// The inside of a quoted literal when it holds no escape, so that it is the file's own text.
fn verbatim_inside(raw: &str) -> Option<&str> {
    let q = raw.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = raw.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains(q) && !inner.contains('\\')).then_some(inner)
}

fn lower_literal(text: &str, span: Span, guarded: bool, stmt: &mut Statement) {
    let sql = span.slice(text);
    let toks: Vec<Token> = tokenize(sql, Dialect::MySql)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Terminator)
        .map(|t| Token { kind: t.kind, span: Span::new(t.span.start + span.start, t.span.end + span.start) })
        .collect();
    let cx = LowerCx::new(text, span, &toks, Dialect::MySql);
    let first = stmt.ops.len();
    // Only a string the parser reads whole is taken for a statement: recovering from tokens would
    // read statements into a fragment or a message ('update available').
    let error = match parse_mysql_bounded(sql) {
        Ok(parsed) => {
            for st in &parsed {
                stmt.ops.extend(mysql_lower::lower(st, &cx));
            }
            None
        }
        Err(e) => Some(e),
    };
    let ops = first..stmt.ops.len();
    stmt.embedded.push(Embedded {
        span,
        kind: EmbeddedKind::DynamicSql,
        function: None,
        ops: ops.clone(),
        statements: vec![EmbeddedStatement { span, ops, error, guarded }],
        error: None,
    });
}

#[cfg(test)]
mod tests {
    use crate::ir::{AlterActionKind, Op};
    use crate::parse::{parse_file, EmbeddedKind};
    use crate::Dialect;

    #[test]
    fn a_statement_assigned_for_prepare_is_lowered_at_its_place() {
        let src = "set @exist := (select count(*) from information_schema.columns where table_name = 'Events');\n\
                   set @s := if(@exist > 0, \"SELECT 'already there'\", 'ALTER TABLE Events ADD COLUMN Notes text');\n\
                   PREPARE stmt FROM @s;\nEXECUTE stmt;\n\
                   SET @t = 'DROP TABLE old_events';\n";
        let f = parse_file(src, Dialect::MySql);
        assert!(f.statements[0].embedded.is_empty(), "a SELECT literal is not a statement to check");
        let set = &f.statements[1];
        let Some(Op::AlterTable { name, actions, .. }) = set.ops.iter().find(|o| matches!(o, Op::AlterTable { .. }))
        else {
            panic!("{:?}", set.ops)
        };
        assert_eq!(name.span.slice(src), "Events");
        let AlterActionKind::AddColumn { column, .. } = &actions[0].kind else { panic!("{actions:?}") };
        assert_eq!(column.name.span.slice(src), "Notes");
        let e = &set.embedded[0];
        assert_eq!(e.kind, EmbeddedKind::DynamicSql);
        assert_eq!(e.span.slice(src), "ALTER TABLE Events ADD COLUMN Notes text");
        assert!(e.statements[0].guarded, "chosen by IF(...)");
        let inline = parse_file("PREPARE p FROM 'DROP TABLE old_events';", Dialect::MySql);
        assert!(matches!(inline.statements[0].status, crate::parse::StatementStatus::Parsed));
        assert!(inline.statements[0].ops.iter().any(|o| matches!(o, Op::Drop { .. })), "{:?}", inline.statements[0]);
        let plain = &f.statements[4];
        assert!(plain.ops.iter().any(|o| matches!(o, Op::Drop { .. })), "{:?}", plain.ops);
        assert!(!plain.embedded[0].statements[0].guarded);
        assert!(!plain.is_guarded_op(plain.ops.last().expect("op")));
    }

    #[test]
    fn escaped_literals_and_system_variables_are_left_alone() {
        for src in [
            "SET @s = 'ALTER TABLE t ADD COLUMN c varchar(3) DEFAULT ''x''';",
            "SET @s = 'ALTER TABLE t COMMENT \\'x\\'';",
            "SET @@session.sql_mode = 'ALTER TABLE t';",
            "SET NAMES 'utf8mb4';",
            "SELECT 'DROP TABLE t';",
        ] {
            let f = parse_file(src, Dialect::MySql);
            assert!(f.statements.iter().all(|s| s.embedded.is_empty()), "{src}: {:?}", f.statements);
        }
    }

    #[test]
    fn fragments_messages_and_rejected_strings_yield_no_operations() {
        let src = "SET @s = CONCAT('ALTER TABLE orders ADD COLUMN ', @col, ' int');\n\
                   SET @t = CONCAT('DROP TABLE t', @suffix);\n\
                   SET @u = 'update available';\n\
                   SET @v = 'ALTER TABLE';\n";
        let f = parse_file(src, Dialect::MySql);
        for st in &f.statements {
            assert!(st.ops.iter().all(|o| matches!(o, Op::Set { .. })), "{:?}", st.ops);
        }
        let bad = &f.statements[3].embedded[0].statements[0];
        assert!(bad.error.is_some() && bad.ops.is_empty());
    }
}
