//! Lowering of PostgreSQL parse trees (libpg_query protobuf) into the dialect-neutral IR.
//!
//! Parser locations are byte offsets relative to the statement; every span produced here is in
//! file coordinates. Names and clauses the parser gives no location for are found again among the
//! statement's tokens, falling back to the enclosing clause (or the statement) when that fails.

use super::LowerCx;
use crate::ir::{
    AlterAction, AlterActionKind, ColumnDef, Constraint, ConstraintKind, DmlKind, Expr, ForeignKeyTarget,
    GeneratedKind, Ident, IndexColumn, ObjectKind, Op, QualifiedName, SetOptionKind, TransactionOp, TypeName,
    Volatility,
};
use crate::lexer::{ident_value, Token, TokenKind};
use crate::span::Span;
use pg_query::protobuf as pb;
use pg_query::protobuf::node::Node as N;
use std::fmt::{self, Write as _};

/// Expressions nested deeper than this are not walked: they count as volatile.
const MAX_DEPTH: usize = 200;

/// Lowers one parsed PostgreSQL statement.
pub(crate) fn lower(node: &N, cx: &LowerCx) -> Vec<Op> {
    let toks: Vec<Token> = cx.code_tokens().copied().collect();
    L { cx, toks }.stmt(node)
}

struct L<'c, 'a> {
    cx: &'c LowerCx<'a>,
    /// The statement's code tokens (comments excluded), in file coordinates.
    toks: Vec<Token>,
}

// ---------------------------------------------------------------------------------------------
// Small tree helpers
// ---------------------------------------------------------------------------------------------

fn inner(n: &pb::Node) -> Option<&N> {
    n.node.as_ref()
}

/// Whether `with` defines a CTE called `name`.
fn names_cte(with: Option<&pb::WithClause>, name: &str) -> bool {
    with.is_some_and(|w| w.ctes.iter().any(|c| matches!(inner(c), Some(N::CommonTableExpr(c)) if c.ctename == name)))
}

fn boxed(n: &Option<Box<pb::Node>>) -> Option<&N> {
    n.as_deref().and_then(inner)
}

/// The `sval`s of a list of `String` nodes (other nodes are skipped).
fn strings(nodes: &[pb::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match inner(n) {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// The parts of an object name as the parser gives it in DROP/RENAME/COMMENT and friends.
fn object_parts(n: &N) -> Vec<String> {
    match n {
        N::String(s) => vec![s.sval.clone()],
        N::List(l) => strings(&l.items),
        N::TypeName(t) => strings(&t.names),
        N::ObjectWithArgs(o) => strings(&o.objname),
        N::RangeVar(r) => {
            let mut v = Vec::new();
            if !r.schemaname.is_empty() {
                v.push(r.schemaname.clone());
            }
            v.push(r.relname.clone());
            v
        }
        _ => Vec::new(),
    }
}

fn is_cascade(behavior: i32) -> bool {
    behavior == pb::DropBehavior::DropCascade as i32
}

fn object_kind(t: i32) -> ObjectKind {
    use pb::ObjectType as T;
    match T::try_from(t) {
        Ok(T::ObjectTable) => ObjectKind::Table,
        Ok(T::ObjectIndex) => ObjectKind::Index,
        Ok(T::ObjectView) => ObjectKind::View,
        Ok(T::ObjectMatview) => ObjectKind::MaterializedView,
        Ok(T::ObjectSequence) => ObjectKind::Sequence,
        Ok(T::ObjectSchema) => ObjectKind::Schema,
        Ok(T::ObjectDatabase) => ObjectKind::Database,
        Ok(T::ObjectType | T::ObjectDomain) => ObjectKind::Type,
        Ok(T::ObjectFunction | T::ObjectAggregate | T::ObjectRoutine) => ObjectKind::Function,
        Ok(T::ObjectProcedure) => ObjectKind::Procedure,
        Ok(T::ObjectTrigger) => ObjectKind::Trigger,
        Ok(T::ObjectExtension) => ObjectKind::Extension,
        _ => ObjectKind::Other,
    }
}

/// Object types whose names are qualified by their table rather than by a schema
/// (`DROP TRIGGER tg ON t` is `[t, tg]`).
fn table_scoped(t: i32) -> bool {
    use pb::ObjectType as T;
    matches!(T::try_from(t), Ok(T::ObjectTrigger | T::ObjectPolicy | T::ObjectRule | T::ObjectTabconstraint))
}

/// The node's variant name (`"GrantStmt"`), without formatting the whole tree.
fn node_kind(n: &N) -> String {
    struct Prefix(String);
    impl fmt::Write for Prefix {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            match s.find(['(', ' ', '{']) {
                Some(i) => {
                    self.0.push_str(&s[..i]);
                    Err(fmt::Error)
                }
                None => {
                    self.0.push_str(s);
                    Ok(())
                }
            }
        }
    }
    let mut p = Prefix(String::new());
    let _ = write!(p, "{n:?}");
    p.0
}

/// The smallest `location` recorded anywhere in a subtree. Debug output is the one generic walk
/// that prost gives us; it is scanned while it is written, never held as a string.
fn min_location(n: &N) -> Option<usize> {
    let mut scan = LocationScan::default();
    let _ = write!(scan, "{n:?}");
    scan.finish()
}

const LOCATION_KEY: &[u8] = b"location: ";

/// Finds `location: <digits>` (the key not preceded by a word character) in text written in any
/// number of pieces, keeping the smallest number.
#[derive(Default)]
struct LocationScan {
    /// The byte before the current one.
    prev: u8,
    /// Bytes of [`LOCATION_KEY`] matched so far.
    matched: usize,
    /// Reading the digits after a whole key.
    in_number: bool,
    /// Digits read so far, and their value (`None` once it overflowed).
    digits: usize,
    value: Option<usize>,
    min: Option<usize>,
}

impl LocationScan {
    fn byte(&mut self, b: u8) {
        if self.in_number {
            if b.is_ascii_digit() {
                let d = usize::from(b - b'0');
                self.digits += 1;
                self.value = self.value.and_then(|v| v.checked_mul(10)?.checked_add(d));
                self.prev = b;
                return;
            }
            self.end_number();
        }
        let word_before = self.prev.is_ascii_alphanumeric() || self.prev == b'_';
        if self.matched > 0 && LOCATION_KEY.get(self.matched) == Some(&b) {
            self.matched += 1;
        } else {
            // The key's first byte occurs in it only once: a mismatch can only restart here.
            self.matched = usize::from(b == LOCATION_KEY[0] && !word_before);
        }
        if self.matched == LOCATION_KEY.len() {
            self.matched = 0;
            self.in_number = true;
            self.digits = 0;
            self.value = Some(0);
        }
        self.prev = b;
    }

    /// No digit after the key (`-1`: unknown) or an overflow is no location.
    fn end_number(&mut self) {
        self.in_number = false;
        if let Some(v) = self.value.filter(|_| self.digits > 0) {
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
        }
    }

    fn finish(mut self) -> Option<usize> {
        if self.in_number {
            self.end_number();
        }
        self.min
    }
}

impl fmt::Write for LocationScan {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.byte(b));
        Ok(())
    }
}

