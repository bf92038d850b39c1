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

use super::{
    mysql_lower, parse_mysql_bounded, Embedded, EmbeddedKind, EmbeddedStatement, LowerCx, Statement, StatementStatus,
    SyntaxError,
};
use crate::ir::Op;
use crate::lexer::{ident_value, tokenize, Token, TokenKind};
use crate::span::Span;
use crate::Dialect;

/// Keywords a statement worth checking starts with (a `SELECT` in the other branch is not).
const STATEMENT_WORDS: &[&str] =
    &["alter", "create", "drop", "rename", "truncate", "update", "delete", "insert", "replace", "optimize"];

/// Whether the text of a string (its inside) starts like a statement worth checking.
fn statement_like(inner: &str) -> bool {
    let first: String = inner.trim_start().chars().take_while(char::is_ascii_alphabetic).collect();
    STATEMENT_WORDS.iter().any(|w| first.eq_ignore_ascii_case(w))
}

/// Whether every statement of a dynamic-SQL body parsed.
fn parsed(e: &Embedded) -> bool {
    e.statements.iter().all(|s| s.error.is_none())
}

/// Functions that pass a string argument through whole, choosing it by a condition.
const CHOOSING: &[&str] = &["if", "ifnull", "nullif", "coalesce", "elt"];

/// What an open parenthesis is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    /// Plain grouping or a subquery: a string inside is still the whole value.
    Bare,
    /// The arguments of IF / IFNULL / COALESCE / ...: a string inside is chosen by a condition.
    Choosing,
    /// Any other function (CONCAT, REPLACE, ...): a string inside is a piece of the value.
    Other,
}

/// Where the statement a `PREPARE` (or MariaDB `EXECUTE IMMEDIATE`) runs comes from.
pub(super) enum Source {
    /// `FROM @v`: the string last assigned to user variable `v` (folded).
    Variable(String),
    /// `FROM '...'`: a literal of the statement itself.
    Inline,
}

/// The source of the statement `PREPARE name FROM ...` or `EXECUTE IMMEDIATE ...` runs, for a
/// statement whose tokens are `toks`.
pub(super) fn prepared_source(text: &str, toks: &[Token]) -> Option<Source> {
    let first = toks.iter().find(|t| !t.is_comment())?;
    if !first.is_word(text, "prepare") && !first.is_word(text, "execute") {
        return None;
    }
    let code: Vec<&Token> = toks.iter().filter(|t| !t.is_comment()).collect();
    let rest = match code.as_slice() {
        [p, _, from, rest @ ..] if p.is_word(text, "prepare") && from.is_word(text, "from") => rest,
        [e, i, rest @ ..] if e.is_word(text, "execute") && i.is_word(text, "immediate") => rest,
        _ => return None,
    };
    match rest {
        [at, v, ..] if at.is_punct(text, '@') => Some(Source::Variable(variable_name(text, v))),
        [lit, ..] if lit.kind == TokenKind::String => Some(Source::Inline),
        _ => None,
    }
}

/// The name of user variable `@name`, `@'name'` or `` @`name` `` (folded: user variables are
/// case-insensitive).
fn variable_name(text: &str, t: &Token) -> String {
    let name = match t.kind {
        TokenKind::String => {
            let raw = t.text(text);
            raw.get(1..raw.len().saturating_sub(1)).unwrap_or("").to_string()
        }
        _ => ident_value(t, text, Dialect::MySql),
    };
    name.to_ascii_lowercase()
}

