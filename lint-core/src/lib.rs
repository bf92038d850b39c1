//! Sluice core: decoding, tokenizing, statement splitting, parsing (PostgreSQL through
//! libpg_query, MySQL through `sqlparser`), the dialect-neutral migration IR, per-file context,
//! configuration parsing and the diagnostic model.
//!
//! The core does no IO: callers hand it text and get values back. It never panics on input.

pub mod catalog;
pub mod config;
pub mod context;
pub mod diagnostic;
pub mod explain;
pub mod framework;
pub mod ir;
pub mod lexer;
pub mod line_index;
pub mod online_ddl;
pub mod parse;
pub mod pg_locks;
pub mod source;
pub mod span;
pub mod split;
pub mod version;

pub use context::{FileContext, History, Settings, StatementContext};
pub use diagnostic::{Applicability, Diagnostic, Edit, Fix, Label, Severity};
pub use line_index::{ColumnUnit, LineCol, LineIndex};
pub use parse::{
    parse_file, parse_file_cached, ParseCache, ParsedFile, Statement, StatementStatus, SyntaxError,
    RECOMMENDED_STACK_SIZE,
};
pub use source::{InvalidUtf8, SourceText};
pub use span::Span;
pub use version::{MySqlFlavor, MySqlVersion, PgVersion};

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// The SQL dialect of a migration file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[default]
    Postgres,
    /// MySQL and MariaDB.
    MySql,
}

impl Dialect {
    pub const ALL: [Dialect; 2] = [Dialect::Postgres, Dialect::MySql];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::MySql),
            _ => Err(format!("unknown dialect `{s}`: expected \"postgres\" or \"mysql\"")),
        }
    }
}
