//! The `lock_timeout` and `statement_timeout` in force at each statement of a PostgreSQL file:
//! `SET`, `SET LOCAL` (undone when the transaction ends), `SET ... TO DEFAULT`, `RESET`,
//! `RESET ALL` and `SELECT set_config('name', 'value', is_local)`.

use crate::rule::RuleContext;
use sluice_core::config::PgDuration;
use sluice_core::ir::{Op, TransactionOp};
use sluice_core::lexer::{Token, TokenKind};
use sluice_core::{Span, Statement};

/// A timeout value set explicitly in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimeoutSet {
    /// The value; zero means no limit.
    pub value: PgDuration,
    /// The statement that set it.
    pub stmt: usize,
    /// The value as written (with its quotes), for messages and fixes.
    pub value_span: Span,
}

/// The timeouts in force when a statement starts. `None`: never set in the file, set back to
/// the server default, or set to a value PostgreSQL rejects; the server's default applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub lock: Option<TimeoutSet>,
    pub statement: Option<TimeoutSet>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parameter {
    Lock,
    Statement,
    /// `RESET ALL`.
    All,
}

/// One assignment made by a statement.
struct Assignment {
    parameter: Parameter,
    /// `None` for `DEFAULT` / `RESET` and for values the server rejects.
    value: Option<TimeoutSet>,
    local: bool,
}

/// The timeouts in force at the start of every statement of the file (one entry per statement).
pub(crate) fn timeouts_in_force(cx: &RuleContext<'_>) -> Vec<Timeouts> {
    let mut out = Vec::with_capacity(cx.file.statements.len());
    let mut session = Timeouts::default();
    // Values set with SET LOCAL in the current transaction, on top of the session values.
    let mut local: (Option<Option<TimeoutSet>>, Option<Option<TimeoutSet>>) = (None, None);
    for (i, stmt) in cx.file.statements.iter().enumerate() {
        let in_transaction = cx.fcx.statements.get(i).is_some_and(|c| c.in_transaction);
        if !in_transaction {
            local = (None, None);
        }
        out.push(Timeouts { lock: local.0.unwrap_or(session.lock), statement: local.1.unwrap_or(session.statement) });
        for a in assignments(cx, stmt, i) {
            let slots: &[Parameter] = match a.parameter {
                Parameter::All => &[Parameter::Lock, Parameter::Statement],
                Parameter::Lock => &[Parameter::Lock],
                Parameter::Statement => &[Parameter::Statement],
            };
            for p in slots {
                let (session_slot, local_slot) = match p {
                    Parameter::Lock => (&mut session.lock, &mut local.0),
                    _ => (&mut session.statement, &mut local.1),
                };
                if a.local {
                    // Outside a transaction block SET LOCAL has no effect.
                    if in_transaction {
                        *local_slot = Some(a.value);
                    }
                } else {
                    *session_slot = a.value;
                    *local_slot = None;
                }
            }
        }
        if stmt.ops.iter().any(|o| matches!(o, Op::Transaction(TransactionOp::Commit | TransactionOp::Rollback))) {
            local = (None, None);
        }
    }
    out
}

fn parameter(name: &str) -> Option<Parameter> {
    let name = name.rsplit('.').next().unwrap_or(name);
    if name.eq_ignore_ascii_case("lock_timeout") {
        Some(Parameter::Lock)
    } else if name.eq_ignore_ascii_case("statement_timeout") {
        Some(Parameter::Statement)
    } else {
        None
    }
}

/// The timeout assignments of one statement, in order.
fn assignments(cx: &RuleContext<'_>, stmt: &Statement, index: usize) -> Vec<Assignment> {
    // Most statements set nothing: collect their tokens only when an operation may.
    if !stmt.ops.iter().any(|op| matches!(op, Op::Set { .. } | Op::Dml { .. } | Op::Other { .. })) {
        return Vec::new();
    }
    let text = cx.text();
    let tokens: Vec<&Token> = cx.code_tokens(stmt).collect();
    let mut out = Vec::new();
    for op in &stmt.ops {
        match op {
            Op::Set { name, value, local } => {
                let parameter =
                    if name == "all" && value == "default" { Some(Parameter::All) } else { parameter(name) };
                let Some(parameter) = parameter else { continue };
                let value = if value.eq_ignore_ascii_case("default") {
                    None
                } else {
                    value.parse::<PgDuration>().ok().map(|value| TimeoutSet {
                        value,
                        stmt: index,
                        value_span: set_value_span(&tokens, text).unwrap_or(stmt.span),
                    })
                };
                out.push(Assignment { parameter, value, local: *local });
            }
            Op::Dml { .. } | Op::Other { .. } => out.extend(set_config_calls(&tokens, text, index)),
            _ => {}
        }
    }
    out
}

/// The tokens after `=` or `TO` in a `SET` statement.
fn set_value_span(tokens: &[&Token], text: &str) -> Option<Span> {
    let at = tokens.iter().position(|t| t.is_punct(text, '=') || t.is_word(text, "to"))?;
    let first = tokens.get(at + 1)?;
    let last = tokens.last()?;
    Some(first.span.cover(last.span))
}

