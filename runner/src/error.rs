//! Errors of a trace run. Messages never contain a password: connection strings are redacted
//! before they are put into an error.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No PostgreSQL server binaries (`initdb`, `postgres`) were found.
    #[error("PostgreSQL server binaries not found ({0}); install the `postgresql` package or set SLUICE_PG_BINDIR")]
    NoServerBinaries(String),
    /// No MariaDB server binaries (`mariadb-install-db`, `mariadbd`) were found.
    #[error(
        "MariaDB server binaries not found ({0}); install the `mariadb-server` package or set SLUICE_MARIADB_BINDIR"
    )]
    NoMariaDbBinaries(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Starting, stopping or preparing the throwaway cluster failed.
    #[error("throwaway cluster: {0}")]
    Cluster(String),
    /// A query of the runner itself (not a migration statement) failed.
    #[error("{context}: {message}")]
    Db { context: String, message: String },
    /// Bad input: unreadable migration file, conflicting options.
    #[error("{0}")]
    Input(String),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    /// SIGINT or SIGTERM arrived; everything started was cleaned up.
    #[error("interrupted by {0}; the trace database was cleaned up")]
    Interrupted(&'static str),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { context: context.into(), source }
    }

    pub(crate) fn db(context: impl Into<String>, e: &tokio_postgres::Error) -> Error {
        Error::Db { context: context.into(), message: db_message(e) }
    }
}

/// The server's message (with its SQLSTATE) when there is one, else the client error.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{} ({})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                m.push_str(": ");
                m.push_str(d);
            }
            m
        }
        None => crate::redact::redact_text(&e.to_string()),
    }
}

/// The SQLSTATE of a server error.
pub fn sqlstate(e: &tokio_postgres::Error) -> Option<&str> {
    e.as_db_error().map(|d| d.code().code())
}
