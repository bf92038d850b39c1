//! From source text to statements lowered into the IR.
//!
//! The file is tokenized once, split into statements, and every statement is parsed on its own
//! (PostgreSQL with the server grammar through libpg_query, MySQL with `sqlparser`), so a broken
//! statement yields one syntax error at its position while the others are still lowered.

mod cx;
mod mysql_dynamic;
mod mysql_lower;
mod pg_ffi;
mod pg_lower;
mod plpgsql;

pub use cx::LowerCx;
pub use pg_ffi::PgParseError;
pub use plpgsql::{Embedded, EmbeddedKind, EmbeddedStatement};

use crate::ir::Op;
use crate::lexer::{tokenize, Token, TokenKind};
use crate::span::Span;
use crate::split::{split, PieceKind};
use crate::Dialect;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One raw PostgreSQL statement of a parse: node, location and length relative to the text, and
/// the `DO` blocks or function bodies it embeds (spans relative to the text).
struct PgRaw {
    node: Arc<pg_query::protobuf::Node>,
    location: i32,
    length: i32,
    bodies: Vec<plpgsql::Body>,
}
type PgParsed = Result<Arc<Vec<PgRaw>>, PgParseError>;
type MySqlParsed = Result<Arc<Vec<Arc<sqlparser::ast::Statement>>>, String>;

/// Parse results keyed by statement text. Parser output is independent of where the statement
/// sits in the file, so an editor that changes one statement re-parses only that statement;
/// everything else is re-lowered from the cache (lowering is cheap, parsing is not).
/// Entries not used by the latest parse are dropped, so the cache never outgrows one file.
#[derive(Default)]
pub struct ParseCache {
    pg: HashMap<String, PgParsed>,
    mysql: HashMap<String, MySqlParsed>,
    used_pg: HashSet<String>,
    used_mysql: HashSet<String>,
    /// Statements parsed (not served from the cache) by the latest [`parse_file_cached`].
    pub misses: usize,
}

impl ParseCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn start(&mut self) {
        self.misses = 0;
        self.used_pg.clear();
        self.used_mysql.clear();
    }

    fn finish(&mut self) {
        let (used_pg, used_mysql) = (&self.used_pg, &self.used_mysql);
        self.pg.retain(|k, _| used_pg.contains(k));
        self.mysql.retain(|k, _| used_mysql.contains(k));
    }
}

/// Where statement parses come from: a [`ParseCache`], or the parser itself for a one-off parse
/// (nothing is kept, so each syntax tree is freed as soon as its statement is lowered).
enum Parses<'c> {
    Cached(&'c mut ParseCache),
    Fresh,
}

impl Parses<'_> {
    fn pg(&mut self, sql: &str) -> PgParsed {
        match self {
            Parses::Cached(c) => cached(&mut c.pg, &mut c.used_pg, &mut c.misses, sql, pg_parse_raw),
            Parses::Fresh => pg_parse_raw(sql),
        }
    }

    fn mysql(&mut self, sql: &str) -> MySqlParsed {
        match self {
            Parses::Cached(c) => cached(&mut c.mysql, &mut c.used_mysql, &mut c.misses, sql, mysql_parse_raw),
            Parses::Fresh => mysql_parse_raw(sql),
        }
    }
}

/// The cached result for `sql`, parsing (and counting a miss) when there is none; marks it used.
fn cached<T: Clone>(
    map: &mut HashMap<String, T>,
    used: &mut HashSet<String>,
    misses: &mut usize,
    sql: &str,
    parse: impl FnOnce(&str) -> T,
) -> T {
    used.insert(sql.to_string());
    if let Some(r) = map.get(sql) {
        return r.clone();
    }
    *misses += 1;
    let r = parse(sql);
    map.insert(sql.to_string(), r.clone());
    r
}