/// The user variables a `SET` statement (tokens `toks`) assigns at its top level, in order.
fn assigned_variables(text: &str, toks: &[Token]) -> Vec<String> {
    let code: Vec<&Token> = toks.iter().filter(|t| !t.is_comment()).collect();
    if !code.first().is_some_and(|t| t.is_word(text, "set")) {
        return Vec::new();
    }
    let mut depth = 0i32;
    let mut out = Vec::new();
    for (i, t) in code.iter().enumerate() {
        if t.is_punct(text, '(') {
            depth += 1;
        } else if t.is_punct(text, ')') {
            depth -= 1;
        } else if depth == 0 && t.is_punct(text, '@') {
            let after_start = i
                .checked_sub(1)
                .and_then(|j| code.get(j))
                .is_some_and(|p| p.is_word(text, "set") || p.is_punct(text, ','));
            if let Some(n) = code.get(i + 1).filter(|n| after_start && !n.is_punct(text, '@')) {
                out.push(variable_name(text, n));
            }
        }
    }
    out
}

/// Lowers the statements held by string literals of `stmt` (a `SET @var = ...`, a `PREPARE ...
/// FROM '...'` or an `EXECUTE IMMEDIATE '...'`, whose tokens are `toks` in file coordinates) into
/// `stmt.ops` and `stmt.embedded`. Those of a `SET` are kept only if a `PREPARE` runs the
/// variable (see [`keep_prepared`]).
pub(super) fn lower(text: &str, toks: &[Token], stmt: &mut Statement) {
    // Every MySQL statement comes here: leave the others before collecting anything.
    let first = toks.iter().find(|t| !t.is_comment());
    if !first.is_some_and(|t| ["set", "prepare", "execute"].iter().any(|w| t.is_word(text, w))) {
        return;
    }
    let code: Vec<&Token> = toks.iter().filter(|t| !t.is_comment()).collect();
    let user_variable = matches!(code.as_slice(), [set, at, ..] if set.is_word(text, "set") && at.is_punct(text, '@'))
        && !code.get(2).is_some_and(|t| t.is_punct(text, '@'));
    if !user_variable && prepared_source(text, toks).is_none() {
        return;
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut case_depth = 0usize;
    let mut variable: Option<String> = None;
    for (i, t) in code.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| code.get(j));
        let next = code.get(i + 1);
        let top = groups.is_empty() && case_depth == 0;
        // `SET @a = ..., @b = ...`: the variable each top-level assignment names.
        if user_variable
            && top
            && t.is_punct(text, '@')
            && prev.is_some_and(|p| p.is_word(text, "set") || p.is_punct(text, ','))
        {
            variable = next.filter(|n| !n.is_punct(text, '@')).map(|n| variable_name(text, n));
            continue;
        }
        if t.is_word(text, "case") {
            case_depth += 1;
        } else if t.is_word(text, "end") {
            case_depth = case_depth.saturating_sub(1);
        }
        if t.is_punct(text, '(') {
            groups.push(match prev {
                Some(w) if w.kind == TokenKind::Word => {
                    if CHOOSING.iter().any(|f| w.is_word(text, f)) {
                        Group::Choosing
                    } else if ["select", "from", "where", "and", "or", "not", "in", "exists"]
                        .iter()
                        .any(|k| w.is_word(text, k))
                    {
                        Group::Bare
                    } else {
                        Group::Other
                    }
                }
                _ => Group::Bare,
            });
            continue;
        }
        if t.is_punct(text, ')') {
            groups.pop();
            continue;
        }
        // A string that is a piece of the value (a CONCAT argument, next to another string) is
        // not a statement.
        let adjacent = |n: Option<&&Token>| n.is_some_and(|n| n.kind == TokenKind::String);
        if t.kind != TokenKind::String || groups.contains(&Group::Other) || adjacent(prev) || adjacent(next) {
            continue;
        }
        // In a SET, only the value of a user variable (not of `@@session.x`, not the name `@'v'`).
        if user_variable && (variable.is_none() || prev.is_some_and(|p| p.is_punct(text, '@'))) {
            continue;
        }
        let Some(inner) = verbatim_inside(t.text(text)).filter(|i| statement_like(i)) else { continue };
        let lead = inner.len() - inner.trim_start().len();
        let body = inner.trim();
        let start = t.span.start + 1 + lead;
        let span = Span::new(start, start + body.len());
        let guarded = groups.contains(&Group::Choosing) || case_depth > 0;
        lower_literal(text, span, guarded, if user_variable { variable.clone() } else { None }, stmt);
    }
}

