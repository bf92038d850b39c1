//! A thin binding to libpg_query's parser (linked by the `pg_query` crate).
//!
//! `pg_query::parse` drops the error position and walks every tree to collect table and function
//! names that Sluice never reads. Calling the C entry points directly keeps the cursor position
//! for syntax errors and skips that walk; the tree is decoded with `pg_query`'s own protobuf types.
//!
//! [`parse`] serialises the tree with Sluice's own encoder (`pg_encode.c`), which writes the same
//! message several times faster than libpg_query's upb path; [`parse_protobuf`] is that upb path,
//! kept as the benchmark's floor and as the reference the encoder is tested against.
#![allow(unsafe_code)]

use prost::Message;
use std::ffi::{c_char, c_int, CStr, CString};

/// libpg_query's `PgQueryError` (shared with the PL/pgSQL binding).
#[repr(C)]
pub(crate) struct PgQueryError {
    pub(crate) message: *mut c_char,
    pub(crate) funcname: *mut c_char,
    pub(crate) filename: *mut c_char,
    pub(crate) lineno: c_int,
    pub(crate) cursorpos: c_int,
    pub(crate) context: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobuf {
    len: usize,
    data: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobufParseResult {
    parse_tree: PgQueryProtobuf,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

#[repr(C)]
struct SluicePgParse {
    data: *const c_char,
    len: usize,
    error: *mut PgQueryError,
}

extern "C" {
    fn pg_query_parse_protobuf(input: *const c_char) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
    fn pg_query_free_error(error: *mut PgQueryError);
    fn sluice_pg_parse(input: *const c_char, shallow: bool) -> SluicePgParse;
    fn sluice_pg_parse_release();
}

/// A PostgreSQL syntax error: the server's message and the byte offset it points at, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgParseError {
    pub message: String,
    /// Byte offset into the parsed text.
    pub offset: Option<usize>,
}

/// Parses `sql` with the PostgreSQL server grammar: the whole tree, as libpg_query encodes it.
pub fn parse(sql: &str) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    encode(sql, false)
}

/// [`parse`] for lowering: DML statements, views and `CREATE TABLE AS` keep only what lowering
/// reads of them (target table, whether there is a WHERE clause, the view's name), not their
/// queries, value lists and expressions (`write_shallow` in `pg_encode.c`).
pub fn parse_for_lowering(sql: &str) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    encode(sql, !WHOLE_TREES.with(|w| w.get()))
}

thread_local! {
    /// Set only by [`with_whole_trees`]: lowering then reads whole trees, for comparison.
    static WHOLE_TREES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with [`parse_for_lowering`] returning whole trees on this thread (restored when `f`
/// returns or unwinds).
pub(crate) fn with_whole_trees<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            WHOLE_TREES.with(|w| w.set(self.0));
        }
    }
    let _restore = Restore(WHOLE_TREES.with(|w| w.replace(true)));
    f()
}

fn encode(sql: &str, shallow: bool) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    let input = c_input(sql)?;
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call. On success `data`
    // points to `len` bytes in this thread's encoder buffer, which stays valid until the next
    // parse on this thread; they are decoded before `sluice_pg_parse_release`. An error is read
    // and then freed exactly once.
    unsafe {
        let result = sluice_pg_parse(input.as_ptr(), shallow);
        if !result.error.is_null() {
            let err = error(sql, &*result.error);
            pg_query_free_error(result.error);
            return Err(err);
        }
        let out = if result.data.is_null() {
            Ok(pg_query::protobuf::ParseResult::default())
        } else {
            decode(std::slice::from_raw_parts(result.data as *const u8, result.len))
        };
        sluice_pg_parse_release();
        out
    }
}