fn pg_parse_raw(sql: &str) -> PgParsed {
    pg_ffi::parse_for_lowering(sql).map(|result| {
        Arc::new(
            result
                .stmts
                .into_iter()
                .filter_map(|raw| {
                    let node = raw.stmt?;
                    let inner = node.node.as_ref()?;
                    let start = usize::try_from(raw.stmt_location).unwrap_or(0).min(sql.len());
                    let end = match usize::try_from(raw.stmt_len) {
                        Ok(0) | Err(_) => sql.len(),
                        Ok(n) => (start + n).min(sql.len()),
                    };
                    let bodies = plpgsql::parse_bodies(sql, start..end, inner);
                    Some(PgRaw { node: Arc::new(*node), location: raw.stmt_location, length: raw.stmt_len, bodies })
                })
                .collect(),
        )
    })
}

/// Parses `sql` (any number of statements) with the PostgreSQL server grammar, serialised by
/// libpg_query's own protobuf path and decoded, nothing else: what `pg_query::parse` does short
/// of its name walk, and the floor the benchmark compares linting with.
pub fn parse_pg_tree(sql: &str) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    pg_ffi::parse_protobuf(sql)
}

/// The same tree through Sluice's own encoder: the same message, written without libpg_query's
/// intermediate upb messages.
pub fn parse_pg_tree_direct(sql: &str) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    pg_ffi::parse(sql)
}

/// The tree linting lowers: Sluice's encoder without the parts of DML statements, views and
/// `CREATE TABLE AS` that lowering never reads.
pub fn parse_pg_lint_tree(sql: &str) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    pg_ffi::parse_for_lowering(sql)
}

/// What `text` lowers to (a PostgreSQL file, `{:#?}` of its [`ParsedFile`]) from whole parse
/// trees and from lint trees ([`parse_pg_lint_tree`]): equal unless lowering reads a part of a
/// statement that the lint trees leave out. A tree too deep to decode is an error only for the
/// whole tree when the depth lies in a part the lint tree leaves out; the lint tree then lowers
/// the statement, and the comparison takes the whole tree's error for it. For the equivalence
/// test and the `pg_encoder` fuzz target.
#[doc(hidden)]
pub fn pg_lowering_both_ways(text: &str) -> (String, String) {
    let full = pg_ffi::with_whole_trees(|| parse_file(text, Dialect::Postgres));
    let mut lint = parse_file(text, Dialect::Postgres);
    for (f, l) in full.statements.iter().zip(lint.statements.iter_mut()) {
        if let StatementStatus::SyntaxError(e) = &f.status {
            if e.message.contains("nested too deeply") && l.is_parsed() {
                *l = f.clone();
            }
        }
    }
    // Debug-formatting a deep tree recurses as deeply as lowering it, so it gets the stack
    // parsing gets, whatever thread calls this (tests and fuzz targets run on default-sized
    // threads).
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SIZE, || (format!("{full:#?}"), format!("{lint:#?}")))
}

/// Parses `sql` with `sqlparser`'s MySQL dialect, nothing else.
pub fn parse_mysql_tree(sql: &str) -> Result<Vec<sqlparser::ast::Statement>, String> {
    sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::MySqlDialect {}, sql).map_err(|e| e.to_string())
}

fn mysql_parse_raw(sql: &str) -> MySqlParsed {
    let dialect = sqlparser::dialect::MySqlDialect {};
    sqlparser::parser::Parser::parse_sql(&dialect, sql)
        .map(|v| Arc::new(v.into_iter().map(Arc::new).collect()))
        .map_err(|e| e.to_string())
}

/// Why a statement could not be lowered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    /// Where the parser stopped (file coordinates), or the whole statement when unknown.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StatementStatus {
    Parsed,
    /// PostgreSQL: the server grammar rejects it. MySQL: `sqlparser` could not parse it (which
    /// does not prove the server would reject it) and nothing could be recovered from its tokens.
    SyntaxError(SyntaxError),
    /// MySQL only: `sqlparser` could not parse it, but its operations were recovered clause by
    /// clause and from tokens (`ops` is filled). Rules still check it.
    Recovered(SyntaxError),
    /// A psql meta-command (`\set ...`): not SQL, skipped.
    MetaCommand,
    /// A MySQL `DELIMITER` directive.
    Delimiter,
}