/// The inside of a quoted literal when it holds no escape, so that it is the file's own text.
fn verbatim_inside(raw: &str) -> Option<&str> {
    let q = raw.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = raw.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains(q) && !inner.contains('\\')).then_some(inner)
}

fn lower_literal(text: &str, span: Span, guarded: bool, variable: Option<String>, stmt: &mut Statement) {
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
        function: variable,
        ops: ops.clone(),
        statements: vec![EmbeddedStatement { span, ops, error, guarded }],
        error: None,
    });
}

/// Whether the statement user variable `v` holds after `set` (tokens `toks`) was read: it is
/// given strings only (not its own old value), and each of them that reads as a statement was
/// parsed here (one with escapes or built by CONCAT was not; a `SELECT` needs no reading).
fn assignment_read(text: &str, toks: &[Token], set: &Statement, v: &str) -> bool {
    let code: Vec<&Token> = toks.iter().filter(|t| !t.is_comment()).collect();
    let mentions = code.windows(2).filter(|w| w[0].is_punct(text, '@') && variable_name(text, w[1]) == v).count();
    let mut strings = 0;
    for (i, t) in code.iter().enumerate() {
        let is_name = i.checked_sub(1).and_then(|j| code.get(j)).is_some_and(|p| p.is_punct(text, '@'));
        if t.kind != TokenKind::String || is_name {
            continue;
        }
        strings += 1;
        let raw = t.text(text);
        if !statement_like(raw.get(1..raw.len().saturating_sub(1)).unwrap_or("")) {
            continue;
        }
        let lowered = set.embedded.iter().any(|e| {
            e.kind == EmbeddedKind::DynamicSql && t.span.start <= e.span.start && e.span.end <= t.span.end && parsed(e)
        });
        if !lowered {
            return false;
        }
    }
    mentions == 1 && strings > 0
}

