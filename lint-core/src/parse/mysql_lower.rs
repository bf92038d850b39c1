//! Lowering of MySQL/MariaDB statements parsed by `sqlparser` into the IR.
//!
//! The syntax tree gives the structure; every span comes from the project's own tokens (sqlparser's
//! positions are partial), found by walking the statement's tokens in file coordinates. Clauses of
//! an `ALTER TABLE` that sqlparser does not understand (`ENGINE=`, `FORCE`, `CONVERT TO CHARACTER
//! SET`, `RENAME INDEX`, `DROP KEY`, `ALGORITHM=NOCOPY`, ...) are recovered clause by clause by
//! [`lower_unparsed`]: each clause is re-parsed on its own, and the ones that still fail are
//! classified from their tokens.

use super::LowerCx;
use crate::ir::{
    Algorithm, AlterAction, AlterActionKind, ColumnDef, ColumnPosition, Constraint, ConstraintKind, DmlKind, Expr,
    ForeignKeyTarget, GeneratedKind, Ident, IndexColumn, LockClause, ObjectKind, Op, QualifiedName, TransactionOp,
    TypeName, Volatility,
};
use crate::lexer::{ident_value, tokenize, Token, TokenKind};
use crate::span::Span;
use crate::Dialect;
use sqlparser::ast as sq;
use std::fmt::Debug;

/// Lowers one statement parsed by sqlparser with `MySqlDialect`.
pub(crate) fn lower(stmt: &sq::Statement, cx: &LowerCx) -> Vec<Op> {
    use sq::Statement as S;
    match stmt {
        S::CreateTable(ct) => vec![create_table(ct, cx)],
        S::AlterTable(at) => vec![alter_table(at, cx)],
        S::CreateIndex(ci) => vec![create_index(ci, cx)],
        S::Drop { object_type, if_exists, names, cascade, table, .. } => {
            drop_stmt(*object_type, *if_exists, names, *cascade, table.as_ref(), cx)
        }
        S::DropTrigger(d) => vec![Op::Drop {
            kind: ObjectKind::Trigger,
            names: vec![qname(cx, &d.trigger_name, after_word(cx, "trigger"))],
            if_exists: d.if_exists,
            cascade: false,
        }],
        S::DropFunction(d) => {
            let mut from = after_word(cx, "function");
            let names = d.func_desc.iter().map(|f| qname_seq(cx, &f.name, &mut from)).collect();
            vec![Op::Drop { kind: ObjectKind::Function, names, if_exists: d.if_exists, cascade: false }]
        }
        S::DropProcedure { if_exists, proc_desc, .. } => {
            let mut from = after_word(cx, "procedure");
            let names = proc_desc.iter().map(|f| qname_seq(cx, &f.name, &mut from)).collect();
            vec![Op::Drop { kind: ObjectKind::Procedure, names, if_exists: *if_exists, cascade: false }]
        }
        S::RenameTable(pairs) => {
            let mut from = after_word(cx, "table");
            pairs
                .iter()
                .map(|p| {
                    let from_name = qname_seq(cx, &p.old_name, &mut from);
                    let to = qname_seq(cx, &p.new_name, &mut from);
                    Op::RenameTable { from: from_name, to }
                })
                .collect()
        }
        S::Truncate(t) => {
            let mut from = after_word(cx, "truncate");
            let tables = t.table_names.iter().map(|n| qname_seq(cx, &n.name, &mut from)).collect();
            vec![Op::Truncate { tables, cascade: matches!(t.cascade, Some(sq::CascadeOption::Cascade)) }]
        }
        S::StartTransaction { .. } => vec![Op::Transaction(TransactionOp::Begin)],
        S::Commit { .. } => vec![Op::Transaction(TransactionOp::Commit)],
        S::Rollback { savepoint, .. } => vec![Op::Transaction(if savepoint.is_some() {
            TransactionOp::RollbackToSavepoint
        } else {
            TransactionOp::Rollback
        })],
        S::Savepoint { .. } => vec![Op::Transaction(TransactionOp::Savepoint)],
        S::ReleaseSavepoint { .. } => vec![Op::Transaction(TransactionOp::ReleaseSavepoint)],
        S::Set(s) => set_stmt(s),
        S::Insert(ins) => {
            let kind = if ins.replace_into { DmlKind::Merge } else { DmlKind::Insert };
            let table = match &ins.table {
                sq::TableObject::TableName(n) => {
                    let kw = if cx.word_after("into", cx.span.start).is_some() {
                        "into"
                    } else if ins.replace_into {
                        "replace"
                    } else {
                        "insert"
                    };
                    Some(qname(cx, n, after_word(cx, kw)))
                }
                _ => None,
            };
            vec![Op::Dml { kind, table, has_where: false, has_limit: false }]
        }
        S::Update(u) => vec![Op::Dml {
            kind: DmlKind::Update,
            table: table_of(&u.table, cx, after_word(cx, "update")),
            has_where: u.selection.is_some(),
            has_limit: u.limit.is_some(),
        }],
        S::Delete(d) => {
            let from_tables = match &d.from {
                sq::FromTable::WithFromKeyword(v) | sq::FromTable::WithoutKeyword(v) => v,
            };
            let table = match d.tables.first() {
                Some(n) => Some(qname(cx, n, after_word(cx, "delete"))),
                None => from_tables.first().and_then(|t| table_of(t, cx, after_word(cx, "from"))),
            };
            vec![Op::Dml {
                kind: DmlKind::Delete,
                table,
                has_where: d.selection.is_some(),
                has_limit: d.limit.is_some(),
            }]
        }
        S::Merge(m) => {
            let table = match &m.table {
                sq::TableFactor::Table { name, .. } => Some(qname(cx, name, after_word(cx, "merge"))),
                _ => None,
            };
            vec![Op::Dml { kind: DmlKind::Merge, table, has_where: false, has_limit: false }]
        }
        S::Query(q) => {
            let (table, has_where) = match q.body.as_ref() {
                sq::SetExpr::Select(sel) => {
                    (sel.from.first().and_then(|t| table_of(t, cx, after_word(cx, "from"))), sel.selection.is_some())
                }
                _ => (None, false),
            };
            vec![Op::Dml { kind: DmlKind::Select, table, has_where, has_limit: q.limit_clause.is_some() }]
        }
        S::CreateView(v) => vec![Op::Create {
            kind: if v.materialized { ObjectKind::MaterializedView } else { ObjectKind::View },
            name: Some(qname(cx, &v.name, after_word(cx, "view"))),
            if_not_exists: v.if_not_exists,
            or_replace: v.or_replace,
            table: None,
        }],
        S::CreateDatabase { db_name, if_not_exists, or_replace, .. } => vec![Op::Create {
            kind: ObjectKind::Database,
            name: Some(qname(cx, db_name, after_word(cx, "database"))),
            if_not_exists: *if_not_exists,
            or_replace: *or_replace,
            table: None,
        }],
        S::CreateSchema { schema_name, if_not_exists, or_replace, .. } => {
            let name = match schema_name {
                sq::SchemaName::Simple(n) | sq::SchemaName::NamedAuthorization(n, _) => {
                    Some(qname(cx, n, after_word(cx, "schema")))
                }
                sq::SchemaName::UnnamedAuthorization(_) => None,
            };
            vec![Op::Create {
                kind: ObjectKind::Schema,
                name,
                if_not_exists: *if_not_exists,
                or_replace: *or_replace,
                table: None,
            }]
        }
        S::CreateFunction(f) => vec![Op::Create {
            kind: ObjectKind::Function,
            name: Some(qname(cx, &f.name, after_word(cx, "function"))),
            if_not_exists: f.if_not_exists,
            or_replace: f.or_replace,
            table: None,
        }],
        S::CreateProcedure { name, or_alter, .. } => vec![Op::Create {
            kind: ObjectKind::Procedure,
            name: Some(qname(cx, name, after_word(cx, "procedure"))),
            if_not_exists: false,
            or_replace: *or_alter,
            table: None,
        }],
        S::CreateTrigger(t) => vec![Op::Create {
            kind: ObjectKind::Trigger,
            name: Some(qname(cx, &t.name, after_word(cx, "trigger"))),
            if_not_exists: false,
            or_replace: t.or_replace,
            table: None,
        }],
        other => vec![Op::Other { kind: variant_name(other) }],
    }
}

/// Best-effort lowering of a statement that sqlparser rejected, from its tokens (and by re-parsing
/// the parts sqlparser does understand). Returns no operation when the statement is not
/// recognised. Covers `ALTER [ONLINE|IGNORE] TABLE` (clause by clause: table options, `FORCE`,
/// `CONVERT TO CHARACTER SET`, `RENAME INDEX`, `DROP KEY`, `DROP CHECK`, `ALGORITHM=NOCOPY`,
/// MariaDB `IF [NOT] EXISTS`...), `CREATE FULLTEXT|SPATIAL INDEX`, `DROP INDEX ... ALGORITHM=`,
/// `CREATE TABLE ... PARTITION BY` and the name of `CREATE FUNCTION/PROCEDURE/TRIGGER/EVENT/VIEW`.
pub(crate) fn lower_unparsed(cx: &LowerCx) -> Vec<Op> {
    let toks: Vec<Token> = cx.code_tokens().copied().collect();
    let w = |i: usize| toks.get(i).filter(|t| t.kind == TokenKind::Word).map(|t| cx.slice(t.span).to_ascii_lowercase());
    let first = w(0).unwrap_or_default();
    match first.as_str() {
        "alter" => {
            // ALTER [ONLINE|OFFLINE] [IGNORE] TABLE
            let mut i = 1;
            while matches!(w(i).as_deref(), Some("online" | "offline" | "ignore")) {
                i += 1;
            }
            if w(i).as_deref() != Some("table") {
                return Vec::new();
            }
            i += 1;
            let mut if_exists = false;
            if w(i).as_deref() == Some("if") && w(i + 1).as_deref() == Some("exists") {
                if_exists = true;
                i += 2;
            }
            let Some(name) = qname_tokens(cx, &toks, i) else { return Vec::new() };
            let actions = cx.alter_clauses().into_iter().flat_map(|c| lower_clause(cx, c)).collect();
            vec![Op::AlterTable { name, if_exists, only: false, actions }]
        }
        "create" => {
            let Some(kw_idx) = (1..toks.len().min(12)).find(|&i| {
                matches!(
                    w(i).as_deref(),
                    Some("table" | "index" | "function" | "procedure" | "trigger" | "event" | "view")
                )
            }) else {
                return Vec::new();
            };
            let kw = w(kw_idx).unwrap_or_default();
            match kw.as_str() {
                "index" => {
                    // Blank FULLTEXT / SPATIAL out and re-parse; everything else is sqlparser's.
                    let blank: Vec<Span> = toks[..kw_idx]
                        .iter()
                        .filter(|t| t.is_word(cx.text, "fulltext") || t.is_word(cx.text, "spatial"))
                        .map(|t| t.span)
                        .collect();
                    reparse_edited(cx, &blank, None)
                }
                "table" => {
                    // Drop what follows the column list (partitioning and table options).
                    let open = toks.iter().enumerate().skip(kw_idx).find(|(_, t)| t.is_punct(cx.text, '('));
                    match open {
                        Some((oi, _)) => {
                            let close = matching(cx, &toks, oi);
                            match toks.get(close + 1) {
                                Some(next) => reparse_edited(cx, &[], Some(next.span.start)),
                                None => Vec::new(),
                            }
                        }
                        None => Vec::new(),
                    }
                }
                _ => {
                    let kind = match kw.as_str() {
                        "function" => ObjectKind::Function,
                        "procedure" => ObjectKind::Procedure,
                        "trigger" => ObjectKind::Trigger,
                        "view" => ObjectKind::View,
                        _ => ObjectKind::Other,
                    };
                    let or_replace = (1..kw_idx).any(|i| w(i).as_deref() == Some("replace"));
                    let mut i = kw_idx + 1;
                    let mut if_not_exists = false;
                    if w(i).as_deref() == Some("if") && w(i + 1).as_deref() == Some("not") {
                        if_not_exists = true;
                        i += 3;
                    }
                    vec![Op::Create { kind, name: qname_tokens(cx, &toks, i), if_not_exists, or_replace, table: None }]
                }
            }
        }
        "drop" if w(1).as_deref() == Some("index") => {
            // DROP INDEX i ON t ALGORITHM=... LOCK=...
            let cut = toks
                .iter()
                .skip(2)
                .find(|t| t.is_word(cx.text, "algorithm") || t.is_word(cx.text, "lock"))
                .map(|t| t.span.start);
            if cut.is_none() {
                return Vec::new();
            }
            reparse_edited(cx, &[], cut)
        }
        "optimize" => vec![Op::Other { kind: "OptimizeTable".into() }],
        // Dynamic SQL: what `@s` holds is not visible statically.
        "prepare" | "execute" | "deallocate" => vec![Op::Other { kind: format!("{first}_statement") }],
        // `SET @v := expr` (user variables; sqlparser wants `=`).
        "set" => {
            let at = toks.iter().skip(1).position(|t| !t.is_punct(cx.text, '@')).map_or(toks.len(), |p| p + 1);
            let name = toks.get(at).map(|t| ident_value(t, cx.text, Dialect::MySql).to_ascii_lowercase());
            let value_start = toks
                .iter()
                .skip(at + 1)
                .position(|t| !t.is_punct(cx.text, ':') && !t.is_punct(cx.text, '='))
                .map(|p| p + at + 1);
            match (name, value_start) {
                (Some(name), Some(v)) if !name.is_empty() => {
                    let start = toks[v].span.start;
                    let value = cx.text.get(start..cx.span.end).unwrap_or("").trim().to_string();
                    vec![Op::Set { name, value, local: false }]
                }
                _ => Vec::new(),
            }
        }
        // Multi-table UPDATE/DELETE (`UPDATE a, b SET ...`, `DELETE t1.* FROM ... JOIN ...`).
        "update" | "delete" => {
            let mut depth = 0i32;
            let (mut has_where, mut has_limit) = (false, false);
            for t in &toks {
                match cx.slice(t.span) {
                    "(" => depth += 1,
                    ")" => depth -= 1,
                    // A join restricts the rows as a WHERE would.
                    _ if depth == 0 && (t.is_word(cx.text, "where") || t.is_word(cx.text, "join")) => has_where = true,
                    _ if depth == 0 && t.is_word(cx.text, "limit") => has_limit = true,
                    _ => {}
                }
            }
            let kind = if first == "update" { DmlKind::Update } else { DmlKind::Delete };
            let table_at = if first == "update" {
                1
            } else {
                toks.iter().position(|t| t.is_word(cx.text, "from")).map_or(1, |i| i + 1)
            };
            vec![Op::Dml { kind, table: qname_tokens(cx, &toks, table_at), has_where, has_limit }]
        }
        _ => Vec::new(),
    }
}