/// One statement of a migration file.
#[derive(Clone, Debug)]
pub struct Statement {
    /// From its first token to its last, terminator and leading comments excluded.
    pub span: Span,
    /// Indices into [`ParsedFile::tokens`] (terminator excluded).
    pub tokens: std::ops::Range<usize>,
    /// The `;` (or MySQL delimiter) that ends it.
    pub terminator: Option<Span>,
    pub status: StatementStatus,
    /// What it does; usually one operation (`RENAME TABLE a TO b, c TO d` gives two), empty when
    /// it did not parse. The operations of statements embedded in a `DO` block or function body
    /// follow the statement's own (see [`Statement::embedded`]).
    pub ops: Vec<Op>,
    /// The `DO` blocks and function bodies whose statements were lowered into `ops` (PostgreSQL),
    /// nested bodies after the body that holds them.
    pub embedded: Vec<Embedded>,
}

impl Statement {
    /// True when `ops` describes the statement (parsed, or recovered from tokens).
    pub fn is_parsed(&self) -> bool {
        matches!(self.status, StatementStatus::Parsed | StatementStatus::Recovered(_))
    }

    /// The statement's text.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        self.span.slice(src)
    }
}

/// A migration file split, parsed and lowered.
#[derive(Clone, Debug)]
pub struct ParsedFile {
    pub dialect: Dialect,
    pub text: String,
    /// Every token of the file, comments included.
    pub tokens: Vec<Token>,
    pub statements: Vec<Statement>,
}

impl ParsedFile {
    /// Tokens of one statement.
    pub fn statement_tokens(&self, stmt: &Statement) -> &[Token] {
        self.tokens.get(stmt.tokens.clone()).unwrap_or(&[])
    }

    /// Comment tokens of the file, in order.
    pub fn comments(&self) -> impl Iterator<Item = &Token> {
        self.tokens.iter().filter(|t| t.is_comment())
    }
}

/// Stack that must be left before parsing one statement; below it a new segment is allocated.
/// Threads created with [`RECOMMENDED_STACK_SIZE`] never need one.
const STACK_RED_ZONE: usize = 4 << 20;
const STACK_SIZE: usize = 32 << 20;

/// Stack size for threads that parse (e.g. a rayon pool), so no extra segment is ever needed.
pub const RECOMMENDED_STACK_SIZE: usize = 16 << 20;

/// Parses a whole file. Never fails: problems become [`StatementStatus::SyntaxError`]s.
pub fn parse_file(text: &str, dialect: Dialect) -> ParsedFile {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SIZE, || parse_file_on_stack(text, dialect, &mut Parses::Fresh))
}

/// [`parse_file`], reusing the parses of statements whose text has not changed since the
/// previous call with the same cache.
pub fn parse_file_cached(text: &str, dialect: Dialect, cache: &mut ParseCache) -> ParsedFile {
    // Parse trees of deeply nested expressions are decoded and lowered recursively: make sure a
    // generous stack is available whatever thread calls us (one check per file; a thread with
    // [`RECOMMENDED_STACK_SIZE`] never needs a new segment).
    cache.start();
    let parsed = stacker::maybe_grow(STACK_RED_ZONE, STACK_SIZE, || {
        parse_file_on_stack(text, dialect, &mut Parses::Cached(cache))
    });
    cache.finish();
    parsed
}

fn parse_file_on_stack(text: &str, dialect: Dialect, cache: &mut Parses<'_>) -> ParsedFile {
    let tokens = tokenize(text, dialect);
    let pieces = split(text, &tokens, dialect);
    let mut statements = Vec::with_capacity(pieces.len());
    let mut scratch = String::new();
    for piece in pieces {
        let base = Statement {
            span: piece.span,
            tokens: piece.tokens.clone(),
            terminator: piece.terminator,
            status: StatementStatus::Parsed,
            ops: Vec::new(),
            embedded: Vec::new(),
        };
        match piece.kind {
            PieceKind::MetaCommand => statements.push(Statement { status: StatementStatus::MetaCommand, ..base }),
            PieceKind::Delimiter => statements.push(Statement { status: StatementStatus::Delimiter, ..base }),
            PieceKind::Sql => {
                let toks = tokens.get(piece.tokens.clone()).unwrap_or(&[]);
                match dialect {
                    Dialect::Postgres => parse_pg(text, toks, base, cache, &mut scratch, &mut statements),
                    Dialect::MySql => parse_mysql(text, toks, base, cache, &mut statements),
                }
            }
        }
    }
    if dialect == Dialect::MySql {
        mysql_dynamic::keep_prepared(text, &tokens, &mut statements);
    }
    ParsedFile { dialect, text: text.to_string(), tokens, statements }
}

