//! SQL statements embedded in `DO` blocks and in SQL or PL/pgSQL function bodies.
//!
//! A `DO $$ ... $$` block (PL/pgSQL, the default language) and `CREATE FUNCTION/PROCEDURE` with
//! `LANGUAGE plpgsql` or `LANGUAGE sql` (a quoted body or a `BEGIN ATOMIC ... END` block) carry
//! statements the outer parse sees only as a string. This module finds them and parses each one
//! with the PostgreSQL grammar, so that the ordinary lowering turns them into operations that
//! every rule checks:
//!
//! * PL/pgSQL bodies are compiled by libpg_query's PL/pgSQL compiler, and `pg_plpgsql.c` reads
//!   the static SQL statements (`PLpgSQL_stmt_execsql`) and the `EXECUTE` statements
//!   (`PLpgSQL_stmt_dynexecute`) of the compiled function, with the line they start on and their
//!   query text; each is found again in the body from that line. An `EXECUTE` whose command is
//!   one plain string literal (`EXECUTE 'ALTER TABLE ...'`) is unescaped (`''` becomes `'`) and
//!   parsed too; commands built at run time (`format(...)`, concatenations) are skipped.
//! * SQL bodies are split into statements with the file splitter.
//!
//! Everything computed here depends only on the statement's text, so it is cached with the
//! statement's parse ([`Body`], spans relative to the statement's piece of text) and lowered into
//! file coordinates for each file ([`lower`]).
//!
//! Positions: a dollar-quoted body is a verbatim slice of the file, so embedded spans are exact.
//! Text that was unescaped (a single-quoted body, an `EXECUTE` literal) is parsed from a copy of
//! the same length as its source in which every token starts where it starts in the file: the
//! characters a collapsed `''` saved are padded with spaces after the token that contained them.
//! Token starts are therefore exact; inside a string literal that held doubled quotes, positions
//! may be off by the number of those quotes.
//!
//! A body the PL/pgSQL compiler rejects, or an embedded statement the grammar rejects, yields no
//! operations and no diagnostic: the outer statement parsed, and a compiler that runs without the
//! database's catalog is not the last word on a body. The reason is kept in [`Embedded::error`] /
//! [`EmbeddedStatement::error`].
#![allow(unsafe_code)]

use super::{pg_ffi, pg_lower, trim_span, LowerCx, ParsedFile, Statement};
use crate::diagnostic::Diagnostic;
use crate::ir::Op;
use crate::lexer::{tokenize, Token, TokenKind};
use crate::span::Span;
use crate::split::{split, PieceKind};
use crate::Dialect;
use pg_query::protobuf as pb;
use pg_query::protobuf::node::Node as N;
use std::collections::HashSet;
use std::ffi::{c_char, CStr, CString};
use std::ops::Range;
use std::sync::Arc;

/// How many bodies deep embedded statements are followed (a `DO` block whose `EXECUTE` creates a
/// function whose body ...): deeper bodies are not read.
const MAX_NESTING: usize = 3;

// ---------------------------------------------------------------------------------------------
// Public model
// ---------------------------------------------------------------------------------------------

/// When the statements of an embedded body run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmbeddedKind {
    /// A `DO` block: its statements run when the migration runs.
    DoBlock,
    /// A function or procedure body: its statements run each time the function is called.
    FunctionBody,
    /// MySQL: a statement held in a string assigned to a user variable (`SET @s = '...'`), run
    /// by `PREPARE ... FROM @s` and `EXECUTE` when the migration runs (see `mysql_dynamic`).
    DynamicSql,
}

/// A `DO` block or function body whose statements were parsed and lowered into the enclosing
/// [`Statement::ops`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Embedded {
    /// The body in file coordinates: the text between its quotes, or between `BEGIN ATOMIC` and
    /// `END`.
    pub span: Span,
    pub kind: EmbeddedKind,
    /// The function or procedure the body belongs to (`schema.name` as written, folded); `None`
    /// for a `DO` block.
    pub function: Option<String>,
    /// Indices into [`Statement::ops`] of every operation lowered from this body, those of bodies
    /// nested in it included.
    pub ops: Range<usize>,
    /// The statements found in the body, in order.
    pub statements: Vec<EmbeddedStatement>,
    /// Why the body could not be read (the PL/pgSQL compiler rejected it): it has no statements.
    pub error: Option<String>,
}

/// One statement found in an embedded body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbeddedStatement {
    /// File coordinates.
    pub span: Span,
    /// Indices into [`Statement::ops`] of the operations of this statement itself (not those of
    /// a body nested in it, which has its own [`Embedded`]).
    pub ops: Range<usize>,
    /// The PostgreSQL grammar rejected the statement: it has no operations.
    pub error: Option<String>,
    /// The statement runs only under a condition (in a branch of `IF` or `CASE`) or its errors
    /// are caught (in a block with an `EXCEPTION` clause): the way re-runnable bodies check for
    /// an object before creating or dropping it. Nested bodies inherit it.
    pub guarded: bool,
}

impl Statement {
    /// True when operation `i` of [`Statement::ops`] comes from a function body: it runs when the
    /// function is called, not when the migration runs.
    pub fn op_runs_later(&self, i: usize) -> bool {
        self.embedded.iter().any(|e| e.kind == EmbeddedKind::FunctionBody && e.ops.contains(&i))
    }

    /// True when `op`, an element of [`Statement::ops`], was lowered from a `DO` block or function
    /// body.
    pub fn is_embedded_op(&self, op: &Op) -> bool {
        let Some(i) = self.op_index(op) else { return false };
        self.embedded.iter().any(|e| e.ops.contains(&i))
    }

    /// The index in [`Statement::ops`] of `op`, an element of it.
    fn op_index(&self, op: &Op) -> Option<usize> {
        self.ops.iter().position(|o| std::ptr::eq(o, op))
    }

    /// True when `op`, an element of [`Statement::ops`], was lowered from a guarded statement of
    /// a `DO` block or function body ([`EmbeddedStatement::guarded`]): an existence check or an
    /// exception handler decides whether it runs or fails.
    pub fn is_guarded_op(&self, op: &Op) -> bool {
        if self.embedded.is_empty() {
            return false;
        }
        let Some(i) = self.op_index(op) else { return false };
        self.embedded.iter().flat_map(|e| &e.statements).any(|s| s.guarded && s.ops.contains(&i))
    }

    /// The operations that run when the migration runs: all of them but those lowered from
    /// function bodies.
    pub fn ops_run_now(&self) -> impl Iterator<Item = &Op> + '_ {
        self.ops.iter().enumerate().filter(|(i, _)| !self.op_runs_later(*i)).map(|(_, op)| op)
    }
}