/// True for the statements [`lower_unparsed`] reads whole from their tokens, which are therefore
/// not reported as only partly parsed: `EXECUTE stmt` and `DEALLOCATE` (they carry no SQL),
/// `OPTIMIZE TABLE`, one assignment of a user variable (`SET @v := expr`, kept as text), and an
/// `ALTER TABLE` whose every clause `ops` holds as a recognised action.
pub(crate) fn read_whole(cx: &LowerCx, ops: &[Op]) -> bool {
    let mut code = cx.code_tokens();
    let (Some(first), second, third) = (code.next(), code.next(), code.next()) else { return false };
    let word = |w: &str| first.is_word(cx.text, w);
    // `PREPARE` and `EXECUTE IMMEDIATE` count once the statement they run is read
    // (`mysql_dynamic::keep_prepared`).
    let immediate = second.is_some_and(|t| t.is_word(cx.text, "immediate"));
    if (word("execute") && !immediate) || word("deallocate") || word("optimize") {
        return true;
    }
    // A plain `ALTER TABLE` every clause of which was recognised (`CONVERT TO CHARACTER SET`,
    // table options such as `ROW_FORMAT=`, `DROP KEY`, ...).
    if word("alter") && second.is_some_and(|t| t.is_word(cx.text, "table")) {
        return matches!(ops, [Op::AlterTable { actions, .. }]
            if !actions.is_empty() && actions.iter().all(|a| !matches!(a.kind, AlterActionKind::Other { .. })));
    }
    // One assignment: with several, the token reading folds the later ones into the first value.
    let mut depth = 0i32;
    let several = cx.code_tokens().any(|t| {
        if t.is_punct(cx.text, '(') {
            depth += 1;
        } else if t.is_punct(cx.text, ')') {
            depth -= 1;
        }
        depth == 0 && t.is_punct(cx.text, ',')
    });
    word("set")
        && second.is_some_and(|t| t.is_punct(cx.text, '@'))
        && third.is_some_and(|t| !t.is_punct(cx.text, '@'))
        && !several
}