/// The span of the token at or after `offset` within `tokens`, or a one-character span.
fn error_span(text: &str, tokens: &[Token], offset: usize, stmt: Span) -> Span {
    if let Some(t) = tokens.iter().find(|t| t.span.end > offset && !t.is_comment()) {
        if t.span.start >= offset {
            return t.span;
        }
    }
    let offset = offset.min(stmt.end);
    let end = text[offset..].chars().next().map_or(offset, |c| offset + c.len_utf8());
    if end > offset {
        Span::new(offset, end)
    } else {
        // At the very end of the statement: point at its last token.
        tokens.iter().rev().find(|t| !t.is_comment()).map_or(stmt, |t| t.span)
    }
}

/// `scratch` is a buffer for lowering unescaped embedded statements (see [`plpgsql::lower`]).
fn parse_pg(
    text: &str,
    toks: &[Token],
    base: Statement,
    cache: &mut Parses<'_>,
    scratch: &mut String,
    out: &mut Vec<Statement>,
) {
    let sql = base.span.slice(text);
    let offset = base.span.start;
    match cache.pg(sql) {
        Err(e) => {
            let span = match e.offset {
                Some(o) => error_span(text, toks, offset + o, base.span),
                None => base.span,
            };
            out.push(Statement {
                status: StatementStatus::SyntaxError(SyntaxError { message: e.message, span }),
                ..base
            });
        }
        Ok(result) => {
            let n = result.len();
            for PgRaw { node, location, length, bodies } in result.iter() {
                let Some(inner) = node.node.as_ref() else { continue };
                // With several statements in one piece (rare), narrow each to its own text.
                let span = if n > 1 {
                    let start = offset + usize::try_from(*location).unwrap_or(0);
                    let len = usize::try_from(*length).unwrap_or(0);
                    let end = if len == 0 { base.span.end } else { (start + len).min(base.span.end) };
                    trim_span(text, Span::new(start.min(end), end))
                } else {
                    base.span
                };
                let stmt_toks: Vec<Token> =
                    toks.iter().copied().filter(|t| t.span.start >= span.start && t.span.end <= span.end).collect();
                let cx = LowerCx::new(text, span, &stmt_toks, Dialect::Postgres);
                let mut ops = pg_lower::lower(inner, &cx);
                let mut embedded = Vec::new();
                plpgsql::lower(text, offset, bodies, &mut ops, &mut embedded, scratch, false);
                out.push(Statement { span, ops, embedded, ..base.clone() });
            }
        }
    }
}

fn trim_span(text: &str, span: Span) -> Span {
    let s = span.slice(text);
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    Span::new(span.start + lead, (span.end - trail).max(span.start + lead))
}

/// Expression depth above which a MySQL statement is not handed to `sqlparser`. Its parser
/// builds operator chains (`a + b + ...`, `x OR y OR ...`) as nested boxes without counting them
/// against its recursion limit, and such trees are visited, cloned and dropped recursively, so a
/// long enough chain overflows any thread's stack. PostgreSQL trees stop at 100 levels.
const MAX_MYSQL_EXPR_DEPTH: usize = 1000;