impl ParsedFile {
    /// Makes a finding honest about embedded bodies: a fix that would edit a `DO` block or
    /// function body is dropped (`CONCURRENTLY` cannot run there, a `SET` inserted there does
    /// something else), and so is any fix of a finding inside a function body, whose statement
    /// runs when the function is called; such a finding says so in its help.
    pub fn qualify_embedded_finding(&self, d: &mut Diagnostic) {
        let at = self.statements.partition_point(|s| s.span.start < d.statement.start);
        let Some(stmt) = self.statements.get(at).filter(|s| s.span == d.statement) else { return };
        if stmt.embedded.is_empty() {
            return;
        }
        let overlaps = |a: Span, b: Span| a.start <= b.end && b.start <= a.end;
        // A finding about a body statement ends inside the body (it may start at the outer
        // statement's first word); one about the whole outer statement ends after it.
        let function = stmt
            .embedded
            .iter()
            .filter(|e| e.kind == EmbeddedKind::FunctionBody)
            .rfind(|e| e.span.start < d.span.end && d.span.end <= e.span.end);
        let body_edits: Vec<&str> = d
            .fix
            .iter()
            .flat_map(|f| &f.edits)
            .filter(|edit| stmt.embedded.iter().any(|e| overlaps(e.span, edit.span)))
            .map(|edit| edit.replacement.as_str())
            .collect();
        let adds_concurrently = body_edits.iter().any(|r| r.to_ascii_uppercase().contains("CONCURRENTLY"));
        // A statement held in a string: edits computed for a statement of its own would land
        // around the string or break its quoting (a statement inserted before it still works).
        let in_string = stmt
            .embedded
            .iter()
            .any(|e| e.kind == EmbeddedKind::DynamicSql && e.span.start <= d.span.start && d.span.end <= e.span.end);
        let string_fix = in_string && d.fix.iter().flat_map(|f| &f.edits).any(|edit| edit.span.end > stmt.span.start);
        if !body_edits.is_empty() || function.is_some() || string_fix {
            d.fix = None;
        }
        let mut notes = Vec::new();
        if adds_concurrently {
            notes.push(
                "`CONCURRENTLY` is refused inside a DO block or function: the statement must move out of the body"
                    .to_string(),
            );
        }
        if let Some(e) = function {
            let name = e.function.as_deref().unwrap_or("the function");
            notes.push(format!(
                "this statement is in the body of `{name}`: it runs each time the function is called, \
                 not when this migration runs"
            ));
        }
        if string_fix {
            notes.push(
                "the statement is built in a string for `PREPARE`: make the change inside the string".to_string(),
            );
        }
        if !notes.is_empty() {
            d.help = Some(d.help.take().into_iter().chain(notes).collect::<Vec<_>>().join("; "));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cached parse (relative to the statement's piece of text)
// ---------------------------------------------------------------------------------------------

/// An embedded body as parsed, spans relative to the text of the piece the statement came from.
#[derive(Clone, Debug)]
pub(super) struct Body {
    span: Span,
    kind: EmbeddedKind,
    function: Option<String>,
    statements: Vec<BodyStatement>,
    error: Option<String>,
}

#[derive(Clone, Debug)]
struct BodyStatement {
    span: Span,
    /// The text parsed, when it is not the verbatim slice at `span` (an unescaped or `INTO`-less
    /// statement): same length as `span`, every token at its place.
    text: Option<String>,
    /// Parsed statements with their location and length relative to the text.
    parsed: Result<Vec<(Arc<pb::Node>, i32, i32)>, String>,
    /// Bodies of a `DO` or `CREATE FUNCTION` statement embedded here.
    nested: Vec<Body>,
    /// See [`EmbeddedStatement::guarded`].
    guarded: bool,
}

/// The embedded bodies of one parsed statement. `sql` is the piece of text that was parsed and
/// `stmt` the statement's range in it (the piece may hold several statements).
pub(super) fn parse_bodies(sql: &str, stmt: Range<usize>, node: &N) -> Vec<Body> {
    let mut out = Vec::new();
    if let Some(text) = sql.get(stmt.clone()) {
        bodies_of(text, stmt.start, node, 0, true, &mut out);
    }
    out
}

/// Bodies of the statement `text` (at `base` in the piece) parsed as `node`. `exact` tells whether
/// `text` is the piece's own text there (not an unescaped copy).
fn bodies_of(text: &str, base: usize, node: &N, depth: usize, exact: bool, out: &mut Vec<Body>) {
    if depth >= MAX_NESTING {
        return;
    }
    match node {
        N::DoStmt(s) => {
            let language = def_string(&s.args, "language").unwrap_or("plpgsql");
            let Some(code) = def_string(&s.args, "as") else { return };
            if !language.eq_ignore_ascii_case("plpgsql") {
                return;
            }
            let Some(src) = body_source(text, base, code, exact) else { return };
            out.push(plpgsql_body(text, &src, EmbeddedKind::DoBlock, None, depth));
        }
        N::CreateFunctionStmt(s) => {
            let function = Some(function_name(&s.funcname));
            let language = def_string(&s.options, "language");
            if let Some(body) = s.sql_body.as_deref().and_then(|n| n.node.as_ref()) {
                // `RETURN expr` holds no statement; `BEGIN ATOMIC ... END` is a list of them.
                if matches!(body, N::List(_)) {
                    if let Some(src) = atomic_source(text, base, exact) {
                        out.push(sql_body(&src, function, depth));
                    }
                }
                return;
            }
            let Some(language) = language else { return };
            let code = def_list(&s.options, "as");
            let code = match code.as_deref() {
                Some([code]) => code.as_str(),
                _ => return,
            };
            let Some(src) = body_source(text, base, code, exact) else { return };
            if language.eq_ignore_ascii_case("plpgsql") {
                out.push(plpgsql_body(text, &src, EmbeddedKind::FunctionBody, function, depth));
            } else if language.eq_ignore_ascii_case("sql") {
                out.push(sql_body(&src, function, depth));
            }
        }
        _ => {}
    }
}

fn def_elem<'n>(options: &'n [pb::Node], name: &str) -> Option<&'n pb::DefElem> {
    options.iter().find_map(|o| match o.node.as_ref() {
        Some(N::DefElem(d)) if d.defname == name => Some(&**d),
        _ => None,
    })
}

/// The string argument of the option `name` (`LANGUAGE plpgsql`, a `DO` block's code).
fn def_string<'n>(options: &'n [pb::Node], name: &str) -> Option<&'n str> {
    match def_elem(options, name)?.arg.as_deref()?.node.as_ref()? {
        N::String(s) => Some(s.sval.as_str()),
        _ => None,
    }
}