/// The contents of a single-quoted string literal.
fn string_value(t: &Token, text: &str) -> Option<String> {
    if t.kind != TokenKind::String {
        return None;
    }
    let s = t.text(text);
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// `set_config('lock_timeout', '5s', false)` calls with literal arguments.
fn set_config_calls(tokens: &[&Token], text: &str, index: usize) -> Vec<Assignment> {
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if !t.is_word(text, "set_config") {
            continue;
        }
        let arg = |k: usize| tokens.get(i + k).copied();
        let punct = |k: usize, c: char| arg(k).is_some_and(|t| t.is_punct(text, c));
        if !(punct(1, '(') && punct(3, ',') && punct(5, ',') && punct(7, ')')) {
            continue;
        }
        let Some(parameter) = arg(2).and_then(|t| string_value(t, text)).and_then(|n| parameter(&n)) else {
            continue;
        };
        let Some(value_token) = arg(4) else { continue };
        let Some(value_text) = string_value(value_token, text) else { continue };
        let local = arg(6).is_some_and(|t| {
            let v = t.text(text).trim_matches('\'');
            ["true", "t", "on", "yes", "1"].iter().any(|w| v.eq_ignore_ascii_case(w))
        });
        let value = value_text.parse::<PgDuration>().ok().map(|value| TimeoutSet {
            value,
            stmt: index,
            value_span: value_token.span,
        });
        out.push(Assignment { parameter, value, local });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_core::{parse_file, Dialect, FileContext, Settings};

    /// (lock_timeout, statement_timeout) in milliseconds at each statement.
    fn run(sql: &str, settings: Settings) -> Vec<(Option<u64>, Option<u64>)> {
        let file = parse_file(sql, Dialect::Postgres);
        let fcx = FileContext::analyze(&file, &settings);
        let cx = RuleContext { file: &file, fcx: &fcx, only: None };
        timeouts_in_force(&cx)
            .into_iter()
            .map(|t| (t.lock.map(|s| s.value.millis), t.statement.map(|s| s.value.millis)))
            .collect()
    }

    #[test]
    fn set_reset_and_default() {
        let got = run(
            "SET lock_timeout = '5s';\nSET statement_timeout TO 60000;\nSET lock_timeout = DEFAULT;\n\
             SET lock_timeout = '1min';\nRESET ALL;\nSELECT 1;\n",
            Settings::default(),
        );
        assert_eq!(
            got,
            vec![
                (None, None),
                (Some(5000), None),
                (Some(5000), Some(60000)),
                (None, Some(60000)),
                (Some(60000), Some(60000)),
                (None, None)
            ]
        );
    }

    #[test]
    fn set_local_lasts_until_the_transaction_ends() {
        let got = run(
            "SET lock_timeout = '2s';\nBEGIN;\nSET LOCAL lock_timeout = '9s';\nSELECT 1;\nCOMMIT;\nSELECT 1;\n\
             SET LOCAL lock_timeout = '7s';\nSELECT 1;\n",
            Settings::default(),
        );
        let lock: Vec<_> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            lock,
            vec![None, Some(2000), Some(2000), Some(9000), Some(9000), Some(2000), Some(2000), Some(2000)]
        );
        let wrapped = run(
            "SET LOCAL lock_timeout = '3s';\nSELECT 1;\n",
            Settings { assume_in_transaction: true, ..Settings::default() },
        );
        assert_eq!(wrapped[1].0, Some(3000));
    }

    #[test]
    fn set_config_calls_count() {
        let got = run(
            "SELECT set_config('lock_timeout', '3s', false);\nSELECT 1;\n\
             SELECT pg_catalog.set_config('statement_timeout', '10min', false), 1;\nSELECT 1;\n\
             SELECT set_config('lock_timeout', 'DEFAULT', false);\nSELECT 1;\n",
            Settings::default(),
        );
        assert_eq!(got[1], (Some(3000), None));
        assert_eq!(got[3], (Some(3000), Some(600_000)));
        assert_eq!(got[5], (None, Some(600_000)));
    }

    #[test]
    fn rejected_values_leave_the_default() {
        let got = run("SET lock_timeout = '5 seconds';\nSELECT 1;\n", Settings::default());
        assert_eq!(got[1], (None, None));
    }

    #[test]
    fn value_spans_cover_the_value() {
        let sql = "SET LOCAL lock_timeout = '30s';\nSELECT set_config('lock_timeout', '1min', false);\nSELECT 1;\n";
        let file = parse_file(sql, Dialect::Postgres);
        let fcx = FileContext::analyze(&file, &Settings { assume_in_transaction: true, ..Settings::default() });
        let cx = RuleContext { file: &file, fcx: &fcx, only: None };
        let t = timeouts_in_force(&cx);
        assert_eq!(t[1].lock.map(|s| s.value_span.slice(sql)), Some("'30s'"));
        assert_eq!(t[2].lock.map(|s| s.value_span.slice(sql)), Some("'1min'"));
    }
}