/// An upper bound on the expression depth `sqlparser` can build from `toks`: the operators of
/// one comma-separated item plus the deepest parenthesised group inside it, one level per group.
fn mysql_expr_depth_bound(text: &str, toks: &[Token]) -> usize {
    const OPERATOR_WORDS: &[&str] = &[
        "and",
        "or",
        "xor",
        "not",
        "is",
        "in",
        "like",
        "between",
        "div",
        "mod",
        "regexp",
        "rlike",
        "collate",
        "union",
        "intersect",
        "except",
        "minus",
    ];
    // Per open group: operators of the current item, its deepest closed group, the group's deepest item.
    let mut groups: Vec<(usize, usize, usize)> = vec![(0, 0, 0)];
    for t in toks {
        let s = t.text(text);
        let top = groups.len() - 1;
        match t.kind {
            TokenKind::Punct if s == "(" || s == "[" => groups.push((0, 0, 0)),
            TokenKind::Punct if (s == ")" || s == "]") && top > 0 => {
                let (ops, child, deepest) = groups[top];
                groups.truncate(top);
                let parent = &mut groups[top - 1];
                parent.1 = parent.1.max(deepest.max(ops + child) + 1);
            }
            TokenKind::Punct | TokenKind::Terminator if s == "," || s == ";" => {
                let g = &mut groups[top];
                g.2 = g.2.max(g.0 + g.1);
                g.0 = 0;
                g.1 = 0;
            }
            TokenKind::Punct if s != "." && s != ")" && s != "]" => groups[top].0 += 1,
            TokenKind::Word if OPERATOR_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)) => groups[top].0 += 1,
            _ => {}
        }
    }
    // Unclosed groups (a syntax error) count as closed at the end.
    groups.into_iter().rev().fold(0, |inner, (ops, child, deepest)| deepest.max(ops + child.max(inner)) + 1)
}

fn mysql_too_deep() -> String {
    format!("statement is nested too deeply to be analysed (expression deeper than {MAX_MYSQL_EXPR_DEPTH} levels)")
}

/// `sqlparser`'s MySQL parse of `sql` (a re-parse during recovery), refused like a statement
/// whose expressions could nest deeper than [`MAX_MYSQL_EXPR_DEPTH`].
pub(crate) fn parse_mysql_bounded(sql: &str) -> Result<Vec<sqlparser::ast::Statement>, String> {
    if mysql_expr_depth_bound(sql, &tokenize(sql, Dialect::MySql)) > MAX_MYSQL_EXPR_DEPTH {
        return Err(mysql_too_deep());
    }
    sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::MySqlDialect {}, sql).map_err(|e| e.to_string())
}

fn parse_mysql(text: &str, toks: &[Token], base: Statement, cache: &mut Parses<'_>, out: &mut Vec<Statement>) {
    let sql = base.span.slice(text);
    let parsed = if mysql_expr_depth_bound(text, toks) > MAX_MYSQL_EXPR_DEPTH {
        Err(mysql_too_deep())
    } else {
        cache.mysql(sql)
    };
    match parsed {
        Err(e) => {
            let (message, pos) = mysql_error(&e, sql);
            let span = match pos {
                Some(o) => error_span(text, toks, base.span.start + o, base.span),
                None => base.span,
            };
            let error = SyntaxError { message, span };
            let cx = LowerCx::new(text, base.span, toks, Dialect::MySql);
            let ops = mysql_lower::lower_unparsed(&cx);
            let status = if ops.is_empty() {
                StatementStatus::SyntaxError(error)
            } else if mysql_lower::read_whole(&cx, &ops) {
                StatementStatus::Parsed
            } else {
                StatementStatus::Recovered(error)
            };
            let mut stmt = Statement { status, ops, ..base };
            if stmt.is_parsed() {
                mysql_dynamic::lower(text, toks, &mut stmt);
            }
            out.push(stmt);
        }
        Ok(stmts) => {
            for st in stmts.iter() {
                let cx = LowerCx::new(text, base.span, toks, Dialect::MySql);
                let ops = mysql_lower::lower(st, &cx);
                let mut stmt = Statement { ops, ..base.clone() };
                mysql_dynamic::lower(text, toks, &mut stmt);
                out.push(stmt);
            }
        }
    }
}

