//! A thin binding to libpg_query's protobuf parser (linked by the `pg_query` crate).
//!
//! `pg_query::parse` drops the error position and walks every tree to collect table and function
//! names that Sluice never reads. Calling the C entry point directly keeps the cursor position
//! for syntax errors and skips that walk; the tree is decoded with `pg_query`'s own protobuf types.
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

extern "C" {
    fn pg_query_parse_protobuf(input: *const c_char) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
}

/// A PostgreSQL syntax error: the server's message and the byte offset it points at, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgParseError {
    pub message: String,
    /// Byte offset into the parsed text.
    pub offset: Option<usize>,
}

/// Parses `sql` with the PostgreSQL server grammar.
pub fn parse(sql: &str) -> Result<pg_query::protobuf::ParseResult, PgParseError> {
    let input = CString::new(sql).map_err(|e| PgParseError {
        message: "statement contains a NUL byte".into(),
        offset: Some(e.nul_position()),
    })?;
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call; the result is
    // read only through the pointers libpg_query documents as valid until it is freed, and it
    // is freed exactly once below.
    unsafe {
        let result = pg_query_parse_protobuf(input.as_ptr());
        let out = if !result.error.is_null() {
            let err = &*result.error;
            let message = if err.message.is_null() {
                "syntax error".to_string()
            } else {
                CStr::from_ptr(err.message).to_string_lossy().into_owned()
            };
            // cursorpos counts characters, one-based; 0 means "no position".
            let offset = usize::try_from(err.cursorpos)
                .ok()
                .filter(|&p| p > 0)
                .map(|p| sql.char_indices().nth(p - 1).map_or(sql.len(), |(i, _)| i));
            Err(PgParseError { message, offset })
        } else if result.parse_tree.data.is_null() {
            Ok(pg_query::protobuf::ParseResult::default())
        } else {
            let data = std::slice::from_raw_parts(result.parse_tree.data as *const u8, result.parse_tree.len);
            // The only decode failure libpg_query output can cause is prost's nesting limit.
            pg_query::protobuf::ParseResult::decode(data).map_err(|_| PgParseError {
                message: "statement is nested too deeply to be analysed (parse tree deeper than 100 levels)".into(),
                offset: None,
            })
        };
        pg_query_free_protobuf_parse_result(result);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_positions() {
        let ok = parse("CREATE INDEX i ON t (a); SELECT 1").unwrap();
        assert_eq!(ok.stmts.len(), 2);
        let err = parse("SELECT é, FROM t").unwrap_err();
        assert!(err.message.contains("syntax error"), "{err:?}");
        assert_eq!(err.offset, Some("SELECT é, ".len()));
        assert!(parse("SELECT '\0'").is_err());
    }
}