/// Re-parses the statement with some token spans blanked out (replaced by spaces, so offsets are
/// kept) and everything from `cut` on dropped, and lowers the result against the original tokens.
fn reparse_edited(cx: &LowerCx, blank: &[Span], cut: Option<usize>) -> Vec<Op> {
    let mut sql: Vec<u8> = cx.sql().as_bytes().to_vec();
    for s in blank {
        let a = s.start.saturating_sub(cx.span.start);
        let b = s.end.saturating_sub(cx.span.start).min(sql.len());
        for byte in sql.iter_mut().take(b).skip(a) {
            *byte = b' ';
        }
    }
    if let Some(c) = cut {
        sql.truncate(c.saturating_sub(cx.span.start));
    }
    let Ok(sql) = String::from_utf8(sql) else { return Vec::new() };
    match super::parse_mysql_bounded(&sql) {
        Ok(stmts) if stmts.len() == 1 => stmts.iter().flat_map(|s| lower(s, cx)).collect(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

fn code_in(cx: &LowerCx, span: Span) -> Vec<Token> {
    cx.code_tokens().filter(|t| t.span.start >= span.start && t.span.end <= span.end).copied().collect()
}

fn is_ident_tok(t: &Token) -> bool {
    matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent)
}

fn tok_is(src: &str, t: Option<&Token>, word: &str) -> bool {
    t.is_some_and(|t| t.is_word(src, word))
}

fn cover(toks: &[Token]) -> Option<Span> {
    Some(toks.first()?.span.cover(toks.last()?.span))
}

/// Index of the `)` matching the `(` at `open` (or the last token when unbalanced).
fn matching(cx: &LowerCx, toks: &[Token], open: usize) -> usize {
    matching_src(cx.text, toks, open)
}

fn matching_src(src: &str, toks: &[Token], open: usize) -> usize {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.kind == TokenKind::Punct {
            match t.text(src) {
                "(" => depth += 1,
                ")" => {
                    depth -= 1;
                    if depth <= 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
    }
    toks.len().saturating_sub(1)
}

/// Top-level comma-separated ranges of `toks`, as `start..end` index ranges.
fn split_top(cx: &LowerCx, toks: &[Token]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.kind == TokenKind::Punct {
            match cx.slice(t.span) {
                "(" => depth += 1,
                ")" => depth -= 1,
                "," if depth == 0 => {
                    if i > start {
                        out.push(start..i);
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    if toks.len() > start {
        out.push(start..toks.len());
    }
    out
}

/// The position right after the first `word` of the statement, or its start.
fn after_word(cx: &LowerCx, word: &str) -> usize {
    cx.word_after(word, cx.span.start).map_or(cx.span.start, |s| s.end)
}

/// Index of the first top-level word `word` in `toks`.
fn find_top_word(cx: &LowerCx, toks: &[Token], word: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate() {
        if t.kind == TokenKind::Punct {
            match cx.slice(t.span) {
                "(" => depth += 1,
                ")" => depth -= 1,
                _ => {}
            }
        } else if depth == 0 && t.is_word(cx.text, word) {
            return Some(i);
        }
    }
    None
}

/// The balanced parenthesised group that starts at the first top-level `(` at or after `from`.
fn group_after(cx: &LowerCx, toks: &[Token], from: usize) -> Option<(usize, usize)> {
    let open = toks.iter().enumerate().skip(from).find(|(_, t)| t.is_punct(cx.text, '('))?.0;
    Some((open, matching(cx, toks, open)))
}

/// A cursor over one clause's tokens.
struct Cur<'c, 'a> {
    cx: &'c LowerCx<'a>,
    toks: Vec<Token>,
    i: usize,
}

impl<'c, 'a> Cur<'c, 'a> {
    fn new(cx: &'c LowerCx<'a>, span: Span) -> Self {
        Cur { cx, toks: code_in(cx, span), i: 0 }
    }

    fn peek_is(&self, word: &str) -> bool {
        tok_is(self.cx.text, self.toks.get(self.i), word)
    }

    fn eat(&mut self, word: &str) -> bool {
        let ok = self.peek_is(word);
        if ok {
            self.i += 1;
        }
        ok
    }

    /// Eats all of `words` or none.
    fn eat_all(&mut self, words: &[&str]) -> bool {
        let ok = words.iter().enumerate().all(|(k, w)| tok_is(self.cx.text, self.toks.get(self.i + k), w));
        if ok {
            self.i += words.len();
        }
        ok
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let ok = self.toks.get(self.i).is_some_and(|t| t.is_punct(self.cx.text, c));
        if ok {
            self.i += 1;
        }
        ok
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.i).copied();
        if t.is_some() {
            self.i += 1;
        }
        t
    }

    fn next_ident(&mut self) -> Option<Ident> {
        let t = self.toks.get(self.i).copied().filter(is_ident_tok)?;
        self.i += 1;
        Some(Ident::new(ident_value(&t, self.cx.text, Dialect::MySql), t.span))
    }

    fn rest(&self) -> &[Token] {
        self.toks.get(self.i..).unwrap_or(&[])
    }
}

// ---------------------------------------------------------------------------------------------
// Names

fn ident_at(cx: &LowerCx, id: &sq::Ident, within: Span) -> Ident {
    let span = cx.ident_in(&id.value, within).unwrap_or(within);
    Ident::new(id.value.clone(), span)
}

fn name_parts(obj: &sq::ObjectName) -> Vec<String> {
    obj.0
        .iter()
        .map(|p| match p.as_ident() {
            Some(i) => i.value.clone(),
            None => p.to_string(),
        })
        .collect()
}

/// The qualified name `obj`, located at its first occurrence at or after `from`.
fn qname(cx: &LowerCx, obj: &sq::ObjectName, from: usize) -> QualifiedName {
    let mut f = from;
    qname_seq(cx, obj, &mut f)
}

/// Like [`qname`], and moves `from` past the name (for lists of names).
fn qname_seq(cx: &LowerCx, obj: &sq::ObjectName, from: &mut usize) -> QualifiedName {
    let parts = name_parts(obj);
    let name = parts.last().cloned().unwrap_or_default();
    let schema = if parts.len() >= 2 { parts.get(parts.len() - 2).cloned() } else { None };
    let within = Span::new((*from).min(cx.span.end), cx.span.end);
    let toks = code_in(cx, within);
    let first = parts.first().cloned().unwrap_or_default();
    let start = toks
        .iter()
        .position(|t| is_ident_tok(t) && ident_value(t, cx.text, Dialect::MySql).eq_ignore_ascii_case(&first));
    let span = match start {
        Some(j) => {
            let mut k = j;
            for _ in 1..parts.len() {
                let dot = toks.get(k + 1).is_some_and(|t| t.is_punct(cx.text, '.'));
                if dot && toks.get(k + 2).is_some_and(is_ident_tok) {
                    k += 2;
                } else {
                    break;
                }
            }
            toks.get(j).map_or(within, |a| toks.get(k).map_or(a.span, |b| a.span.cover(b.span)))
        }
        None => Span::empty(within.start),
    };
    if start.is_some() {
        *from = span.end;
    }
    QualifiedName { schema, name, span }
}

/// A qualified name read from tokens starting at index `i` (`ident [. ident]`).
fn qname_tokens(cx: &LowerCx, toks: &[Token], i: usize) -> Option<QualifiedName> {
    let a = toks.get(i).filter(|t| is_ident_tok(t))?;
    let av = ident_value(a, cx.text, Dialect::MySql);
    if toks.get(i + 1).is_some_and(|t| t.is_punct(cx.text, '.')) {
        if let Some(b) = toks.get(i + 2).filter(|t| is_ident_tok(t)) {
            return Some(QualifiedName {
                schema: Some(av),
                name: ident_value(b, cx.text, Dialect::MySql),
                span: a.span.cover(b.span),
            });
        }
    }
    Some(QualifiedName { schema: None, name: av, span: a.span })
}

fn table_of(t: &sq::TableWithJoins, cx: &LowerCx, from: usize) -> Option<QualifiedName> {
    match &t.relation {
        sq::TableFactor::Table { name, .. } => Some(qname(cx, name, from)),
        _ => None,
    }
}

fn variant_name(v: &impl Debug) -> String {
    let s = format!("{v:?}");
    s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

// ---------------------------------------------------------------------------------------------
// Types and expressions

/// Canonical MySQL base type name for a (lower-case) spelling, and implied modifiers.
fn canonical_type(name: &str) -> (&str, Option<i64>) {
    match name {
        "integer" | "int4" => ("int", None),
        "int1" => ("tinyint", None),
        "int2" => ("smallint", None),
        "int3" | "middleint" => ("mediumint", None),
        "int8" => ("bigint", None),
        "bool" | "boolean" => ("tinyint", Some(1)),
        "dec" | "numeric" | "fixed" => ("decimal", None),
        "real" | "float8" => ("double", None),
        "float4" => ("float", None),
        "character" | "nchar" => ("char", None),
        "nvarchar" | "varcharacter" => ("varchar", None),
        "long" => ("mediumtext", None),
        "serial" => ("bigint", None),
        other => (other, None),
    }
}

/// Reads a type from the start of `toks` (text `src`). Returns the type (span = tokens' cover) and
/// how many tokens it used.
fn parse_type(src: &str, toks: &[Token]) -> Option<(TypeName, usize)> {
    let first = toks.first().filter(|t| t.kind == TokenKind::Word)?;
    let w = |i: usize| toks.get(i).filter(|t| t.kind == TokenKind::Word).map(|t| t.text(src).to_ascii_lowercase());
    let mut base = first.text(src).to_ascii_lowercase();
    let mut i = 1;
    if base == "national" {
        if let Some(n) = w(1) {
            base = n;
            i = 2;
        }
    }
    match (base.as_str(), w(i).as_deref()) {
        ("double", Some("precision")) => i += 1,
        ("char" | "character" | "nchar", Some("varying")) => {
            base = "varchar".into();
            i += 1;
        }
        ("long", Some("varchar")) => {
            base = "mediumtext".into();
            i += 1;
        }
        ("long", Some("varbinary")) => {
            base = "mediumblob".into();
            i += 1;
        }
        ("nchar" | "char" | "character", Some("varchar")) => {
            base = "varchar".into();
            i += 1;
        }
        _ => {}
    }
    // NATIONAL CHAR / NCHAR / NVARCHAR use the national character set, utf8mb3.
    let national = first.text(src).eq_ignore_ascii_case("national") || matches!(base.as_str(), "nchar" | "nvarchar");
    let (canon, implied) = canonical_type(&base);
    let mut tn = TypeName {
        name: canon.to_string(),
        modifiers: Vec::new(),
        array: false,
        values: Vec::new(),
        charset: national.then(|| "utf8mb3".to_string()),
        unsigned: base == "serial",
        text: String::new(),
        span: first.span,
    };
    if toks.get(i).is_some_and(|t| t.is_punct(src, '(')) {
        let close = matching_src(src, toks, i);
        for t in toks.get(i + 1..close).unwrap_or(&[]) {
            match t.kind {
                TokenKind::Number => {
                    if let Ok(n) = t.text(src).parse::<i64>() {
                        tn.modifiers.push(n);
                    }
                }
                TokenKind::String => tn.values.push(unquote(t.text(src))),
                _ => {}
            }
        }
        i = close + 1;
    }
    loop {
        match w(i).as_deref() {
            Some("unsigned") | Some("zerofill") => tn.unsigned = true,
            Some("signed") => {}
            _ => break,
        }
        i += 1;
    }
    if tn.modifiers.is_empty() {
        if let Some(m) = implied {
            tn.modifiers.push(m);
        }
    }
    let used = i.min(toks.len()).max(1);
    if let Some(last) = toks.get(used - 1) {
        tn.span = first.span.cover(last.span);
    }
    tn.text = src.get(tn.span.start..tn.span.end).unwrap_or("").to_string();
    Some((tn, used))
}

/// The value of a MySQL string literal token (`'a''b'`, `"x"`, `'\n'`), with an optional
/// `_charset` introducer or `N` prefix.
fn unquote(s: &str) -> String {
    let start = s.find(['\'', '"']).unwrap_or(0);
    let body = &s[start..];
    let mut chars = body.chars();
    let Some(q) = chars.next() else { return String::new() };
    if q != '\'' && q != '"' {
        return s.to_string();
    }
    let mut out = String::new();
    let mut it = chars.peekable();
    while let Some(c) = it.next() {
        if c == q {
            if it.peek() == Some(&q) {
                out.push(q);
                it.next();
                continue;
            }
            break;
        }
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some('Z') => out.push('\u{1a}'),
                Some(c @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(c);
                }
                Some(c) => out.push(c),
                None => {}
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// A type without tokens to read it from: rebuilt from the syntax tree's rendering.
fn type_from_ast(dt: &sq::DataType, span: Span) -> TypeName {
    let s = dt.to_string();
    let toks = tokenize(&s, Dialect::MySql);
    match parse_type(&s, &toks) {
        Some((mut tn, _)) => {
            tn.text = s.clone();
            tn.span = span;
            tn.unsigned |= s.to_ascii_lowercase().contains("unsigned");
            tn
        }
        None => TypeName {
            name: s.to_ascii_lowercase(),
            modifiers: Vec::new(),
            array: false,
            values: Vec::new(),
            charset: None,
            unsigned: false,
            text: s,
            span,
        },
    }
}

const STABLE_FUNCTIONS: &[&str] = &[
    "current_timestamp",
    "now",
    "localtime",
    "localtimestamp",
    "current_date",
    "curdate",
    "current_time",
    "curtime",
    "utc_timestamp",
    "utc_date",
    "utc_time",
];

fn volatility(e: &sq::Expr) -> Volatility {
    match e {
        sq::Expr::Value(_) | sq::Expr::TypedString { .. } => Volatility::Constant,
        sq::Expr::UnaryOp { expr, .. } => match volatility(expr) {
            Volatility::Constant => Volatility::Constant,
            _ => Volatility::Volatile,
        },
        sq::Expr::Identifier(i) => {
            if STABLE_FUNCTIONS.contains(&i.value.to_ascii_lowercase().as_str()) {
                Volatility::Stable
            } else {
                Volatility::Constant
            }
        }
        sq::Expr::Function(f) => {
            let name = name_parts(&f.name).last().map(|s| s.to_ascii_lowercase()).unwrap_or_default();
            if STABLE_FUNCTIONS.contains(&name.as_str()) {
                Volatility::Stable
            } else {
                Volatility::Volatile
            }
        }
        // MySQL expression defaults `(expr)` are evaluated per row and rule out INSTANT.
        _ => Volatility::Volatile,
    }
}

fn is_null(e: &sq::Expr) -> bool {
    matches!(e, sq::Expr::Value(v) if v.value == sq::Value::Null)
}

fn make_expr(e: &sq::Expr, span: Option<Span>, cx: &LowerCx, fallback: Span) -> Expr {
    let (text, span) = match span {
        Some(s) => (cx.slice(s).to_string(), s),
        None => (e.to_string(), fallback),
    };
    Expr { text, volatility: volatility(e), is_null: is_null(e), span }
}

/// Words that start another column attribute and end a `DEFAULT` expression.
const COLUMN_ATTR_WORDS: &[&str] = &[
    "not",
    "null",
    "auto_increment",
    "primary",
    "unique",
    "key",
    "comment",
    "collate",
    "on",
    "references",
    "check",
    "generated",
    "as",
    "visible",
    "invisible",
    "storage",
    "column_format",
    "srid",
    "constraint",
    "first",
    "after",
    "engine_attribute",
    "secondary_engine_attribute",
    "character",
    "charset",
    "default",
];

/// The span of the expression after a `DEFAULT` (or `SET DEFAULT`) at index `kw` of `toks`.
fn default_span(cx: &LowerCx, toks: &[Token], kw: usize) -> Option<Span> {
    let start = kw + 1;
    let first = toks.get(start)?;
    let mut end = start;
    if first.is_punct(cx.text, '(') {
        end = matching(cx, toks, start);
    }
    let mut i = end + 1;
    while let Some(t) = toks.get(i) {
        if t.kind == TokenKind::Word && COLUMN_ATTR_WORDS.iter().any(|w| t.is_word(cx.text, w)) {
            break;
        }
        if t.is_punct(cx.text, '(') {
            i = matching(cx, toks, i);
        }
        end = i;
        i += 1;
    }
    let last = toks.get(end.min(toks.len().saturating_sub(1)))?;
    Some(first.span.cover(last.span))
}

/// The span of the `REFERENCES tbl (cols) [MATCH ..] [ON DELETE ..] [ON UPDATE ..]` clause that
/// starts at index `kw`.
fn references_span(cx: &LowerCx, toks: &[Token], kw: usize) -> Option<Span> {
    let start = toks.get(kw)?;
    let mut end = kw;
    if let Some((_, close)) = group_after(cx, toks, kw) {
        end = close;
    }
    const ACTION_WORDS: &[&str] =
        &["on", "delete", "update", "cascade", "restrict", "set", "null", "no", "action", "default", "match"];
    const MATCH_WORDS: &[&str] = &["full", "partial", "simple"];
    let mut i = end + 1;
    while let Some(t) = toks.get(i) {
        let is_action = ACTION_WORDS.iter().chain(MATCH_WORDS).any(|w| t.is_word(cx.text, w));
        // `NOT NULL` / `DEFAULT x` after REFERENCES belong to the column, not to the clause.
        let on_or_match = t.is_word(cx.text, "on") || t.is_word(cx.text, "match");
        let prev_action = toks.get(i - 1).is_some_and(|p| {
            p.is_word(cx.text, "on")
                || p.is_word(cx.text, "delete")
                || p.is_word(cx.text, "update")
                || p.is_word(cx.text, "set")
                || p.is_word(cx.text, "no")
                || p.is_word(cx.text, "match")
        });
        if !is_action || !(on_or_match || prev_action) {
            break;
        }
        end = i;
        i += 1;
    }
    Some(start.span.cover(toks.get(end)?.span))
}

fn fk_target(
    cx: &LowerCx,
    table: &sq::ObjectName,
    cols: &[sq::Ident],
    toks: &[Token],
    fallback: Span,
) -> ForeignKeyTarget {
    let kw = find_top_word(cx, toks, "references");
    let span = kw.and_then(|k| references_span(cx, toks, k)).unwrap_or(fallback);
    let table = qname(cx, table, span.start);
    let group = kw
        .and_then(|k| group_after(cx, toks, k))
        .and_then(|(o, c)| Some(toks.get(o)?.span.cover(toks.get(c)?.span)))
        .unwrap_or(span);
    let columns = idents_seq(cx, cols.iter().map(|c| c.value.as_str()), group);
    ForeignKeyTarget { table, columns, span }
}

/// Locates names one after another inside `within`.
fn idents_seq<'n>(cx: &LowerCx, names: impl Iterator<Item = &'n str>, within: Span) -> Vec<Ident> {
    let mut from = within.start;
    names
        .map(|n| {
            let span = cx.ident_in(n, Span::new(from.min(within.end), within.end));
            if let Some(s) = span {
                from = s.end;
            }
            Ident::new(n, span.unwrap_or(within))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Column definitions

/// Builds a column definition. `rest` are the tokens from the type on (type, attributes, and
/// possibly a position clause); `name_span` the span of the column name.
fn column_def(
    cx: &LowerCx,
    name: Ident,
    dt: &sq::DataType,
    opts: &[&sq::ColumnOption],
    position: Option<&sq::MySQLColumnPosition>,
    rest: &[Token],
) -> ColumnDef {
    let name_span = name.span;
    let (mut type_name, used) = match parse_type(cx.text, rest) {
        Some(x) => x,
        None => (type_from_ast(dt, name_span), 0),
    };
    // Attributes end where a top-level FIRST/AFTER position starts.
    let attrs_all = rest.get(used..).unwrap_or(&[]);
    let pos_idx = find_top_word(cx, attrs_all, "first")
        .into_iter()
        .chain(find_top_word(cx, attrs_all, "after"))
        .filter(|&i| {
            // Only a trailing position clause: FIRST at the end, AFTER followed by one identifier.
            i + 1 == attrs_all.len() || (i + 2 == attrs_all.len() && attrs_all[i].is_word(cx.text, "after"))
        })
        .min();
    let attrs = &attrs_all[..pos_idx.unwrap_or(attrs_all.len())];
    let end = attrs.last().map(|t| t.span).unwrap_or(type_name.span);
    let def_span = name_span.cover(end);

    let mut col = ColumnDef {
        name,
        type_name: TypeName { span: type_name.span, ..type_name.clone() },
        not_null: false,
        default: None,
        generated: None,
        identity: type_name.text.eq_ignore_ascii_case("serial"),
        primary_key: false,
        unique: type_name.text.eq_ignore_ascii_case("serial"),
        references: None,
        check: None,
        position: None,
        span: def_span,
    };
    if col.identity {
        col.not_null = true;
    }
    for opt in opts {
        match opt {
            sq::ColumnOption::NotNull => col.not_null = true,
            sq::ColumnOption::Default(e) => {
                let span = find_top_word(cx, attrs, "default").and_then(|k| default_span(cx, attrs, k));
                col.default = Some(make_expr(e, span, cx, def_span));
            }
            sq::ColumnOption::PrimaryKey(_) => {
                col.primary_key = true;
                col.not_null = true;
            }
            sq::ColumnOption::Unique(_) => col.unique = true,
            sq::ColumnOption::ForeignKey(fk) => {
                col.references = Some(fk_target(cx, &fk.foreign_table, &fk.referred_columns, attrs, def_span));
            }
            sq::ColumnOption::Check(c) => {
                let span = find_top_word(cx, attrs, "check")
                    .and_then(|k| group_after(cx, attrs, k))
                    .and_then(|(o, c)| Some(attrs.get(o)?.span.cover(attrs.get(c)?.span)));
                col.check = Some(make_expr(&c.expr, span, cx, def_span));
            }
            sq::ColumnOption::Generated { generation_expr: Some(e), generation_expr_mode, .. } => {
                let kind = match generation_expr_mode {
                    Some(sq::GeneratedExpressionMode::Stored) => GeneratedKind::Stored,
                    _ => GeneratedKind::Virtual,
                };
                let span = find_top_word(cx, attrs, "as")
                    .and_then(|k| group_after(cx, attrs, k))
                    .and_then(|(o, c)| Some(attrs.get(o)?.span.cover(attrs.get(c)?.span)));
                let mut expr = make_expr(e, span, cx, def_span);
                // The generation expression is always parenthesised: judge what is inside.
                expr.volatility = volatility(e);
                col.generated = Some((kind, expr));
            }
            sq::ColumnOption::Generated { generation_expr: None, .. } | sq::ColumnOption::Identity(_) => {
                col.identity = true;
            }
            sq::ColumnOption::DialectSpecific(tokens)
                if tokens.iter().any(|t| t.to_string().eq_ignore_ascii_case("auto_increment")) =>
            {
                col.identity = true;
            }
            sq::ColumnOption::CharacterSet(cs) => {
                type_name.charset = name_parts(cs).last().map(|s| s.to_ascii_lowercase());
                col.type_name.charset = type_name.charset.clone();
            }
            // A collation names its character set (`utf8mb4_bin`); an explicit CHARACTER SET wins.
            sq::ColumnOption::Collation(c) if col.type_name.charset.is_none() => {
                type_name.charset = name_parts(c).last().map(|s| charset_of_collation(s));
                col.type_name.charset = type_name.charset.clone();
            }
            _ => {}
        }
    }
    if !col.identity && attrs.iter().any(|t| t.is_word(cx.text, "auto_increment")) {
        col.identity = true;
    }
    col.position = match position {
        Some(sq::MySQLColumnPosition::First) => Some(ColumnPosition::First),
        Some(sq::MySQLColumnPosition::After(id)) => {
            let within = match pos_idx {
                Some(p) => cover(&attrs_all[p..]).unwrap_or(def_span),
                None => cover(rest).unwrap_or(def_span),
            };
            Some(ColumnPosition::After(ident_at(cx, id, within)))
        }
        None => None,
    };
    col
}

// ---------------------------------------------------------------------------------------------
// Constraints

fn index_col_name(e: &sq::Expr) -> Option<&sq::Ident> {
    match e {
        sq::Expr::Identifier(i) => Some(i),
        sq::Expr::CompoundIdentifier(v) => v.last(),
        // A prefix length `col(10)` is parsed as a call.
        sq::Expr::Function(f) if f.name.0.len() == 1 => f.name.0.first().and_then(|p| p.as_ident()),
        _ => None,
    }
}

fn index_cols_names(cols: &[sq::IndexColumn]) -> Vec<&str> {
    cols.iter().filter_map(|c| index_col_name(&c.column.expr)).map(|i| i.value.as_str()).collect()
}

/// Lowers a table constraint whose tokens are `toks` (the whole constraint, without `ADD`).
fn constraint(cx: &LowerCx, c: &sq::TableConstraint, toks: &[Token], span: Span) -> Constraint {
    let first_group =
        group_after(cx, toks, 0).and_then(|(o, c)| Some(toks.get(o)?.span.cover(toks.get(c)?.span))).unwrap_or(span);
    let name_of = |n: Option<&sq::Ident>| n.map(|n| ident_at(cx, n, span));
    let (name, kind, columns) = match c {
        sq::TableConstraint::PrimaryKey(pk) => (
            name_of(pk.name.as_ref().or(pk.index_name.as_ref())),
            ConstraintKind::PrimaryKey,
            idents_seq(cx, index_cols_names(&pk.columns).into_iter(), first_group),
        ),
        sq::TableConstraint::Unique(u) => (
            name_of(u.index_name.as_ref().or(u.name.as_ref())),
            ConstraintKind::Unique,
            idents_seq(cx, index_cols_names(&u.columns).into_iter(), first_group),
        ),
        sq::TableConstraint::ForeignKey(fk) => (
            name_of(fk.name.as_ref().or(fk.index_name.as_ref())),
            ConstraintKind::ForeignKey { target: fk_target(cx, &fk.foreign_table, &fk.referred_columns, toks, span) },
            idents_seq(cx, fk.columns.iter().map(|i| i.value.as_str()), first_group),
        ),
        sq::TableConstraint::Check(ck) => {
            let espan = find_top_word(cx, toks, "check")
                .and_then(|k| group_after(cx, toks, k))
                .and_then(|(o, c)| Some(toks.get(o)?.span.cover(toks.get(c)?.span)));
            (
                name_of(ck.name.as_ref()),
                ConstraintKind::Check { expr: make_expr(&ck.expr, espan, cx, span) },
                Vec::new(),
            )
        }
        sq::TableConstraint::Index(ix) => (
            name_of(ix.name.as_ref()),
            ConstraintKind::Index { fulltext: false, spatial: false },
            idents_seq(cx, index_cols_names(&ix.columns).into_iter(), first_group),
        ),
        sq::TableConstraint::FulltextOrSpatial(fs) => (
            name_of(fs.opt_index_name.as_ref()),
            ConstraintKind::Index { fulltext: fs.fulltext, spatial: !fs.fulltext },
            idents_seq(cx, index_cols_names(&fs.columns).into_iter(), first_group),
        ),
        sq::TableConstraint::PrimaryKeyUsingIndex(u) => {
            (name_of(u.name.as_ref().or(Some(&u.index_name))), ConstraintKind::PrimaryKey, Vec::new())
        }
        sq::TableConstraint::UniqueUsingIndex(u) => {
            (name_of(u.name.as_ref().or(Some(&u.index_name))), ConstraintKind::Unique, Vec::new())
        }
        sq::TableConstraint::Exclude(_) => (None, ConstraintKind::Exclusion, Vec::new()),
    };
    Constraint { name, kind, columns, not_valid: false, using_index: None, span }
}

// ---------------------------------------------------------------------------------------------
// CREATE TABLE

const CONSTRAINT_WORDS: &[&str] =
    &["constraint", "primary", "unique", "key", "index", "fulltext", "spatial", "foreign", "check", "period"];

fn create_table(ct: &sq::CreateTable, cx: &LowerCx) -> Op {
    let name = qname(cx, &ct.name, after_word(cx, "table"));
    let toks: Vec<Token> = cx.code_tokens().copied().collect();
    // Elements of the parenthesised body that follows the name.
    let body_from = toks.iter().position(|t| t.span.start >= name.span.end).unwrap_or(toks.len());
    let body = if toks.get(body_from).is_some_and(|t| t.is_punct(cx.text, '(')) {
        let close = matching(cx, &toks, body_from);
        toks.get(body_from + 1..close).unwrap_or(&[])
    } else {
        &[][..]
    };
    let elems = split_top(cx, body);
    let (col_elems, con_elems): (Vec<_>, Vec<_>) = elems
        .into_iter()
        .partition(|r| !body.get(r.start).is_some_and(|t| CONSTRAINT_WORDS.iter().any(|w| t.is_word(cx.text, w))));

    let mut columns = Vec::with_capacity(ct.columns.len());
    for (k, c) in ct.columns.iter().enumerate() {
        // By position, or else by name.
        let elem = col_elems
            .get(k)
            .filter(|r| {
                body.get(r.start)
                    .is_some_and(|t| ident_value(t, cx.text, Dialect::MySql).eq_ignore_ascii_case(&c.name.value))
            })
            .or_else(|| {
                col_elems.iter().find(|r| {
                    body.get(r.start)
                        .is_some_and(|t| ident_value(t, cx.text, Dialect::MySql).eq_ignore_ascii_case(&c.name.value))
                })
            });
        let opts: Vec<&sq::ColumnOption> = c.options.iter().map(|o| &o.option).collect();
        let col = match elem.and_then(|r| body.get(r.clone())) {
            Some(et) => {
                let name_span = et.first().map_or(cx.span, |t| t.span);
                column_def(cx, Ident::new(c.name.value.clone(), name_span), &c.data_type, &opts, None, &et[1..])
            }
            None => column_def(cx, Ident::new(c.name.value.clone(), cx.span), &c.data_type, &opts, None, &[]),
        };
        columns.push(col);
    }

    let constraints = ct
        .constraints
        .iter()
        .enumerate()
        .map(|(k, c)| match con_elems.get(k).and_then(|r| body.get(r.clone())) {
            Some(et) => constraint(cx, c, et, cover(et).unwrap_or(cx.span)),
            None => constraint(cx, c, &[], cx.span),
        })
        .collect();

    let after_body = match body_from {
        b if body.is_empty() => toks.get(b..).unwrap_or(&[]),
        b => toks.get(matching(cx, &toks, b) + 1..).unwrap_or(&[]),
    };
    Op::CreateTable {
        name,
        if_not_exists: ct.if_not_exists,
        temporary: ct.temporary,
        columns,
        constraints,
        as_select: ct.query.is_some() || ct.like.is_some(),
        partition_of: None,
        charset: table_charset(cx, after_body),
    }
}

/// The table default character set among the table options after the column list:
/// `[DEFAULT] CHARACTER SET [=] x`, `[DEFAULT] CHARSET [=] x`, else the one a
/// `[DEFAULT] COLLATE [=] x` names. Stops at `AS`/`SELECT`/`PARTITION`, where options end.
fn table_charset(cx: &LowerCx, toks: &[Token]) -> Option<String> {
    let mut from_collation = None;
    let value_after = |i: usize| {
        let mut j = i + 1;
        if toks.get(j).is_some_and(|t| t.is_punct(cx.text, '=')) {
            j += 1;
        }
        toks.get(j)
            .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent | TokenKind::String))
            .map(|t| ident_value(t, cx.text, Dialect::MySql).trim_matches('\'').to_ascii_lowercase())
    };
    for (i, t) in toks.iter().enumerate() {
        if ["as", "select", "partition", "like"].iter().any(|w| t.is_word(cx.text, w)) {
            break;
        }
        let next_is_set = toks.get(i + 1).is_some_and(|n| n.is_word(cx.text, "set"));
        if t.is_word(cx.text, "charset") {
            return value_after(i);
        }
        if t.is_word(cx.text, "character") && next_is_set {
            return value_after(i + 1);
        }
        if t.is_word(cx.text, "collate") && from_collation.is_none() {
            from_collation = value_after(i).map(|c| charset_of_collation(&c));
        }
    }
    from_collation
}

/// The character set a collation belongs to: the part before the first `_` (`utf8mb4_0900_ai_ci`
/// is a utf8mb4 collation, `binary` is the binary one).
fn charset_of_collation(collation: &str) -> String {
    let c = collation.to_ascii_lowercase();
    match c.split_once('_') {
        Some((cs, _)) => cs.to_string(),
        None => c,
    }
}

// ---------------------------------------------------------------------------------------------
// ALTER TABLE

fn alter_table(at: &sq::AlterTable, cx: &LowerCx) -> Op {
    let name = qname(cx, &at.name, after_word(cx, "table"));
    let clauses = cx.alter_clauses();
    let actions = if clauses.len() == at.operations.len() {
        at.operations.iter().zip(clauses).map(|(op, span)| AlterAction { kind: alter_op(cx, op, span), span }).collect()
    } else if !clauses.is_empty() {
        clauses.into_iter().flat_map(|c| lower_clause(cx, c)).collect()
    } else {
        at.operations.iter().map(|op| AlterAction { kind: alter_op(cx, op, cx.span), span: cx.span }).collect()
    };
    Op::AlterTable { name, if_exists: at.if_exists, only: false, actions }
}

fn map_algorithm(a: sq::AlterTableAlgorithm) -> Algorithm {
    match a {
        sq::AlterTableAlgorithm::Default => Algorithm::Default,
        sq::AlterTableAlgorithm::Instant => Algorithm::Instant,
        sq::AlterTableAlgorithm::Inplace => Algorithm::Inplace,
        sq::AlterTableAlgorithm::Copy => Algorithm::Copy,
    }
}

fn map_lock(l: sq::AlterTableLock) -> LockClause {
    match l {
        sq::AlterTableLock::Default => LockClause::Default,
        sq::AlterTableLock::None => LockClause::None,
        sq::AlterTableLock::Shared => LockClause::Shared,
        sq::AlterTableLock::Exclusive => LockClause::Exclusive,
    }
}

fn algorithm_word(w: &str) -> Option<Algorithm> {
    Some(match w.to_ascii_lowercase().as_str() {
        "default" => Algorithm::Default,
        "instant" => Algorithm::Instant,
        "nocopy" => Algorithm::NoCopy,
        "inplace" => Algorithm::Inplace,
        "copy" => Algorithm::Copy,
        _ => return None,
    })
}

fn lock_word(w: &str) -> Option<LockClause> {
    Some(match w.to_ascii_lowercase().as_str() {
        "default" => LockClause::Default,
        "none" => LockClause::None,
        "shared" => LockClause::Shared,
        "exclusive" => LockClause::Exclusive,
        _ => return None,
    })
}

/// `AlterColumnType` for a MySQL `MODIFY`/`CHANGE`.
fn restated_column(
    cx: &LowerCx,
    column: Ident,
    new_name: Ident,
    dt: &sq::DataType,
    options: &[sq::ColumnOption],
    position: Option<&sq::MySQLColumnPosition>,
    rest: &[Token],
) -> AlterActionKind {
    let opts: Vec<&sq::ColumnOption> = options.iter().collect();
    let renamed = new_name.name != column.name;
    let def = column_def(cx, new_name.clone(), dt, &opts, position, rest);
    AlterActionKind::AlterColumnType {
        column,
        new_type: def.type_name.clone(),
        using: None,
        new_definition: Some(Box::new(def)),
        rename_to: renamed.then_some(new_name),
    }
}

fn alter_op(cx: &LowerCx, op: &sq::AlterTableOperation, clause: Span) -> AlterActionKind {
    use sq::AlterTableOperation as A;
    let mut cur = Cur::new(cx, clause);
    match op {
        A::AddColumn { if_not_exists, column_def: c, column_position, .. } => {
            cur.eat("add");
            cur.eat("column");
            cur.eat_all(&["if", "not", "exists"]);
            let name_span = cur.next().map_or(clause, |t| t.span);
            let opts: Vec<&sq::ColumnOption> = c.options.iter().map(|o| &o.option).collect();
            let column = column_def(
                cx,
                Ident::new(c.name.value.clone(), name_span),
                &c.data_type,
                &opts,
                column_position.as_ref(),
                cur.rest(),
            );
            AlterActionKind::AddColumn { column, if_not_exists: *if_not_exists }
        }
        A::AddConstraint { constraint: c, .. } => {
            cur.eat("add");
            let toks = cur.rest().to_vec();
            let span = cover(&toks).unwrap_or(clause);
            AlterActionKind::AddConstraint(constraint(cx, c, &toks, span))
        }
        A::DropColumn { column_names, if_exists, drop_behavior, .. } => {
            let name = column_names.first().map_or(Ident::new("", clause), |n| ident_after_kw(cx, n, clause));
            AlterActionKind::DropColumn {
                name,
                if_exists: *if_exists,
                cascade: matches!(drop_behavior, Some(sq::DropBehavior::Cascade)),
            }
        }
        A::DropConstraint { if_exists, name, drop_behavior } => AlterActionKind::DropConstraint {
            name: ident_after_kw(cx, name, clause),
            if_exists: *if_exists,
            cascade: matches!(drop_behavior, Some(sq::DropBehavior::Cascade)),
        },
        A::DropForeignKey { name, drop_behavior } => AlterActionKind::DropConstraint {
            name: ident_after_kw(cx, name, clause),
            if_exists: false,
            cascade: matches!(drop_behavior, Some(sq::DropBehavior::Cascade)),
        },
        A::DropPrimaryKey { .. } => AlterActionKind::DropPrimaryKey,
        A::DropIndex { name } => AlterActionKind::DropIndex { name: ident_after_kw(cx, name, clause) },
        A::RenameColumn { old_column_name, new_column_name } => {
            let from = ident_after_kw(cx, old_column_name, clause);
            let rest = Span::new(from.span.end.min(clause.end), clause.end);
            let to = ident_after_kw(cx, new_column_name, rest);
            AlterActionKind::RenameColumn { from, to }
        }
        A::RenameTable { table_name } => {
            let (sq::RenameTableNameKind::To(n) | sq::RenameTableNameKind::As(n)) = table_name;
            let kw = code_in(cx, clause).get(1).map_or(clause.start, |t| t.span.end);
            AlterActionKind::RenameTable { to: qname(cx, n, kw) }
        }
        A::ChangeColumn { old_name, new_name, data_type, options, column_position } => {
            cur.eat("change");
            cur.eat("column");
            let old = cur.next_ident().unwrap_or_else(|| Ident::new(old_name.value.clone(), clause));
            let new = cur.next_ident().unwrap_or_else(|| Ident::new(new_name.value.clone(), clause));
            let old = Ident::new(old_name.value.clone(), old.span);
            let new = Ident::new(new_name.value.clone(), new.span);
            let rest = cur.rest().to_vec();
            restated_column(cx, old, new, data_type, options, column_position.as_ref(), &rest)
        }
        A::ModifyColumn { col_name, data_type, options, column_position } => {
            cur.eat("modify");
            cur.eat("column");
            let col = cur.next_ident().unwrap_or_else(|| Ident::new(col_name.value.clone(), clause));
            let col = Ident::new(col_name.value.clone(), col.span);
            let rest = cur.rest().to_vec();
            restated_column(cx, col.clone(), col, data_type, options, column_position.as_ref(), &rest)
        }
        A::AlterColumn { column_name, op } => {
            cur.eat("alter");
            cur.eat("column");
            let column = cur.next_ident().unwrap_or_else(|| Ident::new(column_name.value.clone(), clause));
            let column = Ident::new(column_name.value.clone(), column.span);
            match op {
                sq::AlterColumnOperation::SetDefault { value } => {
                    let toks = cur.rest().to_vec();
                    let span = toks
                        .iter()
                        .position(|t| t.is_word(cx.text, "default"))
                        .and_then(|k| default_span(cx, &toks, k));
                    AlterActionKind::SetDefault { column, expr: make_expr(value, span, cx, clause) }
                }
                sq::AlterColumnOperation::DropDefault => AlterActionKind::DropDefault { column },
                sq::AlterColumnOperation::SetNotNull => AlterActionKind::SetNotNull { column },
                sq::AlterColumnOperation::DropNotNull => AlterActionKind::DropNotNull { column },
                sq::AlterColumnOperation::SetDataType { data_type, .. } => {
                    let toks = cur.rest().to_vec();
                    let ty_at = toks.iter().position(|t| t.is_word(cx.text, "type")).map_or(toks.len(), |k| k + 1);
                    let new_type = parse_type(cx.text, toks.get(ty_at..).unwrap_or(&[]))
                        .map(|(t, _)| t)
                        .unwrap_or_else(|| type_from_ast(data_type, clause));
                    AlterActionKind::AlterColumnType {
                        column,
                        new_type,
                        using: None,
                        new_definition: None,
                        rename_to: None,
                    }
                }
                other => AlterActionKind::Other { kind: variant_name(other) },
            }
        }
        A::RenameConstraint { old_name, new_name } => {
            let from = ident_after_kw(cx, old_name, clause);
            let rest = Span::new(from.span.end.min(clause.end), clause.end);
            AlterActionKind::RenameConstraint { from, to: ident_after_kw(cx, new_name, rest) }
        }
        A::ValidateConstraint { name } => {
            AlterActionKind::ValidateConstraint { name: ident_after_kw(cx, name, clause) }
        }
        A::Algorithm { algorithm, .. } => AlterActionKind::Algorithm(map_algorithm(*algorithm)),
        A::Lock { lock, .. } => AlterActionKind::Lock(map_lock(*lock)),
        A::AutoIncrement { .. } => AlterActionKind::TableOption { name: "auto_increment".into() },
        other => AlterActionKind::Other { kind: variant_name(other) },
    }
}

/// An identifier inside a clause, skipping the clause's leading keyword (so `DROP COLUMN drop`
/// finds the column, not the keyword).
fn ident_after_kw(cx: &LowerCx, id: &sq::Ident, clause: Span) -> Ident {
    let toks = code_in(cx, clause);
    let from = toks.first().map_or(clause.start, |t| t.span.end);
    // Skip keywords that are written unquoted and equal the name only by accident.
    let mut start = from;
    for t in toks.iter().skip(1) {
        let kw = ["column", "constraint", "foreign", "key", "index", "check", "if", "exists", "to"]
            .iter()
            .any(|k| t.is_word(cx.text, k) && !k.eq_ignore_ascii_case(&id.value));
        if !kw {
            break;
        }
        start = t.span.end;
    }
    ident_at(cx, id, Span::new(start.min(clause.end), clause.end))
}

/// Lowers one clause of an ALTER TABLE on its own: re-parsed with sqlparser when it can, else
/// classified from its tokens.
fn lower_clause(cx: &LowerCx, clause: Span) -> Vec<AlterAction> {
    let text = cx.slice(clause);
    // MariaDB `WAIT n` / `NOWAIT` before the first clause.
    let lead = code_in(cx, clause);
    let skip = if tok_is(cx.text, lead.first(), "nowait") {
        1
    } else if tok_is(cx.text, lead.first(), "wait") && lead.get(1).is_some_and(|t| t.kind == TokenKind::Number) {
        2
    } else {
        0
    };
    if skip > 0 {
        return match lead.get(skip) {
            Some(t) => lower_clause(cx, Span::new(t.span.start, clause.end)),
            None => Vec::new(),
        };
    }
    if let Some(kind) = reparse_clause(cx, text, clause) {
        return vec![AlterAction { kind, span: clause }];
    }
    let mut cur = Cur::new(cx, clause);
    let toks = cur.toks.clone();
    let one = |kind| vec![AlterAction { kind, span: clause }];

    // MariaDB `ADD ... IF NOT EXISTS`: re-parse without the words.
    if cur.peek_is("add") {
        if let Some(p) = (0..toks.len()).find(|&i| {
            tok_is(cx.text, toks.get(i), "if")
                && tok_is(cx.text, toks.get(i + 1), "not")
                && tok_is(cx.text, toks.get(i + 2), "exists")
        }) {
            let a = toks[p].span.start - clause.start;
            let b = toks[p + 2].span.end - clause.start;
            let mut edited = text.to_string();
            edited.replace_range(a..b, &" ".repeat(b - a));
            if let Some(mut kind) = reparse_clause(cx, &edited, clause) {
                if let AlterActionKind::AddColumn { if_not_exists, .. } = &mut kind {
                    *if_not_exists = true;
                }
                return one(kind);
            }
        }
    }

    if cur.eat("drop") {
        let key = if cur.eat("index") || cur.eat("key") {
            Some(true)
        } else if cur.eat("check") || cur.eat("constraint") || cur.eat_all(&["foreign", "key"]) {
            Some(false)
        } else {
            None
        };
        if let Some(is_index) = key {
            let if_exists = cur.eat_all(&["if", "exists"]);
            if let Some(name) = cur.next_ident() {
                return one(if is_index {
                    AlterActionKind::DropIndex { name }
                } else {
                    AlterActionKind::DropConstraint { name, if_exists, cascade: false }
                });
            }
        }
        if cur.eat_all(&["primary", "key"]) {
            return one(AlterActionKind::DropPrimaryKey);
        }
        return one(AlterActionKind::Other { kind: other_kind(cx, &toks) });
    }
    if cur.eat("rename") && (cur.eat("index") || cur.eat("key")) {
        if let Some(from) = cur.next_ident() {
            if cur.eat("to") {
                if let Some(to) = cur.next_ident() {
                    return one(AlterActionKind::RenameIndex { from, to });
                }
            }
        }
        return one(AlterActionKind::Other { kind: other_kind(cx, &toks) });
    }
    let mut cur = Cur::new(cx, clause);
    if cur.eat_all(&["convert", "to"]) {
        if cur.eat_all(&["character", "set"]) || cur.eat("charset") {
            cur.eat_punct('=');
            if let Some(t) = cur.next() {
                let charset = ident_value(&t, cx.text, Dialect::MySql).to_ascii_lowercase();
                return one(AlterActionKind::ConvertCharset { charset });
            }
        }
        return one(AlterActionKind::Other { kind: "convert".into() });
    }
    // A run of modifiers and table options, possibly several without commas.
    if let Some(actions) = option_run(cx, clause) {
        return actions;
    }
    one(AlterActionKind::Other { kind: other_kind(cx, &toks) })
}

/// A short kind for an unrecognised clause: its first word(s), lower case.
fn other_kind(cx: &LowerCx, toks: &[Token]) -> String {
    let w: Vec<String> = toks
        .iter()
        .take(2)
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| cx.slice(t.span).to_ascii_lowercase())
        .collect();
    match (w.first(), w.get(1)) {
        (Some(a), Some(b)) if matches!(b.as_str(), "partition" | "tablespace" | "index" | "key") => format!("{a} {b}"),
        (Some(a), _) => a.clone(),
        _ => "unknown".into(),
    }
}

fn reparse_clause(cx: &LowerCx, text: &str, clause: Span) -> Option<AlterActionKind> {
    let sql = format!("ALTER TABLE t {text}");
    let stmts = super::parse_mysql_bounded(&sql).ok()?;
    match stmts.as_slice() {
        [sq::Statement::AlterTable(at)] if at.operations.len() == 1 => {
            at.operations.first().map(|op| alter_op(cx, op, clause))
        }
        _ => None,
    }
}

/// Table option heads (lower case, as word sequences) and the option name they give.
const TABLE_OPTIONS: &[(&[&str], &str)] = &[
    (&["default", "character", "set"], "charset"),
    (&["default", "charset"], "charset"),
    (&["default", "collate"], "collate"),
    (&["character", "set"], "charset"),
    (&["charset"], "charset"),
    (&["collate"], "collate"),
    (&["data", "directory"], "data directory"),
    (&["index", "directory"], "index directory"),
    (&["engine"], "engine"),
    (&["row_format"], "row_format"),
    (&["auto_increment"], "auto_increment"),
    (&["key_block_size"], "key_block_size"),
    (&["avg_row_length"], "avg_row_length"),
    (&["checksum"], "checksum"),
    (&["page_checksum"], "page_checksum"),
    (&["comment"], "comment"),
    (&["compression"], "compression"),
    (&["connection"], "connection"),
    (&["delay_key_write"], "delay_key_write"),
    (&["encryption"], "encryption"),
    (&["encrypted"], "encrypted"),
    (&["encryption_key_id"], "encryption_key_id"),
    (&["insert_method"], "insert_method"),
    (&["max_rows"], "max_rows"),
    (&["min_rows"], "min_rows"),
    (&["pack_keys"], "pack_keys"),
    (&["password"], "password"),
    (&["stats_auto_recalc"], "stats_auto_recalc"),
    (&["stats_persistent"], "stats_persistent"),
    (&["stats_sample_pages"], "stats_sample_pages"),
    (&["tablespace"], "tablespace"),
    (&["union"], "union"),
    (&["transactional"], "transactional"),
    (&["page_compressed"], "page_compressed"),
    (&["page_compression_level"], "page_compression_level"),
    (&["autoextend_size"], "autoextend_size"),
    (&["engine_attribute"], "engine_attribute"),
    (&["secondary_engine_attribute"], "secondary_engine_attribute"),
    (&["secondary_engine"], "secondary_engine"),
    (&["start", "transaction"], "start transaction"),
];

/// `ALGORITHM=x`, `LOCK=x`, `FORCE`, `ENGINE=x ROW_FORMAT=y`...: one action per item, each with
/// its own span. `None` when the clause is not entirely such a run.
fn option_run(cx: &LowerCx, clause: Span) -> Option<Vec<AlterAction>> {
    let toks = code_in(cx, clause);
    let src = cx.text;
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let start = toks.get(i)?.span;
        let value_at = |j: usize| -> usize {
            // Skip an optional `=`.
            if toks.get(j).is_some_and(|t| t.is_punct(src, '=')) {
                j + 1
            } else {
                j
            }
        };
        let (kind, next) = if tok_is(src, toks.get(i), "algorithm") {
            let v = value_at(i + 1);
            let word = toks.get(v).map(|t| cx.slice(t.span)).unwrap_or("");
            match algorithm_word(word) {
                Some(a) => (AlterActionKind::Algorithm(a), v + 1),
                None => (AlterActionKind::Other { kind: "algorithm".into() }, v + 1),
            }
        } else if tok_is(src, toks.get(i), "lock") {
            let v = value_at(i + 1);
            let word = toks.get(v).map(|t| cx.slice(t.span)).unwrap_or("");
            match lock_word(word) {
                Some(l) => (AlterActionKind::Lock(l), v + 1),
                None => (AlterActionKind::Other { kind: "lock".into() }, v + 1),
            }
        } else if tok_is(src, toks.get(i), "force") {
            (AlterActionKind::TableOption { name: "force".into() }, i + 1)
        } else {
            let (words, name) = TABLE_OPTIONS
                .iter()
                .find(|(ws, _)| ws.iter().enumerate().all(|(k, w)| tok_is(src, toks.get(i + k), w)))?;
            let v = value_at(i + words.len());
            // The value: one token, or a parenthesised list (`UNION = (a, b)`).
            let end = if toks.get(v).is_some_and(|t| t.is_punct(src, '(')) { matching(cx, &toks, v) } else { v };
            if end >= toks.len() {
                return None;
            }
            (AlterActionKind::TableOption { name: (*name).to_string() }, end + 1)
        };
        let last = toks.get(next.saturating_sub(1).max(i))?.span;
        out.push(AlterAction { kind, span: start.cover(last) });
        i = next;
    }
    // A lone item keeps the whole clause as its span.
    if out.len() == 1 {
        if let Some(a) = out.first_mut() {
            a.span = clause;
        }
    }
    (!out.is_empty()).then_some(out)
}

// ---------------------------------------------------------------------------------------------
// Indexes, DROP, SET

fn create_index(ci: &sq::CreateIndex, cx: &LowerCx) -> Op {
    let name_from = after_word(cx, "index");
    let name = ci.name.as_ref().map(|n| {
        let q = qname(cx, n, name_from);
        Ident::new(q.name, q.span)
    });
    let on_from = cx.word_after("on", name.as_ref().map_or(name_from, |n| n.span.end)).map_or(name_from, |s| s.end);
    let table = qname(cx, &ci.table_name, on_from);
    let toks: Vec<Token> = cx.code_tokens().filter(|t| t.span.start >= table.span.end).copied().collect();
    let columns = match group_after(cx, &toks, 0) {
        Some((o, c)) => {
            let inner = toks.get(o + 1..c).unwrap_or(&[]);
            let elems = split_top(cx, inner);
            ci.columns
                .iter()
                .enumerate()
                .map(|(k, col)| {
                    let span = elems.get(k).and_then(|r| cover(inner.get(r.clone())?)).unwrap_or(cx.span);
                    let name = index_col_name(&col.column.expr).map(|id| ident_at(cx, id, span));
                    IndexColumn { name, span }
                })
                .collect()
        }
        None => ci
            .columns
            .iter()
            .map(|col| IndexColumn {
                name: index_col_name(&col.column.expr).map(|id| ident_at(cx, id, cx.span)),
                span: cx.span,
            })
            .collect(),
    };
    let mut algorithm = None;
    let mut lock = None;
    for o in &ci.alter_options {
        match o {
            sq::AlterTableOperation::Algorithm { algorithm: a, .. } => algorithm = Some(map_algorithm(*a)),
            sq::AlterTableOperation::Lock { lock: l, .. } => lock = Some(map_lock(*l)),
            _ => {}
        }
    }
    if algorithm.is_none() {
        algorithm = word_option(cx, "algorithm").and_then(|w| algorithm_word(&w));
    }
    if lock.is_none() {
        lock = word_option(cx, "lock").and_then(|w| lock_word(&w));
    }
    Op::CreateIndex {
        name,
        table,
        unique: ci.unique,
        concurrently: false,
        if_not_exists: ci.if_not_exists,
        columns,
        has_where: ci.predicate.is_some(),
        algorithm,
        lock,
        keyword_span: cx.words_span(&["create", "index"], &["unique", "fulltext", "spatial"]).unwrap_or(cx.span),
    }
}

/// The word after `key [=]` anywhere in the statement (`ALGORITHM = INPLACE`).
fn word_option(cx: &LowerCx, key: &str) -> Option<String> {
    let toks: Vec<&Token> = cx.code_tokens().collect();
    let k = toks.iter().position(|t| t.is_word(cx.text, key))?;
    let mut v = k + 1;
    if toks.get(v).is_some_and(|t| t.is_punct(cx.text, '=')) {
        v += 1;
    }
    toks.get(v).filter(|t| t.kind == TokenKind::Word).map(|t| cx.slice(t.span).to_string())
}

fn object_kind(t: sq::ObjectType) -> ObjectKind {
    match t {
        sq::ObjectType::Table => ObjectKind::Table,
        sq::ObjectType::View => ObjectKind::View,
        sq::ObjectType::MaterializedView => ObjectKind::MaterializedView,
        sq::ObjectType::Index => ObjectKind::Index,
        sq::ObjectType::Schema => ObjectKind::Schema,
        sq::ObjectType::Database => ObjectKind::Database,
        sq::ObjectType::Sequence => ObjectKind::Sequence,
        sq::ObjectType::Type => ObjectKind::Type,
        _ => ObjectKind::Other,
    }
}

fn drop_stmt(
    object_type: sq::ObjectType,
    if_exists: bool,
    names: &[sq::ObjectName],
    cascade: bool,
    table: Option<&sq::ObjectName>,
    cx: &LowerCx,
) -> Vec<Op> {
    let kw = match object_type {
        sq::ObjectType::MaterializedView => "view".to_string(),
        sq::ObjectType::ForeignTable => "table".to_string(),
        other => other.to_string().to_ascii_lowercase(),
    };
    let mut from = after_word(cx, &kw);
    let qnames: Vec<QualifiedName> = names.iter().map(|n| qname_seq(cx, n, &mut from)).collect();
    if object_type == sq::ObjectType::Index {
        let table = table.map(|t| qname(cx, t, cx.word_after("on", from).map_or(from, |s| s.end)));
        return vec![Op::DropIndex {
            names: qnames,
            concurrently: false,
            if_exists,
            cascade,
            table,
            keyword_span: cx.words_span(&["drop", "index"], &[]).unwrap_or(cx.span),
        }];
    }
    vec![Op::Drop { kind: object_kind(object_type), names: qnames, if_exists, cascade }]
}

/// A `SET` variable name: lower case, without `@@`, `session.`/`global.` prefixes.
fn set_name(obj: &sq::ObjectName) -> String {
    let parts = name_parts(obj);
    let mut parts: Vec<String> = parts.into_iter().map(|p| p.to_ascii_lowercase()).collect();
    if let Some(first) = parts.first_mut() {
        if let Some(rest) = first.strip_prefix("@@") {
            *first = rest.to_string();
        }
    }
    if parts.len() > 1
        && parts
            .first()
            .is_some_and(|p| matches!(p.as_str(), "session" | "global" | "local" | "persist" | "persist_only"))
    {
        parts.remove(0);
    }
    parts.join(".")
}

fn set_value(e: &sq::Expr) -> String {
    match e {
        sq::Expr::Value(v) => match &v.value {
            sq::Value::SingleQuotedString(s) | sq::Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        sq::Expr::Identifier(i) => i.value.clone(),
        other => other.to_string(),
    }
}

fn set_stmt(s: &sq::Set) -> Vec<Op> {
    let one = |name: String, value: String| Op::Set { name, value, local: false };
    match s {
        sq::Set::SingleAssignment { variable, values, .. } => {
            let value = values.iter().map(set_value).collect::<Vec<_>>().join(", ");
            vec![one(set_name(variable), value)]
        }
        sq::Set::MultipleAssignments { assignments } => {
            assignments.iter().map(|a| one(set_name(&a.name), set_value(&a.value))).collect()
        }
        sq::Set::ParenthesizedAssignments { variables, values } => {
            variables.iter().zip(values).map(|(n, v)| one(set_name(n), set_value(v))).collect()
        }
        sq::Set::SetNames { charset_name, .. } => vec![one("names".into(), charset_name.value.clone())],
        sq::Set::SetTimeZone { value, .. } => vec![one("time_zone".into(), set_value(value))],
        other => vec![Op::Other { kind: format!("Set{}", variant_name(other)) }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_file, ParsedFile, StatementStatus};

    fn ops(src: &str) -> Vec<Op> {
        let f = parse_file(src, Dialect::MySql);
        assert_eq!(f.statements.len(), 1, "{src}");
        let st = &f.statements[0];
        assert!(st.is_parsed(), "{src}: {:?}", st.status);
        st.ops.clone()
    }

    /// Lowering of every statement, also the ones sqlparser rejects (through `lower_unparsed`).
    fn all_ops(f: &ParsedFile) -> Vec<Vec<Op>> {
        f.statements
            .iter()
            .map(|st| match &st.status {
                StatementStatus::SyntaxError(_) => {
                    let cx = LowerCx::new(&f.text, st.span, f.statement_tokens(st), Dialect::MySql);
                    lower_unparsed(&cx)
                }
                _ => st.ops.clone(),
            })
            .collect()
    }

    fn unparsed(src: &str) -> Vec<Op> {
        let f = parse_file(src, Dialect::MySql);
        assert_eq!(f.statements.len(), 1, "{src}");
        assert!(crate::parse::parse_mysql_bounded(src).is_err(), "sqlparser now parses {src}: update the test");
        all_ops(&f).remove(0)
    }

    fn alter_actions(op: &Op) -> &[AlterAction] {
        match op {
            Op::AlterTable { actions, .. } => actions,
            o => panic!("not an ALTER TABLE: {o:?}"),
        }
    }

    fn create_columns(op: &Op) -> (&[ColumnDef], &[Constraint]) {
        match op {
            Op::CreateTable { columns, constraints, .. } => (columns, constraints),
            o => panic!("not a CREATE TABLE: {o:?}"),
        }
    }

    fn s(src: &str, span: Span) -> &str {
        span.slice(src)
    }

    #[test]
    fn alter_add_column_with_algorithm_and_lock() {
        let src = "ALTER TABLE `shop`.`orders` ADD COLUMN note varchar(255) NOT NULL DEFAULT '' AFTER id, ALGORITHM=INPLACE, LOCK=NONE;";
        let o = ops(src);
        let Op::AlterTable { name, if_exists, actions, .. } = &o[0] else { panic!("{o:?}") };
        assert_eq!(name.schema.as_deref(), Some("shop"));
        assert_eq!(name.name, "orders");
        assert_eq!(s(src, name.span), "`shop`.`orders`");
        assert!(!if_exists);
        assert_eq!(actions.len(), 3);
        assert_eq!(s(src, actions[0].span), "ADD COLUMN note varchar(255) NOT NULL DEFAULT '' AFTER id");
        assert_eq!(s(src, actions[1].span), "ALGORITHM=INPLACE");
        assert_eq!(s(src, actions[2].span), "LOCK=NONE");
        let AlterActionKind::AddColumn { column, if_not_exists } = &actions[0].kind else { panic!() };
        assert!(!if_not_exists);
        assert_eq!(column.name.name, "note");
        assert_eq!(s(src, column.name.span), "note");
        assert_eq!(column.type_name.name, "varchar");
        assert_eq!(column.type_name.modifiers, vec![255]);
        assert_eq!(s(src, column.type_name.span), "varchar(255)");
        assert_eq!(column.type_name.text, "varchar(255)");
        assert!(column.not_null);
        let d = column.default.as_ref().unwrap();
        assert_eq!(d.text, "''");
        assert_eq!(d.volatility, Volatility::Constant);
        assert_eq!(s(src, column.span), "note varchar(255) NOT NULL DEFAULT ''");
        match &column.position {
            Some(ColumnPosition::After(id)) => {
                assert_eq!(id.name, "id");
                assert_eq!(s(src, id.span), "id");
            }
            p => panic!("{p:?}"),
        }
        assert_eq!(actions[1].kind, AlterActionKind::Algorithm(Algorithm::Inplace));
        assert_eq!(actions[2].kind, AlterActionKind::Lock(LockClause::None));
    }

    #[test]
    fn alter_drop_column_name_span() {
        let src = "ALTER TABLE t DROP COLUMN `drop_me`, DROP b, DROP COLUMN IF EXISTS c";
        let o = ops(src);
        let a = alter_actions(&o[0]);
        assert_eq!(a.len(), 3);
        for (act, (want, span_text, ie)) in
            a.iter().zip([("drop_me", "`drop_me`", false), ("b", "b", false), ("c", "c", true)])
        {
            let AlterActionKind::DropColumn { name, if_exists, .. } = &act.kind else { panic!("{act:?}") };
            assert_eq!(name.name, want);
            assert_eq!(s(src, name.span), span_text);
            assert_eq!(*if_exists, ie);
        }
        assert_eq!(s(src, a[2].span), "DROP COLUMN IF EXISTS c");
    }

    #[test]
    fn create_table_default_charset_and_collations() {
        let charset = |src: &str| match ops(src).first() {
            Some(Op::CreateTable { charset, .. }) => charset.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(charset("CREATE TABLE t (a INT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"), Some("utf8mb4".into()));
        assert_eq!(charset("CREATE TABLE t (a INT) CHARACTER SET = latin1 COLLATE latin1_bin"), Some("latin1".into()));
        assert_eq!(charset("CREATE TABLE t (a INT) DEFAULT COLLATE=utf8mb3_general_ci"), Some("utf8mb3".into()));
        // A column's own CHARACTER SET / COLLATE is not the table's.
        assert_eq!(charset("CREATE TABLE t (a VARCHAR(5) CHARACTER SET latin1) ENGINE=InnoDB"), None);
        let Some(Op::CreateTable { columns, .. }) = ops(
            "CREATE TABLE t (a VARCHAR(5) COLLATE utf8mb4_bin, b VARCHAR(5) CHARACTER SET latin1 COLLATE latin1_bin)",
        )
        .into_iter()
        .next() else {
            panic!()
        };
        assert_eq!(columns[0].type_name.charset.as_deref(), Some("utf8mb4"));
        assert_eq!(columns[1].type_name.charset.as_deref(), Some("latin1"));
    }

    #[test]
    fn create_table_columns_and_constraints() {
        let src = "CREATE TABLE IF NOT EXISTS `db`.`users` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  status ENUM('active','it''s','b\\'c') CHARACTER SET utf8mb4 NOT NULL DEFAULT 'active',
  tags SET('x','y'),
  org_id int REFERENCES orgs(id) ON DELETE CASCADE,
  price decimal(10,2) DEFAULT NULL,
  uid char(36) DEFAULT (UUID()),
  created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  touched datetime(6) DEFAULT NOW(6),
  r double DEFAULT (RAND()),
  full_name varchar(255) GENERATED ALWAYS AS (concat(first, last)) STORED,
  v int AS (price + 1) VIRTUAL,
  qty int CHECK (qty > 0),
  email varchar(100) UNIQUE,
  flag boolean,
  PRIMARY KEY (`id`),
  UNIQUE KEY uk_email (email),
  KEY idx_org (org_id),
  FULLTEXT KEY ft_name (full_name),
  SPATIAL INDEX sp (geo),
  CONSTRAINT fk_org FOREIGN KEY (org_id) REFERENCES `db`.orgs (id) ON DELETE CASCADE,
  CONSTRAINT ck_qty CHECK (qty < 100)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
        let o = ops(src);
        let Op::CreateTable { name, if_not_exists, temporary, as_select, .. } = &o[0] else { panic!() };
        assert_eq!(name.display(), "db.users");
        assert!(*if_not_exists && !temporary && !as_select);
        let (cols, cons) = create_columns(&o[0]);
        assert_eq!(cols.len(), 14);
        let c = |n: &str| cols.iter().find(|c| c.name.name == n).unwrap();

        let id = c("id");
        assert_eq!(s(src, id.name.span), "`id`");
        assert_eq!(id.type_name.name, "bigint");
        assert!(id.type_name.unsigned);
        assert_eq!(id.type_name.text, "bigint unsigned");
        assert!(id.identity && id.not_null);
        assert_eq!(s(src, id.span), "`id` bigint unsigned NOT NULL AUTO_INCREMENT");

        let st = c("status");
        assert_eq!(st.type_name.name, "enum");
        assert_eq!(st.type_name.values, vec!["active", "it's", "b'c"]);
        assert_eq!(st.type_name.charset.as_deref(), Some("utf8mb4"));
        assert_eq!(st.default.as_ref().unwrap().text, "'active'");

        assert_eq!(c("tags").type_name.name, "set");
        assert_eq!(c("tags").type_name.values, vec!["x", "y"]);

        let org = c("org_id");
        let r = org.references.as_ref().expect("inline REFERENCES must be captured");
        assert_eq!(r.table.name, "orgs");
        assert_eq!(r.columns[0].name, "id");
        assert_eq!(s(src, r.columns[0].span), "id");
        assert_eq!(s(src, r.span), "REFERENCES orgs(id) ON DELETE CASCADE");

        let price = c("price");
        assert_eq!(price.type_name.name, "decimal");
        assert_eq!(price.type_name.modifiers, vec![10, 2]);
        assert!(price.default.as_ref().unwrap().is_null);

        let uid = c("uid").default.as_ref().unwrap();
        assert_eq!(uid.text, "(UUID())");
        assert_eq!(uid.volatility, Volatility::Volatile);
        let ts = c("created_at").default.as_ref().unwrap();
        assert_eq!(ts.text, "CURRENT_TIMESTAMP");
        assert_eq!(ts.volatility, Volatility::Stable);
        assert_eq!(c("touched").default.as_ref().unwrap().volatility, Volatility::Stable);
        assert_eq!(c("touched").default.as_ref().unwrap().text, "NOW(6)");
        assert_eq!(c("touched").type_name.modifiers, vec![6]);
        assert_eq!(c("r").default.as_ref().unwrap().volatility, Volatility::Volatile);

        let (gk, ge) = c("full_name").generated.as_ref().unwrap();
        assert_eq!(*gk, GeneratedKind::Stored);
        assert_eq!(ge.text, "(concat(first, last))");
        assert_eq!(c("v").generated.as_ref().unwrap().0, GeneratedKind::Virtual);
        assert_eq!(c("qty").check.as_ref().unwrap().text, "(qty > 0)");
        assert!(c("email").unique);
        assert_eq!(c("flag").type_name.name, "tinyint");
        assert_eq!(c("flag").type_name.modifiers, vec![1]);

        assert_eq!(cons.len(), 7);
        assert_eq!(cons[0].kind, ConstraintKind::PrimaryKey);
        assert_eq!(cons[0].columns[0].name, "id");
        assert_eq!(s(src, cons[0].columns[0].span), "`id`");
        assert_eq!(s(src, cons[0].span), "PRIMARY KEY (`id`)");
        assert_eq!(cons[1].kind, ConstraintKind::Unique);
        assert_eq!(cons[1].name.as_ref().unwrap().name, "uk_email");
        assert_eq!(cons[2].kind, ConstraintKind::Index { fulltext: false, spatial: false });
        assert_eq!(s(src, cons[2].columns[0].span), "org_id");
        assert_eq!(cons[3].kind, ConstraintKind::Index { fulltext: true, spatial: false });
        assert_eq!(cons[4].kind, ConstraintKind::Index { fulltext: false, spatial: true });
        let ConstraintKind::ForeignKey { target } = &cons[5].kind else { panic!("{:?}", cons[5]) };
        assert_eq!(target.table.display(), "db.orgs");
        assert_eq!(s(src, target.table.span), "`db`.orgs");
        assert_eq!(cons[5].name.as_ref().unwrap().name, "fk_org");
        assert_eq!(s(src, cons[5].columns[0].span), "org_id");
        let ConstraintKind::Check { expr } = &cons[6].kind else { panic!() };
        assert_eq!(expr.text, "(qty < 100)");
    }

    #[test]
    fn create_table_like_and_as_select() {
        for src in ["CREATE TEMPORARY TABLE t2 LIKE t", "CREATE TABLE t3 AS SELECT * FROM t"] {
            let o = ops(src);
            let Op::CreateTable { as_select, temporary, .. } = &o[0] else { panic!() };
            assert!(as_select);
            assert_eq!(*temporary, src.contains("TEMPORARY"));
        }
    }

    #[test]
    fn change_and_modify_column() {
        let src = "ALTER TABLE t CHANGE COLUMN old_name new_name bigint NOT NULL FIRST, MODIFY status ENUM('a','b','c') NOT NULL, CHANGE c c int";
        let o = ops(src);
        let a = alter_actions(&o[0]);
        let AlterActionKind::AlterColumnType { column, new_type, new_definition, rename_to, .. } = &a[0].kind else {
            panic!()
        };
        assert_eq!(column.name, "old_name");
        assert_eq!(s(src, column.span), "old_name");
        assert_eq!(new_type.name, "bigint");
        let to = rename_to.as_ref().unwrap();
        assert_eq!(to.name, "new_name");
        assert_eq!(s(src, to.span), "new_name");
        let def = new_definition.as_ref().unwrap();
        assert!(def.not_null);
        assert_eq!(def.name.name, "new_name");
        assert_eq!(def.position, Some(ColumnPosition::First));
        assert_eq!(s(src, def.span), "new_name bigint NOT NULL");

        let AlterActionKind::AlterColumnType { column, new_type, new_definition, rename_to, .. } = &a[1].kind else {
            panic!()
        };
        assert_eq!(column.name, "status");
        assert_eq!(new_type.values, vec!["a", "b", "c"]);
        assert!(rename_to.is_none());
        assert!(new_definition.as_ref().unwrap().not_null);

        let AlterActionKind::AlterColumnType { rename_to, .. } = &a[2].kind else { panic!() };
        assert!(rename_to.is_none());
    }

    #[test]
    fn other_alter_clauses() {
        let src = "ALTER TABLE t ALTER COLUMN a SET DEFAULT 5, ALTER b DROP DEFAULT, RENAME COLUMN c TO d, \
                   ADD INDEX idx_a (a), ADD UNIQUE KEY uk (b, c), ADD FULLTEXT INDEX ft (body), \
                   ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES users (id), ADD PRIMARY KEY (id), \
                   DROP FOREIGN KEY fk_old, DROP PRIMARY KEY, DROP INDEX idx_old, AUTO_INCREMENT = 100, RENAME TO t2";
        let o = ops(src);
        let a = alter_actions(&o[0]);
        assert_eq!(a.len(), 13);
        let AlterActionKind::SetDefault { column, expr } = &a[0].kind else { panic!() };
        assert_eq!((column.name.as_str(), expr.text.as_str()), ("a", "5"));
        assert_eq!(s(src, column.span), "a");
        assert!(matches!(&a[1].kind, AlterActionKind::DropDefault { column } if column.name == "b"));
        let AlterActionKind::RenameColumn { from, to } = &a[2].kind else { panic!() };
        assert_eq!((s(src, from.span), s(src, to.span)), ("c", "d"));
        let AlterActionKind::AddConstraint(c) = &a[3].kind else { panic!() };
        assert_eq!(c.kind, ConstraintKind::Index { fulltext: false, spatial: false });
        assert_eq!(s(src, c.span), "INDEX idx_a (a)");
        assert_eq!(s(src, c.columns[0].span), "a");
        let AlterActionKind::AddConstraint(c) = &a[4].kind else { panic!() };
        assert_eq!(c.kind, ConstraintKind::Unique);
        assert_eq!(c.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["b", "c"]);
        assert!(
            matches!(&a[5].kind, AlterActionKind::AddConstraint(c) if c.kind == ConstraintKind::Index { fulltext: true, spatial: false })
        );
        let AlterActionKind::AddConstraint(c) = &a[6].kind else { panic!() };
        assert!(matches!(&c.kind, ConstraintKind::ForeignKey { target } if target.table.name == "users"));
        assert!(matches!(&a[7].kind, AlterActionKind::AddConstraint(c) if c.kind == ConstraintKind::PrimaryKey));
        assert!(matches!(&a[8].kind, AlterActionKind::DropConstraint { name, .. } if s(src, name.span) == "fk_old"));
        assert_eq!(a[9].kind, AlterActionKind::DropPrimaryKey);
        assert!(matches!(&a[10].kind, AlterActionKind::DropIndex { name } if s(src, name.span) == "idx_old"));
        assert_eq!(a[11].kind, AlterActionKind::TableOption { name: "auto_increment".into() });
        assert!(
            matches!(&a[12].kind, AlterActionKind::RenameTable { to } if to.name == "t2" && s(src, to.span) == "t2")
        );
    }

    #[test]
    fn set_statements() {
        let o = ops("SET SESSION lock_wait_timeout = 5");
        assert_eq!(o, vec![Op::Set { name: "lock_wait_timeout".into(), value: "5".into(), local: false }]);
        let o = ops("SET foreign_key_checks = 0");
        assert_eq!(o, vec![Op::Set { name: "foreign_key_checks".into(), value: "0".into(), local: false }]);
        let o = ops("SET @@session.FOREIGN_KEY_CHECKS = 0, sql_mode = 'STRICT_ALL_TABLES', @@GLOBAL.x = ON");
        assert_eq!(
            o,
            vec![
                Op::Set { name: "foreign_key_checks".into(), value: "0".into(), local: false },
                Op::Set { name: "sql_mode".into(), value: "STRICT_ALL_TABLES".into(), local: false },
                Op::Set { name: "x".into(), value: "ON".into(), local: false },
            ]
        );
        let o = ops("SET NAMES utf8mb4");
        assert_eq!(o, vec![Op::Set { name: "names".into(), value: "utf8mb4".into(), local: false }]);
    }

    #[test]
    fn rename_table_pairs() {
        let src = "RENAME TABLE a TO b, db.c TO d";
        let o = ops(src);
        assert_eq!(o.len(), 2);
        let Op::RenameTable { from, to } = &o[0] else { panic!() };
        assert_eq!((s(src, from.span), s(src, to.span)), ("a", "b"));
        let Op::RenameTable { from, to } = &o[1] else { panic!() };
        assert_eq!((s(src, from.span), s(src, to.span)), ("db.c", "d"));
        assert_eq!(from.schema.as_deref(), Some("db"));
    }

    #[test]
    fn create_and_drop_index() {
        let src = "CREATE UNIQUE INDEX idx_a ON shop.t (a(10), b DESC) ALGORITHM=INPLACE LOCK=NONE";
        let o = ops(src);
        let Op::CreateIndex { name, table, unique, concurrently, columns, algorithm, lock, keyword_span, .. } = &o[0]
        else {
            panic!()
        };
        assert_eq!(s(src, name.as_ref().unwrap().span), "idx_a");
        assert_eq!(table.display(), "shop.t");
        assert_eq!(s(src, table.span), "shop.t");
        assert!(*unique && !concurrently);
        assert_eq!(columns.len(), 2);
        assert_eq!(s(src, columns[0].span), "a(10)");
        assert_eq!(columns[0].name.as_ref().unwrap().name, "a");
        assert_eq!(s(src, columns[1].span), "b DESC");
        assert_eq!(*algorithm, Some(Algorithm::Inplace));
        assert_eq!(*lock, Some(LockClause::None));
        assert_eq!(s(src, *keyword_span), "CREATE UNIQUE INDEX");

        let src = "DROP INDEX idx_a ON t";
        let o = ops(src);
        let Op::DropIndex { names, table, keyword_span, .. } = &o[0] else { panic!() };
        assert_eq!(s(src, names[0].span), "idx_a");
        assert_eq!(s(src, table.as_ref().unwrap().span), "t");
        assert_eq!(s(src, *keyword_span), "DROP INDEX");
    }

    #[test]
    fn drops_truncate_transactions_dml() {
        let o = ops("DROP TABLE IF EXISTS a, b");
        let Op::Drop { kind, names, if_exists, .. } = &o[0] else { panic!() };
        assert_eq!(*kind, ObjectKind::Table);
        assert!(if_exists);
        assert_eq!(names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(matches!(&ops("DROP DATABASE foo")[0], Op::Drop { kind: ObjectKind::Database, .. }));
        assert!(matches!(&ops("DROP VIEW v")[0], Op::Drop { kind: ObjectKind::View, .. }));
        assert!(matches!(&ops("DROP TRIGGER IF EXISTS trg")[0], Op::Drop { kind: ObjectKind::Trigger, .. }));
        assert!(matches!(&ops("DROP PROCEDURE IF EXISTS p")[0], Op::Drop { kind: ObjectKind::Procedure, .. }));
        let o = ops("TRUNCATE TABLE t");
        assert!(matches!(&o[0], Op::Truncate { tables, .. } if tables[0].name == "t"));
        assert!(matches!(&ops("TRUNCATE t")[0], Op::Truncate { .. }));
        assert_eq!(ops("START TRANSACTION"), vec![Op::Transaction(TransactionOp::Begin)]);
        assert_eq!(ops("BEGIN"), vec![Op::Transaction(TransactionOp::Begin)]);
        assert_eq!(ops("COMMIT"), vec![Op::Transaction(TransactionOp::Commit)]);
        assert_eq!(ops("ROLLBACK"), vec![Op::Transaction(TransactionOp::Rollback)]);
        assert_eq!(ops("SAVEPOINT s1"), vec![Op::Transaction(TransactionOp::Savepoint)]);
        assert_eq!(ops("ROLLBACK TO SAVEPOINT s1"), vec![Op::Transaction(TransactionOp::RollbackToSavepoint)]);
        assert_eq!(ops("RELEASE SAVEPOINT s1"), vec![Op::Transaction(TransactionOp::ReleaseSavepoint)]);

        let dml = |src: &str| match ops(src).remove(0) {
            Op::Dml { kind, table, has_where, has_limit } => (kind, table.map(|t| t.name), has_where, has_limit),
            o => panic!("{o:?}"),
        };
        assert_eq!(dml("UPDATE users SET a = 1"), (DmlKind::Update, Some("users".into()), false, false));
        assert_eq!(
            dml("UPDATE users SET a = 1 WHERE id < 10 LIMIT 5"),
            (DmlKind::Update, Some("users".into()), true, true)
        );
        assert_eq!(dml("DELETE FROM logs LIMIT 1000"), (DmlKind::Delete, Some("logs".into()), false, true));
        assert_eq!(dml("DELETE FROM logs WHERE id = 1"), (DmlKind::Delete, Some("logs".into()), true, false));
        assert_eq!(dml("INSERT INTO t (a) VALUES (1)"), (DmlKind::Insert, Some("t".into()), false, false));
        assert_eq!(dml("REPLACE INTO t VALUES (1)"), (DmlKind::Merge, Some("t".into()), false, false));
        assert_eq!(dml("SELECT * FROM t WHERE a = 1"), (DmlKind::Select, Some("t".into()), true, false));
    }

    #[test]
    fn create_other_objects() {
        assert!(matches!(
            &ops("CREATE OR REPLACE VIEW db.v AS SELECT 1")[0],
            Op::Create { kind: ObjectKind::View, name: Some(n), or_replace: true, .. } if n.display() == "db.v"
        ));
        assert!(matches!(
            &ops("CREATE DATABASE IF NOT EXISTS foo")[0],
            Op::Create { kind: ObjectKind::Database, if_not_exists: true, .. }
        ));
        assert!(matches!(&ops("CREATE SCHEMA foo")[0], Op::Create { kind: ObjectKind::Schema, .. }));
        assert!(matches!(&ops("LOCK TABLES t WRITE")[0], Op::Other { kind } if kind == "LockTables"));
    }

    #[test]
    fn unparsed_alter_clauses_are_recovered() {
        let src = "ALTER TABLE t ENGINE=InnoDB, FORCE, CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci, \
                   RENAME INDEX a TO b, DROP KEY k, DROP CHECK ck, ALGORITHM=NOCOPY, ROW_FORMAT=DYNAMIC KEY_BLOCK_SIZE=8, \
                   DEFAULT CHARSET=utf8mb4, ADD COLUMN IF NOT EXISTS x int DEFAULT 1, DROP INDEX IF EXISTS old, LOCK=SHARED, \
                   ADD COLUMN y int, DISCARD TABLESPACE";
        let o = unparsed(src);
        let Op::AlterTable { name, actions, .. } = &o[0] else { panic!("{o:?}") };
        assert_eq!(name.name, "t");
        let kinds: Vec<&AlterActionKind> = actions.iter().map(|a| &a.kind).collect();
        assert_eq!(kinds[0], &AlterActionKind::TableOption { name: "engine".into() });
        assert_eq!(s(src, actions[0].span), "ENGINE=InnoDB");
        assert_eq!(kinds[1], &AlterActionKind::TableOption { name: "force".into() });
        assert_eq!(kinds[2], &AlterActionKind::ConvertCharset { charset: "utf8mb4".into() });
        assert!(
            matches!(kinds[3], AlterActionKind::RenameIndex { from, to } if from.name == "a" && s(src, to.span) == "b")
        );
        assert!(matches!(kinds[4], AlterActionKind::DropIndex { name } if s(src, name.span) == "k"));
        assert!(matches!(kinds[5], AlterActionKind::DropConstraint { name, .. } if name.name == "ck"));
        assert_eq!(kinds[6], &AlterActionKind::Algorithm(Algorithm::NoCopy));
        // Two space-separated table options in one clause: one action each, with its own span.
        assert_eq!(kinds[7], &AlterActionKind::TableOption { name: "row_format".into() });
        assert_eq!(s(src, actions[7].span), "ROW_FORMAT=DYNAMIC");
        assert_eq!(kinds[8], &AlterActionKind::TableOption { name: "key_block_size".into() });
        assert_eq!(s(src, actions[8].span), "KEY_BLOCK_SIZE=8");
        assert_eq!(kinds[9], &AlterActionKind::TableOption { name: "charset".into() });
        let AlterActionKind::AddColumn { column, if_not_exists } = kinds[10] else { panic!("{:?}", kinds[10]) };
        assert!(if_not_exists);
        assert_eq!(s(src, column.name.span), "x");
        assert_eq!(column.default.as_ref().unwrap().text, "1");
        assert!(matches!(kinds[11], AlterActionKind::DropIndex { name } if name.name == "old"));
        assert_eq!(kinds[12], &AlterActionKind::Lock(LockClause::Shared));
        assert!(matches!(kinds[13], AlterActionKind::AddColumn { column, .. } if column.name.name == "y"));
        assert_eq!(kinds[14], &AlterActionKind::Other { kind: "discard tablespace".into() });
        assert_eq!(actions.len(), 15);
    }

    #[test]
    fn unparsed_other_statements() {
        let src = "CREATE FULLTEXT INDEX ft ON posts (body) ALGORITHM=INPLACE";
        let o = unparsed(src);
        let Op::CreateIndex { name, table, unique, algorithm, keyword_span, .. } = &o[0] else { panic!("{o:?}") };
        assert_eq!(name.as_ref().unwrap().name, "ft");
        assert_eq!(table.name, "posts");
        assert!(!unique);
        assert_eq!(*algorithm, Some(Algorithm::Inplace));
        assert_eq!(s(src, *keyword_span), "CREATE FULLTEXT INDEX");

        let o = unparsed("DROP INDEX i ON t ALGORITHM=INPLACE LOCK=NONE");
        assert!(matches!(&o[0], Op::DropIndex { table: Some(t), .. } if t.name == "t"));

        let o = unparsed("CREATE TABLE p (id int NOT NULL) PARTITION BY HASH(id) PARTITIONS 4");
        let (cols, _) = create_columns(&o[0]);
        assert!(cols[0].not_null);

        let o = unparsed("ALTER ONLINE TABLE t ADD COLUMN x int");
        assert!(matches!(alter_actions(&o[0])[0].kind, AlterActionKind::AddColumn { .. }));

        let o = unparsed("CREATE FUNCTION f(a int) RETURNS int DETERMINISTIC RETURN a + 1");
        assert!(matches!(&o[0], Op::Create { kind: ObjectKind::Function, name: Some(n), .. } if n.name == "f"));
    }

    /// Statements of real-world MySQL migrations: which ones sqlparser rejects is printed (run with
    /// `--nocapture`), and lowering must never panic, whether parsed or recovered.
    #[test]
    fn realistic_migrations_never_panic() {
        let src = r#"
SET NAMES utf8mb4;
SET FOREIGN_KEY_CHECKS = 0;
SET SESSION lock_wait_timeout = 5;
SET @@session.sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE';
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
DROP TABLE IF EXISTS `users`;
CREATE TABLE `users` (
  `id` int(11) unsigned NOT NULL AUTO_INCREMENT,
  `email` varchar(191) COLLATE utf8mb4_unicode_ci NOT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `meta` json DEFAULT NULL,
  `score` double(8,2) NOT NULL DEFAULT '0.00',
  `bits` bit(1) NOT NULL DEFAULT b'0',
  `kind` enum('a','b') COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT 'a' COMMENT 'kind',
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_email_unique` (`email`) USING BTREE
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC COMMENT='users';
CREATE TABLE p (id int NOT NULL, d date) PARTITION BY RANGE (YEAR(d)) (PARTITION p0 VALUES LESS THAN (2000));
ALTER TABLE `users` ADD `nickname` VARCHAR(50) NULL AFTER `email`, ALGORITHM=INSTANT;
ALTER TABLE users ADD INDEX idx_email (email(20)), LOCK=NONE;
ALTER TABLE users MODIFY `email` varchar(255) CHARACTER SET utf8mb4 NOT NULL;
ALTER TABLE users ENGINE=InnoDB;
ALTER TABLE users ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8;
ALTER TABLE users FORCE;
ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
ALTER TABLE users RENAME INDEX a TO b;
ALTER TABLE users DROP KEY idx_a, ADD KEY idx_b (b);
ALTER TABLE users ALGORITHM=INPLACE, LOCK=NONE, ADD COLUMN z int;
ALTER TABLE users ADD COLUMN IF NOT EXISTS w int;
ALTER TABLE users ADD COLUMN g int GENERATED ALWAYS AS (id * 2) VIRTUAL;
ALTER TABLE users PARTITION BY KEY(id) PARTITIONS 8;
ALTER TABLE users ADD PARTITION (PARTITION p3 VALUES LESS THAN (2020));
ALTER TABLE users DROP PARTITION p0;
ALTER TABLE users ORDER BY id;
ALTER TABLE users AUTO_INCREMENT = 1000;
ALTER TABLE users COMMENT = 'x';
ALTER TABLE users ALTER INDEX idx_b INVISIBLE;
ALTER TABLE users ADD CONSTRAINT chk CHECK (id > 0) NOT ENFORCED;
ALTER TABLE users DROP CHECK chk;
ALTER TABLE users ADD SPATIAL INDEX sp (geo);
ALTER TABLE users WAIT 10 ADD COLUMN q int;
ALTER IGNORE TABLE users ADD UNIQUE (email);
CREATE INDEX idx ON users (email) USING BTREE;
CREATE FULLTEXT INDEX ft ON users (bio);
CREATE SPATIAL INDEX sp ON users (geo);
CREATE INDEX idx2 ON users ((lower(email)));
DROP INDEX idx ON users;
DROP INDEX `PRIMARY` ON users;
RENAME TABLE users TO users_old, users_new TO users;
TRUNCATE TABLE users;
INSERT INTO users (email) VALUES ('a@b.c') ON DUPLICATE KEY UPDATE email = VALUES(email);
INSERT IGNORE INTO users SELECT * FROM users_old;
UPDATE users SET email = LOWER(email);
UPDATE users u JOIN orgs o ON u.org_id = o.id SET u.x = o.x WHERE o.y = 1;
DELETE FROM users WHERE id IN (SELECT id FROM x) LIMIT 100;
LOCK TABLES users WRITE;
UNLOCK TABLES;
OPTIMIZE TABLE users;
ANALYZE TABLE users;
CREATE OR REPLACE VIEW v AS SELECT id FROM users;
CREATE DEFINER=`root`@`localhost` TRIGGER trg BEFORE INSERT ON users FOR EACH ROW SET NEW.email = LOWER(NEW.email);
CREATE PROCEDURE p() SELECT 1;
DROP PROCEDURE IF EXISTS p;
CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM logs;
START TRANSACTION;
COMMIT;
"#;
        let f = parse_file(src, Dialect::MySql);
        let lowered = all_ops(&f);
        let mut failed = 0;
        for (st, ops) in f.statements.iter().zip(&lowered) {
            if let StatementStatus::SyntaxError(e) = &st.status {
                failed += 1;
                println!("sqlparser rejects: {}\n    {}\n    recovered: {ops:?}", st.text(src), e.message);
            }
        }
        println!("{failed} of {} statements rejected by sqlparser", f.statements.len());
        assert!(f.statements.len() > 50);
    }

    /// Every prefix of every statement (cut at each token) lowers without panicking.
    #[test]
    fn truncated_statements_never_panic() {
        let stmts = [
            "CREATE TABLE `db`.t (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, s ENUM('a','b') DEFAULT 'a', o int REFERENCES x(id), g int AS (id+1) STORED, KEY k (s), CONSTRAINT f FOREIGN KEY (o) REFERENCES x (id)) ENGINE=InnoDB",
            "ALTER TABLE t ADD COLUMN c int DEFAULT (UUID()) AFTER b, CHANGE a b varchar(10) NOT NULL FIRST, ENGINE=InnoDB ROW_FORMAT=DYNAMIC, RENAME INDEX a TO b, ALGORITHM=NOCOPY, LOCK=NONE",
            "CREATE UNIQUE INDEX i ON t (a(10), (lower(b))) ALGORITHM=INPLACE LOCK=NONE",
            "RENAME TABLE a TO b, c TO d",
            "SET SESSION x = 1, @@global.y = 'z'",
        ];
        for full in stmts {
            let toks = tokenize(full, Dialect::MySql);
            for t in &toks {
                let src = &full[..t.span.end];
                let f = parse_file(src, Dialect::MySql);
                let _ = all_ops(&f);
            }
        }
    }

    #[test]
    fn column_attribute_spans() {
        let src = "CREATE TABLE t (d int DEFAULT -1, e varchar(10) NOT NULL REFERENCES x (y) ON UPDATE SET NULL DEFAULT 'q', \
                   b bit(1) NOT NULL DEFAULT b'0' COMMENT 'c', s serial)";
        let o = ops(src);
        let (cols, _) = create_columns(&o[0]);
        assert_eq!(cols[0].default.as_ref().unwrap().text, "-1");
        assert_eq!(cols[0].default.as_ref().unwrap().volatility, Volatility::Constant);
        let r = cols[1].references.as_ref().unwrap();
        assert_eq!(s(src, r.span), "REFERENCES x (y) ON UPDATE SET NULL");
        assert_eq!(cols[1].default.as_ref().unwrap().text, "'q'");
        assert_eq!(cols[2].default.as_ref().unwrap().text, "b'0'");
        assert_eq!(s(src, cols[2].span), "b bit(1) NOT NULL DEFAULT b'0' COMMENT 'c'");
        assert!(cols[3].identity && cols[3].type_name.unsigned && cols[3].type_name.name == "bigint");
    }

    #[test]
    fn mariadb_wait_and_unknown_clauses() {
        let src = "ALTER TABLE t WAIT 10 ADD COLUMN q int, ALTER INDEX i INVISIBLE";
        let o = unparsed(src);
        let a = alter_actions(&o[0]);
        assert!(matches!(&a[0].kind, AlterActionKind::AddColumn { column, .. } if s(src, column.name.span) == "q"));
        assert_eq!(s(src, a[0].span), "ADD COLUMN q int");
        assert_eq!(a[1].kind, AlterActionKind::Other { kind: "alter index".into() });

        let src = "ALTER TABLE t ALGORITHM=INPLACE LOCK=NONE";
        let o = unparsed(src);
        let a = alter_actions(&o[0]);
        assert_eq!(a[0].kind, AlterActionKind::Algorithm(Algorithm::Inplace));
        assert_eq!(s(src, a[0].span), "ALGORITHM=INPLACE");
        assert_eq!(a[1].kind, AlterActionKind::Lock(LockClause::None));
        assert_eq!(s(src, a[1].span), "LOCK=NONE");
    }

    #[test]
    fn an_alter_table_recovered_clause_by_clause_counts_as_parsed_only_when_every_clause_is_known() {
        let src = "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n\
                   ALTER TABLE t ROW_FORMAT=DYNAMIC;\n\
                   ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4, FROBNICATE 3;\n\
                   ALTER IGNORE TABLE t CONVERT TO CHARACTER SET utf8mb4;";
        let f = parse_file(src, Dialect::MySql);
        assert_eq!(f.statements.len(), 4);
        assert!(matches!(f.statements[0].status, StatementStatus::Parsed), "{:?}", f.statements[0]);
        assert!(matches!(f.statements[1].status, StatementStatus::Parsed), "{:?}", f.statements[1]);
        assert!(matches!(f.statements[2].status, StatementStatus::Recovered(_)), "{:?}", f.statements[2]);
        assert!(matches!(f.statements[3].status, StatementStatus::Recovered(_)), "{:?}", f.statements[3]);
    }

    #[test]
    fn dynamic_sql_user_variables_and_multi_table_dml_are_recovered() {
        let src = "PREPARE stmt FROM @s;\nSET @exist := (SELECT COUNT(*) FROM t);\n\
                   UPDATE a, b SET a.x = b.x WHERE a.id = b.id;\nDELETE ms.* FROM ms INNER JOIN m USING (id);";
        let f = parse_file(src, Dialect::MySql);
        assert_eq!(f.statements.len(), 4);
        // A PREPARE of a variable no statement was assigned to stays partly parsed; one user
        // variable assignment is read whole.
        assert!(matches!(f.statements[0].status, StatementStatus::Recovered(_)));
        assert!(matches!(f.statements[1].status, StatementStatus::Parsed));
        assert!(f.statements[2..].iter().all(|s| matches!(s.status, StatementStatus::Recovered(_))));
        assert!(matches!(&f.statements[0].ops[0], Op::Other { kind } if kind == "prepare_statement"));
        assert!(
            matches!(&f.statements[1].ops[0], Op::Set { name, value, .. } if name == "exist" && value.starts_with("(SELECT"))
        );
        assert!(matches!(&f.statements[2].ops[0], Op::Dml { kind: DmlKind::Update, has_where: true, .. }));
        assert!(
            matches!(&f.statements[3].ops[0], Op::Dml { kind: DmlKind::Delete, has_where: true, table: Some(t), .. } if t.name == "ms")
        );
    }
}