/// Splits sqlparser's "... at Line: L, Column: C" suffix into a message and a byte offset.
fn mysql_error(msg: &str, sql: &str) -> (String, Option<usize>) {
    let msg = msg.strip_prefix("sql parser error: ").unwrap_or(msg);
    let Some(at) = msg.rfind(" at Line: ") else {
        return (msg.to_string(), None);
    };
    let mut nums = msg[at + 10..].split(", Column: ").map(|s| s.trim().parse::<usize>().ok());
    let (Some(Some(line)), Some(Some(col))) = (nums.next(), nums.next()) else {
        return (msg.to_string(), None);
    };
    let line_start: usize = sql.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let rest = sql.get(line_start..).unwrap_or("");
    let offset = rest.char_indices().nth(col.saturating_sub(1)).map_or(sql.len(), |(i, _)| line_start + i);
    (msg[..at].to_string(), Some(offset))
}

/// True when a token is a statement terminator.
pub fn is_terminator(t: &Token) -> bool {
    t.kind == TokenKind::Terminator
}

/// The PostgreSQL SQL files of the fixtures and, when present, of the shared corpus (its `pg` and
/// `pg-regress` folders: PostgreSQL's own regression tests use nearly all of the grammar), with
/// whether the shared corpus was there. For tests that compare two implementations on real SQL.
#[cfg(test)]
pub(crate) fn postgres_test_corpus() -> (Vec<(std::path::PathBuf, String)>, bool) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = root.join("../shared");
    let mut dirs = vec![root.join("fixtures")];
    for part in ["pg", "pg-regress"] {
        dirs.push(shared.join("corpus").join(part));
    }
    let have_shared = dirs.iter().skip(1).any(|d| d.is_dir());
    let mut files = Vec::new();
    let mut stack: Vec<std::path::PathBuf> = dirs.into_iter().filter(|d| d.is_dir()).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                if !path.ends_with("mysql") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "sql") || path.starts_with(&shared) {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    files.push((path, text));
                }
            }
        }
    }
    (files, have_shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_statement_does_not_hide_the_others() {
        let src = "CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN;\nDROP TABLE a;";
        let f = parse_file(src, Dialect::Postgres);
        assert_eq!(f.statements.len(), 3);
        assert!(f.statements[0].is_parsed());
        match &f.statements[1].status {
            StatementStatus::SyntaxError(e) => assert_eq!(e.span.slice(src), ";"),
            s => panic!("{s:?}"),
        }
        assert!(f.statements[2].is_parsed());
    }

    #[test]
    fn mysql_error_position() {
        let src = "ALTER TABLE t ADD COLUMN x int;\nFROBNICATE TABLE t x;";
        let f = parse_file(src, Dialect::MySql);
        assert!(f.statements[0].is_parsed());
        match &f.statements[1].status {
            StatementStatus::SyntaxError(e) => assert!(e.span.start >= src.find("FROB").unwrap_or(0), "{e:?}"),
            s => panic!("{s:?}"),
        }
    }

    #[test]
    fn cache_reparses_only_changed_statements() {
        let mut cache = ParseCache::new();
        let a = "CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int;\nDROP TABLE a;";
        let f1 = parse_file_cached(a, Dialect::Postgres, &mut cache);
        assert_eq!(cache.misses, 3);
        let b = format!("-- a new comment shifts every offset\n{}", a.replace("ADD COLUMN b", "ADD COLUMN c"));
        let f2 = parse_file_cached(&b, Dialect::Postgres, &mut cache);
        assert_eq!(cache.misses, 1);
        assert_eq!(f1.statements.len(), f2.statements.len());
        assert_eq!(f2.statements[2].text(&b), "DROP TABLE a");
        assert!(f2.statements.iter().all(|s| s.is_parsed()));
    }

    #[test]
    fn meta_commands_and_empty_files() {
        let f = parse_file("\\set ON_ERROR_STOP 1\nSELECT 1;", Dialect::Postgres);
        assert!(matches!(f.statements[0].status, StatementStatus::MetaCommand));
        assert!(f.statements[1].is_parsed());
        assert!(parse_file("", Dialect::Postgres).statements.is_empty());
        assert!(parse_file("-- only a comment\n", Dialect::MySql).statements.is_empty());
    }
}
