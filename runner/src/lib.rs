//! Sluice runner: applies migrations to a real PostgreSQL server (a throwaway cluster, a clone of
//! a database, or the database itself) and measures, per statement, the locks it takes, the
//! relations it rewrites, how long strong locks stay held and how long concurrent traffic waits.
//! It checks that migrations can be re-applied and rolled back, and gates on time budgets.
//!
//! This is the only crate of the workspace that talks to a database.

pub mod backfill;
mod backfill_mysql;
pub mod catalog;
pub mod cluster;
pub mod drift;
pub mod drift_checksum;
pub mod drift_mysql;
pub mod error;
pub mod exec;
pub mod mysql;
pub mod mysql_server;
mod owned;
pub mod plan;
pub mod redact;
pub mod replica;
pub mod report;
pub mod seed;
pub mod trace;
pub mod wal;
pub mod workload;

pub use error::{Error, Result};
pub use report::Report;
pub use trace::{run, Options, Progress};