/// The same parse through libpg_query's own protobuf serialisation (upb).
pub fn parse_protobuf(sql: &str) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    let input = c_input(sql)?;
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call; the result is
    // read only through the pointers libpg_query documents as valid until it is freed, and it
    // is freed exactly once below.
    unsafe {
        let result = pg_query_parse_protobuf(input.as_ptr());
        let out = if !result.error.is_null() {
            Err(error(sql, &*result.error))
        } else if result.parse_tree.data.is_null() {
            Ok(pg_query::protobuf::ParseResult::default())
        } else {
            decode(std::slice::from_raw_parts(result.parse_tree.data as *const u8, result.parse_tree.len))
        };
        pg_query_free_protobuf_parse_result(result);
        out
    }
}

fn c_input(sql: &str) -> Result<CString, PgParseError> {
    CString::new(sql)
        .map_err(|e| PgParseError { message: "statement contains a NUL byte".into(), offset: Some(e.nul_position()) })
}

fn decode(data: &[u8]) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    // The only decode failure libpg_query output can cause is prost's nesting limit.
    pg_query::protobuf::ParseResult::decode(data).map_err(|_| PgParseError {
        message: "statement is nested too deeply to be analysed (parse tree deeper than 100 levels)".into(),
        offset: None,
    })
}

/// # Safety
/// `err.message`, when not null, must point to a NUL-terminated string.
unsafe fn error(sql: &str, err: &PgQueryError) -> PgParseError {
    let message = if err.message.is_null() {
        "syntax error".to_string()
    } else {
        // SAFETY: the caller guarantees the message is NUL-terminated.
        unsafe { CStr::from_ptr(err.message) }.to_string_lossy().into_owned()
    };
    // cursorpos counts characters, one-based; 0 means "no position".
    let offset = usize::try_from(err.cursorpos)
        .ok()
        .filter(|&p| p > 0)
        .map(|p| sql.char_indices().nth(p - 1).map_or(sql.len(), |(i, _)| i));
    PgParseError { message, offset }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Lowering reads nothing that the lint trees leave out: every statement of every fixture
    /// and corpus file (PL/pgSQL bodies included) lowers to the same operations from both.
    #[test]
    fn lint_trees_lower_like_whole_trees() {
        let samples = [
            "INSERT INTO t (a) SELECT b FROM u WHERE c ON CONFLICT (a) DO UPDATE SET a = excluded.a RETURNING a",
            "WITH x AS (DELETE FROM a RETURNING *) UPDATE s.t SET a = 1 FROM x WHERE t.id = x.id",
            "WITH d AS (DELETE FROM t RETURNING *), e AS (SELECT 1) INSERT INTO u SELECT * FROM d",
            "WITH a AS (UPDATE t SET x = 1 RETURNING id) SELECT * FROM a; WITH b AS (SELECT 1) SELECT * FROM b",
            "WITH m AS (MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE RETURNING 1) DELETE FROM w",
            "UPDATE t SET a = 1; DELETE FROM t; DELETE FROM only t WHERE a; SELECT * INTO TEMP n FROM t",
            "SELECT 1 FROM (SELECT 1) s, t; SELECT a FROM t JOIN u USING (a) WHERE b; SELECT 1 UNION SELECT 2",
            "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
            "CREATE OR REPLACE VIEW v AS SELECT * FROM t; CREATE MATERIALIZED VIEW IF NOT EXISTS m AS SELECT 1",
            "CREATE UNLOGGED TABLE c AS SELECT * FROM t WITH NO DATA; CREATE TEMP TABLE d AS VALUES (1)",
            "COPY t (a) FROM stdin WHERE a > 1; EXPLAIN ANALYZE UPDATE t SET a = 1",
            "DO $$ BEGIN UPDATE t SET a = 1 WHERE b; INSERT INTO u VALUES (1); DROP TABLE w; END $$",
        ];
        for sql in samples {
            let (full, lint) = crate::parse::pg_lowering_both_ways(sql);
            assert!(full == lint, "{sql}\nwhole trees:\n{full}\nlint trees:\n{lint}");
        }
        let (corpus, _) = crate::parse::postgres_test_corpus();
        for (path, text) in &corpus {
            let (full, lint) = crate::parse::pg_lowering_both_ways(text);
            assert!(full == lint, "{}: lowering differs between whole and lint trees", path.display());
        }
        assert!(corpus.len() > 100, "only {} files compared", corpus.len());
    }

    #[test]
    fn parses_and_reports_positions() {
        let ok = parse("CREATE INDEX i ON t (a); SELECT 1").unwrap();
        assert_eq!(ok.stmts.len(), 2);
        let err = parse("SELECT é, FROM t").unwrap_err();
        assert!(err.message.contains("syntax error"), "{err:?}");
        assert_eq!(err.offset, Some("SELECT é, ".len()));
        assert!(parse("SELECT '\0'").is_err());
    }

    /// Both encoders agree on `sql`, tree for tree, error for error.
    fn assert_same(sql: &str, what: &str) {
        // Deep trees need the stack Sluice parses on.
        let (ours, upb) = stacker::grow(64 << 20, || (parse(sql), parse_protobuf(sql)));
        if ours != upb {
            panic!("{what}: the encoders disagree\nours: {ours:?}\nupb: {upb:?}");
        }
    }

    #[test]
    fn encoder_matches_libpg_query_on_edge_values() {
        let long_name = "x".repeat(300);
        let cases = [
            "SELECT -1, -2147483648, 2147483647, 9223372036854775807, 1.5e300, -0.0, B'1010', X'ff', NULL",
            "SELECT 0, '', false, true, 0.0",
            "FETCH 5 FROM c; FETCH BACKWARD 9223372036854775807 FROM c; FETCH ALL FROM c; MOVE -3 IN c",
            "CREATE UNLOGGED TABLE t (a int DEFAULT -1 CHECK (a > -5), b text COLLATE \"C\") PARTITION BY RANGE (a)",
            "CREATE TEMP TABLE t AS SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 INTERSECT SELECT 4 EXCEPT SELECT 5",
            "ALTER TABLE t ALTER COLUMN a SET STATISTICS -1, ALTER COLUMN b TYPE numeric(10, -2) USING b::numeric",
            "CREATE FUNCTION f(a int = 1, VARIADIC b int[] = '{}') RETURNS SETOF int LANGUAGE sql COST 0.5 ROWS 1e6 AS 'SELECT 1'",
            "SELECT 'é✓😀', U&'d\\0061t\\+000061', E'\\t\\n', $$dollar 'quoted'$$",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t USING gin (lower(a) text_pattern_ops) INCLUDE (b) WITH (fillfactor = 70) WHERE a IS NOT NULL",
            "",
            "   ",
            "-- only a comment",
            ";;;",
        ];
        for sql in cases {
            assert_same(sql, sql);
        }
        // Lengths that need two and three bytes, and nesting deep enough to move bodies often.
        assert_same(&format!("SELECT {long_name} FROM {long_name}"), "long identifiers");
        let many = (0..5000).map(|i| format!("c{i}")).collect::<Vec<_>>().join(", ");
        assert_same(&format!("SELECT {many} FROM t"), "a 5,000-column select list");
        for depth in [10, 40, 60, 99, 100, 101, 150, 1000] {
            let nested = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
            assert_same(&nested, &format!("{depth} nested parentheses"));
            let arith = format!("SELECT {}", vec!["1"; depth].join(" + "));
            assert_same(&arith, &format!("{depth} additions"));
        }
        // Syntax errors keep their message and position.
        assert_same("SELECT FROM WHERE", "syntax error");
        assert_same("CREATE TABLE (", "syntax error at the end");
        assert_same("SELECT 'unterminated", "unterminated string");
    }

    /// Every fixture and, when present, every file of the shared corpus (including PostgreSQL's
    /// own regression tests, which use nearly all of the grammar) encodes exactly as libpg_query's
    /// upb path does.
    #[test]
    fn encoder_matches_libpg_query_on_every_corpus_file() {
        let (corpus, _) = crate::parse::postgres_test_corpus();
        for (path, text) in &corpus {
            assert_same(text, &path.display().to_string());
        }
        let files = corpus.len();
        assert!(files > 100, "only {files} files compared");
    }
}