/// After a file is parsed: the strings a `SET @v` holds stay statements only if a later
/// `PREPARE ... FROM @v` (or `EXECUTE IMMEDIATE @v`) runs them (a string kept for anything else,
/// a message or a down script stored in a table, is not checked); and a `PREPARE` whose
/// statement was read (every string its variable was last given, or its own, parsed) is no
/// longer reported as only partly parsed.
pub(super) fn keep_prepared(text: &str, tokens: &[Token], statements: &mut [Statement]) {
    let mut used: Vec<Vec<String>> = vec![Vec::new(); statements.len()];
    let holds = |s: &Statement, v: &str| {
        s.embedded.iter().any(|e| e.kind == EmbeddedKind::DynamicSql && e.function.as_deref() == Some(v))
    };
    for i in 0..statements.len() {
        let Some(toks) = tokens.get(statements[i].tokens.clone()) else { continue };
        let read = match prepared_source(text, toks) {
            None => continue,
            Some(Source::Inline) => {
                let own: Vec<&Embedded> =
                    statements[i].embedded.iter().filter(|e| e.kind == EmbeddedKind::DynamicSql).collect();
                !own.is_empty() && own.iter().all(|e| parsed(e))
            }
            Some(Source::Variable(v)) => {
                // The last assignment of `v` before it, whatever it assigned.
                let last = (0..i).rev().find(|&j| {
                    tokens.get(statements[j].tokens.clone()).is_some_and(|t| assigned_variables(text, t).contains(&v))
                });
                match last {
                    Some(j) => {
                        if holds(&statements[j], &v) {
                            used[j].push(v.clone());
                        }
                        tokens
                            .get(statements[j].tokens.clone())
                            .is_some_and(|t| assignment_read(text, t, &statements[j], &v))
                    }
                    None => false,
                }
            }
        };
        let stmt = &mut statements[i];
        if read {
            if matches!(stmt.status, StatementStatus::Recovered(_)) {
                stmt.status = StatementStatus::Parsed;
            }
        } else if stmt.is_parsed() {
            // The statement it runs is built at run time, or its string could not be read.
            stmt.status = StatementStatus::Recovered(SyntaxError {
                message: "the statement it runs is not a plain string Sluice can read".into(),
                span: stmt.span,
            });
        }
    }
    for (stmt, used) in statements.iter_mut().zip(&used) {
        let unused =
            |e: &Embedded| e.kind == EmbeddedKind::DynamicSql && e.function.as_ref().is_some_and(|v| !used.contains(v));
        if !stmt.embedded.iter().any(unused) {
            continue;
        }
        // Dynamic statements are appended after the statement's own operations, in order.
        let Some(base) = stmt.embedded.iter().map(|e| e.ops.start).min() else { continue };
        let mut ops: Vec<Op> = stmt.ops.drain(base..).collect();
        let embedded = std::mem::take(&mut stmt.embedded);
        for mut e in embedded {
            let n = e.ops.len();
            let mine: Vec<Op> = ops.drain(..n.min(ops.len())).collect();
            if unused(&e) {
                continue;
            }
            let at = stmt.ops.len();
            stmt.ops.extend(mine);
            e.ops = at..stmt.ops.len();
            for s in &mut e.statements {
                s.ops = e.ops.clone();
            }
            stmt.embedded.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::{AlterActionKind, Op};
    use crate::parse::{parse_file, EmbeddedKind, StatementStatus};
    use crate::Dialect;

    #[test]
    fn a_statement_assigned_for_prepare_is_lowered_at_its_place() {
        let src = "set @exist := (select count(*) from information_schema.columns where table_name = 'Events');\n\
                   set @s := if(@exist > 0, \"SELECT 'already there'\", 'ALTER TABLE Events ADD COLUMN Notes text');\n\
                   PREPARE stmt FROM @s;\nEXECUTE stmt;\n\
                   SET @t = 'DROP TABLE old_events';\nPREPARE stmt FROM @t;\n";
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
        assert!(matches!(inline.statements[0].status, StatementStatus::Parsed));
        assert!(inline.statements[0].ops.iter().any(|o| matches!(o, Op::Drop { .. })), "{:?}", inline.statements[0]);
        let plain = &f.statements[4];
        assert!(plain.ops.iter().any(|o| matches!(o, Op::Drop { .. })), "{:?}", plain.ops);
        assert!(!plain.embedded[0].statements[0].guarded);
        assert!(!plain.is_guarded_op(plain.ops.last().expect("op")));
        // The PREPAREs ran strings that were read: not partly parsed.
        assert!(matches!(f.statements[2].status, StatementStatus::Parsed));
        assert!(matches!(f.statements[5].status, StatementStatus::Parsed));
    }

    #[test]
    fn only_strings_a_prepare_runs_are_statements() {
        let src = "SET @down = 'DROP TABLE orders';\nINSERT INTO schema_migrations (down_sql) VALUES (@down);\n\
                   SET @n = IF(@x, 1, 2), @s = 'CREATE TABLE audit (id int)', @m = 'truncate logs';\n\
                   PREPARE p FROM @s;\nPREPARE q FROM @unknown;\n\
                   SET @e = 'ALTER TABLE t ADD COLUMN c varchar(3) DEFAULT ''x''';\nPREPARE r FROM @e;\n\
                   EXECUTE IMMEDIATE 'DROP TABLE legacy';\n";
        let f = parse_file(src, Dialect::MySql);
        assert!(f.statements[0].embedded.is_empty() && f.statements[0].ops.len() == 1, "{:?}", f.statements[0]);
        let set = &f.statements[2];
        assert_eq!(set.embedded.len(), 1, "{:?}", set.embedded);
        assert_eq!(set.embedded[0].function.as_deref(), Some("s"));
        assert!(!set.embedded[0].statements[0].guarded, "the IF belongs to another assignment");
        assert!(matches!(set.ops.last(), Some(Op::CreateTable { .. })), "{:?}", set.ops);
        assert!(matches!(f.statements[3].status, StatementStatus::Parsed));
        // Nothing read: a variable never assigned a statement, an escaped string.
        assert!(matches!(f.statements[4].status, StatementStatus::Recovered(_)));
        assert!(matches!(f.statements[6].status, StatementStatus::Recovered(_)));
        let immediate = &f.statements[7];
        assert!(matches!(immediate.status, StatementStatus::Parsed), "{immediate:?}");
        assert!(immediate.ops.iter().any(|o| matches!(o, Op::Drop { .. })));
    }

    #[test]
    fn a_prepare_runs_what_its_variable_was_last_given() {
        let src =
            "SET @s = 'DROP TABLE a';\nPREPARE p FROM @s;\nSET @s = CONCAT('DROP TABLE ', @t);\nPREPARE q FROM @s;\n\
                   SET @u = 'DROP TABLE u';\nSET @u = 'SELECT 1';\nPREPARE r FROM @u;\n\
                   SET @b = 1, @@session.x = 'DROP TABLE y';\n\
                   SET @'Q' = 'DROP TABLE b';\nPREPARE w FROM @q;\n\
                   SET @e = CONCAT('DROP TABLE ', @t);\nEXECUTE IMMEDIATE @e;\n";
        let f = parse_file(src, Dialect::MySql);
        let drops: Vec<usize> = (0..f.statements.len())
            .filter(|&i| f.statements[i].ops.iter().any(|o| matches!(o, Op::Drop { .. })))
            .collect();
        assert_eq!(drops, [0, 8], "{:?}", f.statements);
        assert!(matches!(f.statements[1].status, StatementStatus::Parsed));
        // A SELECT needs no reading; a CONCAT cannot be read.
        assert!(matches!(f.statements[6].status, StatementStatus::Parsed));
        for i in [3, 11] {
            assert!(
                matches!(&f.statements[i].status, StatementStatus::Recovered(e) if e.message.contains("not a plain string")),
                "{i}: {:?}",
                f.statements[i].status
            );
        }
        assert!(matches!(f.statements[9].status, StatementStatus::Parsed));
    }

    #[test]
    fn pieces_inside_any_function_are_not_statements() {
        let src = "SET @s = CONCAT(IF(@big, 'DROP TABLE a', 'DROP TABLE b'), '_old');\nPREPARE p FROM @s;\n\
                   SET @t = 'DROP TABLE a' '_old';\nPREPARE q FROM @t;\n\
                   SET @u = REPLACE('ALTER TABLE __T__ DROP COLUMN legacy', '__T__', @tbl);\nPREPARE r FROM @u;\n\
                   SET @v = (SELECT IF(COUNT(*) = 0, 'DROP TABLE c', 'SELECT 1') FROM information_schema.tables);\n\
                   PREPARE w FROM @v;\n";
        let f = parse_file(src, Dialect::MySql);
        for i in [0, 2, 4] {
            assert!(f.statements[i].embedded.is_empty(), "{i}: {:?}", f.statements[i].embedded);
        }
        let sub = &f.statements[6];
        assert_eq!(sub.embedded.len(), 1, "a subquery's IF still chooses the whole string");
        assert!(sub.embedded[0].statements[0].guarded);
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
                   SET @v = 'ALTER TABLE';\nPREPARE p FROM @v;\n";
        let f = parse_file(src, Dialect::MySql);
        for st in f.statements.iter().filter(|s| s.text(src).starts_with("SET")) {
            assert!(st.ops.iter().all(|o| matches!(o, Op::Set { .. })), "{:?}", st.ops);
        }
        let bad = &f.statements[3].embedded[0].statements[0];
        assert!(bad.error.is_some() && bad.ops.is_empty());
    }
}