fn vmax(a: Volatility, b: Volatility) -> Volatility {
    fn rank(v: Volatility) -> u8 {
        match v {
            Volatility::Constant => 0,
            Volatility::Stable => 1,
            Volatility::Volatile => 2,
        }
    }
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// Builtins that return a different value on every call: always volatile, whatever the schema.
const VOLATILE_FUNCS: &[&str] = &[
    "random",
    "random_normal",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "gen_random_bytes",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
    "currval",
    "lastval",
    "setval",
    "setseed",
    "txid_current",
    "pg_current_xact_id",
];

/// Builtins that are stable within a statement.
const STABLE_FUNCS: &[&str] = &[
    "now",
    "statement_timestamp",
    "transaction_timestamp",
    "current_setting",
    "current_database",
    "current_schema",
    "current_schemas",
    "current_user",
    "session_user",
    "current_role",
    "to_char",
    "to_timestamp",
    "to_date",
    "to_number",
    "age",
    "date_part",
    "date_trunc",
    "extract",
    "timezone",
    "concat",
    "concat_ws",
    "format",
    "to_json",
    "to_jsonb",
    "json_build_object",
    "json_build_array",
    "jsonb_build_object",
    "jsonb_build_array",
    "array_to_json",
    "row_to_json",
    "to_regclass",
    "pg_backend_pid",
    "inet_client_addr",
    "version",
];

/// Builtins known to be immutable.
const IMMUTABLE_FUNCS: &[&str] = &[
    "lower",
    "upper",
    "initcap",
    "length",
    "char_length",
    "character_length",
    "octet_length",
    "bit_length",
    "abs",
    "round",
    "trunc",
    "floor",
    "ceil",
    "ceiling",
    "power",
    "pow",
    "sqrt",
    "mod",
    "sign",
    "md5",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "btrim",
    "ltrim",
    "rtrim",
    "trim",
    "substring",
    "substr",
    "replace",
    "left",
    "right",
    "lpad",
    "rpad",
    "repeat",
    "reverse",
    "split_part",
    "strpos",
    "position",
    "overlay",
    "translate",
    "regexp_replace",
    "make_date",
    "make_time",
    "make_interval",
    "nullif",
    "array_length",
    "cardinality",
    "int4",
    "int8",
    "int2",
    "float8",
    "float4",
    "numeric",
    "text",
    "bool",
    "jsonb_typeof",
    "decode",
    "encode",
    "chr",
    "ascii",
    "normalize",
    "array_fill",
    "numrange",
    "int4range",
    "int8range",
    "daterange",
];

/// How a scalar expression behaves per row. Conservative: unknown functions and constructs are
/// volatile.
fn volatility(n: &N, depth: usize) -> Volatility {
    if depth > MAX_DEPTH {
        return Volatility::Volatile;
    }
    let all = |nodes: &[pb::Node]| {
        nodes.iter().filter_map(inner).fold(Volatility::Constant, |acc, c| vmax(acc, volatility(c, depth + 1)))
    };
    let opt = |b: &Option<Box<pb::Node>>| boxed(b).map_or(Volatility::Constant, |c| volatility(c, depth + 1));
    match n {
        N::AConst(_) | N::Integer(_) | N::Float(_) | N::Boolean(_) | N::String(_) | N::BitString(_) => {
            Volatility::Constant
        }
        N::TypeCast(c) => opt(&c.arg),
        N::CollateClause(c) => opt(&c.arg),
        N::AExpr(e) => vmax(opt(&e.lexpr), opt(&e.rexpr)),
        N::BoolExpr(e) => all(&e.args),
        N::NullTest(e) => opt(&e.arg),
        N::BooleanTest(e) => opt(&e.arg),
        N::CoalesceExpr(e) => all(&e.args),
        N::MinMaxExpr(e) => all(&e.args),
        N::CaseExpr(e) => vmax(vmax(opt(&e.arg), all(&e.args)), opt(&e.defresult)),
        N::CaseWhen(w) => vmax(opt(&w.expr), opt(&w.result)),
        N::AArrayExpr(a) => all(&a.elements),
        N::RowExpr(r) => all(&r.args),
        N::List(l) => all(&l.items),
        N::NamedArgExpr(a) => opt(&a.arg),
        N::AIndirection(a) => opt(&a.arg),
        N::SqlvalueFunction(_) | N::ParamRef(_) | N::ColumnRef(_) => Volatility::Stable,
        N::FuncCall(f) => {
            let names = strings(&f.funcname);
            let name = names.last().map(|s| s.to_ascii_lowercase()).unwrap_or_default();
            let builtin = names.len() < 2 || names.first().is_some_and(|s| s == "pg_catalog");
            let own = if VOLATILE_FUNCS.contains(&name.as_str()) || !builtin || f.over.is_some() {
                Volatility::Volatile
            } else if IMMUTABLE_FUNCS.contains(&name.as_str()) {
                Volatility::Constant
            } else if STABLE_FUNCS.contains(&name.as_str()) {
                Volatility::Stable
            } else {
                Volatility::Volatile
            };
            vmax(own, all(&f.args))
        }
        _ => Volatility::Volatile,
    }
}

/// True for a `NULL` literal (possibly cast: `NULL::text`).
fn is_null_const(n: &N) -> bool {
    match n {
        N::AConst(c) => c.isnull,
        N::TypeCast(c) => boxed(&c.arg).is_some_and(is_null_const),
        _ => false,
    }
}

/// Words that end a column type at the top level of a column definition.
const TYPE_STOP: &[&str] = &[
    "not",
    "null",
    "default",
    "constraint",
    "primary",
    "unique",
    "references",
    "check",
    "generated",
    "collate",
    "using",
    "compression",
    "storage",
    "deferrable",
    "initially",
];

/// Words that end an expression at the top level of a column definition.
const EXPR_STOP: &[&str] =
    &["constraint", "primary", "unique", "references", "check", "generated", "default", "deferrable", "initially"];

/// Keywords that start an ALTER TABLE clause before the object name it is about.
const CLAUSE_PREFIX: &[&str] =
    &["add", "drop", "alter", "column", "constraint", "if", "not", "exists", "validate", "rename", "only"];

/// Words before `(` after which the parenthesis belongs to the expression, not to the syntax.
const PAREN_OK_AFTER: &[&str] =
    &["default", "using", "and", "or", "not", "then", "else", "when", "is", "set", "to", "select", "where"];

impl<'c, 'a> L<'c, 'a> {
    // -----------------------------------------------------------------------------------------
    // Token helpers
    // -----------------------------------------------------------------------------------------

    fn text(&self) -> &'a str {
        self.cx.text
    }

    fn abs(&self, location: i32) -> Option<usize> {
        let rel = usize::try_from(location).ok()?;
        let abs = self.cx.span.start.checked_add(rel)?;
        (abs <= self.cx.span.end).then_some(abs)
    }

    /// Index of the first code token starting at or after `abs`.
    fn tok_from(&self, abs: usize) -> usize {
        self.toks.partition_point(|t| t.span.start < abs)
    }

    fn is_ident_tok(t: &Token) -> bool {
        matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent)
    }

    fn tok_value(&self, t: &Token) -> String {
        ident_value(t, self.text(), self.cx.dialect)
    }

    fn punct(&self, t: &Token) -> &'a str {
        if t.kind == TokenKind::Punct {
            t.text(self.text())
        } else {
            ""
        }
    }

    /// The first identifier token denoting `name` whose span lies in `from..to`.
    fn find_ident(&self, name: &str, from: usize, to: usize) -> Option<Span> {
        self.toks[self.tok_from(from)..]
            .iter()
            .take_while(|t| t.span.end <= to)
            .find(|t| Self::is_ident_tok(t) && self.tok_value(t) == name)
            .map(|t| t.span)
    }

    /// An identifier inside a clause: skips the clause's leading keywords first, then searches
    /// the whole clause, and falls back to the clause span.
    fn clause_ident(&self, name: &str, clause: Span) -> Ident {
        let mut i = self.tok_from(clause.start);
        let first = i;
        while let Some(t) = self.toks.get(i) {
            if t.span.end > clause.end || !CLAUSE_PREFIX.iter().any(|k| t.is_word(self.text(), k)) {
                break;
            }
            i += 1;
        }
        let after = self.toks.get(i).map_or(clause.end, |t| t.span.start);
        // A name spelt like a keyword (`DROP COLUMN drop`) is the last of the leading words.
        let in_prefix = || {
            self.toks[first..i]
                .iter()
                .rev()
                .find(|t| Self::is_ident_tok(t) && self.tok_value(t) == name)
                .map(|t| t.span)
        };
        let span = self
            .find_ident(name, after, clause.end)
            .or_else(in_prefix)
            .or_else(|| self.find_ident(name, clause.start, clause.end))
            .unwrap_or(clause);
        Ident::new(name, span)
    }

    /// The span of `a.b.c` written as consecutive tokens matching `parts`, searched from `from`.
    fn find_parts(&self, parts: &[String], from: usize) -> Option<Span> {
        let first = parts.first()?;
        let start = self.tok_from(from);
        'outer: for i in start..self.toks.len() {
            let t = &self.toks[i];
            if !Self::is_ident_tok(t) || &self.tok_value(t) != first {
                continue;
            }
            let mut j = i;
            for p in &parts[1..] {
                let (Some(dot), Some(next)) = (self.toks.get(j + 1), self.toks.get(j + 2)) else { continue 'outer };
                if self.punct(dot) != "." || !Self::is_ident_tok(next) || &self.tok_value(next) != p {
                    continue 'outer;
                }
                j += 2;
            }
            return Some(t.span.cover(self.toks[j].span));
        }
        None
    }

    /// A name from its parts (`[schema, name]` or `[name]`), found in the tokens from `from`.
    fn qname_parts(&self, parts: &[String], from: usize, scoped: bool) -> QualifiedName {
        let name = parts.last().cloned().unwrap_or_default();
        let schema = if scoped || parts.len() < 2 { None } else { parts.get(parts.len() - 2).cloned() };
        let span = self
            .find_parts(parts, from)
            .or_else(|| self.find_parts(std::slice::from_ref(&name), from))
            .or_else(|| self.find_parts(parts, self.cx.span.start))
            .unwrap_or(self.cx.span);
        QualifiedName { schema, name, span }
    }

    fn rangevar(&self, rv: &pb::RangeVar) -> QualifiedName {
        let schema = (!rv.schemaname.is_empty()).then(|| rv.schemaname.clone());
        let span = match self.abs(rv.location) {
            Some(abs) => {
                let i = self.tok_from(abs);
                match self.toks.get(i) {
                    Some(t) if t.span.start == abs => {
                        let mut j = i;
                        while let (Some(dot), Some(next)) = (self.toks.get(j + 1), self.toks.get(j + 2)) {
                            if self.punct(dot) != "." || !Self::is_ident_tok(next) {
                                break;
                            }
                            j += 2;
                        }
                        t.span.cover(self.toks[j].span)
                    }
                    _ => self.cx.span_at(rv.location),
                }
            }
            None => {
                let mut parts: Vec<String> = schema.iter().cloned().collect();
                parts.push(rv.relname.clone());
                self.find_parts(&parts, self.cx.span.start).unwrap_or(self.cx.span)
            }
        };
        QualifiedName { schema, name: rv.relname.clone(), span }
    }

    fn rangevar_opt(&self, rv: Option<&pb::RangeVar>) -> Option<QualifiedName> {
        rv.map(|r| self.rangevar(r))
    }

    fn rangevars(&self, nodes: &[pb::Node]) -> Vec<QualifiedName> {
        nodes
            .iter()
            .filter_map(|n| match inner(n) {
                Some(N::RangeVar(r)) => Some(self.rangevar(r)),
                Some(N::VacuumRelation(v)) => self.rangevar_opt(v.relation.as_ref()),
                _ => None,
            })
            .collect()
    }

    /// The span from a token-level start to the end of the balanced run of tokens that follows,
    /// stopping before a top-level `,` or unbalanced `)`, before `limit`, and before any of
    /// `stop` at the top level (never on the first token). `None` if nothing is there.
    fn scan(&self, start: usize, limit: usize, stop: &[&str], expr: bool) -> Option<Span> {
        let i0 = self.tok_from(start);
        let mut depth = 0i32;
        let mut first: Option<Span> = None;
        let mut last: Option<Span> = None;
        let mut prev: Option<&Token> = None;
        for (k, t) in self.toks[i0..].iter().enumerate() {
            if t.span.start >= limit || t.span.end > self.cx.span.end {
                break;
            }
            match self.punct(t) {
                "(" | "[" => depth += 1,
                ")" | "]" if depth == 0 => break,
                ")" | "]" => depth -= 1,
                "," if depth == 0 => break,
                _ => {}
            }
            if depth == 0 && k > 0 && t.kind == TokenKind::Word {
                let w = t.text(self.text());
                if stop.iter().any(|s| w.eq_ignore_ascii_case(s)) {
                    break;
                }
                if expr {
                    let after_is = prev.is_some_and(|p| p.is_word(self.text(), "is"));
                    let next_null = self.toks.get(i0 + k + 1).is_some_and(|n| n.is_word(self.text(), "null"));
                    if w.eq_ignore_ascii_case("not") && next_null && !after_is {
                        break;
                    }
                    let after_not = prev.is_some_and(|p| p.is_word(self.text(), "not"));
                    if w.eq_ignore_ascii_case("null") && !after_is && !after_not {
                        break;
                    }
                }
            }
            first.get_or_insert(t.span);
            last = Some(t.span);
            prev = Some(t);
        }
        Some(first?.cover(last?))
    }

    /// Where an expression starts: its leftmost recorded location, widened over parentheses
    /// that belong to it (`(a)::int`), but not over syntax parentheses (`CHECK (`, `f(`).
    fn expr_start(&self, n: &N) -> Option<usize> {
        let min = min_location(n)?;
        let mut start = self.abs(i32::try_from(min).ok()?)?;
        let mut i = self.tok_from(start);
        while i > 0 {
            let open = &self.toks[i - 1];
            if self.punct(open) != "(" {
                break;
            }
            if i >= 2 {
                let before = &self.toks[i - 2];
                let word_ok = PAREN_OK_AFTER.iter().any(|w| before.is_word(self.text(), w));
                if Self::is_ident_tok(before) && !word_ok {
                    break;
                }
            }
            // The group must close and hold one expression (no top-level comma).
            let mut depth = 0i32;
            let mut ok = false;
            for t in &self.toks[i - 1..] {
                match self.punct(t) {
                    "(" | "[" => depth += 1,
                    ")" | "]" => {
                        depth -= 1;
                        if depth == 0 {
                            ok = true;
                            break;
                        }
                    }
                    "," if depth == 1 => break,
                    _ => {}
                }
            }
            if !ok {
                break;
            }
            i -= 1;
            start = open.span.start;
        }
        Some(start)
    }

    fn expr_span(&self, n: &N, limit: usize) -> Span {
        self.expr_start(n)
            .and_then(|s| self.scan(s, limit, EXPR_STOP, true))
            .unwrap_or_else(|| Span::empty(limit.clamp(self.cx.span.start, self.cx.span.end)))
    }

    fn expr(&self, n: &N, limit: usize) -> Expr {
        let span = self.expr_span(n, limit);
        Expr { text: self.cx.slice(span).to_string(), volatility: volatility(n, 0), is_null: is_null_const(n), span }
    }

    fn expr_opt(&self, n: &Option<Box<pb::Node>>, limit: usize) -> Option<Expr> {
        boxed(n).map(|e| self.expr(e, limit))
    }

    fn type_name(&self, tn: Option<&pb::TypeName>, limit: usize) -> TypeName {
        let Some(tn) = tn else {
            return TypeName {
                name: String::new(),
                modifiers: Vec::new(),
                array: false,
                values: Vec::new(),
                charset: None,
                unsigned: false,
                text: String::new(),
                span: Span::empty(self.cx.span.start),
            };
        };
        let name = strings(&tn.names).pop().unwrap_or_default();
        let modifiers = tn
            .typmods
            .iter()
            .filter_map(|m| match inner(m) {
                Some(N::AConst(c)) => match &c.val {
                    Some(pb::a_const::Val::Ival(i)) => Some(i64::from(i.ival)),
                    _ => None,
                },
                Some(N::Integer(i)) => Some(i64::from(i.ival)),
                _ => None,
            })
            .collect();
        let span = self
            .abs(tn.location)
            .and_then(|s| self.scan(s, limit, TYPE_STOP, false))
            .unwrap_or_else(|| self.cx.span_at(tn.location));
        TypeName {
            name,
            modifiers,
            array: !tn.array_bounds.is_empty(),
            values: Vec::new(),
            charset: None,
            unsigned: false,
            text: self.cx.slice(span).to_string(),
            span,
        }
    }

    /// The balanced clause starting at a location (up to a top-level `,` or unbalanced `)`),
    /// clipped to `outer`; `outer` itself when the location is unknown.
    fn clause_at(&self, location: i32, outer: Span) -> Span {
        self.abs(location)
            .filter(|&a| a >= outer.start && a < outer.end)
            .and_then(|a| self.scan(a, outer.end, &[], false))
            .unwrap_or(outer)
    }

    // -----------------------------------------------------------------------------------------
    // Columns and constraints
    // -----------------------------------------------------------------------------------------

    fn column(&self, cd: &pb::ColumnDef, outer: Span) -> ColumnDef {
        let span = self.clause_at(cd.location, outer);
        let name_span = self
            .abs(cd.location)
            .and_then(|a| self.find_ident(&cd.colname, a, span.end))
            .or_else(|| self.find_ident(&cd.colname, span.start, span.end))
            .unwrap_or(span);
        // Where each element of the definition starts: an expression or a type ends before the
        // next one.
        let mut bounds: Vec<usize> = cd
            .constraints
            .iter()
            .filter_map(|c| match inner(c) {
                Some(N::Constraint(c)) => self.abs(c.location),
                _ => None,
            })
            .collect();
        if let Some(cc) = &cd.coll_clause {
            bounds.extend(self.abs(cc.location));
        }
        bounds.sort_unstable();
        let next_bound = |from: usize| bounds.iter().copied().find(|&b| b > from).unwrap_or(span.end).min(span.end);
        let type_start = cd.type_name.as_ref().and_then(|t| self.abs(t.location)).unwrap_or(span.start);
        let type_name = self.type_name(cd.type_name.as_ref(), next_bound(type_start));
        let serial = matches!(
            type_name.name.as_str(),
            "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
        ) && tn_unqualified(cd.type_name.as_ref());
        let mut col = ColumnDef {
            name: Ident::new(cd.colname.clone(), name_span),
            type_name,
            not_null: cd.is_not_null,
            default: None,
            generated: None,
            identity: serial || !cd.identity.is_empty(),
            primary_key: false,
            unique: false,
            references: None,
            check: None,
            position: None,
            span,
        };
        if let Some(d) = boxed(&cd.raw_default) {
            let start = self.expr_start(d).unwrap_or(span.start);
            col.default = Some(self.expr(d, next_bound(start)));
        }
        for c in cd.constraints.iter().filter_map(inner) {
            let N::Constraint(c) = c else { continue };
            let start = self.abs(c.location).unwrap_or(span.start);
            let end = next_bound(start);
            use pb::ConstrType as C;
            match C::try_from(c.contype) {
                Ok(C::ConstrNotnull) => col.not_null = true,
                Ok(C::ConstrNull) => col.not_null = false,
                Ok(C::ConstrDefault) => col.default = self.expr_opt(&c.raw_expr, end),
                Ok(C::ConstrIdentity) => col.identity = true,
                Ok(C::ConstrGenerated) => {
                    let kind = if c.generated_kind == "s" { GeneratedKind::Stored } else { GeneratedKind::Virtual };
                    if let Some(e) = self.expr_opt(&c.raw_expr, end) {
                        col.generated = Some((kind, e));
                    }
                }
                Ok(C::ConstrCheck) => col.check = self.expr_opt(&c.raw_expr, end),
                Ok(C::ConstrPrimary) => {
                    col.primary_key = true;
                    col.not_null = true;
                }
                Ok(C::ConstrUnique) => col.unique = true,
                Ok(C::ConstrForeign) => {
                    col.references = self.fk_target(c, Span::new(start, end.max(start)));
                }
                _ => {}
            }
        }
        col
    }

    fn fk_target(&self, c: &pb::Constraint, clause: Span) -> Option<ForeignKeyTarget> {
        let table = self.rangevar(c.pktable.as_ref()?);
        let refs = self.cx.word_after("references", clause.start).filter(|s| s.start <= clause.end);
        let span = refs.map_or(clause, |r| Span::new(r.start, clause.end.max(r.end)));
        let columns = strings(&c.pk_attrs)
            .into_iter()
            .map(|n| {
                let s = self.find_ident(&n, table.span.end, span.end).unwrap_or(span);
                Ident::new(n, s)
            })
            .collect();
        Some(ForeignKeyTarget { table, columns, span })
    }

    fn constraint(&self, c: &pb::Constraint, span: Span) -> Option<Constraint> {
        use pb::ConstrType as C;
        let name = (!c.conname.is_empty()).then(|| self.clause_ident(&c.conname, span));
        let after_name = name.as_ref().map_or(span.start, |n| n.span.end.max(span.start));
        let idents = |names: Vec<String>, to: usize| -> Vec<Ident> {
            let mut from = after_name;
            names
                .into_iter()
                .map(|n| {
                    let s = self.find_ident(&n, from, to).or_else(|| self.find_ident(&n, span.start, to));
                    if let Some(s) = s {
                        from = s.end;
                    }
                    Ident::new(n, s.unwrap_or(span))
                })
                .collect()
        };
        let (kind, columns) = match C::try_from(c.contype).ok()? {
            C::ConstrCheck => {
                let expr = self.expr(boxed(&c.raw_expr)?, span.end);
                (ConstraintKind::Check { expr }, Vec::new())
            }
            C::ConstrForeign => {
                let target = self.fk_target(c, span)?;
                let cols = idents(strings(&c.fk_attrs), target.span.start);
                (ConstraintKind::ForeignKey { target }, cols)
            }
            C::ConstrPrimary => (ConstraintKind::PrimaryKey, idents(strings(&c.keys), span.end)),
            C::ConstrUnique => (ConstraintKind::Unique, idents(strings(&c.keys), span.end)),
            C::ConstrNotnull => (ConstraintKind::NotNull, idents(strings(&c.keys), span.end)),
            C::ConstrExclusion => {
                let names = c
                    .exclusions
                    .iter()
                    .filter_map(|e| match inner(e) {
                        Some(N::List(l)) => l.items.first().and_then(inner).and_then(|x| match x {
                            N::IndexElem(ie) if !ie.name.is_empty() => Some(ie.name.clone()),
                            _ => None,
                        }),
                        _ => None,
                    })
                    .collect();
                (ConstraintKind::Exclusion, idents(names, span.end))
            }
            _ => return None,
        };
        let using_index = (!c.indexname.is_empty()).then(|| {
            let from = self.cx.word_after("index", span.start).map_or(span.start, |s| s.end);
            let s = self.find_ident(&c.indexname, from, span.end).unwrap_or(span);
            Ident::new(c.indexname.clone(), s)
        });
        Some(Constraint { name, kind, columns, not_valid: c.skip_validation, using_index, span })
    }

    // -----------------------------------------------------------------------------------------
    // Statements
    // -----------------------------------------------------------------------------------------

    fn other(n: &N) -> Vec<Op> {
        vec![Op::Other { kind: node_kind(n) }]
    }

    fn stmt(&self, n: &N) -> Vec<Op> {
        match n {
            N::CreateStmt(s) => vec![self.create_table(s)],
            N::AlterTableStmt(s) => self.alter_table(s, n),
            N::RenameStmt(s) => self.rename(s, n),
            N::IndexStmt(s) => vec![self.create_index(s)],
            N::DropStmt(s) => vec![self.drop(s)],
            N::DropdbStmt(s) => vec![Op::Drop {
                kind: ObjectKind::Database,
                names: vec![self.qname_parts(std::slice::from_ref(&s.dbname), self.cx.span.start, false)],
                if_exists: s.missing_ok,
                cascade: false,
            }],
            N::TruncateStmt(s) => {
                vec![Op::Truncate { tables: self.rangevars(&s.relations), cascade: is_cascade(s.behavior) }]
            }
            N::TransactionStmt(s) => vec![Op::Transaction(transaction_op(s.kind))],
            N::VariableSetStmt(s) => vec![self.set(s)],
            N::InsertStmt(s) => {
                self.after_ctes(s.with_clause.as_ref(), self.dml(DmlKind::Insert, s.relation.as_ref(), false))
            }
            N::UpdateStmt(s) => self.after_ctes(
                s.with_clause.as_ref(),
                self.dml(DmlKind::Update, s.relation.as_ref(), s.where_clause.is_some()),
            ),
            N::DeleteStmt(s) => self.after_ctes(
                s.with_clause.as_ref(),
                self.dml(DmlKind::Delete, s.relation.as_ref(), s.where_clause.is_some()),
            ),
            N::MergeStmt(s) => self.after_ctes(
                s.with_clause.as_ref(),
                self.dml(DmlKind::Merge, s.relation.as_ref(), s.join_condition.is_some()),
            ),
            N::CopyStmt(s) => vec![self.dml(DmlKind::Copy, s.relation.as_ref(), s.where_clause.is_some())],
            N::SelectStmt(s) => self.after_ctes(s.with_clause.as_ref(), self.select(s)),
            N::ReindexStmt(s) => vec![self.reindex(s)],
            N::VacuumStmt(s) => {
                if s.is_vacuumcmd {
                    let full = s.options.iter().any(|o| def_flag(o, "full"));
                    vec![Op::Vacuum { full, tables: self.rangevars(&s.rels) }]
                } else {
                    vec![Op::Other { kind: "Analyze".to_string() }]
                }
            }
            N::ClusterStmt(s) => vec![Op::Cluster { table: self.rangevar_opt(s.relation.as_ref()) }],
            N::RefreshMatViewStmt(s) => match s.relation.as_ref() {
                Some(rv) => vec![Op::RefreshMaterializedView {
                    name: self.rangevar(rv),
                    concurrently: s.concurrent,
                    with_data: !s.skip_data,
                }],
                None => vec![Op::Other { kind: "RefreshMatViewStmt".to_string() }],
            },
            N::LockStmt(s) => vec![Op::LockTable { tables: self.rangevars(&s.relations), mode: lock_mode(s.mode) }],
            N::DoStmt(_) => vec![Op::DoBlock],
            N::CreateTableAsStmt(s) => vec![self.create_table_as(s)],
            N::ViewStmt(s) => vec![Op::Create {
                kind: ObjectKind::View,
                name: self.rangevar_opt(s.view.as_ref()),
                if_not_exists: false,
                or_replace: s.replace,
                table: None,
            }],
            N::CreateSchemaStmt(s) => {
                let name = if s.schemaname.is_empty() {
                    s.authrole.as_ref().map(|r| r.rolename.clone()).unwrap_or_default()
                } else {
                    s.schemaname.clone()
                };
                vec![self.create(ObjectKind::Schema, Some(vec![name]), s.if_not_exists, false)]
            }
            N::CreateSeqStmt(s) => vec![Op::Create {
                kind: ObjectKind::Sequence,
                name: self.rangevar_opt(s.sequence.as_ref()),
                if_not_exists: s.if_not_exists,
                or_replace: false,
                table: None,
            }],
            N::CreateEnumStmt(s) => {
                let parts = strings(&s.type_name);
                let name = self.qname_parts(&parts, self.cx.span.start, false);
                vec![Op::CreateEnumType { name, values: strings(&s.vals) }]
            }
            N::CreateRangeStmt(s) => vec![self.create(ObjectKind::Type, Some(strings(&s.type_name)), false, false)],
            N::CreateDomainStmt(s) => {
                vec![self.create(ObjectKind::Type, Some(strings(&s.domainname)), false, false)]
            }
            N::CompositeTypeStmt(s) => vec![Op::Create {
                kind: ObjectKind::Type,
                name: self.rangevar_opt(s.typevar.as_ref()),
                if_not_exists: false,
                or_replace: false,
                table: None,
            }],
            N::DefineStmt(s) if s.kind == pb::ObjectType::ObjectType as i32 => {
                vec![self.create(ObjectKind::Type, Some(strings(&s.defnames)), s.if_not_exists, s.replace)]
            }
            N::CreateFunctionStmt(s) => {
                let kind = if s.is_procedure { ObjectKind::Procedure } else { ObjectKind::Function };
                vec![self.create(kind, Some(strings(&s.funcname)), false, s.replace)]
            }
            N::CreateTrigStmt(s) => {
                let name = self.qname_parts(std::slice::from_ref(&s.trigname), self.cx.span.start, true);
                vec![Op::Create {
                    kind: ObjectKind::Trigger,
                    name: Some(name),
                    if_not_exists: false,
                    or_replace: s.replace,
                    table: self.rangevar_opt(s.relation.as_ref()),
                }]
            }
            N::CreateExtensionStmt(s) => {
                vec![self.create(ObjectKind::Extension, Some(vec![s.extname.clone()]), s.if_not_exists, false)]
            }
            N::CreatedbStmt(s) => vec![self.create(ObjectKind::Database, Some(vec![s.dbname.clone()]), false, false)],
            N::AlterEnumStmt(s) if s.old_val.is_empty() => vec![Op::AlterEnumAddValue {
                type_name: self.qname_parts(&strings(&s.type_name), self.cx.span.start, false),
                value: s.new_val.clone(),
                if_not_exists: s.skip_if_new_val_exists,
                positioned: !s.new_val_neighbor.is_empty(),
            }],
            _ => Self::other(n),
        }
    }

    fn create(&self, kind: ObjectKind, parts: Option<Vec<String>>, if_not_exists: bool, or_replace: bool) -> Op {
        let name = parts.filter(|p| !p.is_empty()).map(|p| self.qname_parts(&p, self.cx.span.start, false));
        Op::Create { kind, name, if_not_exists, or_replace, table: None }
    }

    fn create_table(&self, s: &pb::CreateStmt) -> Op {
        let name = match &s.relation {
            Some(r) => self.rangevar(r),
            None => QualifiedName { schema: None, name: String::new(), span: self.cx.span },
        };
        let mut columns = Vec::new();
        let mut constraints = Vec::new();
        let mut as_select = false;
        for e in s.table_elts.iter().filter_map(inner) {
            match e {
                N::ColumnDef(cd) => columns.push(self.column(cd, self.cx.span)),
                N::Constraint(c) => {
                    let span = self.clause_at(c.location, self.cx.span);
                    constraints.extend(self.constraint(c, span));
                }
                N::TableLikeClause(_) => as_select = true,
                _ => {}
            }
        }
        for c in s.constraints.iter().filter_map(inner) {
            if let N::Constraint(c) = c {
                let span = self.clause_at(c.location, self.cx.span);
                constraints.extend(self.constraint(c, span));
            }
        }
        let partition_of = if s.partbound.is_some() {
            s.inh_relations.iter().find_map(|n| match inner(n) {
                Some(N::RangeVar(r)) => Some(self.rangevar(r)),
                _ => None,
            })
        } else {
            None
        };
        let temporary = s.relation.as_ref().is_some_and(|r| r.relpersistence == "t");
        Op::CreateTable {
            name,
            if_not_exists: s.if_not_exists,
            temporary,
            columns,
            constraints,
            as_select,
            partition_of,
            charset: None,
        }
    }

    fn create_table_as(&self, s: &pb::CreateTableAsStmt) -> Op {
        let rel = s.into.as_ref().and_then(|i| i.rel.as_ref());
        let name = self.rangevar_opt(rel);
        if s.objtype == pb::ObjectType::ObjectMatview as i32 {
            return Op::Create {
                kind: ObjectKind::MaterializedView,
                name,
                if_not_exists: s.if_not_exists,
                or_replace: false,
                table: None,
            };
        }
        Op::CreateTable {
            name: name.unwrap_or(QualifiedName { schema: None, name: String::new(), span: self.cx.span }),
            if_not_exists: s.if_not_exists,
            temporary: rel.is_some_and(|r| r.relpersistence == "t"),
            columns: Vec::new(),
            constraints: Vec::new(),
            as_select: true,
            partition_of: None,
            charset: None,
        }
    }

    fn select(&self, s: &pb::SelectStmt) -> Op {
        if let Some(into) = &s.into_clause {
            let rel = into.rel.as_ref();
            return Op::CreateTable {
                name: self.rangevar_opt(rel).unwrap_or(QualifiedName {
                    schema: None,
                    name: String::new(),
                    span: self.cx.span,
                }),
                if_not_exists: false,
                temporary: rel.is_some_and(|r| r.relpersistence == "t"),
                columns: Vec::new(),
                constraints: Vec::new(),
                as_select: true,
                partition_of: None,
                charset: None,
            };
        }
        // `WITH d AS (...) SELECT ... FROM d` reads the CTE, not a table called `d`.
        let table = s.from_clause.first().and_then(inner).and_then(|n| match n {
            N::RangeVar(r) if !(r.schemaname.is_empty() && names_cte(s.with_clause.as_ref(), &r.relname)) => {
                Some(self.rangevar(r))
            }
            _ => None,
        });
        Op::Dml { kind: DmlKind::Select, table, has_where: s.where_clause.is_some(), has_limit: false }
    }

    fn dml(&self, kind: DmlKind, rel: Option<&pb::RangeVar>, has_where: bool) -> Op {
        Op::Dml { kind, table: self.rangevar_opt(rel), has_where, has_limit: false }
    }

    /// `op` after the statements of the data-modifying CTEs in `with`
    /// (`WITH d AS (DELETE FROM t RETURNING *) INSERT INTO archive SELECT * FROM d`): each of them
    /// runs to completion whether or not the statement reads its rows, so each is an operation
    /// of its own, in the order written.
    fn after_ctes(&self, with: Option<&pb::WithClause>, op: Op) -> Vec<Op> {
        let mut ops = Vec::new();
        for cte in with.map_or(&[][..], |w| &w.ctes[..]) {
            let Some(N::CommonTableExpr(c)) = inner(cte) else { continue };
            if let Some(q @ (N::InsertStmt(_) | N::UpdateStmt(_) | N::DeleteStmt(_) | N::MergeStmt(_))) =
                boxed(&c.ctequery)
            {
                ops.extend(self.stmt(q));
            }
        }
        ops.push(op);
        ops
    }

    fn alter_table(&self, s: &pb::AlterTableStmt, n: &N) -> Vec<Op> {
        use pb::ObjectType as T;
        match T::try_from(s.objtype) {
            Ok(T::ObjectTable) => {}
            Ok(T::ObjectIndex) => return vec![Op::Other { kind: "AlterIndex".into() }],
            Ok(T::ObjectView) => return vec![Op::Other { kind: "AlterView".into() }],
            Ok(T::ObjectMatview) => return vec![Op::Other { kind: "AlterMaterializedView".into() }],
            Ok(T::ObjectSequence) => return vec![Op::Other { kind: "AlterSequence".into() }],
            Ok(T::ObjectForeignTable) => return vec![Op::Other { kind: "AlterForeignTable".into() }],
            Ok(T::ObjectType) => return vec![Op::Other { kind: "AlterType".into() }],
            _ => return Self::other(n),
        }
        let Some(rel) = &s.relation else { return Self::other(n) };
        let name = self.rangevar(rel);
        let clauses = self.cx.alter_clauses();
        let cmds: Vec<&pb::AlterTableCmd> = s
            .cmds
            .iter()
            .filter_map(|c| match inner(c) {
                Some(N::AlterTableCmd(c)) => Some(c.as_ref()),
                _ => None,
            })
            .collect();
        let actions = cmds
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let span = if clauses.len() == cmds.len() { clauses[i] } else { self.cx.span };
                AlterAction { kind: self.alter_cmd(c, span), span }
            })
            .collect();
        vec![Op::AlterTable { name, if_exists: s.missing_ok, only: !rel.inh, actions }]
    }

    fn alter_cmd(&self, c: &pb::AlterTableCmd, clause: Span) -> AlterActionKind {
        use pb::AlterTableType as A;
        let Ok(t) = A::try_from(c.subtype) else {
            return AlterActionKind::Other { kind: format!("AT_{}", c.subtype) };
        };
        let col = || self.clause_ident(&c.name, clause);
        let other = || AlterActionKind::Other { kind: t.as_str_name().to_string() };
        match t {
            A::AtAddColumn => match boxed(&c.def) {
                Some(N::ColumnDef(cd)) => {
                    AlterActionKind::AddColumn { column: self.column(cd, clause), if_not_exists: c.missing_ok }
                }
                _ => other(),
            },
            A::AtColumnDefault => match boxed(&c.def) {
                Some(e) => AlterActionKind::SetDefault { column: col(), expr: self.expr(e, clause.end) },
                None => AlterActionKind::DropDefault { column: col() },
            },
            A::AtSetNotNull => AlterActionKind::SetNotNull { column: col() },
            A::AtDropNotNull => AlterActionKind::DropNotNull { column: col() },
            A::AtDropColumn => {
                AlterActionKind::DropColumn { name: col(), if_exists: c.missing_ok, cascade: is_cascade(c.behavior) }
            }
            A::AtAddConstraint | A::AtAddIndexConstraint | A::AtReAddConstraint => match boxed(&c.def) {
                Some(N::Constraint(k)) => {
                    let span = self.clause_at(k.location, clause);
                    self.constraint(k, span).map_or_else(other, AlterActionKind::AddConstraint)
                }
                _ => other(),
            },
            A::AtAlterColumnType => match boxed(&c.def) {
                Some(N::ColumnDef(cd)) => {
                    let column = col();
                    let new_type = self.type_name(cd.type_name.as_ref(), clause.end);
                    let using = self.expr_opt(&cd.raw_default, clause.end);
                    AlterActionKind::AlterColumnType { column, new_type, using, new_definition: None, rename_to: None }
                }
                _ => other(),
            },
            A::AtValidateConstraint => AlterActionKind::ValidateConstraint { name: col() },
            A::AtDropConstraint => AlterActionKind::DropConstraint {
                name: col(),
                if_exists: c.missing_ok,
                cascade: is_cascade(c.behavior),
            },
            A::AtSetTableSpace => AlterActionKind::SetTablespace,
            A::AtSetLogged => AlterActionKind::SetLogged { logged: true },
            A::AtSetUnLogged => AlterActionKind::SetLogged { logged: false },
            A::AtAttachPartition | A::AtDetachPartition | A::AtDetachPartitionFinalize => match boxed(&c.def) {
                Some(N::PartitionCmd(p)) => {
                    let partition = match &p.name {
                        Some(r) => self.rangevar(r),
                        None => QualifiedName { schema: None, name: String::new(), span: clause },
                    };
                    if t == A::AtAttachPartition {
                        AlterActionKind::AttachPartition { partition }
                    } else {
                        // FINALIZE completes a concurrent detach and takes the same weak lock.
                        let concurrently = p.concurrent || t == A::AtDetachPartitionFinalize;
                        AlterActionKind::DetachPartition { partition, concurrently }
                    }
                }
                _ => other(),
            },
            A::AtEnableTrig
            | A::AtEnableAlwaysTrig
            | A::AtEnableReplicaTrig
            | A::AtDisableTrig
            | A::AtEnableTrigAll
            | A::AtDisableTrigAll
            | A::AtEnableTrigUser
            | A::AtDisableTrigUser => AlterActionKind::EnableDisableTrigger,
            A::AtSetStatistics => AlterActionKind::SetOption(SetOptionKind::Statistics),
            A::AtSetOptions | A::AtResetOptions => AlterActionKind::SetOption(SetOptionKind::ColumnOptions),
            A::AtSetStorage | A::AtSetCompression => AlterActionKind::SetOption(SetOptionKind::ColumnStorage),
            A::AtSetRelOptions | A::AtResetRelOptions | A::AtReplaceRelOptions => {
                let names = match boxed(&c.def) {
                    Some(N::List(l)) => l
                        .items
                        .iter()
                        .filter_map(|n| match inner(n) {
                            Some(N::DefElem(d)) if d.defnamespace.is_empty() => Some(d.defname.to_ascii_lowercase()),
                            Some(N::DefElem(d)) => {
                                Some(format!("{}.{}", d.defnamespace, d.defname).to_ascii_lowercase())
                            }
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                AlterActionKind::SetOption(SetOptionKind::StorageParameters(names))
            }
            _ => other(),
        }
    }

    fn rename(&self, s: &pb::RenameStmt, n: &N) -> Vec<Op> {
        use pb::ObjectType as T;
        let rt = T::try_from(s.rename_type).ok();
        let to_span = |after: usize| {
            let from = self.cx.word_after("to", after).map_or(after, |t| t.end);
            self.find_ident(&s.newname, from, self.cx.span.end)
                .or_else(|| self.find_ident(&s.newname, self.cx.span.start, self.cx.span.end))
                .unwrap_or(self.cx.span)
        };
        let relation = s.relation.as_ref();
        match rt {
            Some(T::ObjectTable) if s.subname.is_empty() => {
                let Some(rel) = relation else { return Self::other(n) };
                let from = self.rangevar(rel);
                let to = QualifiedName {
                    schema: from.schema.clone(),
                    name: s.newname.clone(),
                    span: to_span(from.span.end),
                };
                vec![Op::RenameTable { from, to }]
            }
            Some(T::ObjectColumn | T::ObjectTabconstraint) => {
                let Some(rel) = relation else { return Self::other(n) };
                let is_table = T::try_from(s.relation_type) == Ok(T::ObjectTable) || rt == Some(T::ObjectTabconstraint);
                if !is_table {
                    return Self::other(n);
                }
                let name = self.rangevar(rel);
                let clauses = self.cx.alter_clauses();
                let clause = if clauses.len() == 1 { clauses[0] } else { self.cx.span };
                let from = self.clause_ident(&s.subname, clause);
                let to = Ident::new(s.newname.clone(), to_span(from.span.end));
                let kind = if rt == Some(T::ObjectColumn) {
                    AlterActionKind::RenameColumn { from, to }
                } else {
                    AlterActionKind::RenameConstraint { from, to }
                };
                vec![Op::AlterTable {
                    name,
                    if_exists: s.missing_ok,
                    only: !rel.inh,
                    actions: vec![AlterAction { kind, span: clause }],
                }]
            }
            _ => {
                let from = if let (Some(rel), true) = (relation, s.subname.is_empty()) {
                    self.rangevar(rel)
                } else if !s.subname.is_empty() {
                    self.qname_parts(std::slice::from_ref(&s.subname), self.cx.span.start, true)
                } else {
                    let parts = boxed(&s.object).map(object_parts).unwrap_or_default();
                    if parts.is_empty() {
                        return Self::other(n);
                    }
                    self.qname_parts(&parts, self.cx.span.start, table_scoped(s.rename_type))
                };
                let to = Ident::new(s.newname.clone(), to_span(from.span.end));
                vec![Op::RenameObject { kind: object_kind(s.rename_type), from, to }]
            }
        }
    }

    fn create_index(&self, s: &pb::IndexStmt) -> Op {
        let keyword_span = self.cx.words_span(&["create", "index"], &["unique"]).unwrap_or(self.cx.span);
        let table = match &s.relation {
            Some(r) => self.rangevar(r),
            None => QualifiedName { schema: None, name: String::new(), span: self.cx.span },
        };
        let name = (!s.idxname.is_empty()).then(|| {
            let to = if table.span.start > keyword_span.end { table.span.start } else { self.cx.span.end };
            let span = self.find_ident(&s.idxname, keyword_span.end, to).unwrap_or(keyword_span);
            Ident::new(s.idxname.clone(), span)
        });
        let mut from = table.span.end;
        let columns = s
            .index_params
            .iter()
            .filter_map(inner)
            .filter_map(|p| match p {
                N::IndexElem(ie) => Some(ie),
                _ => None,
            })
            .map(|ie| {
                if !ie.name.is_empty() {
                    let span = self.find_ident(&ie.name, from, self.cx.span.end).unwrap_or(self.cx.span);
                    if span != self.cx.span {
                        from = span.end;
                    }
                    IndexColumn { name: Some(Ident::new(ie.name.clone(), span)), span }
                } else {
                    let span = boxed(&ie.expr).map_or(self.cx.span, |e| self.expr_span(e, self.cx.span.end));
                    if !span.is_empty() {
                        from = span.end;
                    }
                    IndexColumn { name: None, span }
                }
            })
            .collect();
        Op::CreateIndex {
            name,
            table,
            unique: s.unique,
            concurrently: s.concurrent,
            if_not_exists: s.if_not_exists,
            columns,
            has_where: s.where_clause.is_some(),
            algorithm: None,
            lock: None,
            keyword_span,
        }
    }

    fn drop(&self, s: &pb::DropStmt) -> Op {
        let scoped = table_scoped(s.remove_type);
        let mut from = self.cx.span.start;
        let names: Vec<QualifiedName> = s
            .objects
            .iter()
            .filter_map(inner)
            .map(object_parts)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let q = self.qname_parts(&p, from, scoped);
                if q.span != self.cx.span {
                    from = q.span.end;
                }
                q
            })
            .collect();
        let cascade = is_cascade(s.behavior);
        if s.remove_type == pb::ObjectType::ObjectIndex as i32 {
            let keyword_span = self.cx.words_span(&["drop", "index"], &[]).unwrap_or(self.cx.span);
            return Op::DropIndex {
                names,
                concurrently: s.concurrent,
                if_exists: s.missing_ok,
                cascade,
                table: None,
                keyword_span,
            };
        }
        Op::Drop { kind: object_kind(s.remove_type), names, if_exists: s.missing_ok, cascade }
    }

    fn set(&self, s: &pb::VariableSetStmt) -> Op {
        use pb::VariableSetKind as K;
        let name = if s.name.is_empty() { "all".to_string() } else { s.name.to_ascii_lowercase() };
        let value = match K::try_from(s.kind) {
            Ok(K::VarSetValue) => {
                s.args.iter().filter_map(inner).map(|a| self.set_arg(a)).collect::<Vec<_>>().join(", ")
            }
            Ok(K::VarSetCurrent) => "current".to_string(),
            Ok(K::VarSetMulti) => s
                .args
                .iter()
                .filter_map(inner)
                .map(|a| match a {
                    N::DefElem(d) => match boxed(&d.arg) {
                        Some(v) => format!("{} {}", d.defname, self.set_arg(v)),
                        None => d.defname.clone(),
                    },
                    other => self.set_arg(other),
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => "default".to_string(),
        };
        Op::Set { name, value, local: s.is_local }
    }

    fn set_arg(&self, a: &N) -> String {
        match a {
            N::AConst(c) => match &c.val {
                Some(pb::a_const::Val::Sval(s)) => s.sval.clone(),
                Some(pb::a_const::Val::Ival(i)) => i.ival.to_string(),
                Some(pb::a_const::Val::Fval(f)) => f.fval.clone(),
                Some(pb::a_const::Val::Boolval(b)) => b.boolval.to_string(),
                Some(pb::a_const::Val::Bsval(b)) => b.bsval.clone(),
                None => "null".to_string(),
            },
            N::String(s) => s.sval.clone(),
            N::Integer(i) => i.ival.to_string(),
            other => self.cx.slice(self.expr_span(other, self.cx.span.end)).to_string(),
        }
    }

    fn reindex(&self, s: &pb::ReindexStmt) -> Op {
        let concurrently = s.params.iter().any(|p| def_flag(p, "concurrently"));
        let target = match &s.relation {
            Some(r) => Some(self.rangevar(r)),
            None if !s.name.is_empty() => {
                Some(self.qname_parts(std::slice::from_ref(&s.name), self.cx.span.start, false))
            }
            None => None,
        };
        let kind = match pb::ReindexObjectType::try_from(s.kind) {
            Ok(pb::ReindexObjectType::ReindexObjectIndex) => ObjectKind::Index,
            Ok(pb::ReindexObjectType::ReindexObjectTable) => ObjectKind::Table,
            Ok(pb::ReindexObjectType::ReindexObjectSchema) => ObjectKind::Schema,
            Ok(pb::ReindexObjectType::ReindexObjectDatabase) => ObjectKind::Database,
            _ => ObjectKind::Other,
        };
        Op::Reindex { concurrently, kind, target }
    }
}

/// Whether a type name was written without a schema (`serial` is only magic unqualified).
fn tn_unqualified(tn: Option<&pb::TypeName>) -> bool {
    tn.is_some_and(|t| t.names.len() == 1)
}

/// A boolean `DefElem` option such as `(CONCURRENTLY)`, `(FULL true)` or `(FULL off)`.
fn def_flag(n: &pb::Node, name: &str) -> bool {
    let Some(N::DefElem(d)) = inner(n) else { return false };
    if !d.defname.eq_ignore_ascii_case(name) {
        return false;
    }
    match boxed(&d.arg) {
        None => true,
        Some(N::Boolean(b)) => b.boolval,
        Some(N::Integer(i)) => i.ival != 0,
        Some(N::String(s)) => !matches!(s.sval.to_ascii_lowercase().as_str(), "false" | "off" | "0" | "no"),
        Some(N::AConst(c)) => match &c.val {
            Some(pb::a_const::Val::Boolval(b)) => b.boolval,
            Some(pb::a_const::Val::Ival(i)) => i.ival != 0,
            Some(pb::a_const::Val::Sval(s)) => {
                !matches!(s.sval.to_ascii_lowercase().as_str(), "false" | "off" | "0" | "no")
            }
            _ => true,
        },
        Some(_) => true,
    }
}

fn transaction_op(kind: i32) -> TransactionOp {
    use pb::TransactionStmtKind as K;
    match K::try_from(kind) {
        Ok(K::TransStmtBegin | K::TransStmtStart) => TransactionOp::Begin,
        Ok(K::TransStmtCommit) => TransactionOp::Commit,
        Ok(K::TransStmtRollback) => TransactionOp::Rollback,
        Ok(K::TransStmtSavepoint) => TransactionOp::Savepoint,
        Ok(K::TransStmtRelease) => TransactionOp::ReleaseSavepoint,
        Ok(K::TransStmtRollbackTo) => TransactionOp::RollbackToSavepoint,
        _ => TransactionOp::Other,
    }
}

fn lock_mode(mode: i32) -> String {
    match mode {
        1 => "ACCESS SHARE",
        2 => "ROW SHARE",
        3 => "ROW EXCLUSIVE",
        4 => "SHARE UPDATE EXCLUSIVE",
        5 => "SHARE",
        6 => "SHARE ROW EXCLUSIVE",
        7 => "EXCLUSIVE",
        _ => "ACCESS EXCLUSIVE",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::parse::{parse_file, ParsedFile};
    use crate::Dialect;
    use pg_query::protobuf as pb;

    /// The location scan finds what searching the whole Debug text finds, written in one piece
    /// or byte by byte, on every statement of the corpus and on text made to trip it.
    #[test]
    fn min_location_matches_a_search_of_the_debug_text() {
        use std::fmt::Write as _;
        fn reference(dbg: &str) -> Option<usize> {
            let (key, bytes, mut from, mut min) = ("location: ", dbg.as_bytes(), 0, None::<usize>);
            while let Some(i) = dbg.get(from..).and_then(|s| s.find(key)) {
                let at = from + i;
                from = at + key.len();
                if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                    continue;
                }
                let digits: String = dbg[from..].chars().take_while(char::is_ascii_digit).collect();
                if let Ok(v) = digits.parse::<usize>() {
                    min = Some(min.map_or(v, |m| m.min(v)));
                }
            }
            min
        }
        let scan = |text: &str, piecewise: bool| {
            let mut s = super::LocationScan::default();
            if piecewise {
                text.bytes().for_each(|b| s.byte(b));
            } else {
                let _ = s.write_str(text);
            }
            s.finish()
        };
        let tricky = [
            "",
            "location: ",
            "location: 7",
            "xlocation: 3, location: 9",
            "_location: 1 location: -1",
            "llocation: 4",
            "location: location: 5",
            "locationlocation: 2",
            "location: 99999999999999999999999",
            "a { location: 12 }, b { location: 3 } location: 40",
        ];
        for t in tricky {
            assert_eq!(scan(t, false), reference(t), "{t:?}");
            assert_eq!(scan(t, true), reference(t), "{t:?}");
        }
        let (corpus, _) = crate::parse::postgres_test_corpus();
        let mut compared = 0;
        for (_, text) in &corpus {
            let Ok(parsed) = crate::parse::parse_pg_tree(text) else { continue };
            for raw in &parsed.stmts {
                let Some(node) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) else { continue };
                let dbg = format!("{node:?}");
                assert_eq!(super::min_location(node), reference(&dbg), "{dbg}");
                compared += 1;
            }
        }
        assert!(compared > 100, "only {compared} statements compared");
    }

    fn parse(src: &str) -> ParsedFile {
        let f = parse_file(src, Dialect::Postgres);
        for s in &f.statements {
            assert!(s.is_parsed(), "{:?}", s.status);
        }
        f
    }

    fn ops(src: &str) -> Vec<Op> {
        parse(src).statements.into_iter().flat_map(|s| s.ops).collect()
    }

    fn one(src: &str) -> Op {
        let mut o = ops(src);
        assert_eq!(o.len(), 1, "{o:#?}");
        o.remove(0)
    }

    fn actions(src: &str) -> Vec<AlterAction> {
        match one(src) {
            Op::AlterTable { actions, .. } => actions,
            o => panic!("{o:#?}"),
        }
    }

    fn action(src: &str) -> AlterActionKind {
        let mut a = actions(src);
        assert_eq!(a.len(), 1);
        a.remove(0).kind
    }

    fn added_column(src: &str) -> ColumnDef {
        match action(src) {
            AlterActionKind::AddColumn { column, .. } => column,
            a => panic!("{a:#?}"),
        }
    }

    fn default_of(src: &str) -> Expr {
        added_column(src).default.expect("default")
    }

    #[test]
    fn create_table_columns_and_constraints() {
        let src = "CREATE TABLE IF NOT EXISTS s.t (\n  id bigserial PRIMARY KEY,\n  a varchar(20) NOT NULL DEFAULT 'x' COLLATE \"C\",\n  b int REFERENCES o(id),\n  c numeric(10,2)[] CHECK (c > 0),\n  d int GENERATED ALWAYS AS IDENTITY,\n  e text GENERATED ALWAYS AS (lower(a)) STORED,\n  CONSTRAINT ck CHECK (a <> ''),\n  UNIQUE (a, b),\n  FOREIGN KEY (b, d) REFERENCES s.o (x, y)\n);";
        let Op::CreateTable { name, if_not_exists, temporary, columns, constraints, as_select, partition_of, .. } =
            one(src)
        else {
            panic!()
        };
        assert_eq!(name.display(), "s.t");
        assert_eq!(name.span.slice(src), "s.t");
        assert!(if_not_exists && !temporary && !as_select && partition_of.is_none());
        assert_eq!(columns.len(), 6);
        let id = &columns[0];
        assert_eq!(id.name.name, "id");
        assert_eq!(id.name.span.slice(src), "id");
        assert_eq!(id.type_name.name, "bigserial");
        assert!(id.identity && id.primary_key && id.not_null);
        assert_eq!(id.span.slice(src), "id bigserial PRIMARY KEY");
        let a = &columns[1];
        assert_eq!(a.type_name.name, "varchar");
        assert_eq!(a.type_name.modifiers, vec![20]);
        assert_eq!(a.type_name.text, "varchar(20)");
        assert!(a.not_null && !a.identity);
        let d = a.default.as_ref().expect("default");
        assert_eq!(d.text, "'x'");
        assert_eq!(d.volatility, Volatility::Constant);
        let b = &columns[2];
        assert_eq!(b.type_name.name, "int4");
        assert_eq!(b.type_name.text, "int");
        let r = b.references.as_ref().expect("references");
        assert_eq!(r.table.name, "o");
        assert_eq!(r.columns[0].name, "id");
        assert_eq!(r.columns[0].span.slice(src), "id");
        assert_eq!(r.span.slice(src), "REFERENCES o(id)");
        let c = &columns[3];
        assert_eq!(c.type_name.name, "numeric");
        assert_eq!(c.type_name.modifiers, vec![10, 2]);
        assert!(c.type_name.array);
        assert_eq!(c.type_name.text, "numeric(10,2)[]");
        assert_eq!(c.check.as_ref().map(|e| e.text.as_str()), Some("c > 0"));
        assert!(columns[4].identity);
        assert_eq!(columns[4].name.name, "d");
        assert!(columns[5].generated.is_some());
        assert_eq!(constraints.len(), 3);
        match &constraints[0] {
            Constraint { name: Some(n), kind: ConstraintKind::Check { expr }, span, .. } => {
                assert_eq!(n.name, "ck");
                assert_eq!(n.span.slice(src), "ck");
                assert_eq!(expr.text, "a <> ''");
                assert_eq!(span.slice(src), "CONSTRAINT ck CHECK (a <> '')");
            }
            c => panic!("{c:#?}"),
        }
        match &constraints[1] {
            Constraint { name: None, kind: ConstraintKind::Unique, columns, .. } => {
                assert_eq!(columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
                assert_eq!(columns[1].span.slice(src), "b");
            }
            c => panic!("{c:#?}"),
        }
        match &constraints[2] {
            Constraint { kind: ConstraintKind::ForeignKey { target }, columns, .. } => {
                assert_eq!(columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["b", "d"]);
                assert_eq!(target.table.display(), "s.o");
                assert_eq!(target.span.slice(src), "REFERENCES s.o (x, y)");
                assert_eq!(target.columns[1].span.slice(src), "y");
            }
            c => panic!("{c:#?}"),
        }
    }

    #[test]
    fn generated_stored() {
        let src = "CREATE TABLE t (a text, e text GENERATED ALWAYS AS (lower(a)) STORED NOT NULL)";
        let Op::CreateTable { columns, .. } = one(src) else { panic!() };
        let (kind, e) = columns[1].generated.clone().expect("generated");
        assert_eq!(kind, GeneratedKind::Stored);
        assert_eq!(e.text, "lower(a)");
        assert!(columns[1].not_null);
        assert!(!columns[1].identity);
    }

    #[test]
    fn create_table_variants() {
        match one("CREATE TEMP TABLE t (a int)") {
            Op::CreateTable { temporary, .. } => assert!(temporary),
            o => panic!("{o:#?}"),
        }
        match one("CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)") {
            Op::CreateTable { partition_of: Some(p), .. } => assert_eq!(p.name, "p"),
            o => panic!("{o:#?}"),
        }
        match one("CREATE TABLE t AS SELECT * FROM u") {
            Op::CreateTable { name, as_select, .. } => {
                assert!(as_select);
                assert_eq!(name.name, "t");
            }
            o => panic!("{o:#?}"),
        }
        match one("SELECT * INTO n FROM o") {
            Op::CreateTable { name, as_select, .. } => {
                assert!(as_select);
                assert_eq!(name.name, "n");
            }
            o => panic!("{o:#?}"),
        }
        match one("CREATE TABLE t (LIKE u INCLUDING ALL)") {
            Op::CreateTable { as_select, .. } => assert!(as_select),
            o => panic!("{o:#?}"),
        }
        assert_eq!(
            one("CREATE MATERIALIZED VIEW IF NOT EXISTS mv AS SELECT 1"),
            Op::Create {
                kind: ObjectKind::MaterializedView,
                name: Some(QualifiedName { schema: None, name: "mv".into(), span: crate::Span::new(39, 41) }),
                if_not_exists: true,
                or_replace: false,
                table: None,
            }
        );
    }

    #[test]
    fn add_column_defaults_volatility() {
        for (sql, text, v) in [
            ("now()", "now()", Volatility::Stable),
            ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP", Volatility::Stable),
            ("random()", "random()", Volatility::Volatile),
            ("gen_random_uuid()", "gen_random_uuid()", Volatility::Volatile),
            ("'x'", "'x'", Volatility::Constant),
            ("0", "0", Volatility::Constant),
            ("-1", "-1", Volatility::Constant),
            ("nextval('s')", "nextval('s')", Volatility::Volatile),
            ("nextval('s'::regclass)", "nextval('s'::regclass)", Volatility::Volatile),
            ("'{}'::jsonb", "'{}'::jsonb", Volatility::Constant),
            ("('a')::text", "('a')::text", Volatility::Constant),
            ("(now())", "(now())", Volatility::Stable),
            ("lower('A')", "lower('A')", Volatility::Constant),
            ("my_func()", "my_func()", Volatility::Volatile),
            ("public.uuid_generate_v4()", "public.uuid_generate_v4()", Volatility::Volatile),
            ("1 + 2", "1 + 2", Volatility::Constant),
            ("ARRAY[1, 2]", "ARRAY[1, 2]", Volatility::Constant),
            ("clock_timestamp() + interval '1 day'", "clock_timestamp() + interval '1 day'", Volatility::Volatile),
            ("coalesce(NULL, 1)", "coalesce(NULL, 1)", Volatility::Constant),
            ("CASE WHEN true THEN 1 ELSE 2 END", "CASE WHEN true THEN 1 ELSE 2 END", Volatility::Constant),
        ] {
            let src = format!("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT {sql} CHECK (c IS NOT NULL)");
            let e = default_of(&src);
            assert_eq!(e.text, text, "{sql}");
            assert_eq!(e.span.slice(&src), text, "{sql}");
            assert_eq!(e.volatility, v, "{sql}");
            assert!(!e.is_null);
            let src = format!("ALTER TABLE t ADD COLUMN c int DEFAULT {sql} NOT NULL, ADD COLUMN d int");
            assert_eq!(default_of_first(&src).text, text, "{sql}");
        }
        let e = default_of("ALTER TABLE t ADD COLUMN c int DEFAULT NULL");
        assert!(e.is_null);
        assert_eq!(e.text, "NULL");
    }

    fn default_of_first(src: &str) -> Expr {
        match actions(src).remove(0).kind {
            AlterActionKind::AddColumn { column, .. } => column.default.expect("default"),
            a => panic!("{a:#?}"),
        }
    }

    #[test]
    fn add_column_flags() {
        let src = "ALTER TABLE ONLY public.t ADD COLUMN IF NOT EXISTS id serial";
        match one(src) {
            Op::AlterTable { name, only, if_exists, actions } => {
                assert!(only && !if_exists);
                assert_eq!(name.span.slice(src), "public.t");
                assert_eq!(name.schema.as_deref(), Some("public"));
                match &actions[0].kind {
                    AlterActionKind::AddColumn { column, if_not_exists } => {
                        assert!(*if_not_exists);
                        assert!(column.identity);
                        assert_eq!(column.name.span.slice(src), "id");
                        assert_eq!(column.span.slice(src), "id serial");
                    }
                    a => panic!("{a:#?}"),
                }
                assert_eq!(actions[0].span.slice(src), "ADD COLUMN IF NOT EXISTS id serial");
            }
            o => panic!("{o:#?}"),
        }
        let col = added_column("ALTER TABLE t ADD c timestamp with time zone NOT NULL");
        assert_eq!(col.type_name.name, "timestamptz");
        assert_eq!(col.type_name.text, "timestamp with time zone");
        assert!(col.not_null);
        let col = added_column("ALTER TABLE t ADD c my_enum");
        assert_eq!(col.type_name.name, "my_enum");
        let col = added_column("ALTER TABLE t ADD c char(3) REFERENCES x");
        assert_eq!(col.type_name.name, "bpchar");
        assert_eq!(col.references.map(|r| r.table.name), Some("x".to_string()));
    }

    #[test]
    fn multi_subcommand_alter() {
        let src = "ALTER TABLE t\n  ADD CONSTRAINT fk FOREIGN KEY (b) REFERENCES o(id) NOT VALID,\n  ADD CONSTRAINT pk PRIMARY KEY USING INDEX i,\n  ALTER COLUMN a TYPE varchar(10) USING a::varchar,\n  DROP COLUMN IF EXISTS x CASCADE,\n  ALTER COLUMN a SET NOT NULL,\n  ALTER a DROP NOT NULL,\n  ALTER COLUMN a SET DEFAULT now(),\n  ALTER COLUMN a DROP DEFAULT,\n  VALIDATE CONSTRAINT fk,\n  DROP CONSTRAINT IF EXISTS old,\n  SET (fillfactor = 70),\n  ALTER COLUMN a SET STATISTICS 100,\n  SET TABLESPACE fast,\n  SET UNLOGGED,\n  DISABLE TRIGGER ALL,\n  CLUSTER ON idx,\n  ADD CONSTRAINT ck CHECK (a > 0) NOT VALID";
        let acts = actions(src);
        let texts: Vec<&str> = acts.iter().map(|a| a.span.slice(src)).collect();
        assert_eq!(texts.len(), 17);
        assert_eq!(texts[0], "ADD CONSTRAINT fk FOREIGN KEY (b) REFERENCES o(id) NOT VALID");
        assert_eq!(texts[3], "DROP COLUMN IF EXISTS x CASCADE");
        match &acts[0].kind {
            AlterActionKind::AddConstraint(c) => {
                assert!(c.not_valid);
                assert_eq!(c.name.as_ref().map(|n| n.span.slice(src)), Some("fk"));
                assert_eq!(c.columns[0].span.slice(src), "b");
                let ConstraintKind::ForeignKey { target } = &c.kind else { panic!() };
                assert_eq!(target.span.slice(src), "REFERENCES o(id) NOT VALID");
                assert_eq!(target.columns[0].span.slice(src), "id");
            }
            a => panic!("{a:#?}"),
        }
        match &acts[1].kind {
            AlterActionKind::AddConstraint(c) => {
                assert!(!c.not_valid);
                assert_eq!(c.kind, ConstraintKind::PrimaryKey);
                let u = c.using_index.as_ref().expect("using index");
                assert_eq!(u.name, "i");
                assert_eq!(u.span.slice(src), "i");
            }
            a => panic!("{a:#?}"),
        }
        match &acts[2].kind {
            AlterActionKind::AlterColumnType { column, new_type, using, .. } => {
                assert_eq!(column.span.slice(src), "a");
                assert_eq!(new_type.name, "varchar");
                assert_eq!(new_type.text, "varchar(10)");
                assert_eq!(new_type.modifiers, vec![10]);
                assert_eq!(using.as_ref().map(|u| u.text.as_str()), Some("a::varchar"));
            }
            a => panic!("{a:#?}"),
        }
        match &acts[3].kind {
            AlterActionKind::DropColumn { name, if_exists, cascade } => {
                assert!(*if_exists && *cascade);
                assert_eq!(name.name, "x");
                assert_eq!(name.span.slice(src), "x");
            }
            a => panic!("{a:#?}"),
        }
        assert!(matches!(&acts[4].kind, AlterActionKind::SetNotNull { column } if column.span.slice(src) == "a"));
        assert!(matches!(&acts[5].kind, AlterActionKind::DropNotNull { column } if column.span.slice(src) == "a"));
        match &acts[6].kind {
            AlterActionKind::SetDefault { column, expr } => {
                assert_eq!(column.name, "a");
                assert_eq!(expr.text, "now()");
                assert_eq!(expr.volatility, Volatility::Stable);
            }
            a => panic!("{a:#?}"),
        }
        assert!(matches!(&acts[7].kind, AlterActionKind::DropDefault { .. }));
        assert!(matches!(&acts[8].kind, AlterActionKind::ValidateConstraint { name } if name.span.slice(src) == "fk"));
        assert!(matches!(
            &acts[9].kind,
            AlterActionKind::DropConstraint { name, if_exists: true, cascade: false } if name.span.slice(src) == "old"
        ));
        assert_eq!(
            acts[10].kind,
            AlterActionKind::SetOption(SetOptionKind::StorageParameters(vec!["fillfactor".into()]))
        );
        assert_eq!(acts[11].kind, AlterActionKind::SetOption(SetOptionKind::Statistics));
        assert_eq!(acts[12].kind, AlterActionKind::SetTablespace);
        assert_eq!(acts[13].kind, AlterActionKind::SetLogged { logged: false });
        assert_eq!(acts[14].kind, AlterActionKind::EnableDisableTrigger);
        assert_eq!(acts[15].kind, AlterActionKind::Other { kind: "AT_ClusterOn".into() });
        match &acts[16].kind {
            AlterActionKind::AddConstraint(c) => {
                assert!(c.not_valid);
                assert!(matches!(&c.kind, ConstraintKind::Check { expr } if expr.text == "a > 0"));
                assert_eq!(c.span.slice(src), "CONSTRAINT ck CHECK (a > 0) NOT VALID");
            }
            a => panic!("{a:#?}"),
        }
    }

    #[test]
    fn constraints_in_alter() {
        match action("ALTER TABLE t ADD UNIQUE (a, b)") {
            AlterActionKind::AddConstraint(c) => {
                assert_eq!(c.kind, ConstraintKind::Unique);
                assert!(!c.not_valid);
                assert_eq!(c.columns.len(), 2);
            }
            a => panic!("{a:#?}"),
        }
        match action("ALTER TABLE t ADD CONSTRAINT nn NOT NULL a") {
            AlterActionKind::AddConstraint(c) => {
                assert_eq!(c.kind, ConstraintKind::NotNull);
                assert_eq!(c.columns[0].name, "a");
            }
            a => panic!("{a:#?}"),
        }
        match action("ALTER TABLE t ADD CONSTRAINT ex EXCLUDE USING gist (r WITH &&)") {
            AlterActionKind::AddConstraint(c) => {
                assert_eq!(c.kind, ConstraintKind::Exclusion);
                assert_eq!(c.columns[0].name, "r");
            }
            a => panic!("{a:#?}"),
        }
    }

    #[test]
    fn partitions() {
        match action("ALTER TABLE p ATTACH PARTITION s.p1 FOR VALUES IN (1)") {
            AlterActionKind::AttachPartition { partition } => assert_eq!(partition.display(), "s.p1"),
            a => panic!("{a:#?}"),
        }
        match action("ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY") {
            AlterActionKind::DetachPartition { partition, concurrently } => {
                assert!(concurrently);
                assert_eq!(partition.name, "p1");
            }
            a => panic!("{a:#?}"),
        }
        assert!(matches!(
            action("ALTER TABLE p DETACH PARTITION p1"),
            AlterActionKind::DetachPartition { concurrently: false, .. }
        ));
    }

    #[test]
    fn renames() {
        let src = "ALTER TABLE IF EXISTS a RENAME TO b";
        match one(src) {
            Op::RenameTable { from, to } => {
                assert_eq!(from.name, "a");
                assert_eq!(to.name, "b");
                assert_eq!(to.span.slice(src), "b");
            }
            o => panic!("{o:#?}"),
        }
        let src = "ALTER TABLE t RENAME COLUMN a TO b";
        match one(src) {
            Op::AlterTable { actions, .. } => {
                assert_eq!(actions[0].span.slice(src), "RENAME COLUMN a TO b");
                match &actions[0].kind {
                    AlterActionKind::RenameColumn { from, to } => {
                        assert_eq!(from.span.slice(src), "a");
                        assert_eq!(to.span.slice(src), "b");
                    }
                    a => panic!("{a:#?}"),
                }
            }
            o => panic!("{o:#?}"),
        }
        assert!(matches!(
            action("ALTER TABLE t RENAME CONSTRAINT a TO b"),
            AlterActionKind::RenameConstraint { from, to } if from.name == "a" && to.name == "b"
        ));
        match one("ALTER INDEX s.i RENAME TO j") {
            Op::RenameObject { kind, from, to } => {
                assert_eq!(kind, ObjectKind::Index);
                assert_eq!(from.display(), "s.i");
                assert_eq!(to.name, "j");
            }
            o => panic!("{o:#?}"),
        }
        assert!(
            matches!(one("ALTER SCHEMA a RENAME TO b"), Op::RenameObject { kind: ObjectKind::Schema, from, .. } if from.name == "a")
        );
        assert!(
            matches!(one("ALTER TYPE s.e RENAME TO f"), Op::RenameObject { kind: ObjectKind::Type, from, .. } if from.display() == "s.e")
        );
        assert!(matches!(one("ALTER VIEW v RENAME TO w"), Op::RenameObject { kind: ObjectKind::View, .. }));
    }

    #[test]
    fn create_index() {
        let src =
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx ON s.t USING btree (a, lower(b), (c + 1)) WHERE d";
        match one(src) {
            Op::CreateIndex {
                name,
                table,
                unique,
                concurrently,
                if_not_exists,
                columns,
                has_where,
                keyword_span,
                ..
            } => {
                assert!(unique && concurrently && if_not_exists && has_where);
                assert_eq!(name.as_ref().map(|n| n.span.slice(src)), Some("idx"));
                assert_eq!(table.display(), "s.t");
                assert_eq!(keyword_span.slice(src), "CREATE UNIQUE INDEX");
                let spans: Vec<&str> = columns.iter().map(|c| c.span.slice(src)).collect();
                assert_eq!(spans, ["a", "lower(b)", "(c + 1)"]);
                assert_eq!(columns[0].name.as_ref().map(|n| n.name.as_str()), Some("a"));
                assert!(columns[1].name.is_none());
            }
            o => panic!("{o:#?}"),
        }
        let src = "create index on t (a)";
        match one(src) {
            Op::CreateIndex { name, keyword_span, concurrently, unique, has_where, .. } => {
                assert!(name.is_none() && !concurrently && !unique && !has_where);
                assert_eq!(keyword_span.slice(src), "create index");
            }
            o => panic!("{o:#?}"),
        }
    }

    #[test]
    fn drops() {
        let src = "DROP INDEX CONCURRENTLY IF EXISTS a, s.b CASCADE";
        match one(src) {
            Op::DropIndex { names, concurrently, if_exists, cascade, keyword_span, .. } => {
                assert!(concurrently && if_exists && cascade);
                assert_eq!(keyword_span.slice(src), "DROP INDEX");
                assert_eq!(names.iter().map(|n| n.span.slice(src)).collect::<Vec<_>>(), ["a", "s.b"]);
                assert_eq!(names[1].schema.as_deref(), Some("s"));
            }
            o => panic!("{o:#?}"),
        }
        let src = "DROP TABLE t, u";
        match one(src) {
            Op::Drop { kind, names, if_exists, cascade } => {
                assert_eq!(kind, ObjectKind::Table);
                assert!(!if_exists && !cascade);
                assert_eq!(names.iter().map(|n| n.span.slice(src)).collect::<Vec<_>>(), ["t", "u"]);
            }
            o => panic!("{o:#?}"),
        }
        for (sql, kind) in [
            ("DROP VIEW v", ObjectKind::View),
            ("DROP MATERIALIZED VIEW v", ObjectKind::MaterializedView),
            ("DROP SEQUENCE s", ObjectKind::Sequence),
            ("DROP SCHEMA s CASCADE", ObjectKind::Schema),
            ("DROP TYPE e", ObjectKind::Type),
            ("DROP DOMAIN d", ObjectKind::Type),
            ("DROP FUNCTION f(int)", ObjectKind::Function),
            ("DROP PROCEDURE p()", ObjectKind::Procedure),
            ("DROP TRIGGER tg ON t", ObjectKind::Trigger),
            ("DROP EXTENSION x", ObjectKind::Extension),
            ("DROP DATABASE d", ObjectKind::Database),
            ("DROP POLICY p ON t", ObjectKind::Other),
        ] {
            match one(sql) {
                Op::Drop { kind: k, names, .. } => {
                    assert_eq!(k, kind, "{sql}");
                    assert_eq!(names.len(), 1, "{sql}");
                    assert!(!names[0].name.is_empty());
                }
                o => panic!("{sql}: {o:#?}"),
            }
        }
        match one("DROP TRIGGER tg ON t") {
            Op::Drop { names, .. } => assert_eq!(names[0].display(), "tg"),
            o => panic!("{o:#?}"),
        }
    }

    #[test]
    fn creates() {
        for (sql, kind, name, ine, orr) in [
            ("CREATE OR REPLACE VIEW v AS SELECT 1", ObjectKind::View, "v", false, true),
            ("CREATE SCHEMA IF NOT EXISTS s", ObjectKind::Schema, "s", true, false),
            ("CREATE SEQUENCE IF NOT EXISTS s.q", ObjectKind::Sequence, "s.q", true, false),
            ("CREATE TYPE c AS (a int)", ObjectKind::Type, "c", false, false),
            ("CREATE DOMAIN d AS int", ObjectKind::Type, "d", false, false),
            (
                "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1",
                ObjectKind::Function,
                "f",
                false,
                true,
            ),
            ("CREATE PROCEDURE p() LANGUAGE plpgsql AS 'begin null; end'", ObjectKind::Procedure, "p", false, false),
            (
                "CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
                ObjectKind::Trigger,
                "tg",
                false,
                false,
            ),
            ("CREATE EXTENSION IF NOT EXISTS pgcrypto", ObjectKind::Extension, "pgcrypto", true, false),
        ] {
            match one(sql) {
                Op::Create { kind: k, name: n, if_not_exists, or_replace, .. } => {
                    assert_eq!(k, kind, "{sql}");
                    let n = n.expect("name");
                    assert_eq!(n.display(), name, "{sql}");
                    assert_eq!(n.span.slice(sql), name, "{sql}");
                    assert_eq!((if_not_exists, or_replace), (ine, orr), "{sql}");
                }
                o => panic!("{sql}: {o:#?}"),
            }
        }
    }

    #[test]
    fn create_enum_keeps_its_labels() {
        assert!(matches!(
            one("CREATE TYPE s.mood AS ENUM ('sad', 'ok')"),
            Op::CreateEnumType { name, values } if name.display() == "s.mood" && name.span.slice("CREATE TYPE s.mood AS ENUM ('sad', 'ok')") == "s.mood" && values == ["sad", "ok"]
        ));
    }

    #[test]
    fn alter_enum() {
        assert!(matches!(
            one("ALTER TYPE s.mood ADD VALUE IF NOT EXISTS 'meh' AFTER 'ok'"),
            Op::AlterEnumAddValue { type_name, value, if_not_exists: true, positioned: true }
                if type_name.display() == "s.mood" && value == "meh"
        ));
        assert!(matches!(
            one("ALTER TYPE mood ADD VALUE 'meh'"),
            Op::AlterEnumAddValue { if_not_exists: false, positioned: false, .. }
        ));
    }

    #[test]
    fn transactions_and_set() {
        let o = ops("BEGIN; START TRANSACTION; SAVEPOINT a; RELEASE SAVEPOINT a; ROLLBACK TO SAVEPOINT a; COMMIT; END; ROLLBACK; ABORT; PREPARE TRANSACTION 'x'");
        let kinds: Vec<TransactionOp> = o
            .into_iter()
            .map(|o| match o {
                Op::Transaction(t) => t,
                o => panic!("{o:#?}"),
            })
            .collect();
        use TransactionOp::*;
        assert_eq!(
            kinds,
            [Begin, Begin, Savepoint, ReleaseSavepoint, RollbackToSavepoint, Commit, Commit, Rollback, Rollback, Other]
        );
        let set = |sql: &str| match one(sql) {
            Op::Set { name, value, local } => (name, value, local),
            o => panic!("{o:#?}"),
        };
        assert_eq!(set("SET lock_timeout = '5s'"), ("lock_timeout".into(), "5s".into(), false));
        assert_eq!(set("SET LOCAL statement_timeout TO 0"), ("statement_timeout".into(), "0".into(), true));
        assert_eq!(set("SET SESSION lock_timeout TO DEFAULT"), ("lock_timeout".into(), "default".into(), false));
        assert_eq!(set("RESET lock_timeout"), ("lock_timeout".into(), "default".into(), false));
        assert_eq!(set("SET search_path = a, \"B\""), ("search_path".into(), "a, B".into(), false));
        assert_eq!(set("SET x.y = 1.5").1, "1.5");
    }

    #[test]
    fn dml() {
        let dml = |sql: &str| match one(sql) {
            Op::Dml { kind, table, has_where, .. } => (kind, table.map(|t| t.display()), has_where),
            o => panic!("{o:#?}"),
        };
        assert_eq!(dml("UPDATE t SET a = 1"), (DmlKind::Update, Some("t".into()), false));
        assert_eq!(dml("UPDATE s.t SET a = 1 WHERE b"), (DmlKind::Update, Some("s.t".into()), true));
        assert_eq!(dml("DELETE FROM t"), (DmlKind::Delete, Some("t".into()), false));
        assert_eq!(dml("DELETE FROM t WHERE a = 1"), (DmlKind::Delete, Some("t".into()), true));
        assert_eq!(dml("INSERT INTO t VALUES (1)"), (DmlKind::Insert, Some("t".into()), false));
        assert_eq!(dml("SELECT 1"), (DmlKind::Select, None, false));
        assert_eq!(dml("SELECT * FROM t WHERE a"), (DmlKind::Select, Some("t".into()), true));
        assert_eq!(dml("COPY t FROM stdin").0, DmlKind::Copy);
        assert_eq!(dml("MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE").0, DmlKind::Merge);
        assert_eq!(dml("WITH x AS (SELECT 1) UPDATE t SET a = 1").0, DmlKind::Update);
        assert_eq!(dml("WITH t AS (SELECT 1) SELECT * FROM t"), (DmlKind::Select, None, false));
        assert_eq!(dml("WITH t AS (SELECT 1) SELECT * FROM s.t"), (DmlKind::Select, Some("s.t".into()), false));
    }

    #[test]
    fn data_modifying_ctes() {
        let dml = |sql: &str| -> Vec<_> {
            ops(sql)
                .into_iter()
                .map(|o| match o {
                    Op::Dml { kind, table, has_where, .. } => (kind, table.map(|t| t.display()), has_where),
                    o => panic!("{o:#?}"),
                })
                .collect()
        };
        let t = |s: &str| Some(s.to_string());
        assert_eq!(
            dml("WITH d AS (DELETE FROM t RETURNING *) INSERT INTO archive SELECT * FROM d"),
            [(DmlKind::Delete, t("t"), false), (DmlKind::Insert, t("archive"), false)]
        );
        assert_eq!(
            dml("WITH a AS (UPDATE s.t SET x = 1 WHERE y RETURNING id), b AS (SELECT 1), \
                 c AS (INSERT INTO log VALUES (1) RETURNING id) SELECT count(*) FROM a"),
            [(DmlKind::Update, t("s.t"), true), (DmlKind::Insert, t("log"), false), (DmlKind::Select, None, false)]
        );
        assert_eq!(
            dml("WITH m AS (MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE RETURNING t.id) \
                 DELETE FROM w WHERE id IN (SELECT id FROM m)"),
            [(DmlKind::Merge, t("t"), true), (DmlKind::Delete, t("w"), true)]
        );
        let src = "WITH d AS (DELETE FROM t RETURNING *) SELECT * INTO n FROM d";
        let o = ops(src);
        assert!(matches!(&o[..], [Op::Dml { kind: DmlKind::Delete, .. }, Op::CreateTable { .. }]), "{o:#?}");
        // The table's span is where it is written inside the CTE.
        let Op::Dml { table: Some(table), .. } = &o[0] else { unreachable!() };
        assert_eq!(&src[table.span.start..table.span.end], "t");
    }

    #[test]
    fn maintenance() {
        assert!(
            matches!(one("REINDEX INDEX CONCURRENTLY i"), Op::Reindex { concurrently: true, kind: ObjectKind::Index, target: Some(t) } if t.name == "i")
        );
        assert!(matches!(one("REINDEX (CONCURRENTLY) TABLE t"), Op::Reindex { concurrently: true, .. }));
        assert!(matches!(one("REINDEX TABLE t"), Op::Reindex { concurrently: false, .. }));
        assert!(matches!(one("REINDEX SCHEMA s"), Op::Reindex { target: Some(t), .. } if t.name == "s"));
        assert!(
            matches!(one("VACUUM FULL t"), Op::Vacuum { full: true, tables } if tables.len() == 1 && tables[0].name == "t")
        );
        assert!(matches!(one("VACUUM (FULL, ANALYZE) t, u"), Op::Vacuum { full: true, tables } if tables.len() == 2));
        assert!(matches!(one("VACUUM (FULL false) t"), Op::Vacuum { full: false, .. }));
        assert!(matches!(one("VACUUM t"), Op::Vacuum { full: false, .. }));
        assert_eq!(one("ANALYZE t"), Op::Other { kind: "Analyze".into() });
        assert!(matches!(one("CLUSTER t USING i"), Op::Cluster { table: Some(t) } if t.name == "t"));
        assert!(matches!(one("CLUSTER"), Op::Cluster { table: None }));
        assert_eq!(
            one("LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE"),
            Op::LockTable {
                tables: vec![QualifiedName { schema: None, name: "t".into(), span: crate::Span::new(11, 12) }],
                mode: "SHARE ROW EXCLUSIVE".into()
            }
        );
        assert!(matches!(one("LOCK t"), Op::LockTable { mode, .. } if mode == "ACCESS EXCLUSIVE"));
        assert!(matches!(one("TRUNCATE a, b CASCADE"), Op::Truncate { tables, cascade: true } if tables.len() == 2));
        assert!(matches!(one("TRUNCATE a"), Op::Truncate { cascade: false, .. }));
        assert_eq!(one("DO $$ BEGIN END $$"), Op::DoBlock);
    }

    #[test]
    fn others() {
        assert_eq!(one("GRANT SELECT ON t TO r"), Op::Other { kind: "GrantStmt".into() });
        assert_eq!(one("COMMENT ON TABLE t IS 'x'"), Op::Other { kind: "CommentStmt".into() });
        assert_eq!(one("ALTER TABLE t SET SCHEMA s"), Op::Other { kind: "AlterObjectSchemaStmt".into() });
        assert_eq!(one("ALTER INDEX i SET TABLESPACE x"), Op::Other { kind: "AlterIndex".into() });
        assert!(matches!(
            one("REFRESH MATERIALIZED VIEW s.mv"),
            Op::RefreshMaterializedView { name, concurrently: false, with_data: true } if name.display() == "s.mv"
        ));
        assert!(matches!(
            one("REFRESH MATERIALIZED VIEW CONCURRENTLY mv"),
            Op::RefreshMaterializedView { concurrently: true, with_data: true, .. }
        ));
        assert!(matches!(
            one("REFRESH MATERIALIZED VIEW mv WITH NO DATA"),
            Op::RefreshMaterializedView { concurrently: false, with_data: false, .. }
        ));
        assert_eq!(one("SHOW lock_timeout"), Op::Other { kind: "VariableShowStmt".into() });
    }

    #[test]
    fn clause_spans_fall_back_and_comments() {
        let src = "ALTER TABLE t -- why\n  DROP COLUMN a, /* x */ DROP COLUMN \"B\"";
        let acts = actions(src);
        assert_eq!(acts[0].span.slice(src), "DROP COLUMN a");
        assert_eq!(acts[1].span.slice(src), "DROP COLUMN \"B\"");
        match &acts[1].kind {
            AlterActionKind::DropColumn { name, .. } => {
                assert_eq!(name.name, "B");
                assert_eq!(name.span.slice(src), "\"B\"");
            }
            a => panic!("{a:#?}"),
        }
        // A column named like a keyword.
        let src = "ALTER TABLE t DROP COLUMN drop";
        match action(src) {
            AlterActionKind::DropColumn { name, .. } => assert_eq!(name.span.start, 26),
            a => panic!("{a:#?}"),
        }
    }

    #[test]
    fn multiple_statements_keep_their_spans() {
        let src = "SELECT 1; ALTER TABLE t ADD COLUMN a int DEFAULT random(); CREATE INDEX i ON t (a);";
        let f = parse(src);
        assert_eq!(f.statements.len(), 3);
        match &f.statements[1].ops[0] {
            Op::AlterTable { actions, .. } => match &actions[0].kind {
                AlterActionKind::AddColumn { column, .. } => {
                    let d = column.default.as_ref().expect("default");
                    assert_eq!(d.span.slice(src), "random()");
                    assert_eq!(d.volatility, Volatility::Volatile);
                }
                a => panic!("{a:#?}"),
            },
            o => panic!("{o:#?}"),
        }
        match &f.statements[2].ops[0] {
            Op::CreateIndex { keyword_span, .. } => assert_eq!(keyword_span.slice(src), "CREATE INDEX"),
            o => panic!("{o:#?}"),
        }
    }

    #[test]
    fn deep_expressions_are_volatile_not_fatal() {
        // The walker gives up past its depth limit instead of recursing on.
        let mut n = pb::node::Node::AConst(pb::AConst { isnull: false, location: 0, val: None });
        for _ in 0..(super::MAX_DEPTH + 50) {
            n = pb::node::Node::TypeCast(Box::new(pb::TypeCast {
                arg: Some(Box::new(pb::Node { node: Some(n) })),
                type_name: None,
                location: 0,
            }));
        }
        assert_eq!(super::volatility(&n, 0), Volatility::Volatile);
        // Moderately nested input goes through the whole pipeline.
        let src = format!("ALTER TABLE t ADD COLUMN c int DEFAULT {}1{}", "(".repeat(200), ")".repeat(200));
        let e = default_of(&src);
        assert_eq!(e.volatility, Volatility::Constant);
        assert_eq!(e.span.slice(&src), src.split("DEFAULT ").nth(1).unwrap_or(""));
        let src = format!("ALTER TABLE t ADD COLUMN c int DEFAULT {}", vec!["1"; 20].join(" + "));
        assert_eq!(default_of(&src).text, vec!["1"; 20].join(" + "));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for sql in [
            "CREATE TABLE t ()",
            "CREATE TABLE p1 PARTITION OF p (a WITH OPTIONS NOT NULL) FOR VALUES IN (1)",
            "ALTER TABLE t ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY",
            "ALTER TABLE t OWNER TO x",
            "ALTER TABLE t ALTER COLUMN a SET EXPRESSION AS (1)",
            "ALTER TABLE t INHERIT u",
            "ALTER TABLE t REPLICA IDENTITY FULL",
            "ALTER TABLE t SET ACCESS METHOD heap",
            "CREATE TABLE t (a int) PARTITION BY RANGE (a)",
            "CREATE FOREIGN TABLE f (a int) SERVER s",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "SET TIME ZONE 'UTC'",
            "RESET ALL",
            "CREATE AGGREGATE a (int) (sfunc = f, stype = int)",
            "ALTER TYPE e RENAME VALUE 'a' TO 'b'",
            "EXPLAIN UPDATE t SET a = 1",
            "CALL p()",
            "CREATE TABLE t (a int DEFAULT (SELECT 1))",
            "CREATE STATISTICS s ON a, b FROM t",
            "PREPARE q AS SELECT 1",
            "SELECT 1 UNION SELECT 2",
        ] {
            let f = parse_file(sql, Dialect::Postgres);
            assert!(f.statements.iter().all(|s| s.is_parsed()), "{sql}");
            assert!(f.statements.iter().all(|s| !s.ops.is_empty()), "{sql}");
        }
        assert_eq!(action("ALTER TABLE t OWNER TO x"), AlterActionKind::Other { kind: "AT_ChangeOwner".into() });
        assert_eq!(one("SET TIME ZONE 'UTC'"), Op::Set { name: "timezone".into(), value: "UTC".into(), local: false });
    }
}