/// The string list argument of the option `name` (a function's `AS 'body'`).
fn def_list(options: &[pb::Node], name: &str) -> Option<Vec<String>> {
    match def_elem(options, name)?.arg.as_deref()?.node.as_ref()? {
        N::List(l) => l
            .items
            .iter()
            .map(|n| match n.node.as_ref() {
                Some(N::String(s)) => Some(s.sval.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn function_name(parts: &[pb::Node]) -> String {
    let names: Vec<&str> = parts
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(N::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect();
    names.join(".")
}

// ---------------------------------------------------------------------------------------------
// Text with a position map
// ---------------------------------------------------------------------------------------------

/// Text handed to a parser, with where each of its bytes sits in the piece of text.
struct Source {
    text: String,
    /// `map[i]` is the piece offset of byte `i` of `text`, `map[text.len()]` the end. `None` when
    /// `text` is a verbatim slice starting at `base`.
    map: Option<Vec<usize>>,
    base: usize,
    /// `text` is the piece's own text (not a slice of an unescaped copy).
    exact: bool,
}

impl Source {
    fn verbatim(text: &str, base: usize, exact: bool) -> Self {
        Source { text: text.to_string(), map: None, base, exact }
    }

    /// Piece offset of byte `i` of the text.
    fn pos(&self, i: usize) -> usize {
        match &self.map {
            None => self.base + i,
            Some(m) => m.get(i).or(m.last()).copied().unwrap_or(self.base),
        }
    }

    /// The bytes `range` of the text, as a source of their own.
    fn slice(&self, range: Range<usize>) -> Source {
        Source {
            text: self.text.get(range.clone()).unwrap_or_default().to_string(),
            map: self.map.as_ref().map(|m| m.get(range.start..=range.end).unwrap_or_default().to_vec()),
            base: self.pos(range.start),
            exact: self.exact,
        }
    }

    /// The content of a single-quoted literal whose inside is `range`, with `''` collapsed to
    /// `'`. `None` when a quote is not doubled.
    fn unescape(&self, range: Range<usize>) -> Option<Source> {
        let bytes = self.text.as_bytes().get(range.clone())?;
        let mut text = Vec::with_capacity(bytes.len());
        let mut map = Vec::with_capacity(bytes.len() + 1);
        let mut i = 0;
        while i < bytes.len() {
            map.push(self.pos(range.start + i));
            text.push(bytes[i]);
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) != Some(&b'\'') {
                    return None;
                }
                i += 1;
            }
            i += 1;
        }
        map.push(self.pos(range.end));
        let text = String::from_utf8(text).ok()?;
        Some(Source { text, map: Some(map), base: self.pos(range.start), exact: false })
    }

    /// Where `text` (SQL standing for this source's bytes `start..start + text.len()`) goes in
    /// the piece, and the text to parse there when it is not the piece's own: a string of the
    /// span's length in which every token of `text` starts at its mapped position and the gaps
    /// are blanks. `None` when the mapping cannot hold the text (never expected).
    fn place(&self, start: usize, text: &str) -> Option<(Span, Option<String>)> {
        let end = start + text.len();
        let span = Span::new(self.pos(start), self.pos(end));
        if self.map.is_none() {
            let same = self.exact && self.text.get(start..end) == Some(text);
            return Some((span, (!same).then(|| text.to_string())));
        }
        let mut buf = vec![b' '; span.len()];
        let mut put = |at: usize, bytes: &[u8]| -> Option<()> {
            let dest = self.pos(start + at).checked_sub(span.start)?;
            buf.get_mut(dest..dest + bytes.len())?.copy_from_slice(bytes);
            Some(())
        };
        let mut covered = 0;
        for t in tokenize(text, Dialect::Postgres) {
            // Whitespace before the token keeps its place (a line comment ends at its newline).
            for (i, b) in text.as_bytes().get(covered..t.span.start)?.iter().enumerate() {
                if *b == b'\n' || *b == b'\r' || *b == b'\t' {
                    put(covered + i, &[*b])?;
                }
            }
            put(t.span.start, t.span.slice(text).as_bytes())?;
            covered = t.span.end;
        }
        Some((span, Some(String::from_utf8(buf).ok()?)))
    }
}

/// The body of a `DO` block or function: the string token of the statement whose content is
/// `code` (what the parser read), as a source positioned in the piece.
fn body_source(text: &str, base: usize, code: &str, exact: bool) -> Option<Source> {
    let tokens = tokenize(text, Dialect::Postgres);
    tokens.iter().filter(|t| t.kind == TokenKind::String).find_map(|t| {
        let s = t.span.slice(text);
        if let Some(after) = s.strip_prefix('$') {
            let tag_len = after.find('$')? + 2;
            let inner = s.get(tag_len..s.len().checked_sub(tag_len)?)?;
            (inner == code).then(|| Source::verbatim(inner, base + t.span.start + tag_len, exact))
        } else if s.starts_with('\'') && s.len() >= 2 && s.ends_with('\'') {
            let whole = Source::verbatim(s, base + t.span.start, exact);
            let src = whole.unescape(1..s.len() - 1)?;
            (src.text == code).then_some(src)
        } else {
            None
        }
    })
}

/// The statements between `BEGIN ATOMIC` and the final `END` of a SQL-standard function body.
fn atomic_source(text: &str, base: usize, exact: bool) -> Option<Source> {
    let tokens: Vec<Token> = tokenize(text, Dialect::Postgres).into_iter().filter(|t| !t.is_comment()).collect();
    let atomic = tokens.windows(2).position(|w| w[0].is_word(text, "begin") && w[1].is_word(text, "atomic"))?;
    let start = tokens.get(atomic + 1)?.span.end;
    let end = tokens.iter().rev().find(|t| t.kind != TokenKind::Terminator)?;
    if !end.is_word(text, "end") || end.span.start < start {
        return None;
    }
    Some(Source::verbatim(text.get(start..end.span.start)?, base + start, exact))
}

/// The body span of a source (the whole of its text).
fn source_span(src: &Source) -> Span {
    Span::new(src.pos(0), src.pos(src.text.len()))
}

// ---------------------------------------------------------------------------------------------
// SQL bodies
// ---------------------------------------------------------------------------------------------

fn sql_body(src: &Source, function: Option<String>, depth: usize) -> Body {
    let mut statements = Vec::new();
    sql_statements(src, depth, &mut statements);
    Body { span: source_span(src), kind: EmbeddedKind::FunctionBody, function, statements, error: None }
}

/// Splits a source of plain SQL into statements and parses each.
fn sql_statements(src: &Source, depth: usize, out: &mut Vec<BodyStatement>) {
    let tokens = tokenize(&src.text, Dialect::Postgres);
    for piece in split(&src.text, &tokens, Dialect::Postgres) {
        if piece.kind != PieceKind::Sql {
            continue;
        }
        let text = piece.span.slice(&src.text);
        if let Some(st) = statement(src, piece.span.start, text, depth) {
            out.push(st);
        }
    }
}

/// Parses `text`, which stands for the source's bytes from `start`.
fn statement(src: &Source, start: usize, text: &str, depth: usize) -> Option<BodyStatement> {
    let (span, placed) = src.place(start, text)?;
    let parse_text = placed.as_deref().unwrap_or(text);
    let parsed = match pg_ffi::parse_for_lowering(parse_text) {
        Err(e) => Err(e.message),
        Ok(result) => Ok(result
            .stmts
            .into_iter()
            .filter_map(|raw| {
                let node = raw.stmt?;
                node.node.as_ref()?;
                Some((Arc::new(*node), raw.stmt_location, raw.stmt_len))
            })
            .collect::<Vec<_>>()),
    };
    let mut nested = Vec::new();
    if let Ok(nodes) = &parsed {
        for (node, location, length) in nodes {
            let Some(inner) = node.node.as_ref() else { continue };
            if !matches!(inner, N::DoStmt(_) | N::CreateFunctionStmt(_)) {
                continue;
            }
            let from = usize::try_from(*location).unwrap_or(0);
            let to = match usize::try_from(*length) {
                Ok(0) | Err(_) => parse_text.len(),
                Ok(n) => (from + n).min(parse_text.len()),
            };
            if let Some(t) = parse_text.get(from..to) {
                bodies_of(t, span.start + from, inner, depth + 1, placed.is_none(), &mut nested);
            }
        }
    }
    Some(BodyStatement { span, text: placed, parsed, nested, guarded: false })
}

// ---------------------------------------------------------------------------------------------
// PL/pgSQL bodies
// ---------------------------------------------------------------------------------------------

fn plpgsql_body(stmt_text: &str, src: &Source, kind: EmbeddedKind, function: Option<String>, depth: usize) -> Body {
    let mut body = Body { span: source_span(src), kind, function, statements: Vec::new(), error: None };
    let found = match compile(stmt_text) {
        Ok(Some(found)) => found,
        Ok(None) => return body,
        Err(e) => {
            body.error = Some(e);
            return body;
        }
    };
    let line_starts: Vec<usize> = std::iter::once(0).chain(src.text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let mut used = HashSet::new();
    let mut statements = Vec::new();
    for q in found {
        let line = q.lineno.saturating_sub(1);
        let Some(&from) = line_starts.get(line) else { continue };
        let line_end = line_starts.get(line + 1).copied().unwrap_or(src.text.len());
        if q.dynamic {
            let Some(at) = find_exact(&src.text, from, &q.query, &used) else { continue };
            used.insert(at);
            let literal = match string_literal(&q.query) {
                Some(Literal::Quoted(r)) => src.unescape(at + r.start..at + r.end),
                Some(Literal::Dollar(r)) => Some(src.slice(at + r.start..at + r.end)),
                None => None,
            };
            if let Some(literal) = literal {
                let first = statements.len();
                sql_statements(&literal, depth, &mut statements);
                for st in &mut statements[first..] {
                    st.guarded = q.guarded;
                }
            }
        } else {
            let Some(at) = find_blanked(&src.text, from..line_end, &q.query, &used) else { continue };
            used.insert(at);
            if let Some(st) = statement(src, at, &q.query, depth) {
                statements.push(BodyStatement { guarded: q.guarded, ..st });
            }
        }
    }
    statements.sort_by_key(|s| s.span.start);
    body.statements = statements;
    body
}

/// A statement of a PL/pgSQL body: static SQL, or the command expression of an `EXECUTE`.
#[derive(Debug)]
struct Query {
    lineno: usize,
    query: String,
    dynamic: bool,
    /// See [`EmbeddedStatement::guarded`].
    guarded: bool,
}

/// The first unused occurrence of `query` at or after `from`.
fn find_exact(body: &str, from: usize, query: &str, used: &HashSet<usize>) -> Option<usize> {
    let rest = body.get(from..)?;
    rest.match_indices(query).map(|(i, _)| from + i).find(|at| !used.contains(at))
}

/// The first unused position in `starts` where `query` matches the body, a blank in the query
/// matching any byte: the PL/pgSQL compiler blanks out the `INTO target` clause of a statement.
fn find_blanked(body: &str, starts: Range<usize>, query: &str, used: &HashSet<usize>) -> Option<usize> {
    let q = query.as_bytes();
    // The statement's first word is never blanked: candidates are its occurrences.
    let head = query.split(' ').next().filter(|h| !h.is_empty())?;
    let window = body.get(starts.start..body.len().min(starts.end + head.len()))?;
    window.match_indices(head).map(|(i, _)| starts.start + i).find(|&at| {
        !used.contains(&at)
            && body.is_char_boundary(at + q.len())
            && body.as_bytes().get(at..at + q.len()).is_some_and(|s| s.iter().zip(q).all(|(x, y)| x == y || *y == b' '))
    })
}

/// A string constant that is the whole of an `EXECUTE` command.
enum Literal {
    /// `'...'`: the inside, in which quotes are doubled.
    Quoted(Range<usize>),
    /// `$tag$...$tag$`: the inside, verbatim.
    Dollar(Range<usize>),
}

/// The literal `text` is made of, when it is exactly one plain string constant (not `E'...'`,
/// whose backslash escapes would have to be interpreted).
fn string_literal(text: &str) -> Option<Literal> {
    let tokens = tokenize(text, Dialect::Postgres);
    let [t] = tokens.as_slice() else { return None };
    if t.kind != TokenKind::String || t.span != Span::new(0, text.len()) {
        return None;
    }
    if let Some(after) = text.strip_prefix('$') {
        let tag = after.find('$')? + 2;
        let end = text.len().checked_sub(tag)?;
        return (end >= tag && text.get(end..) == text.get(..tag)).then_some(Literal::Dollar(tag..end));
    }
    (text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'')).then(|| Literal::Quoted(1..text.len() - 1))
}

// ---------------------------------------------------------------------------------------------
// libpg_query's PL/pgSQL compiler, read by pg_plpgsql.c
// ---------------------------------------------------------------------------------------------

#[repr(C)]
struct SluicePlpgsqlResult {
    data: *mut u8,
    len: usize,
    error: *mut c_char,
    found: bool,
}

extern "C" {
    fn sluice_plpgsql_statements(input: *const c_char) -> SluicePlpgsqlResult;
    fn sluice_plpgsql_release(result: SluicePlpgsqlResult);
}

/// Compiles the PL/pgSQL body of the one `DO` or `CREATE FUNCTION` statement `sql` and returns
/// the statements it runs, in the order of the compiled tree (`None` when there is no PL/pgSQL
/// body).
fn compile(sql: &str) -> Result<Option<Vec<Query>>, String> {
    let input = CString::new(sql).map_err(|_| "statement contains a NUL byte".to_string())?;
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call; the result's
    // buffers are read only before it is released, exactly once, below.
    unsafe {
        let result = sluice_plpgsql_statements(input.as_ptr());
        let out = if !result.error.is_null() {
            Err(CStr::from_ptr(result.error).to_string_lossy().into_owned())
        } else if !result.found {
            Ok(None)
        } else if result.data.is_null() {
            Ok(Some(Vec::new()))
        } else {
            Ok(Some(records(std::slice::from_raw_parts(result.data, result.len))))
        };
        sluice_plpgsql_release(result);
        out
    }
}

/// Reads pg_plpgsql.c's records: a flag byte (bit 0 for `EXECUTE`, bit 1 for a guarded
/// statement), the line number and the length of the query text (little-endian `u32`s), then
/// the text.
fn records(mut bytes: &[u8]) -> Vec<Query> {
    let mut out = Vec::new();
    let u32_at = |b: &[u8], at: usize| b.get(at..at + 4).and_then(|x| x.try_into().ok()).map(u32::from_le_bytes);
    while let (Some(&flag), Some(lineno), Some(len)) = (bytes.first(), u32_at(bytes, 1), u32_at(bytes, 5)) {
        let (Ok(lineno), Ok(len)) = (usize::try_from(lineno), usize::try_from(len)) else { break };
        let Some(text) = bytes.get(9..9 + len) else { break };
        out.push(Query {
            lineno,
            query: String::from_utf8_lossy(text).into_owned(),
            dynamic: flag & 1 != 0,
            guarded: flag & 2 != 0,
        });
        bytes = &bytes[9 + len..];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Lowering into the enclosing statement
// ---------------------------------------------------------------------------------------------

/// Lowers the statements of `bodies` (spans relative to the piece at `offset` in the file
/// `text`), appending their operations to `ops` and recording each body in `out`.
/// `scratch` holds a blank-padded copy of unescaped statements at their file offsets; `guarded`
/// tells whether the bodies are nested in a guarded statement (false at the top).
pub(super) fn lower(
    text: &str,
    offset: usize,
    bodies: &[Body],
    ops: &mut Vec<Op>,
    out: &mut Vec<Embedded>,
    scratch: &mut String,
    guarded: bool,
) {
    for body in bodies {
        let index = out.len();
        let first = ops.len();
        out.push(Embedded {
            span: body.span.shifted(offset),
            kind: body.kind,
            function: body.function.clone(),
            ops: first..first,
            statements: Vec::new(),
            error: body.error.clone(),
        });
        let mut statements = Vec::with_capacity(body.statements.len());
        for st in &body.statements {
            let span = st.span.shifted(offset);
            let start = ops.len();
            let guarded = guarded || st.guarded;
            match &st.parsed {
                Err(e) => {
                    statements.push(EmbeddedStatement { span, ops: start..start, error: Some(e.clone()), guarded })
                }
                Ok(nodes) => {
                    let src = match &st.text {
                        None => text,
                        Some(t) => at_offset(scratch, span.start, t),
                    };
                    lower_statement(src, span, nodes, ops);
                    statements.push(EmbeddedStatement { span, ops: start..ops.len(), error: None, guarded });
                    lower(text, offset, &st.nested, ops, out, scratch, guarded);
                }
            }
        }
        if let Some(e) = out.get_mut(index) {
            e.ops = first..ops.len();
            e.statements = statements;
        }
    }
}

/// Lowers the parsed statements of one embedded statement whose text is at `span` in `src`.
fn lower_statement(src: &str, span: Span, nodes: &[(Arc<pb::Node>, i32, i32)], ops: &mut Vec<Op>) {
    let tokens: Vec<Token> = tokenize(span.slice(src), Dialect::Postgres)
        .into_iter()
        .map(|t| Token { kind: t.kind, span: t.span.shifted(span.start) })
        .collect();
    for (node, location, length) in nodes {
        let Some(inner) = node.node.as_ref() else { continue };
        let sub = if nodes.len() > 1 {
            let start = span.start + usize::try_from(*location).unwrap_or(0);
            let end = match usize::try_from(*length) {
                Ok(0) | Err(_) => span.end,
                Ok(n) => (start + n).min(span.end),
            };
            trim_span(src, Span::new(start.min(end), end))
        } else {
            span
        };
        let toks: Vec<Token> =
            tokens.iter().copied().filter(|t| t.span.start >= sub.start && t.span.end <= sub.end).collect();
        let cx = LowerCx::new(src, sub, &toks, Dialect::Postgres);
        ops.extend(pg_lower::lower(inner, &cx));
    }
}

/// `scratch` made to hold `text` at byte `at`, returned whole. What precedes `at` is never read:
/// lowering reads only the statement's own span.
fn at_offset<'s>(scratch: &'s mut String, at: usize, text: &str) -> &'s str {
    if scratch.len() > at {
        if scratch.is_char_boundary(at) {
            scratch.truncate(at);
        } else {
            scratch.clear();
        }
    }
    let pad = at - scratch.len();
    scratch.extend(std::iter::repeat_n(' ', pad));
    scratch.push_str(text);
    scratch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Applicability, Edit, Fix, Severity};
    use crate::ir::{AlterActionKind, ObjectKind};
    use crate::parse::{parse_file, parse_file_cached, ParseCache};

    fn one(src: &str) -> Statement {
        let f = parse_file(src, Dialect::Postgres);
        assert_eq!(f.statements.len(), 1, "{:?}", f.statements);
        f.statements.into_iter().next().unwrap()
    }

    /// The file text of every embedded statement of the first body.
    fn texts<'a>(src: &'a str, stmt: &Statement) -> Vec<&'a str> {
        stmt.embedded.iter().flat_map(|e| &e.statements).map(|s| s.span.slice(src)).collect()
    }

    fn table_of(op: &Op) -> &crate::ir::QualifiedName {
        match op {
            Op::AlterTable { name, .. } | Op::CreateIndex { table: name, .. } => name,
            Op::Drop { names, .. } | Op::Truncate { tables: names, .. } => &names[0],
            op => panic!("no table: {op:?}"),
        }
    }

    #[test]
    fn do_block_statements_keep_file_positions_after_non_ascii_text() {
        let src = "-- größe € 🚀\nDO $body$\n-- ünïcode ✓\nBEGIN\n  ALTER TABLE wörter DROP COLUMN größe;\nEND\n$body$";
        let stmt = one(src);
        assert_eq!(stmt.ops.len(), 2, "{:?}", stmt.ops);
        assert_eq!(stmt.ops[0], Op::DoBlock);
        let Op::AlterTable { name, actions, .. } = &stmt.ops[1] else { panic!("{:?}", stmt.ops) };
        assert_eq!(name.span.slice(src), "wörter");
        let AlterActionKind::DropColumn { name: col, .. } = &actions[0].kind else { panic!("{actions:?}") };
        assert_eq!(col.span.slice(src), "größe");
        assert_eq!(texts(src, &stmt), ["ALTER TABLE wörter DROP COLUMN größe"]);
        let e = &stmt.embedded[0];
        assert_eq!(e.kind, EmbeddedKind::DoBlock);
        assert_eq!(e.span.slice(src), "\n-- ünïcode ✓\nBEGIN\n  ALTER TABLE wörter DROP COLUMN größe;\nEND\n");
        assert_eq!(e.ops, 1..2);
        assert!(!stmt.op_runs_later(1));
    }

    #[test]
    fn nested_blocks_loops_conditionals_and_handlers() {
        let src = "DO $$\nDECLARE r record;\nBEGIN\n  IF NOT EXISTS (SELECT 1) THEN\n    ALTER TABLE a ADD COLUMN x int;\n  ELSIF true THEN TRUNCATE b;\n  ELSE\n    FOR r IN SELECT 1 LOOP\n      BEGIN\n        DROP TABLE c;\n      EXCEPTION WHEN others THEN\n        CREATE INDEX i ON d (x);\n      END;\n    END LOOP;\n  END IF;\n  <<outer>> WHILE false LOOP ALTER TABLE e ADD COLUMN y int; ALTER TABLE e ADD COLUMN y int; END LOOP;\nEND $$";
        let stmt = one(src);
        let tables: Vec<&str> = stmt.ops[1..].iter().map(|op| table_of(op).span.slice(src)).collect();
        assert_eq!(tables, ["a", "b", "c", "d", "e", "e"]);
        let texts = texts(src, &stmt);
        assert_eq!(texts[3], "CREATE INDEX i ON d (x)");
        // Two identical statements on one line are two different places.
        assert_eq!(stmt.embedded[0].statements[4].span.start + 32, stmt.embedded[0].statements[5].span.start);
        // Branches of IF and the body of a block with a handler are guarded; the handler's own
        // statements and a loop at the top are not (a loop inside a branch stays guarded).
        let guarded: Vec<bool> = stmt.embedded[0].statements.iter().map(|s| s.guarded).collect();
        assert_eq!(guarded, [true, true, true, true, false, false]);
        assert!(
            stmt.is_guarded_op(&stmt.ops[1]) && !stmt.is_guarded_op(&stmt.ops[5]) && !stmt.is_guarded_op(&stmt.ops[0])
        );
        let src = "DO $$ BEGIN\n  DROP TABLE a;\n  BEGIN\n    DROP TABLE b;\n  EXCEPTION WHEN undefined_table THEN\n    DROP TABLE c;\n  END;\n  IF true THEN EXECUTE 'DROP TABLE d'; END IF;\n\
                   BEGIN DROP TABLE e; EXCEPTION WHEN others THEN RAISE; END;\n\
                   BEGIN DROP TABLE f; EXCEPTION WHEN division_by_zero THEN NULL; END;\n\
                   BEGIN DROP TABLE g; EXCEPTION WHEN others THEN RAISE NOTICE 'gone'; END;\n\
                   BEGIN DROP TABLE h; EXCEPTION WHEN others THEN RAISE NOTICE 'failed'; RAISE; END;\n\
                   BEGIN DROP TABLE i; EXCEPTION WHEN insufficient_privilege THEN NULL; END;\nEND $$";
        let stmt = one(src);
        let guarded: Vec<bool> = stmt.embedded[0].statements.iter().map(|s| s.guarded).collect();
        assert_eq!(
            super::tests::texts(src, &stmt),
            [
                "DROP TABLE a",
                "DROP TABLE b",
                "DROP TABLE c",
                "DROP TABLE d",
                "DROP TABLE e",
                "DROP TABLE f",
                "DROP TABLE g",
                "DROP TABLE h",
                "DROP TABLE i"
            ]
        );
        // A handler that raises again, or catches something else, guards nothing.
        assert_eq!(guarded, [false, true, false, true, false, false, true, false, false]);
    }

    #[test]
    fn execute_of_a_string_literal_is_unescaped_and_mapped() {
        let src = "DO $$ BEGIN\n  EXECUTE 'ALTER TABLE t ADD COLUMN c text DEFAULT ''it''''s'' NOT NULL';\n  EXECUTE format('DROP TABLE %I', 'x');\n  EXECUTE 'DROP TABLE ' || 'y';\nEND $$";
        let stmt = one(src);
        assert_eq!(stmt.ops.len(), 2, "only the literal is read: {:?}", stmt.ops);
        let Op::AlterTable { name, actions, .. } = &stmt.ops[1] else { panic!("{:?}", stmt.ops) };
        assert_eq!(name.span.slice(src), "t");
        let AlterActionKind::AddColumn { column, .. } = &actions[0].kind else { panic!("{actions:?}") };
        assert_eq!(column.name.span.slice(src), "c");
        assert!(column.not_null, "the clause after the unescaped literal is still read");
        assert_eq!(column.default.as_ref().map(|d| d.text.as_str()), Some("'it''s'"));
        // The statement covers the literal's inside in the file.
        let st = &stmt.embedded[0].statements[0];
        assert_eq!(st.span.slice(src), "ALTER TABLE t ADD COLUMN c text DEFAULT ''it''''s'' NOT NULL");
        assert_eq!(actions[0].span.slice(src).split_whitespace().last(), Some("NULL"));
        // A dollar-quoted EXECUTE literal is read verbatim.
        let src = "DO $do$ BEGIN EXECUTE $q$ALTER TABLE t DROP COLUMN c$q$; END $do$";
        assert_eq!(texts(src, &one(src)), ["ALTER TABLE t DROP COLUMN c"]);
    }

    #[test]
    fn single_quoted_function_body_with_doubled_quotes() {
        let src = "CREATE OR REPLACE FUNCTION f() RETURNS void AS '\nBEGIN\n  ALTER TABLE t ALTER COLUMN c SET DEFAULT ''x'';\n  ALTER TABLE t DROP COLUMN d;\nEND' LANGUAGE plpgsql";
        let stmt = one(src);
        assert!(matches!(&stmt.ops[0], Op::Create { kind: ObjectKind::Function, or_replace: true, .. }));
        assert_eq!(stmt.ops.len(), 3, "{:?}", stmt.ops);
        let Op::AlterTable { actions, .. } = &stmt.ops[2] else { panic!("{:?}", stmt.ops) };
        let AlterActionKind::DropColumn { name, .. } = &actions[0].kind else { panic!("{actions:?}") };
        assert_eq!(name.span.slice(src), "d");
        assert_eq!(texts(src, &stmt)[0], "ALTER TABLE t ALTER COLUMN c SET DEFAULT ''x''");
        let e = &stmt.embedded[0];
        assert_eq!(e.kind, EmbeddedKind::FunctionBody);
        assert_eq!(e.function.as_deref(), Some("f"));
        assert!(stmt.op_runs_later(1) && stmt.op_runs_later(2) && !stmt.op_runs_later(0));
        assert!(stmt.is_embedded_op(&stmt.ops[1]) && !stmt.is_embedded_op(&stmt.ops[0]));
        assert!(!stmt.is_embedded_op(&stmt.ops[1].clone()), "identity, not equality");
        assert_eq!(stmt.ops_run_now().count(), 1);
    }

    #[test]
    fn sql_function_bodies_are_split() {
        let src = "CREATE FUNCTION s.g() RETURNS void LANGUAGE sql AS $f$\n  DELETE FROM t;\n  -- done; really\n  DROP TABLE u\n$f$";
        let stmt = one(src);
        assert_eq!(texts(src, &stmt), ["DELETE FROM t", "DROP TABLE u"]);
        assert!(matches!(stmt.ops[1], Op::Dml { .. }));
        assert_eq!(table_of(&stmt.ops[2]).span.slice(src), "u");
        assert_eq!(stmt.embedded[0].function.as_deref(), Some("s.g"));
    }

    #[test]
    fn begin_atomic_bodies() {
        let src = "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC\n  UPDATE t SET a = CASE WHEN a THEN 1 END;\n  TRUNCATE u;\nEND";
        let stmt = one(src);
        assert_eq!(texts(src, &stmt), ["UPDATE t SET a = CASE WHEN a THEN 1 END", "TRUNCATE u"]);
        assert!(matches!(&stmt.ops[0], Op::Create { kind: ObjectKind::Procedure, .. }));
        assert_eq!(table_of(&stmt.ops[2]).span.slice(src), "u");
        assert_eq!(stmt.embedded[0].span.slice(src).trim(), "UPDATE t SET a = CASE WHEN a THEN 1 END;\n  TRUNCATE u;");
        // `RETURN expr` bodies hold no statement.
        assert!(one("CREATE FUNCTION one() RETURNS int LANGUAGE sql RETURN 1").embedded.is_empty());
    }

    #[test]
    fn rejected_bodies_and_statements_yield_no_operations() {
        // The PL/pgSQL compiler rejects the body: the outer statement still parses.
        let bad = one("DO $$ BEGIN ALTER TABLE t DROP COLUMN c END $$");
        assert!(bad.is_parsed());
        assert_eq!(bad.ops, [Op::DoBlock]);
        assert!(bad.embedded[0].error.is_some(), "{:?}", bad.embedded);
        let undeclared = one("DO $$ BEGIN x := 1; DROP TABLE t; END $$");
        assert_eq!(undeclared.ops, [Op::DoBlock]);
        // A statement of a SQL body the grammar rejects is skipped, the next one still counts.
        let src = "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ ALTER TABLE; DROP TABLE t $$";
        let stmt = one(src);
        assert_eq!(stmt.ops.len(), 2, "{:?}", stmt.ops);
        assert!(stmt.embedded[0].statements[0].error.is_some());
        assert!(stmt.embedded[0].statements[0].ops.is_empty());
        // An EXECUTE literal that is not SQL.
        assert_eq!(one("DO $$ BEGIN EXECUTE 'not sql at all'; END $$").ops, [Op::DoBlock]);
        // Other languages are not read.
        assert!(one("DO LANGUAGE plperl $$ DROP TABLE t $$").embedded.is_empty());
        assert!(one("CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'lib', 'sym'").embedded.is_empty());
        // A deeply nested body is read to the bottom.
        let nested = |n: usize| {
            format!("DO $$ BEGIN {} DROP TABLE t; {} END $$", "IF true THEN ".repeat(n), "END IF; ".repeat(n))
        };
        let stmt = one(&nested(200));
        assert_eq!(stmt.ops.len(), 2, "{:?}", stmt.ops);
        assert_eq!(table_of(&stmt.ops[1]).span.slice(&nested(200)), "t");
        // Deeper than the PL/pgSQL compiler goes: its error, kept with the body.
        let stmt = one(&nested(20_000));
        assert_eq!(stmt.ops, [Op::DoBlock]);
        assert!(stmt.embedded[0].error.is_some(), "{:?}", stmt.embedded[0].error);
    }

    #[test]
    fn trigger_functions_and_into_clauses() {
        // Trigger functions make libpg_query print invalid JSON for their variables.
        let src = "CREATE FUNCTION trg() RETURNS trigger AS $$\nDECLARE n int;\nBEGIN\n  SELECT count(*) INTO n FROM t;\n  NEW.x := n;\n  ALTER TABLE t DROP COLUMN y;\n  RETURN NEW;\nEND $$ LANGUAGE plpgsql";
        let stmt = one(src);
        // `SELECT ... INTO n` is a query into a variable, not `SELECT INTO` a new table.
        assert!(matches!(stmt.ops[1], Op::Dml { kind: crate::ir::DmlKind::Select, .. }), "{:?}", stmt.ops);
        assert_eq!(texts(src, &stmt)[0], "SELECT count(*) INTO n FROM t");
        assert_eq!(table_of(&stmt.ops[2]).span.slice(src), "t");
    }

    #[test]
    fn nested_bodies_and_when_they_run() {
        let src = "DO $do$ BEGIN\n  CREATE FUNCTION f() RETURNS void AS $f$ BEGIN DROP TABLE later; END $f$ LANGUAGE plpgsql;\n  DROP TABLE now;\nEND $do$";
        let stmt = one(src);
        assert_eq!(stmt.embedded.len(), 2);
        assert_eq!(stmt.embedded[1].kind, EmbeddedKind::FunctionBody);
        let names: Vec<&str> = stmt
            .ops_run_now()
            .filter_map(|op| match op {
                Op::Drop { names, .. } => Some(names[0].name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["now"]);
        let later = stmt.ops.iter().position(|op| matches!(op, Op::Drop { names, .. } if names[0].name == "later"));
        assert!(later.is_some_and(|i| stmt.op_runs_later(i)));
        assert_eq!(table_of(&stmt.ops[later.unwrap()]).span.slice(src), "later");
    }

    #[test]
    fn function_bodies_do_not_change_the_file_context() {
        let src = "CREATE FUNCTION f() RETURNS void AS $$ BEGIN SET lock_timeout = '1s'; CREATE TABLE t (id int); END $$ \
                   LANGUAGE plpgsql;\nDO $$ BEGIN SET statement_timeout = '1min'; END $$;\nALTER TABLE t ADD COLUMN a int;";
        let file = parse_file(src, Dialect::Postgres);
        let fcx = crate::FileContext::analyze(&file, &crate::Settings::default());
        let alter = fcx.at(2);
        assert!(!alter.lock_timeout_set, "the function's SET runs when it is called");
        assert!(alter.statement_timeout_set, "a DO block runs now");
        let Op::AlterTable { name, .. } = &file.statements[2].ops[0] else { panic!("{:?}", file.statements[2]) };
        assert!(!fcx.created_before(name, 2), "the function's CREATE TABLE runs when it is called");
    }

    #[test]
    fn cached_bodies_are_rebased() {
        let mut cache = ParseCache::new();
        let body = "DO $$ BEGIN EXECUTE 'ALTER TABLE t ALTER COLUMN c SET DEFAULT ''x'''; DROP TABLE u; END $$;";
        let a = parse_file_cached(body, Dialect::Postgres, &mut cache);
        let shifted = format!("-- ünïcode shifts every offset\nSELECT 1;\n{body}");
        let b = parse_file_cached(&shifted, Dialect::Postgres, &mut cache);
        assert_eq!(cache.misses, 1, "only SELECT 1 is new");
        let (sa, sb) = (&a.statements[0], &b.statements[1]);
        assert_eq!(sa.ops.len(), 3);
        assert_eq!(sa.ops.len(), sb.ops.len());
        for (x, y) in sa.ops[1..].iter().zip(&sb.ops[1..]) {
            assert_eq!(table_of(x).span.slice(body), table_of(y).span.slice(&shifted));
        }
        assert_eq!(texts(body, sa), texts(&shifted, sb));
    }

    #[test]
    fn findings_in_bodies_lose_fixes_and_say_when_they_run() {
        let src = "CREATE FUNCTION f() RETURNS void AS $$ BEGIN CREATE INDEX i ON t (a); END $$ LANGUAGE plpgsql;\nDO $$ BEGIN CREATE INDEX j ON t (a); END $$;";
        let file = parse_file(src, Dialect::Postgres);
        let finding = |stmt: &Statement, word: &str, fix_at: usize| finding_in(src, stmt, word, fix_at);
        fn finding_in(src: &str, stmt: &Statement, word: &str, fix_at: usize) -> Diagnostic {
            let at = stmt.span.start + stmt.text(src).find(word).unwrap();
            Diagnostic {
                rule: "r",
                severity: Severity::Warning,
                message: "m".into(),
                span: Span::new(at, at + word.len()),
                statement: stmt.span,
                labels: Vec::new(),
                help: Some("h".into()),
                fix: Some(Fix {
                    description: "d".into(),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::insert(fix_at, "x")],
                }),
            }
        }
        let (f, d) = (&file.statements[0], &file.statements[1]);
        let mut in_function = finding(f, "CREATE INDEX", 0);
        file.qualify_embedded_finding(&mut in_function);
        assert!(in_function.fix.is_none(), "a function body runs later: no fix, even outside it");
        assert!(in_function.help.as_deref().is_some_and(|h| h.starts_with("h; ") && h.contains("`f`")));
        let mut in_do = finding(d, "CREATE INDEX", d.span.start + d.text(src).find("INDEX").unwrap());
        file.qualify_embedded_finding(&mut in_do);
        assert!(in_do.fix.is_none(), "an edit inside the body is dropped");
        assert_eq!(in_do.help.as_deref(), Some("h"));
        let mut top_of_file = finding(d, "CREATE INDEX", 0);
        file.qualify_embedded_finding(&mut top_of_file);
        assert!(top_of_file.fix.is_some(), "a DO block runs now: an edit before it stays");
        let mut on_function = finding(f, "CREATE FUNCTION", 0);
        file.qualify_embedded_finding(&mut on_function);
        assert!(on_function.fix.is_some() && on_function.help.as_deref() == Some("h"));

        let src = "SELECT 1;\nSET @s = 'ALTER TABLE t ADD COLUMN c int';\nPREPARE p FROM @s;\n";
        let file = parse_file(src, Dialect::MySql);
        let set = &file.statements[1];
        let mut appended = finding_in(src, set, "ADD COLUMN", set.span.end);
        file.qualify_embedded_finding(&mut appended);
        assert!(appended.fix.is_none(), "an edit of the SET statement is dropped");
        assert!(appended.help.as_deref().is_some_and(|h| h.starts_with("h; ") && h.contains("`PREPARE`")));
        let mut before = finding_in(src, set, "ADD COLUMN", set.span.start);
        file.qualify_embedded_finding(&mut before);
        assert!(before.fix.is_some(), "a statement inserted before it stays");
    }

    /// libpg_query's own reading of a PL/pgSQL body: the compiled function printed as JSON, whose
    /// `PLpgSQL_stmt_execsql` and `PLpgSQL_stmt_dynexecute` entries are collected. `compile` must
    /// find the same statements.
    mod json_reference {
        use super::super::Query;
        use serde_json::Value;
        use std::ffi::{c_char, CStr, CString};

        #[repr(C)]
        struct PgQueryPlpgsqlParseResult {
            plpgsql_funcs: *mut c_char,
            error: *mut crate::parse::pg_ffi::PgQueryError,
        }

        extern "C" {
            fn pg_query_parse_plpgsql(input: *const c_char) -> PgQueryPlpgsqlParseResult;
            fn pg_query_free_plpgsql_parse_result(result: PgQueryPlpgsqlParseResult);
        }

        /// `Err` also when the JSON cannot be read (libpg_query prints some trigger-function
        /// variables as invalid JSON; serde_json refuses nesting deeper than 128 levels): the
        /// caller tells that case by its message.
        pub(super) fn compile(sql: &str) -> Result<Option<Vec<Query>>, String> {
            let input = CString::new(sql).map_err(|_| "NUL".to_string())?;
            let raw = unsafe {
                let result = pg_query_parse_plpgsql(input.as_ptr());
                let out = if !result.error.is_null() {
                    let err = &*result.error;
                    Err(if err.message.is_null() {
                        "PL/pgSQL body could not be compiled".to_string()
                    } else {
                        CStr::from_ptr(err.message).to_string_lossy().into_owned()
                    })
                } else if result.plpgsql_funcs.is_null() {
                    Ok(String::new())
                } else {
                    Ok(CStr::from_ptr(result.plpgsql_funcs).to_string_lossy().into_owned())
                };
                pg_query_free_plpgsql_parse_result(result);
                out
            }?;
            const KEY: &str = "\"action\":";
            let Some(at) = raw.find("\"action\":{\"PLpgSQL_stmt_block\":") else { return Ok(None) };
            let mut values = serde_json::Deserializer::from_str(&raw[at + KEY.len()..]).into_iter::<Value>();
            let action = match values.next() {
                Some(Ok(v)) => v,
                Some(Err(e)) => return Err(format!("{UNREADABLE}: {e}")),
                None => return Ok(None),
            };
            let mut found = Vec::new();
            collect(&action, &mut found);
            Ok(Some(found))
        }

        pub(super) const UNREADABLE: &str = "JSON could not be read";

        fn collect(v: &Value, out: &mut Vec<Query>) {
            match v {
                Value::Object(map) => {
                    for (key, child) in map {
                        let (expr_field, dynamic) = match key.as_str() {
                            "PLpgSQL_stmt_execsql" => ("sqlstmt", false),
                            "PLpgSQL_stmt_dynexecute" => ("query", true),
                            _ => {
                                collect(child, out);
                                continue;
                            }
                        };
                        let lineno = child.get("lineno").and_then(Value::as_u64).unwrap_or(0);
                        let query =
                            child.get(expr_field).and_then(|e| e.get("PLpgSQL_expr")).and_then(|e| e.get("query"));
                        if let Some(query) = query.and_then(Value::as_str) {
                            out.push(Query {
                                lineno: lineno as usize,
                                query: query.to_string(),
                                dynamic,
                                guarded: false,
                            });
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
                _ => {}
            }
        }
    }

    fn sorted(queries: Vec<Query>) -> Vec<(usize, bool, String)> {
        let mut v: Vec<_> = queries.into_iter().map(|q| (q.lineno, q.dynamic, q.query)).collect();
        v.sort();
        v
    }

    #[test]
    fn compiled_bodies_match_libpg_query_json() {
        let cases = [
            "DO $$ BEGIN ALTER TABLE t ADD COLUMN c int; EXECUTE 'DROP TABLE u'; END $$",
            "DO $$\nDECLARE r record; i int;\nBEGIN\n  IF a THEN DELETE FROM t; ELSIF b THEN UPDATE t SET x = 1; ELSE INSERT INTO t VALUES (1); END IF;\n  CASE WHEN c THEN DELETE FROM u; ELSE EXECUTE format('DROP TABLE %I', n); END CASE;\n  LOOP DELETE FROM v; EXIT; END LOOP;\n  WHILE true LOOP DELETE FROM w; END LOOP;\n  FOR i IN 1..3 LOOP DELETE FROM x; END LOOP;\n  FOR r IN SELECT 1 LOOP DELETE FROM y; END LOOP;\n  FOR r IN EXECUTE 'SELECT 1' LOOP DELETE FROM z; END LOOP;\n  FOREACH i IN ARRAY ARRAY[1] LOOP DELETE FROM a1; END LOOP;\n  BEGIN DELETE FROM b1; EXCEPTION WHEN others THEN DELETE FROM c1; END;\nEND $$",
            "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE t SET x = NEW.x; RETURN NEW; END $$",
            "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "CREATE FUNCTION h() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN ; END $$",
            "DO $$ BEGIN SELEC 1; END $$",
            "SELECT 1",
        ];
        for sql in cases {
            match (compile(sql), json_reference::compile(sql)) {
                (Ok(Some(a)), Ok(Some(b))) => assert_eq!(sorted(a), sorted(b), "{sql}"),
                (a, b) => assert_eq!(a.map(|x| x.map(sorted)), b.map(|x| x.map(sorted)), "{sql}"),
            }
        }
        let Ok(Some(all)) = compile(cases[1]) else { panic!("no body") };
        let tables: Vec<&str> = all.iter().map(|q| q.query.rsplit(' ').next().unwrap_or_default()).collect();
        // The compiled tree's order: then before elsif before else, handlers after the block body.
        assert_eq!(tables, ["t", "1", "(1)", "u", "n)", "v", "w", "x", "y", "z", "a1", "b1", "c1"], "{all:?}");
    }

    /// Every `DO` block and function body of the fixtures and, when present, of the shared corpus
    /// (PostgreSQL's regression tests included).
    #[test]
    fn compiled_bodies_match_libpg_query_json_on_every_corpus_file() {
        let (corpus, have_shared) = crate::parse::postgres_test_corpus();
        // The fixtures alone hold 10 bodies; the shared corpus, when present, over a thousand.
        let least = if have_shared { 1000 } else { 10 };
        let (mut bodies, mut unreadable) = (0, 0);
        for (path, text) in &corpus {
            for stmt in &parse_file(text, Dialect::Postgres).statements {
                let sql = stmt.span.slice(text);
                let upper = sql.to_ascii_uppercase();
                if !(upper.contains("DO") || upper.contains("FUNCTION") || upper.contains("PROCEDURE")) {
                    continue;
                }
                let (ours, theirs) = (compile(sql), json_reference::compile(sql));
                let at = format!("{}: {sql}", path.display());
                match (ours, theirs) {
                    (_, Err(e)) if e.starts_with(json_reference::UNREADABLE) => unreadable += 1,
                    (Ok(Some(a)), Ok(Some(b))) => {
                        assert_eq!(sorted(a), sorted(b), "{at}");
                        bodies += 1;
                    }
                    (a, b) => assert_eq!(a.map(|x| x.map(sorted)), b.map(|x| x.map(sorted)), "{at}"),
                }
            }
        }
        assert!(bodies >= least, "only {bodies} bodies compared");
        eprintln!("{bodies} PL/pgSQL bodies compared, {unreadable} whose JSON libpg_query could not print");
    }

    /// A small deterministic generator (no dependency needed for a test).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n.max(1)
        }
    }

    /// Random PL/pgSQL statements nested in every kind of block, appended to `out`, with the SQL
    /// statements and `EXECUTE` commands they hold, in the order they appear, in `expected`.
    fn random_block(rng: &mut Lcg, depth: usize, out: &mut String, expected: &mut Vec<(bool, String)>) {
        for _ in 0..1 + rng.next(3) {
            out.push_str(["\n", " ", "\n\n  "][rng.next(3)]);
            let n = expected.len();
            let kinds = if depth >= 4 { 4 } else { 14 };
            match rng.next(kinds) {
                0 => {
                    let q = format!("DELETE FROM t{n}");
                    out.push_str(&format!("{q};"));
                    expected.push((false, q));
                }
                1 => {
                    let q = format!("'DROP TABLE d{n}'");
                    out.push_str(&format!("EXECUTE {q};"));
                    expected.push((true, q));
                }
                2 => out.push_str("x := 1;"),
                3 => out.push_str("PERFORM 1;"),
                kind => {
                    let (open, middle, close) = match kind {
                        4 => ("IF c THEN", Some(" ELSIF d THEN"), " ELSE"),
                        5 => ("CASE WHEN c THEN", Some(" WHEN d THEN"), " ELSE"),
                        6 => ("LOOP", None, " EXIT; END LOOP;"),
                        7 => ("WHILE c LOOP", None, " END LOOP;"),
                        8 => ("FOR i IN 1..2 LOOP", None, " END LOOP;"),
                        9 => ("FOR r IN SELECT 1 LOOP", None, " END LOOP;"),
                        10 => ("FOR r IN EXECUTE 'SELECT 1' LOOP", None, " END LOOP;"),
                        11 => ("FOREACH i IN ARRAY a LOOP", None, " END LOOP;"),
                        12 => ("BEGIN", None, " EXCEPTION WHEN others THEN"),
                        _ => ("BEGIN", None, " END;"),
                    };
                    out.push_str(open);
                    random_block(rng, depth + 1, out, expected);
                    if let Some(middle) = middle {
                        out.push_str(middle);
                        random_block(rng, depth + 1, out, expected);
                    }
                    out.push_str(close);
                    if matches!(kind, 4 | 5 | 12) {
                        random_block(rng, depth + 1, out, expected);
                        out.push_str([" END IF;", " END CASE;", "", "", "", "", "", "", " END;"][kind - 4]);
                    }
                }
            }
        }
    }

    /// Generated bodies: the compiled tree gives every statement, in the order of the text, and
    /// the same ones as libpg_query's JSON.
    #[test]
    fn compiled_bodies_list_every_statement_in_order() {
        for seed in 0..400u64 {
            let mut rng = Lcg(seed);
            let (mut body, mut expected) = (String::new(), Vec::new());
            random_block(&mut rng, 0, &mut body, &mut expected);
            let sql = format!("DO $$\nDECLARE c bool; d bool; x int; i int; r record; a int[];\nBEGIN{body}\nEND $$");
            let Ok(Some(ours)) = compile(&sql) else { panic!("seed {seed}: {sql}\n{:?}", compile(&sql)) };
            let got: Vec<(bool, String)> = ours.iter().map(|q| (q.dynamic, q.query.clone())).collect();
            assert_eq!(got, expected, "seed {seed}: {sql}");
            let lines =
                |q: &Query| sql.lines().nth(q.lineno.saturating_sub(1)).is_some_and(|l| l.contains(q.query.as_str()));
            assert!(ours.iter().all(lines), "seed {seed}: a statement is not on its line: {sql}\n{ours:?}");
            let Ok(Some(json)) = json_reference::compile(&sql) else { panic!("seed {seed}: no JSON for {sql}") };
            assert_eq!(sorted(ours), sorted(json), "seed {seed}: {sql}");
        }
    }
}
